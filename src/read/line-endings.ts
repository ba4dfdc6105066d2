/** True when some line ends in a bare LF: DKIM is defined over CRLF, so such a copy needs repair. */
export function hasBareLf(raw: Buffer): boolean {
  let at = raw.indexOf(0x0a);
  while (at >= 0) {
    if (at === 0 || raw[at - 1] !== 0x0d) return true;
    at = raw.indexOf(0x0a, at + 1);
  }
  return false;
}

/**
 * Rewrites every bare LF as CRLF and leaves existing CRLFs alone. Mail stored on Unix systems
 * (mbox, Maildir, most dumps) lost its CRs; signers signed the CRLF form. The result (the input
 * itself when it had no bare LF) is recorded as CRLF-only, see isKnownCrlfOnly.
 */
export function toCrlf(raw: Buffer): Buffer {
  if (!hasBareLf(raw)) return markCrlfOnly(raw);
  const parts: Buffer[] = [];
  let start = 0;
  let at = raw.indexOf(0x0a);
  while (at >= 0) {
    if (at === 0 || raw[at - 1] !== 0x0d) {
      parts.push(raw.subarray(start, at), CRLF);
      start = at + 1;
    }
    at = raw.indexOf(0x0a, at + 1);
  }
  parts.push(raw.subarray(start));
  return markCrlfOnly(Buffer.concat(parts));
}

const CRLF = Buffer.from('\r\n');

/*
 * Byte ranges known to be CRLF-only: every LF in them is preceded by a CR inside the range.
 * A message is scanned for line feeds once, by toCrlf; the canonicalization fast paths and the
 * body fingerprint then ask here instead of scanning every line of a 10 MB attachment again
 * (three such scans were 5% of a worker's time). Keyed by the memory the bytes live in, so a
 * view into a recorded range is known too. Bytes are never modified once read; memory that is
 * reused for other bytes is forgotten first (forgetLineEndings).
 */
const crlfOnly = new WeakMap<ArrayBufferLike, Array<[start: number, end: number]>>();

function markCrlfOnly(bytes: Buffer): Buffer {
  const ranges = crlfOnly.get(bytes.buffer) ?? [];
  // A pooled slab holds many small buffers; a few ranges are plenty to remember.
  if (ranges.length >= 8) ranges.shift();
  ranges.push([bytes.byteOffset, bytes.byteOffset + bytes.length]);
  crlfOnly.set(bytes.buffer, ranges);
  return bytes;
}

/**
 * Memory about to hold other bytes (a reused read buffer): what was known of the old ones must
 * not be taken for the new.
 */
export function forgetLineEndings(memory: ArrayBufferLike): void {
  crlfOnly.delete(memory);
}

/**
 * True when `view` lies inside a range toCrlf produced or passed, so that every LF in it, except
 * one at its very first byte (whose CR may lie before the view), is preceded by a CR in it.
 * False means "not known", not "has bare LFs".
 */
export function isKnownCrlfOnly(view: Buffer): boolean {
  const ranges = crlfOnly.get(view.buffer);
  if (!ranges) return false;
  const start = view.byteOffset;
  const end = start + view.length;
  return ranges.some(([s, e]) => start >= s && end <= e);
}
