import { BIDI_CONTROL, inDisplayOrder } from '../attachments/display-order.ts';
import { BLANK_LOOKING, withoutInvisible } from '../read/blank-characters.ts';
import { firstValue } from '../read/headers.ts';
import { readUtf8 } from '../read/message-meta.ts';
import { escapeControls } from './check-support.ts';
import { readAddressList } from './address-syntax.ts';
import type { MessageCheck } from './types.ts';

/** Something a reader takes for an address: local part, @, a dotted domain; blanks end it. */
const ADDRESS_CHAR_CLASS = String.raw`[^${BLANK_LOOKING}<>"'(),;:@[\]\\]`;
/** An address ends at a bidi control too: the control changes the order around it, not the address. */
const ADDRESS_BOUNDARY = String.raw`[^${BLANK_LOOKING}<>"'(),;:@[\]\\\u202a-\u202e\u2066-\u2069]`;
const ADDRESS_LIKE = new RegExp(`${ADDRESS_CHAR_CLASS}+@${ADDRESS_CHAR_CLASS}+\\.${ADDRESS_CHAR_CLASS}{2,}`, 'gu');
const MAX_SHOWN = 10;
/** Far longer than any display name; the pattern is quadratic on a long run without an @. */
const MAX_READ = 2_048;
/** NFKC leaves the ideographic full stop (and maps the halfwidth one to it); IDNA and readers take it for "." */
const IDEOGRAPHIC_FULL_STOP = /\u3002/g;
const REGEXP_SYNTAX = /[\\^$.*+?()[\]{}|/]/g;
const MAX_OWN_SOUGHT = 100;
const NON_ASCII = /[^\x00-\x7f]/;
/**
 * What Unicode's confusables table (UTS #39, confusables.txt) reads as "." or "..", beyond what
 * NFKC folds: the Arabic-Indic zeros, the Syriac full stops, the Vai full stop, the Lisu tone
 * marks (ꓸ, ꓺ), the Kharoshthi dot, the musical augmentation dot. "ceo@bank\uA4F8example" reads
 * as ceo@bank.example (red team S, S-04).
 */
export const DOT_LOOKALIKES: ReadonlyMap<string, string> = new Map([
  ['\u0660', '.'], ['\u06f0', '.'], ['\u0701', '.'], ['\u0702', '.'], ['\ua60e', '.'], ['\ua4f8', '.'],
  ['\u{10a50}', '.'], ['\u{1d16d}', '.'], ['\ua4fa', '..'],
]);
const DOT_LOOKALIKE = new RegExp(`[${[...DOT_LOOKALIKES.keys()].join('')}]`, 'gu');
const GLOBAL_BIDI_CONTROL = new RegExp(BIDI_CONTROL.source, 'g');

/**
 * Visible text as a reader takes it: compatibility forms folded (NFKC: "﹫" and "＠" read as "@",
 * "．" and "․" as "."), the ideographic full stop and the other dots of DOT_LOOKALIKES read as
 * ".". Cut again after folding: NFKC can lengthen text many times over.
 */
const folded = (text: string): string =>
  text.normalize('NFKC').replace(IDEOGRAPHIC_FULL_STOP, '.').replace(DOT_LOOKALIKE, (c) => DOT_LOOKALIKES.get(c)!).slice(0, MAX_READ);

const codePoint = (c: string): string => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * The field without its own mailboxes, each where it stands whole (not inside a longer address:
 * a name reading "x@evil.example.bank.example" beside <x@evil.example> stays). A local part can
 * hold "﹫" too, and once folded would read as a second address that the name never spelt
 * (from-address-disguised is the finding for that). Only mailboxes the text holds are looked for,
 * and at most MAX_OWN_SOUGHT of them: a field can list thousands.
 */
function withoutOwnMailboxes(text: string, own: Iterable<string>): string {
  const lower = text.toLowerCase();
  let rest = text;
  let sought = 0;
  for (const address of own) {
    if (!address || !lower.includes(address)) continue;
    if (++sought > MAX_OWN_SOUGHT) break;
    const whole = new RegExp(`(?<!${ADDRESS_BOUNDARY})${address.replace(REGEXP_SYNTAX, '\\$&')}(?!${ADDRESS_BOUNDARY})`, 'giu');
    rest = rest.replace(whole, ' ');
  }
  return rest;
}

