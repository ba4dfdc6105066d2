import { createHash } from 'node:crypto';
import { fieldsNamed, firstValue, type ParsedHeaders } from './headers.ts';
import { isKnownCleanLineEnds, isKnownCrlfOnly } from './line-endings.ts';

/**
 * What the cross-dump checks compare between messages: content fingerprints that survive the
 * differences between copies of one message (each mailbox adds its own Received headers), thread
 * links, and the sender's habits.
 */
export interface MessageTraits {
  /** sha256 of the body with line-end whitespace and trailing blank lines normalised away */
  bodySha256: string | null;
  /** sha256 of the headers a reader sees: From, To, Cc, Subject, Date */
  visibleSha256: string;
  inReplyTo: string | null;
  references: string[];
  /** the Date header's UTC offset in minutes */
  dateOffsetMinutes: number | null;
  /** X-Mailer or User-Agent */
  mailer: string | null;
}

const VISIBLE = ['from', 'to', 'cc', 'subject', 'date'];
const MSG_ID = /<[^<>\s]{1,998}>/g;

export function messageIds(value: string | null): string[] {
  return value ? [...value.matchAll(MSG_ID)].map((m) => m[0]) : [];
}

/**
 * A DKIM body hash the verifier already computed over the whole body (sha256, no l=), hex, with
 * the length of the body it read: when the body is clean enough that its canonical form is its
 * normalised form, the fingerprint is that very hash and the body is not hashed again.
 */
export interface VerifierBodyHash {
  sha256: string;
  bodyLength: number;
}

export function readMessageTraits(bytes: Buffer, headers: ParsedHeaders, verifierHashes: readonly VerifierBodyHash[] = []): MessageTraits {
  const visible = VISIBLE.map((name) => fieldsNamed(headers, name).map((f) => f.value.replace(/\s+/g, ' ').trim()).join('\u0000')).join('\n');
  const offset = /([+-])(\d{2})(\d{2})\s*(?:\([^)]*\))?\s*$/.exec(firstValue(headers, 'date') ?? '');
  const mailer = firstValue(headers, 'x-mailer') ?? firstValue(headers, 'user-agent');
  return {
    bodySha256: headers.hasBody ? normalisedBodyHash(bytes.subarray(headers.headerBytes), verifierHashes) : null,
    visibleSha256: createHash('sha256').update(visible, 'latin1').digest('hex'),
    inReplyTo: messageIds(firstValue(headers, 'in-reply-to'))[0] ?? null,
    references: messageIds(firstValue(headers, 'references')).slice(0, 200),
    dateOffsetMinutes: offset ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) : null,
    mailer: mailer ? mailer.slice(0, 200) : null,
  };
}

/**
 * The body with trailing whitespace of every line and trailing empty lines removed, hashed.
 * Most bodies have no whitespace before a line end: those are hashed in one call, without
 * walking their lines (a 10 MB attachment has 130,000 of them).
 */
export function normalisedBodyHash(body: Buffer, verifierHashes: readonly VerifierBodyHash[] = []): string {
  let end = body.length;
  while (end > 0 && (body[end - 1] === 0x0a || body[end - 1] === 0x0d)) end--;
  const trimmed = body.subarray(0, end);
  // Each line is already its own normalised form when every line ends in CRLF with no space,
  // tab or extra CR before it, and the last line ends in neither.
  // One memchr for a tab answers two questions below (a multi-byte search is several times slower).
  const hasTab = body.indexOf(0x09) >= 0;
  const clean =
    end > 0 &&
    body[end - 1] !== 0x20 &&
    body[end - 1] !== 0x09 &&
    (isKnownCleanLineEnds(trimmed) ||
      (trimmed.indexOf(' \r\n') < 0 && (!hasTab || trimmed.indexOf('\t\r\n') < 0) && trimmed.indexOf('\r\r\n') < 0)) &&
    ((isKnownCrlfOnly(trimmed) && trimmed[0] !== 0x0a) || isCrlfOnly(trimmed));
  if (!clean) return slowNormalisedBodyHash(body);
  // Both DKIM canonicalizations of such a body are its normalised form too, when what was cut
  // off the end is whole CRLF pairs (a lone CR is content to DKIM) and no line has a tab or a
  // run of spaces (relaxed would collapse them): the same bytes, so the same sha256.
  const reused = verifierHashes.find((h) => h.bodyLength === body.length);
  if (reused && endsInCrlfPairs(body, end) && !hasTab && body.indexOf('  ') < 0) return reused.sha256;
  return createHash('sha256').update(trimmed).update('\r\n').digest('hex');
}

function endsInCrlfPairs(body: Buffer, from: number): boolean {
  if ((body.length - from) % 2) return false;
  for (let i = from; i < body.length; i += 2) if (body[i] !== 0x0d || body[i + 1] !== 0x0a) return false;
  return true;
}

function isCrlfOnly(buffer: Buffer): boolean {
  let lf = buffer.indexOf(0x0a);
  while (lf >= 0) {
    if (lf === 0 || buffer[lf - 1] !== 0x0d) return false;
    lf = buffer.indexOf(0x0a, lf + 1);
  }
  return true;
}

export function slowNormalisedBodyHash(body: Buffer): string {
  const hash = createHash('sha256');
  let pendingBlank = 0;
  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length;
    let lineEnd = end;
    while (lineEnd > start && (body[lineEnd - 1] === 0x0d || body[lineEnd - 1] === 0x20 || body[lineEnd - 1] === 0x09)) lineEnd--;
    if (lineEnd === start) pendingBlank++;
    else {
      for (; pendingBlank > 0; pendingBlank--) hash.update('\r\n');
      hash.update(body.subarray(start, lineEnd));
      hash.update('\r\n');
    }
    start = end + 1;
  }
  return hash.digest('hex');
}
