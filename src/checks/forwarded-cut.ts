import type { ParsedHeaders } from '../read/headers.ts';
import { readMultipartBoundary } from './part-headers.ts';
import type { Finding } from './types.ts';

/** Nested multipart Content-Types looked at in a carrier's body: far more than any mail nests. */
const MAX_NESTED = 100;
const NESTED_MULTIPART = /^content-type[ \t]*:[ \t]*"?multipart\/[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*/gim;

/**
 * A message that carries a forwarded message (a message/rfc822 part) but whose multipart
 * boundaries mail programs read differently: they then cut different bytes out as "the
 * forwarded message". A forger can wrap a genuine signed message in an unsigned carrier whose
 * Content-Type names two boundaries, the genuine message under the one mailparser (and
 * leakcheck) takes, a forged copy under the one Python's email takes; the genuine one verifies,
 * and readers of the other kind read the forgery as the forwarded message that verified (red
 * team 28, I-01). The carrier's own signature need not verify for this, so it is looked at
 * whatever the carrier's verdict. A warning on the carrier; each forwarded message cut out of it
 * is kept from "verified" (findings-from-outside.ts, applyCarrierFindings).
 */
export function forwardedCutAmbiguity(bytes: Buffer, headers: ParsedHeaders, parts: readonly ForwardedPart[] = []): Finding | null {
  const encoded = parts.find((p) => p.isMessage && p.contentType === 'message/rfc822' && p.transferEncoding === 'quoted-printable');
  if (encoded) return encodedForwardFinding(encoded);
  const values = headers.fields.filter((f) => f.name === 'content-type').map((f) => f.value);
  const body = bytes.subarray(headers.headerBytes).toString('latin1');
  let nested = 0;
  for (const match of body.matchAll(NESTED_MULTIPART)) {
    if (++nested > MAX_NESTED) break;
    values.push(match[0].slice(match[0].indexOf(':') + 1));
  }
  for (const value of values) {
    const read = readMultipartBoundary(value);
    if (read === null || read.boundary !== null) continue;
    return {
      code: 'forwarded-message-ambiguous',
      severity: 'warning',
      text:
        `This message carries a forwarded message, but mail programs read the boundary of its ${read.type} parts differently (${read.problem}): ` +
        'they do not agree on which bytes are the forwarded message, and some may show another one than the message verified here. ' +
        'No forwarded message cut out of it is taken as verified.',
      evidence: { contentType: value.trim().slice(0, 300), problem: read.problem, boundaryReadings: read.readings.slice(0, 10) },
    };
  }
  return null;
}

/** What the check needs of a carrier's parts (the inventory's records). */
export interface ForwardedPart {
  partIndex: number;
  contentType: string;
  transferEncoding: string | null;
  isMessage: boolean;
}

/**
 * A message/rfc822 part in quoted-printable, which RFC 2046 section 5.2.1 forbids: Python's email
 * reads the encoded text as the message, mail programs that decode it read the decoded bytes,
 * and an encoder chooses what to encode (`=31` for a `1`: a reader of the first kind sees
 * `=3100` where the signed message says `100`). Named as what it is: until red team Y, Y-10, such
 * a carrier was only caught when the encoded boundary of a multipart inside it read as a bad one,
 * and the finding blamed that boundary. (In base64 the other readers show base64 text, never
 * another message.)
 */
function encodedForwardFinding(part: ForwardedPart): Finding {
  return {
    code: 'forwarded-message-ambiguous',
    severity: 'warning',
    text:
      `This message carries a forwarded message (part ${part.partIndex}) in quoted-printable, which the MIME standard forbids for message/rfc822: ` +
      'mail programs that decode it read the bytes verified here, others (Python\'s email) read the encoded text as the message, and the encoding can make that text say something else. ' +
      'No forwarded message cut out of it is taken as verified.',
    evidence: { partIndex: part.partIndex, contentType: part.contentType, transferEncoding: part.transferEncoding },
  };
}
