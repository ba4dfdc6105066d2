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
 * is kept from "verified" (decide.ts, applyCarrierFindings).
 */
export function forwardedCutAmbiguity(bytes: Buffer, headers: ParsedHeaders): Finding | null {
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
