import { createRequire } from 'node:module';
import type Libmime from 'libmime';
import { loadMimeLibraries } from '../attachments/parser-config.ts';
import { readAddressList } from '../checks/address-syntax.ts';
import { collapseWhitespace } from './blank-characters.ts';
import { firstValue, type ParsedHeaders } from './headers.ts';
import { canonicalMessageId } from './message-id.ts';

// Loaded at the first encoded word, not with this module: the main thread of every verify
// imports this module (for parseMailDate, through the passes over the dump) and decodes no
// header, and libmime with its character tables took 30-50 ms there.
const require = createRequire(import.meta.url);
let libmime: typeof Libmime | null = null;

/** What a reader of the message sees first: the fields every report lists. */
export interface MessageMeta {
  /** the Message-ID field as written (trimmed): what is shown and exported */
  messageId: string | null;
  /** the msg-id it holds (canonicalMessageId): what copies and threads are matched by */
  canonicalMessageId: string | null;
  /** the From field as displayed, RFC 2047 decoded */
  from: string | null;
  /** the From mailbox as a reader is shown it (fromMailbox) */
  fromAddress: string | null;
  fromDomain: string | null;
  subject: string | null;
  /** the Date field verbatim, and the instant it names when it parses (readMailDate) */
  dateHeader: string | null;
  date: string | null;
  /**
   * whether `date` was read with a zone leakcheck can read; false when it was read as -0000 and
   * may be off by as much as its writer's zone (up to 14 h): what compares it to minutes must
   * allow that. Null when there is no `date`.
   */
  dateZoneKnown: boolean | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A header value as a reader sees it: UTF-8 (RFC 6532) read as such, encoded words (RFC 2047)
 * decoded. Raw 8-bit bytes that are not UTF-8 are read in `legacyCharset` when one is given
 * (declaredHeaderCharset), else as Latin-1.
 */
export function decodeHeaderText(value: string, legacyCharset: string | null = null): string {
  const { text: utf8Text, utf8 } = readUtf8(value);
  const text = utf8 || legacyCharset === null ? utf8Text : charsetModule().decode(Buffer.from(value, 'latin1'), legacyCharset);
  // Every pass of libmime's decodeWords looks for "=?" but one, which drops its own joining
  // marker (with NUL bytes in it) wherever it is: text with neither comes back as it is. Most
  // header values, and half a microsecond to several each.
  if (!text.includes('=?') && !text.includes('\0')) return text;
  try {
    return (libmime ??= require('libmime') as typeof Libmime).decodeWords(text);
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

/** libmime's charset decoder (iconv-lite, encoding-japanese), loaded at the first header that needs it. */
let charsets: { decode: (bytes: Buffer, charset: string) => string; normalizeCharset: (charset: string) => string } | null = null;
const charsetModule = (): NonNullable<typeof charsets> => (charsets ??= require('libmime/lib/charset.js') as NonNullable<typeof charsets>);

/** How far into a multipart body its first text part's Content-Type is looked for (its headers come first). */
const MAX_PART_SEARCH = 65_536;
const FIRST_TEXT_PART = /^content-type:[ \t]*text\/[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*/im;
const CHARSET_PARAMETER = /;\s*charset\s*=\s*(?:"([^"\r\n]{1,64})"|([^\s;"]{1,64}))/i;
const UTF8_OR_ASCII = /^(?:(?:us-)?ascii|utf-8|7bit)$/i;
/** Printable ASCII: a set that reads these as themselves keeps a field's syntax (its address, its quotes) as written. */
const ASCII_PROBE = Buffer.from(Array.from({ length: 0x5f }, (_, i) => i + 0x20));
const HEADER_CHARSETS = new Map<string, boolean>();
const MAX_REMEMBERED = 1_000;

/**
 * The character set in which mail programs read a header's raw 8-bit bytes when they are not
 * UTF-8 (RFC 6532 allows only UTF-8; older Russian and Japanese clients wrote KOI8-R and
 * Shift_JIS there): the one the message declares for its text, in the top-level Content-Type or,
 * in a multipart, the first text part's (within the body's first 64 KiB). Null when none is
 * declared, or the declared one is UTF-8 or ASCII (which these bytes are not), unknown to
 * libmime, or does not read ASCII as ASCII (UTF-16, UTF-7): the bytes are then read as Latin-1,
 * as before. See header-charset-assumed.
 */
