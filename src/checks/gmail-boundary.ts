import { parseZonedMailDate } from '../read/message-meta.ts';
import { HOUR, formatDuration, iso, topBoundary } from './check-support.ts';
import type { Finding, MessageCheck } from './types.ts';

/**
 * Gmail's MIME boundaries carry the time Gmail built the message. A boundary is 28 hex digits:
 * 12 (zeros since about 2017, a per-server value before), 6 more, then 10 that are a
 * microsecond Unix time shifted right by 16 bits: time ≈ parseInt(last10, 16) × 65.536 ms.
 * Established on real Gmail mail (docs/checks.md lists the samples): decoded times fall
 * within a minute of the Date. The pre-2017 form is decoded only when the Message-ID also
 * says Gmail built the message (`@mail.gmail.com`), because 28 hex digits alone are not
 * distinctive enough.
 */
const NEW_FORM = /^0{12}[0-9a-f]{6}([0-9a-f]{10})$/;
const OLD_FORM = /^[0-9a-f]{18}([0-9a-f]{10})$/;
/** Gmail opened in April 2004; a decoded time outside 2004-2100 is not a Gmail boundary. */
const EARLIEST = Date.UTC(2004, 0, 1);
const LATEST = Date.UTC(2100, 0, 1);

/**
 * Decoded boundary time and Date further apart than this are reported. On real messages they
 * differ by seconds; a day leaves room for outbox delays and scheduled sending, and still
 * catches a message re-dated by days, months or years.
 */
export const GMAIL_BOUNDARY_TOLERANCE_MS = 24 * HOUR;

export function decodeGmailBoundary(boundary: string, gmailMessageId: boolean): Date | null {
  const m = NEW_FORM.exec(boundary) ?? (gmailMessageId ? OLD_FORM.exec(boundary) : null);
  if (!m) return null;
  const ms = (Number.parseInt(m[1]!, 16) * 65536) / 1000;
  if (!(ms >= EARLIEST && ms <= LATEST)) return null;
  return new Date(Math.round(ms));
}

export const isGmailMessageId = (messageId: string | null): boolean => messageId !== null && /@mail\.gmail\.com>?\s*$/i.test(messageId.slice(0, 1000));

export const auditGmailBoundary: MessageCheck = ({ headers, meta }) => {
  const boundary = topBoundary(headers.fields);
  if (!boundary) return [];
  const built = decodeGmailBoundary(boundary, isGmailMessageId(meta.messageId));
  if (!built) return [];
  const date = parseZonedMailDate(meta.dateHeader?.slice(0, 300) ?? null);
  if (!date) return [];
  const diff = date.getTime() - built.getTime();
  if (Math.abs(diff) <= GMAIL_BOUNDARY_TOLERANCE_MS) return [];
  const finding: Finding = {
    code: 'gmail-boundary-time-mismatch',
    severity: 'warning',
    text: `The MIME boundary is Gmail's and records that Gmail built the message at about ${iso(built)}, ${formatDuration(diff)} ${
      diff > 0 ? 'before' : 'after'
    } its Date (${iso(date)}): the Date may have been changed, or the body taken from another message.`,
    evidence: {
      boundary,
      boundaryTime: iso(built),
      date: meta.dateHeader,
      dateTime: iso(date),
      differenceSeconds: Math.round(diff / 1000),
      toleranceHours: GMAIL_BOUNDARY_TOLERANCE_MS / HOUR,
      messageId: meta.messageId,
    },
  };
  return [finding];
};

