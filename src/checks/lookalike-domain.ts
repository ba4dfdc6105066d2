import { confusableReading } from '../attachments/name-skeleton.ts';
import { firstValue } from '../read/headers.ts';
import { readUtf8 } from '../read/message-meta.ts';
import { readDomain, showDomain, type ReadDomain } from '../verify/domain-names.ts';
import { escapeControls } from './check-support.ts';
import type { MessageCheck } from './types.ts';

const NON_ASCII = /[^\x00-\x7f]/;
const ASCII_LETTER_OR_DIGIT = /[a-z0-9]/;
const A_LABEL = /(?:^|\.)xn--/i;

/** Scripts named in the texts; a letter of any other is named by its code point alone. */
const NAMED_SCRIPTS: ReadonlyArray<[string, RegExp]> = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Cherokee', /\p{Script=Cherokee}/u],
  ['Coptic', /\p{Script=Coptic}/u],
  ['Lisu', /\p{Script=Lisu}/u],
  ['Georgian', /\p{Script=Georgian}/u],
];

/** A non-ASCII character that Unicode's confusables table reads as ASCII ("ɑ" U+0251 as "a"). */
interface LookalikeLetter {
  letter: string;
  codePoint: string;
  script: string | null;
  readsAs: string;
}

/** A label that reads as an ASCII one (by Unicode's table: see readLabel), with the letters that make it so. */
interface LookalikeLabel {
  label: string;
  readsAs: string;
  letters: LookalikeLetter[];
}

/**
 * Ligatures that are letters of their own in living languages (Danish, Norwegian, Icelandic,
 * French, Ossetian), which Unicode's table reads as two ("æ" as "ae"): `blæk.dk` and
 * `cœur.example` are genuine names, not lookalikes of `blaek.dk` and `coeur.example`. The
 * table's other ligatures (ꜳ, ꝏ, ʣ, …) are in no one's domain names and stay lookalikes.
 */
const LETTERS_OF_THEIR_OWN = new Set(['\u00e6', '\u0153', '\u04d5']);

/** Enough letters, and labels, to show what a domain is made of; a hostile domain repeats them. */
const LETTERS_KEPT = 8;
const LABELS_KEPT = 8;

/**
 * A label as it reads: its UTS #39 skeleton (each character replaced by the one Unicode's
 * confusables table says it reads as), lower-cased as DNS compares, with ASCII kept as written
 * (the table reads "0" as "O" and "1" as "l", which an ASCII label shows as they are). Each
 * character is decomposed first by compatibility (NFKD), not only canonically: the table leaves
 * fullwidth letters to that step ("ｅ" is "e"). `orL` is the same reading with every letter the
 * table reads as "i" read as "l" instead: it reads dotless ones (ı, ɩ, ӏ) as "i", and they pass
 * for "l" as well (`аррӏе` is "appie" by the table, and shows as "apple"). One pass: linear in the
 * label, however long.
 */
function readLabel(label: string): { readsAs: string; orL: string; letters: LookalikeLetter[] } {
  let readsAs = '';
  let orL = '';
  const letters = new Map<string, LookalikeLetter>();
  for (const ch of label) {
    if (!NON_ASCII.test(ch)) {
      readsAs += ch;
      orL += ch;
      continue;
    }
    let reading = '';
    for (const part of ch.normalize('NFKD')) reading += NON_ASCII.test(part) && !LETTERS_OF_THEIR_OWN.has(part) ? confusableReading(part) : part;
    reading = reading.normalize('NFD').toLowerCase();
    readsAs += reading;
    orL += reading === 'i' ? 'l' : reading;
    if (!NON_ASCII.test(reading) && !letters.has(ch) && letters.size < LETTERS_KEPT) {
      const script = NAMED_SCRIPTS.find(([, pattern]) => pattern.test(ch))?.[0] ?? null;
      letters.set(ch, { letter: ch, codePoint: `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`, script, readsAs: reading });
    }
  }
  return { readsAs, orL, letters: [...letters.values()] };
}

const showLetters = (letters: LookalikeLetter[]) =>
  letters.map((l) => `${escapeControls(l.letter)} (${l.codePoint}${l.script ? `, ${l.script}` : ''}) reads as ${l.readsAs === 'i' ? 'i (or l)' : l.readsAs}`).join(', ');