export function declaredHeaderCharset(headers: ParsedHeaders, bytes?: Buffer): string | null {
  const contentType = firstValue(headers, 'content-type') ?? '';
  let declared = charsetParameter(contentType);
  if (declared === null && bytes && headers.hasBody && /^\s*multipart\//i.test(contentType)) {
    const body = bytes.subarray(headers.headerBytes, headers.headerBytes + MAX_PART_SEARCH).toString('latin1');
    const part = FIRST_TEXT_PART.exec(body);
    declared = part ? charsetParameter(part[0]) : null;
  }
  return declared !== null && readsHeaderBytes(declared) ? declared.toLowerCase() : null;
}

/** The charset= parameter of a Content-Type value, or null. */
export function charsetParameter(contentType: string): string | null {
  const match = CHARSET_PARAMETER.exec(contentType);
  return match ? (match[1] ?? match[2])!.trim() || null : null;
}

function readsHeaderBytes(charset: string): boolean {
  const key = charset.toLowerCase();
  let usable = HEADER_CHARSETS.get(key);
  if (usable === undefined) {
    const { decode, normalizeCharset } = charsetModule();
    usable =
      !UTF8_OR_ASCII.test(normalizeCharset(charset)) &&
      loadMimeLibraries().canDecodeCharset(charset) &&
      decode(ASCII_PROBE, charset) === ASCII_PROBE.toString('latin1');
    if (HEADER_CHARSETS.size < MAX_REMEMBERED) HEADER_CHARSETS.set(key, usable);
  }
  return usable;
}

/**
 * Header values as a reader sees them (decodeHeaderText), raw 8-bit bytes that are not UTF-8 read
 * in the message's declared charset; the charset looked for once, and only when a value needs it.
 */
