import libmime from 'libmime';
import { firstValue, type ParsedHeaders } from './headers.ts';

/** What a reader of the message sees first: the fields every report lists. */
export interface MessageMeta {
  messageId: string | null;
  /** the From field as displayed, RFC 2047 decoded */
  from: string | null;
  fromAddress: string | null;
  fromDomain: string | null;
  subject: string | null;
  /** the Date field verbatim, and as an instant when it parses */
  dateHeader: string | null;
  date: string | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const decode = (value: string | null): string | null => (value === null ? null : decodeHeaderText(value));

/** A header value as a reader sees it: UTF-8 (RFC 6532) read as such, encoded words (RFC 2047) decoded. */
export function decodeHeaderText(value: string): string {
  const text = readUtf8(value).text;
  try {
    return libmime.decodeWords(text);
  } catch {
    return text;
  }
}

/**
 * A header value (its bytes read as latin1) as text: UTF-8 (RFC 6532) decoded as such when the
 * bytes are valid UTF-8 (`utf8` true; ASCII is), else left as latin1, which keeps 8-bit legacy
 * text readable (`utf8` false). Decoding changes no ASCII character, so address syntax reads the
 * same either way.
 */
export function readUtf8(value: string): { text: string; utf8: boolean } {
  if (!/[^\x00-\x7f]/.test(value)) return { text: value, utf8: true };
  try {
    return { text: utf8.decode(Buffer.from(value, 'latin1')), utf8: true };
  } catch {
    return { text: value, utf8: false };
  }
}

/**
 * The address of a From field, read from the field as written: never after RFC 2047 decoding
 * (an encoded display name can spell `<ceo@example.com>`), and with comments and quoted
 * display names removed first (they can hold an address too).
 */
export function extractAddress(fromValue: string): string | null {
  // Real From fields are short; the regexes below must not meet a hostile 1 MB one whole.
  const from = fromValue.length > 8192 ? fromValue.slice(0, 8192) : fromValue;
  const visible = from.replace(/"(?:[^"\\]|\\.)*"/g, ' ').replace(/\((?:[^()\\]|\\.)*\)/g, ' ');
  const angle = /<\s*([^<>\s]+@[^<>\s]+)\s*>/.exec(visible);
  if (angle) return angle[1]!.toLowerCase();
  const bare = /([^\s<>"(),;:]+@[^\s<>"(),;:]+)/.exec(visible);
  return bare ? bare[1]!.toLowerCase() : null;
}

/**
 * Parses an RFC 5322 date (and the obsolete forms real mail uses). Returns null rather than a
 * guess: an unparseable Date is itself a finding.
 */
export function parseMailDate(value: string | null): Date | null {
  if (!value || value.length > 1024) return null; // no real Date is that long
  const cleaned = value
    .replace(/\([^)]*\)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    // obsolete single-letter military zones carry no reliable offset (RFC 5322 section 4.3)
    .replace(/\s[A-IK-Za-ik-z]$/, ' +0000');
  const m = /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})\s+(\d{1,2}:\d{2}(?::\d{2})?)\s*(.*)$/.exec(cleaned);
  if (!m) return null;
  const [, day, month, rawYear, time, zone] = m as unknown as [string, string, string, string, string, string];
  const monthIndex = MONTHS.indexOf(month.toLowerCase());
  if (monthIndex < 0) return null;
  // RFC 5322 section 4.3: two-digit years below 50 are 20xx, other two- and three-digit years 19xx.
  let year = Number(rawYear);
  if (rawYear.length === 2) year += year < 50 ? 2000 : 1900;
  else if (rawYear.length === 3) year += 1900;
  const parsed = Date.parse(`${day} ${month} ${year} ${time} ${zone || '+0000'}`);
  if (Number.isNaN(parsed)) return null;
  // Date.parse rolls 31 Feb over into March; an impossible date is not a date.
  const check = new Date(Date.UTC(year, monthIndex, Number(day)));
  if (check.getUTCDate() !== Number(day) || check.getUTCMonth() !== monthIndex) return null;
  return new Date(parsed);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

export function readMessageMeta(headers: ParsedHeaders): MessageMeta {
  const rawFrom = firstValue(headers, 'from');
  const from = decode(rawFrom);
  // the address as a reader sees it: a UTF-8 (RFC 6532) address decoded, never mojibake
  const fromAddress = rawFrom ? extractAddress(readUtf8(rawFrom).text) : null;
  const dateHeader = firstValue(headers, 'date');
  return {
    messageId: firstValue(headers, 'message-id')?.trim() ?? null,
    from,
    fromAddress,
    fromDomain: fromAddress ? fromAddress.slice(fromAddress.lastIndexOf('@') + 1) : null,
    subject: decode(firstValue(headers, 'subject')),
    dateHeader,
    date: parseMailDate(dateHeader)?.toISOString() ?? null,
  };
}