/**
 * The display name of the From field spells an address that is not one of the field's own:
 * `"ceo@bank.example" <x@evil.example>`. Mail programs show the name, often alone; a signature
 * proves only the address (its domain), which the forger controls. The field is read as the
 * reader sees it (RFC 2047 decoded, UTF-8 read as such), so an encoded word that decodes to an
 * address counts too. A warning, never a red flag: some senders and list servers write an
 * address into the name themselves, and the signature still proves who sent the message.
 */
export const auditDisplayNameAddress: MessageCheck = ({ headers, meta }) => {
  const raw = firstValue(headers, 'from');
  if (!raw || !meta.from || !meta.from.includes('@')) return [];
  // ASCII with one "@": nothing folds into another "@", so the one there is the address's own
  // (most mail; the reading below compiles a pattern for each of the field's addresses)
  if (meta.from.indexOf('@') === meta.from.lastIndexOf('@') && !NON_ASCII.test(meta.from)) return [];
  // the field's own mailboxes as the reader sees them (UTF-8 decoded), like meta.from
  const own = new Set(readAddressList(readUtf8(raw).text).addresses);
  if (meta.fromAddress) own.add(meta.fromAddress);
  const ownVisible = [...own].map(withoutInvisible);
  const ownAsRead = new Set(ownVisible.map(folded));
  const stored = meta.from.slice(0, MAX_READ);
  const readings = [folded(withoutOwnMailboxes(withoutInvisible(stored), ownVisible))];
  // Bidi controls reorder what a mail program draws (UAX #9): "\u202Eelpmaxe.knab@oec" is drawn
  // as ceo@bank.example, which the stored order never spells (red team S, S-04). The name is
  // read in the order drawn too; the field's own mailboxes are taken out first, so that an
  // override left open does not turn the real address around into another one.
  const controls = [...new Set(stored.match(GLOBAL_BIDI_CONTROL) ?? [])].map(codePoint);
  if (controls.length) readings.push(folded(withoutInvisible(inDisplayOrder(withoutOwnMailboxes(stored, ownVisible)))));
  const others = [...new Set(readings.flatMap((name) => [...name.matchAll(ADDRESS_LIKE)].map((m) => m[0].toLowerCase())))].filter((a) => !ownAsRead.has(a));
  // The controls beside an "@" are a warning of themselves: this reading applies only what they
  // force on Latin text, and a mail program's full algorithm may draw an address out of the rest.
  const reordersAnAt = controls.length > 0 && readings.some((name) => name.includes('@'));
  if (!others.length && !reordersAnAt) return [];
  const shown = others.slice(0, MAX_SHOWN);
  const from = meta.fromAddress === null ? 'an address that cannot be read' : escapeControls(meta.fromAddress);
  const reads = `${shown.length === 1 ? 'the address' : 'the addresses'} ${shown.map((a) => escapeControls(a)).join(', ')}`;
  const reordered = `The From field's display name holds characters that reorder how it is drawn (${controls.join(', ')})`;
  return [
    {
      code: 'display-name-address',
      severity: 'warning',
      text: !controls.length
        ? `The From field's display name reads as ${reads}, but the message is from ${from}: ` +
          'a mail program that shows the name alone shows an address the message is not from, and any signature proves only the real one.'
        : shown.length
          ? `${reordered}, and as a mail program draws it reads as ${reads}, but the message is from ${from}: ` +
            'a reader sees an address the message is not from, and any signature proves only the real one.'
          : `${reordered} around an "@": a mail program may draw an address there that the stored text does not spell, but the message is from ${from}, ` +
            'and any signature proves only the real one.',
      evidence: { displayedAddresses: shown, fromAddress: meta.fromAddress, ...(controls.length ? { bidiControls: controls } : {}) },
    },
  ];
};