/**
 * The name a reader is shown: a mail program shows a domain written in Unicode as written, and
 * one that decodes IDNs shows an A-label (`xn--80ak6aa92e.example`) as its U-label
 * (`аррӏе.example`), as leakcheck's own explanations do.
 */
const shownName = (read: Readonly<ReadDomain>) => (read.problem === null && read.uLabel ? read.uLabel : read.written);

/**
 * A From domain written in Unicode, or as an A-label that mail programs show decoded, may only
 * look like another, and a signature by its A-label proves that name: `bаnk.example` with a
 * Cyrillic "а" is not `bank.example`, and a message from it can be verified. Every such domain
 * gets a finding that names its A-label. It is a warning when the name as shown reads, by the
 * Unicode confusables skeleton (UTS #39), as an ASCII domain (`bɑnk.example`, `аррӏе.com`), or
 * has a label that mixes ASCII letters with letters that read as ASCII ones (`bаnk.рф`): the
 * judgement is by what letters look like, not by script, as Chrome's IDN spoof checker judges.
 * Info otherwise: genuine IDN mail (`münchen.example`, `пример.example`, whose п, и, м read as
 * no Latin letter), and an xn-- label that decodes to no valid U-label.
 * A From whose bytes are not UTF-8 names no one domain: author-domain-not-shown-name says so.
 */
export const auditLookalikeDomain: MessageCheck = ({ headers, meta }) => {
  const domain = meta.fromDomain;
  const raw = firstValue(headers, 'from');
  if (!domain || !raw) return [];
  const unicode = NON_ASCII.test(domain);
  if (unicode ? !readUtf8(raw).utf8 : !A_LABEL.test(domain)) return [];
  const read = readDomain(domain, true);
  const aLabel = read.aLabel;
  if (!unicode && read.problem !== null) {
    return [
      {
        code: 'from-domain-lookalike',
        severity: 'info',
        text: `The From domain ${showDomain(read)} has a label that begins with xn--, yet IDNA reads it as no domain name (that label is no A-label of any Unicode name, or the name is too long): no mail program shows it as an IDN, and no signature is aligned with it.`,
        evidence: { domain, aLabel, invalidALabel: true, lookalikeLabels: [] },
      },
    ];
  }
  const shown = shownName(read);
  const labels = shown.split('.').map((label) => ({ label, ...readLabel(label) }));
  const readsAs = labels.map((l) => l.readsAs).join('.');
  const orL = labels.map((l) => l.orL).join('.');
  const readsAsAscii = !NON_ASCII.test(readsAs);
  const lookalike: LookalikeLabel[] = labels
    .filter((l) => NON_ASCII.test(l.label) && !NON_ASCII.test(l.readsAs) && (readsAsAscii || ASCII_LETTER_OR_DIGIT.test(l.label)))
    .slice(0, LABELS_KEPT)
    .map(({ label, readsAs, letters }) => ({ label, readsAs, letters }));
  const written = unicode
    ? `The From domain ${showDomain(read)} is written in Unicode: what a signature by it proves is its DNS name (the A-label, xn--…), not the name as it reads.`
    : `The From domain ${showDomain(read)} is written as an A-label (xn--…), which mail programs that decode IDNs show as ${escapeControls(shown, 255)}: what a signature by it proves is the DNS name, not the name as it reads.`;
  const letters = showLetters(lookalike.flatMap((l) => l.letters).slice(0, LETTERS_KEPT));
  const why = !lookalike.length
    ? ''
    : readsAsAscii
      ? ` It can pass for the ASCII domain ${escapeControls(readsAs, 255)}${orL !== readsAs ? ` or ${escapeControls(orL, 255)}` : ''}: ${letters}.`
      : ` Its label${lookalike.length > 1 ? 's' : ''} ${lookalike.map((l) => `${escapeControls(l.label, 63)} (read as ${escapeControls(l.readsAs, 63)})`).join(', ')} mix${lookalike.length > 1 ? '' : 'es'} ASCII letters with ones that pass for ASCII: ${letters}.`;
  return [
    {
      code: 'from-domain-lookalike',
      severity: lookalike.length ? 'warning' : 'info',
      text: written + why,
      evidence: { domain, aLabel, shown, readsAs: readsAsAscii ? [...new Set([readsAs, orL])] : [], lookalikeLabels: lookalike },
    },
  ];
};