export function headerReader(headers: ParsedHeaders, bytes?: Buffer): (value: string) => string {
  let legacy: string | null | undefined;
  return (value) => decodeHeaderText(value, readUtf8(value).utf8 ? null : (legacy === undefined ? (legacy = declaredHeaderCharset(headers, bytes)) : legacy));
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
 * The From field's mailbox as a reader is shown it, lower-cased: its addr-spec without what RFC
 * 5322 makes no part of the address (comments, folding, an obsolete route `<@relay:a@b>`), a
 * quoted local part of plain characters unquoted (`"alice"@…` is `alice@…`), and the domain without
 * the one trailing dot that names the same DNS name. A forged copy whose From was spelled so was
 * read as from no domain, or from another, and the witness rule (witnessesAgainst) then let it
 * escape its proven twin (red team 30, M-02). Read by extractAddress, and where it reads nothing
 * (comments inside the address, a quoted local part), by the strict reader.
 */
export function fromMailbox(fromValue: string): string | null {
  const address = extractAddress(fromValue) ?? strictFirstAddress(fromValue);
  return address === null ? null : addrSpecAsShown(address);
}

function strictFirstAddress(fromValue: string): string | null {
  const reading = readAddressList(fromValue.length > 8192 ? fromValue.slice(0, 8192) : fromValue);
  return reading.problem === null ? (reading.addresses[0] ?? null) : null;
}

/** A quoted local part whose content needs no quotes: a dot-atom (RFC 5322 atext and dots). */
const QUOTED_DOT_ATOM = /^"([A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]+)*)"$/;

function addrSpecAsShown(address: string): string {
  const unrouted = /^@[^:"]*:/.test(address) ? address.slice(address.indexOf(':') + 1) : address;
  const at = unrouted.lastIndexOf('@');
  if (at < 0) return unrouted.toLowerCase();
  const rawLocal = unrouted.slice(0, at).trim();
  const local = rawLocal.startsWith('"') ? rawLocal.replace(QUOTED_DOT_ATOM, '$1') : rawLocal.replace(/\s*\.\s*/g, '.');
  const domain = unrouted.slice(at + 1).replace(/\s+/g, '').replace(/\.$/, '');
  return `${local}@${domain}`.toLowerCase();
}

/** A Date as read: its instant, and whether it named a zone that could be read. */
export interface MailDateReading {
  date: Date;
  /**
   * false when the zone is missing or is text no table here reads (`CET`, `+100`, `foo`): the
   * time is then read as -0000 (RFC 5322 section 4.3, "no information"), as Python's email.utils
   * reads it, and may be off by as much as its writer's zone (-12:00 to +14:00). Never the host's
   * local zone: the same dump must give the same verdicts on any machine (red team 6, C-02).
   */
  zoneKnown: boolean;
  /** the day-of-week word as written (`Sat,`, `Fr.`), or null when the Date has none */
  weekdayWritten: string | null;
  /** the calendar date as written, before any zone: midnight UTC of that day */
  writtenDay: Date;
}

/**
 * Parses an RFC 5322 date (and the obsolete forms real mail uses) into an instant. Returns null
 * rather than a guess: an unparseable Date is itself a finding (`date-unparseable`).
 *
 * The instant is built with Date.UTC from the zone read here, never with Date.parse: for zone
 * text it does not know (`PM`, `0100`, a stray `.`), Date.parse falls back to the host's local
 * zone, and the same dump then gave other verdicts on a machine in Tokyo (red team 6, C-02).
 *
 * What mail programs read, this reads (red team R, R-02): a Date leakcheck could not read but a
 * reader's client shows switched off every time check, so a back-dated forgery came out verified
 * by writing its Date as `14-Feb-2015`, `+0100 +0100`, `+0100.`, `+0100 (CET) 2015`, without a
 * zone or with `CET`. Text after a readable zone is ignored, as Python's email.utils and
 * mailparser ignore it. A missing or unreadable zone is -0000, with `zoneKnown` false: callers
 * that compare times to minutes (Received stamps, threads) must not take it as exact.
 */
export function readMailDate(value: string | null): MailDateReading | null {
  if (!value || value.length > 1024) return null; // no real Date is that long
  // A comment left open runs to the end of the value: it says nothing about the time either.
  const uncommented = value.includes('(') ? withoutComments(value) : value;
  const m = MAIL_DATE.exec(collapseWhitespace(uncommented));
  if (!m) return null;
  const [, weekday, day, month, rawYear, rawHour, rawMinute, rawSecond, meridiem, zoneText] = m as unknown as [
    string, string | undefined, string, string, string, string, string, string | undefined, string | undefined, string,
  ];
  const monthIndex = MONTHS.indexOf(month.toLowerCase());
  if (monthIndex < 0) return null;
  const zoneMinutes = zoneOffset(zoneText);
  let hour = Number(rawHour);
  const minute = Number(rawMinute);
  const second = rawSecond === undefined ? 0 : Number(rawSecond);
  if (meridiem !== undefined) {
    // a 12-hour clock, as some localized mailers write it: 12 AM is midnight, 12 PM noon
    const pm = meridiem.toLowerCase() === 'pm';
    if (hour > 12 || (hour === 0 && pm)) return null;
    hour = (hour % 12) + (pm ? 12 : 0);
  }
  if (hour > 23 || minute > 59 || second > 60) return null;
  // RFC 5322 section 4.3: two-digit years below 50 are 20xx, other two- and three-digit years 19xx.
  // A four-digit year below 100 (`0019`) follows the two-digit rule, as Date.parse read it before.
  let year = Number(rawYear);
  if (rawYear.length === 3) year += 1900;
  else if (year < 100) year += year < 50 ? 2000 : 1900;
  // 60 is a leap second (RFC 5322 section 3.3), read as the second before it: POSIX time has no 60th.
  const wallClock = Date.UTC(year, monthIndex, Number(day), hour, minute, Math.min(second, 59));
  const check = new Date(wallClock);
  // Date.UTC rolls 31 Feb over into March; an impossible date is not a date.
  if (check.getUTCDate() !== Number(day) || check.getUTCMonth() !== monthIndex) return null;
  return {
    date: new Date(wallClock - (zoneMinutes ?? 0) * 60_000),
    zoneKnown: zoneMinutes !== null,
    weekdayWritten: weekday ?? null,
    writtenDay: new Date(Date.UTC(year, monthIndex, Number(day))),
  };
}

/** The instant a Date names (readMailDate), a missing or unknown zone read as -0000. */
export function parseMailDate(value: string | null): Date | null {
  return readMailDate(value)?.date ?? null;
}

/** The instant a Date names only when its zone could be read: what a comparison to minutes needs. */
export function parseZonedMailDate(value: string | null): Date | null {
  const reading = readMailDate(value);
  return reading?.zoneKnown ? reading.date : null;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * The value with each comment replaced by a space. RFC 5322 comments nest (`(CET (Berlin))`) and
 * take a backslash-quoted character, which a regex reads wrongly (red team R, R-02); one pass,
 * linear in the value whatever it holds.
 */
function withoutComments(value: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (depth > 0 && c === '\\') i++;
    else if (c === '(') {
      if (depth++ === 0) out += ' ';
    } else if (depth > 0 && c === ')') depth--;
    else if (depth === 0) out += c;
  }
  return out;
}
// [day of week] day month year hour:minute[:second[.fraction]] [AM|PM] zone. Anchored at the
// start: a value with a second date in front (`Fri, 1 Mar 2019 14 Feb 2017 10:12:03 +0100`) is
// unreadable, as it is to mail clients, not silently the later of the two (red team R, R-07).
// The day of the week, possibly localized, is one word without digits.
// Day, month and year may be joined by dashes (`14-Feb-2015`, as IMAP and some clients write them).
const MAIL_DATE = /^(?:([^\d\s]{1,20})(?: ,)? )?(\d{1,2})[ -]([A-Za-z]{3})[a-z]*[ -](\d{2,4}) (\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)? ?(?:([AaPp][Mm])(?![A-Za-z]) ?)?(.*)$/;

/**
 * The zones a Date may name, all of them unambiguous: a single military letter (except J, which
 * names no zone); a numeric offset, `+0100`, `+01:00` or `+1`, alone or after UT, UTC or GMT
 * (`GMT+0100`); or a name. A name after a numeric offset (`-0700 PDT`, `+0800 CST`) is read as
 * the label mailers meant it to be: the offset is the zone RFC 5322 defines, and CST also names
 * China's +0800. A three-digit offset (`+100`) is not read: 1:00 and 10:00 are both possible.
 * What follows the zone (the zone again, a stray `.`, a year) is ignored, as mail programs do;
 * a letter or digit right after it would make it another word, and is not a zone.
 */
const ZONE =
  /^(?:([A-IK-Z])|(?:(?:UTC?|GMT) ?)?([+-])(?:(\d{2})(\d{2})|(\d{1,2})(?::(\d{2}))?)(?: (?:UTC?|GMT|Z|[ECMP][SD]T)(?![A-Za-z0-9]))?|(UTC?|GMT|Z|[ECMP][SD]T))(?![A-Za-z0-9:+-])/i;

const NAMED_ZONES: Readonly<Record<string, number>> = {
  ut: 0, utc: 0, gmt: 0, z: 0,
  est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420,
};

/** Minutes east of UTC that `text` (what follows the time) names, or null when it names no zone. */
function zoneOffset(text: string): number | null {
  const m = ZONE.exec(text);
  if (!m) return null;
  const [, military, sign, hh, mm, shortHours, shortMinutes, name] = m;
  if (military !== undefined) return 0;
  if (name !== undefined) return NAMED_ZONES[name.toLowerCase()]!;
  const minutes = Number(hh ?? shortHours) * 60 + Number(mm ?? shortMinutes ?? 0);
  return sign === '-' ? -minutes : minutes;
}

/** `bytes`, the whole message, lets a multipart's first text part declare the charset of raw 8-bit headers (declaredHeaderCharset). */
export function readMessageMeta(headers: ParsedHeaders, bytes?: Buffer): MessageMeta {
  const read = headerReader(headers, bytes);
  const decode = (value: string | null): string | null => (value === null ? null : read(value));
  const rawFrom = firstValue(headers, 'from');
  const from = decode(rawFrom);
  // the address as a reader sees it: a UTF-8 (RFC 6532) address decoded, never mojibake
  const fromAddress = rawFrom ? fromMailbox(readUtf8(rawFrom).text) : null;
  const dateHeader = firstValue(headers, 'date');
  const messageId = firstValue(headers, 'message-id')?.trim() ?? null;
  // A zoneless Date is kept, flagged: the dump's checks had no Date at all for it, and a forged
  // parent written without a zone escaped reply-before-parent and date-after-dump (red team R, R-02).
  const dateReading = readMailDate(dateHeader);
  return {
    messageId,
    canonicalMessageId: canonicalMessageId(messageId),
    from,
    fromAddress,
    fromDomain: fromAddress ? fromAddress.slice(fromAddress.lastIndexOf('@') + 1) : null,
    subject: decode(firstValue(headers, 'subject')),
    dateHeader,
    date: dateReading?.date.toISOString() ?? null,
    dateZoneKnown: dateReading?.zoneKnown ?? null,
  };
}
