import { BLANK_LOOKING } from '../read/blank-characters.ts';

/**
 * A display name padded with hundreds of blank-looking characters pushes the real address past
 * where a report cuts the From, leaving "CEO ceo@bank.example" beside "verified".
 */
const BLANK_RUN = new RegExp(`[${BLANK_LOOKING}]{2,}`, 'g');
const ORDINARY_BLANKS = /[ \t]/g;

/**
 * A From field as a report shows it: runs of blank-looking characters collapsed and counted
 * (never silently dropped: they are part of the evidence), and the address, read from the field
 * as written, always shown whole at the end. Only the display name is ever cut to fit `max`: the
 * address is what a signature speaks for, and the name is the forger's to write. `safe` is the
 * output's escaper when it lengthens text (a terminal's \u escapes): applied to each piece before
 * it is measured, so that escapes cannot push the address past the cut either.
 */
export function shownFrom(from: string | null, address: string | null, max: number, safe: (text: string) => string = (text) => text): string {
  const text = (from ?? '').replace(BLANK_RUN, (run) => {
    const unusual = run.replace(ORDINARY_BLANKS, '').length;
    return unusual < 2 ? ' ' : ` [${unusual} blank characters] `;
  });
  if (!address) return cut(safe(text), max);
  const shownAddress = cut(safe(address), 320);
  // (the address was read lower case; the field may spell it otherwise)
  const lower = text.toLowerCase();
  if (lower.trim() === address) return shownAddress;
  const rest = lower.endsWith(`<${address}>`) ? text.slice(0, -address.length - 2).trimEnd() : text;
  if (rest.trim() === '') return `<${shownAddress}>`;
  const tail = ` <${shownAddress}>`;
  return `${cut(safe(rest), Math.max(20, max - tail.length))}${tail}`;
}

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
