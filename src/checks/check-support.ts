import type { HeaderField } from '../read/headers.ts';
import { parseZonedMailDate } from '../read/message-meta.ts';
import type { DkimSignatureResult } from '../verify/dkim.ts';

/**
 * Small helpers shared by the per-message checks. Everything here is linear in its input and
 * caps what it reads: a check runs on every message of a dump, hostile ones included.
 */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** The longest header value a check parses; longer values are cut (or skipped, where cutting could mislead). */
export const MAX_VALUE_CHARS = 64 * 1024;

/** The `boundary` parameter of a Content-Type value, or null. Case is kept: boundaries are case-sensitive. */
export function boundaryParam(contentType: string | null | undefined): string | null {
  if (!contentType) return null;
  const m = /(?:^|;)\s*boundary\s*=\s*(?:"((?:[^"\\\r\n]|\\.){1,200})"|([^\s;"]{1,200}))/i.exec(contentType.slice(0, 4096));
  if (!m) return null;
  return (m[1] ?? m[2] ?? '').replace(/\\(.)/g, '$1') || null;
}

/** The top-level MIME boundary of the message (from its first Content-Type field). */
export const topBoundary = (fields: HeaderField[]): string | null =>
  boundaryParam(fields.find((f) => f.name === 'content-type')?.value);

/** "3 days 4 h", "2 h 5 min", "12 min", "40 s": for the plain-language sentences. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs >= 2 * DAY) {
    const days = Math.floor(abs / DAY);
    const hours = Math.floor((abs % DAY) / HOUR);
    return hours ? `${days} days ${hours} h` : `${days} days`;
  }
  if (abs >= HOUR) {
    const hours = Math.floor(abs / HOUR);
    const minutes = Math.floor((abs % HOUR) / MINUTE);
    return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  }
  if (abs >= MINUTE) return `${Math.round(abs / MINUTE)} min`;
  return `${Math.round(abs / 1000)} s`;
}

/**
 * Text for a report: printable characters kept, control characters escaped (\r, \n, \t,
 * \xNN), at most `max` characters of output.
 */
export function escapeControls(text: string, max = 200): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    let piece: string;
    if (ch === '\r') piece = '\\r';
    else if (ch === '\n') piece = '\\n';
    else if (ch === '\t') piece = '\\t';
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) piece = `\\x${code.toString(16).padStart(2, '0')}`;
    else piece = ch;
    if (out.length + piece.length > max) break;
    out += piece;
  }
  return out;
}

/**
 * The time stamp of a Received field: what follows its last ';' (RFC 5321 section 4.4).
 * RFC 5322 dates first; then the ISO-like form some MTAs write
 * (`2016-11-09 20:10:27.258036245 +0000 UTC`). A stamp without a zone is not a time.
 */
export function receivedTime(value: string): Date | null {
  const semi = value.lastIndexOf(';');
  if (semi < 0) return null;
  const stamp = value.slice(semi + 1, semi + 200).trim();
  if (!stamp) return null;
  return parseZonedMailDate(stamp) ?? parseIsoStamp(stamp);
}

function parseIsoStamp(stamp: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?/.exec(stamp);
  if (!m) return null;
  const zone = m[8] ?? (/^\S+\s+\S+\s+UTC\b/.test(stamp) ? 'Z' : null);
  if (!zone) return null;
  const offset = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const ms = m[7] ? `.${m[7].slice(0, 3).padEnd(3, '0')}` : '';
  const t = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${ms}${offset}`);
  return Number.isNaN(t) ? null : new Date(t);
}

/** The numeric zone of an RFC 5322 date (`-0700` → -420 minutes), or null when it has none. */
export function zoneOffsetMinutes(value: string): number | null {
  const m = /\d{1,2}:\d{2}(?::\d{2})?\s+([+-])(\d{2})(\d{2})\b/.exec(value.slice(0, 300));
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}

/**
 * A signature that speaks for the author's domain about what it covers: it verifies, is aligned
 * with From, and its key is strong and not known to be compromised, as decideVerdict asks of a
 * proof. Another domain's signature, or one made with a 512-bit or published key of the same
 * domain, is one a forger can add over a header they changed: taken for the author's, it turned
 * a replaced boundary or a back-dated Date from a red flag into a verified message (red team 27,
 *
 */
export const speaksForAuthor = (sig: DkimSignatureResult): boolean =>
  sig.outcome === 'pass' && sig.aligned && sig.key !== null && sig.key.strong && sig.key.compromised === null;

/** A passing signature covers `name` for every instance present, so the instance shown is the signed one. */
export function headerAttested(fields: HeaderField[], signatures: DkimSignatureResult[], name: string): boolean {
  const present = fields.filter((f) => f.name === name).length;
  if (present === 0) return false;
  return signatures.some(
    (sig) => sig.outcome === 'pass' && sig.tags.signedHeaders.filter((h) => h === name).length >= present,
  );
}

export const iso = (d: Date): string => d.toISOString();

/** The text with its first letter in capitals, for a sentence that begins with a generated phrase. */
export const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
