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

const decode = (value: string | null): string | null => {
  if (value === null) return null;
  // Header bytes were read as latin1; undo that so UTF-8 (RFC 6532) headers come out right.
  const text = Buffer.from(value, 'latin1').toString('utf8');
  try {
    return libmime.decodeWords(text);
  } catch {
    return text;
  }
};

export function extractAddress(from: string): string | null {
  const angle = /<\s*([^<>\s]+@[^<>\s]+)\s*>/.exec(from);
  if (angle) return angle[1]!.toLowerCase();
  const bare = /([^\s<>"(),;:]+@[^\s<>"(),;:]+)/.exec(from.replace(/\([^)]*\)/g, ' '));
  return bare ? bare[1]!.toLowerCase() : null;
}

/**
 * Parses an RFC 5322 date (and the obsolete forms real mail uses). Returns null rather than a
 * guess: an unparseable Date is itself a finding.
 */
export function parseMailDate(value: string | null): Date | null {
  if (!value) return null;
  const cleaned = value
    .replace(/\([^)]*\)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    // obsolete single-letter military zones carry no reliable offset (RFC 5322 section 4.3)
    .replace(/\s[A-IK-Za-ik-z]$/, ' +0000');
  if (!/\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}/.test(cleaned)) return null;
  const time = Date.parse(cleaned);
  return Number.isNaN(time) ? null : new Date(time);
}

export function readMessageMeta(headers: ParsedHeaders): MessageMeta {
  const from = decode(firstValue(headers, 'from'));
  const fromAddress = from ? extractAddress(from) : null;
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
