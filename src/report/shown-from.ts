import { cutText } from './cut-text.ts';
import { collapseUnseenRuns } from '../read/blank-characters.ts';

/**
 * Longer than RFC 5321 allows a local part (64 octets) and than the long bounce addresses genuine
 * mailers write; past it, what follows the cut is padding or worse.
 */
const MAX_LOCAL_PART = 128;

const asIs = (text: string): string => text;

/**
 * Message text (a Subject, a display name) as a report shows it within `max` characters: runs of
 * blank-looking or invisible characters counted (`collapseUnseenRuns`), so that padding cannot
 * push the end of the text past the cut, and an ellipsis where it is cut all the same. `safe` is
 * the output's escaper when it lengthens text (a terminal's \u escapes): applied before the text
 * is measured, so that escapes cannot push the end out either.
 */
export function shownText(text: string | null | undefined, max: number, safe: (text: string) => string = asIs): string {
  return cutText(safe(trimOrdinaryEnd(collapseUnseenRuns(text ?? '')).replace(ORDINARY_BLANKS_AT_START, '')), max);
}

/**
 * A From field as a report shows it: the display name as `shownText` shows it, and the address,
 * read from the field as written, always at the end with its domain whole. The domain is what a
 * signature speaks for; the name and the local part are the forger's to write, so only they are
 * ever cut, and the local part's padding is counted as the name's is (a local part of
 * "ceo﹫bank.example" and 330 soft hyphens once pushed "@evil.example" out of every report).
 */
export function shownFrom(from: string | null, address: string | null, max: number, safe: (text: string) => string = asIs): string {
  if (!address) return shownText(from, max, safe);
  const shown = shownAddress(address, safe);
  const name = nameBeside(from ?? '', address);
  if (name === null) return shown;
  const tail = ` <${shown}>`;
  const shownName = shownText(name, Math.max(20, max - tail.length), safe);
  return shownName.trim() === '' ? `<${shown}>` : `${shownName}${tail}`;
}

/**
 * What the field holds beside its address: the text before a final `<address>`, the whole field
 * when the address is elsewhere in it (several authors, a name in a comment), or null when the
 * field is the bare address. The address was read lower case; the field may spell it otherwise.
 */
function nameBeside(field: string, address: string): string | null {
  const end = trimOrdinaryEnd(field);
  if (end.replace(ORDINARY_BLANKS_AT_START, '').toLowerCase() === address) return null;
  const angled = `<${address}>`;
  return end.slice(-angled.length).toLowerCase() === angled ? trimOrdinaryEnd(end.slice(0, -angled.length)) : field;
}

function shownAddress(address: string, safe: (text: string) => string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return cutText(safe(collapseUnseenRuns(address, true)), MAX_LOCAL_PART);
  return `${cutText(safe(collapseUnseenRuns(address.slice(0, at), true)), MAX_LOCAL_PART)}@${safe(address.slice(at + 1))}`;
}

// Only ASCII blanks are trimmed: String.trim also removes no-break and other Unicode spaces, and
// a run of them is padding to count, not to drop. (A loop: /[ \t]+$/ is quadratic on a long run
// of spaces followed by anything else.)
const ORDINARY_BLANKS_AT_START = /^[ \t]+/;
function trimOrdinaryEnd(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return text.slice(0, end);
}

