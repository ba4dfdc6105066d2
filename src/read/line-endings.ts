import type { ReadTarget } from '../discover/open-evidence.ts';
import { crlfCopyInPlace, forgetCrlfCopy, LINE_SCAN, scanLineFeeds } from './line-scan.ts';
import { unquoteLinesAt } from './mbox-quoting.ts';

/**
 * The loops below search and copy line by line through a plain Uint8Array view of the bytes: its
 * `indexOf`, `subarray` and `set` are V8's builtins, called as they are by every compiler. A
 * Buffer's `indexOf` and `copy` are Node's JavaScript (type checks and a native call), which only
 * TurboFan inlines; in efficiency mode (analysis-threads.ts) a verify keeps them in Maglev, where
 * each line cost two calls through them: a dump of 30 forged 5 MB messages needing every repair
 * (bare LFs, `>From `, dot-stuffing) took 7.8-11.3 s, and 6.0-7.8 s through the builtins, paired.
 * The builtin search does not use memchr (3.6 GB/s against 25 here), which tells on long lines:
 * one such 50 MB message alone (one thread, TurboFan's code) is 1-2 % slower.
 */
export const plainView = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** True when some line ends in a bare LF: DKIM is defined over CRLF, so such a copy needs repair. */
export function hasBareLf(raw: Buffer): boolean {
  return scanLineEnds(raw).bareLf;
}

/**
 * One pass over the line feeds: whether some line ends in a bare LF, and (when none does)
 * whether every CRLF follows something other than a space, a tab or another CR. The second
 * answer costs a byte read per line here; the fast paths would otherwise search the body for
 * " \r\n", "\t\r\n" and "\r\r\n" once more each.
 */
function scanLineEnds(buffer: Buffer): { bareLf: boolean; cleanEnds: boolean } {
  const scanned = scanLineFeeds(buffer);
  if (scanned !== null) return { bareLf: scanned === LINE_SCAN.bareLf, cleanEnds: scanned === LINE_SCAN.clean };
  const raw = plainView(buffer);
  let cleanEnds = true;
  let at = raw.indexOf(0x0a);
  while (at >= 0) {
    if (at === 0 || raw[at - 1] !== 0x0d) return { bareLf: true, cleanEnds: false };
    if (at >= 2) {
      const before = raw[at - 2];
      if (before === 0x20 || before === 0x09 || before === 0x0d) cleanEnds = false;
    }
    at = raw.indexOf(0x0a, at + 1);
  }
  return { bareLf: false, cleanEnds };
}

/**
 * Rewrites every bare LF as CRLF and leaves existing CRLFs alone. Mail stored on Unix systems
 * (mbox, Maildir, most dumps) lost its CRs; signers signed the CRLF form. The result (the input
 * itself when it had no bare LF) is recorded as CRLF-only, see isKnownCrlfOnly. The copy is made
 * in `memory` when given, else in memory of its own.
 */
export function toCrlf(raw: Buffer, memory?: ReadTarget): Buffer {
  // Classic Mac OS stored mail with a CR alone at each line end, and no LF anywhere: every CR is
  // a line end there. (A message with any LF keeps its lone CRs as the content they are.)
  if (raw.indexOf(0x0a) < 0 && raw.indexOf(0x0d) >= 0) return toCrlf(crOnlyToCrlf(raw, memory));
  const scan = scanLineEnds(raw);
  if (!scan.bareLf) return markCrlfOnly(raw, scan.cleanEnds);
  // A message in a worker's read buffer is copied by WebAssembly, into room the buffer keeps:
  // no call from JavaScript per line, no memory taken for it (see line-scan.ts).
  const inPlace = crlfCopyInPlace(raw);
  if (inPlace) return markCrlfOnly(inPlace, false);
  // Counted first, then copied once into memory of the final size: a view and a CRLF per line,
  // joined at the end, made two objects per line (4,800 for a 180 KB message of base64), and an
  // LF-only dump took 80% longer than the same dump with CRLF, most of it collecting them.
  const bytes = plainView(raw);
  let bare = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) if (at === 0 || bytes[at - 1] !== 0x0d) bare++;
  const out = memory ? memory.take(raw.length + bare) : Buffer.allocUnsafeSlow(raw.length + bare);
  let start = 0;
  let to = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) {
    if (at !== 0 && bytes[at - 1] === 0x0d) continue;
    out.set(bytes.subarray(start, at), to);
    to += at - start;
    out[to++] = 0x0d;
    out[to++] = 0x0a;
    start = at + 1;
  }
  out.set(bytes.subarray(start), to);
  return markCrlfOnly(out, false);
}

/**
 * What `toCrlf` makes of `raw` with the byte at each of `drops` (ascending) taken out, as a
 * repaired form of a message needs it (the `>` of mbox quoting, the `.` of SMTP dot-stuffing, a
 * gateway's Subject tag), in one copy. Taking the bytes out and then restoring CRLF made two
 * copies, the first alive until the second was done, and the bytes without the dots were kept for
 * every form made from them: a forged 50 MB message stored with bare LFs, `>From ` lines and
 * stuffed dots peaked at 364–398 MB (red team BB, BB-04). Whether an LF is bare is read from the byte
 * before it in the result, so any drops give what the two steps gave. A result with no bare LF
 * (none at all, or CRs alone as line ends) takes the two steps: the second then copies nothing
 * but a message of CRs alone.
 */
export function toCrlfWithout(
  raw: Buffer,
  drops: readonly number[],
  memory?: ReadTarget & { release?: (bytes: Uint8Array) => void },
  /** every LF of `raw` follows two CRs (doubledCrs), and `drops` takes out one of them: the result has no bare LF, and the count is not needed */
  doubledCr = false,
): Buffer {
  if (!drops.length) return toCrlf(raw, memory);
  const size = doubledCr ? raw.length - drops.length : copyWithoutToCrlf(raw, drops, null);
  // (no bare LF in the result, or no LF at all: then CRs alone may be its line ends)
  if (size === raw.length - drops.length) {
    const removed = unquoteLinesAt(raw, drops, memory);
    const crlf = toCrlf(removed, memory);
    if (crlf !== removed) memory?.release?.(removed);
    return crlf;
  }
  const out = memory ? memory.take(size) : Buffer.allocUnsafeSlow(size);
  copyWithoutToCrlf(raw, drops, out);
  return markCrlfOnly(out, false);
}

/**
 * Copies `raw` without the bytes at `drops` into `out`, with a CR put before every LF that does
 * not follow one there, and returns the length written; with `out` null, only counts it.
 */
function copyWithoutToCrlf(buffer: Buffer, drops: readonly number[], out: Buffer | null): number {
  const raw = plainView(buffer);
  let to = 0;
  // the last byte written, which an LF at the start of the next piece follows (-1: none yet)
  let last = -1;
  const piece = (start: number, end: number): void => {
    let from = start;
    for (let lf = raw.indexOf(0x0a, start); lf !== -1 && lf < end; lf = raw.indexOf(0x0a, lf + 1)) {
      if ((lf > start ? raw[lf - 1] : last) === 0x0d) continue;
      if (out) out.set(raw.subarray(from, lf), to);
      to += lf - from;
      if (out) {
        out[to] = 0x0d;
        out[to + 1] = 0x0a;
      }
      to += 2;
      from = lf + 1;
    }
    if (out) out.set(raw.subarray(from, end), to);
    to += end - from;
    if (end > start) last = raw[end - 1]!;
  };
  let from = 0;
  for (const drop of drops) {
    piece(from, drop);
    from = drop + 1;
  }
  piece(from, raw.length);
  return to;
}

/**
 * A message with CRs alone as line ends (no LF anywhere), each CR made CRLF. Counted, then copied
 * once into memory of the final size, as toCrlf copies LF-only mail: through latin1 strings (as
 * it was) a 50 MB message cost 350 MB (red team BB, BB-03).
 */
function crOnlyToCrlf(buffer: Buffer, memory?: ReadTarget): Buffer {
  const raw = plainView(buffer);
  let crs = 0;
  for (let at = raw.indexOf(0x0d); at >= 0; at = raw.indexOf(0x0d, at + 1)) crs++;
  const out = memory ? memory.take(raw.length + crs) : Buffer.allocUnsafeSlow(raw.length + crs);
  let start = 0;
  let to = 0;
  for (let at = raw.indexOf(0x0d); at >= 0; at = raw.indexOf(0x0d, at + 1)) {
    out.set(raw.subarray(start, at + 1), to);
    to += at + 1 - start;
    out[to++] = 0x0a;
    start = at + 1;
  }
  out.set(raw.subarray(start), to);
  return out;
}

/**
 * Where the CR to take out of each CR CR LF line end lies (the one before the LF), or null
 * unless every line ends so. A CRLF file written again through a text-mode writer (a Windows
 * script saving IMAP bytes as text, an FTP ASCII transfer) gains a CR before each LF; left in,
 * the doubled line end of the first line reads as the blank line that ends the header, and
 * genuine mail reads as forged headers and body. A file with some other line end is not such a
 * copy: its CRs are kept as found. The forms are made from the file with these CRs taken out
 * (repair-variants.ts), not from a copy without them kept beside it.
 */
export function doubledCrs(buffer: Buffer): number[] | null {
  const raw = plainView(buffer);
  const crs: number[] = [];
  for (let at = raw.indexOf(0x0a); at >= 0; at = raw.indexOf(0x0a, at + 1)) {
    if (at < 2 || raw[at - 1] !== 0x0d || raw[at - 2] !== 0x0d) return null;
    crs.push(at - 1);
  }
  return crs.length ? crs : null;
}

/*
 * Byte ranges known to be CRLF-only: every LF in them is preceded by a CR inside the range.
 * A message is scanned for line feeds once, by toCrlf; the canonicalization fast paths and the
 * body fingerprint then ask here instead of scanning every line of a 10 MB attachment again
 * (three such scans were 5% of a worker's time). Keyed by the memory the bytes live in, so a
 * view into a recorded range is known too. Bytes are never modified once read; memory that is
 * reused for other bytes is forgotten first (forgetLineEndings).
 */
const crlfOnly = new WeakMap<ArrayBufferLike, KnownRange[]>();

interface KnownRange {
  start: number;
  end: number;
  /** no LF in the range follows CR CR, space CR or tab CR (see scanLineEnds) */
  cleanEnds: boolean;
}

function markCrlfOnly(bytes: Buffer, cleanEnds: boolean): Buffer {
  const ranges = crlfOnly.get(bytes.buffer) ?? [];
  // A pooled slab holds many small buffers; a few ranges are plenty to remember.
  if (ranges.length >= 8) ranges.shift();
  ranges.push({ start: bytes.byteOffset, end: bytes.byteOffset + bytes.length, cleanEnds });
  crlfOnly.set(bytes.buffer, ranges);
  return bytes;
}

/** The recorded ranges that hold all of `view`. */
function rangesHolding(view: Buffer): KnownRange[] {
  const start = view.byteOffset;
  const end = start + view.length;
  return (crlfOnly.get(view.buffer) ?? []).filter((range) => start >= range.start && end <= range.end);
}

/**
 * Memory about to hold other bytes (a reused read buffer): what was known of the old ones must
 * not be taken for the new.
 */
export function forgetLineEndings(memory: ArrayBufferLike): void {
  crlfOnly.delete(memory);
  forgetCrlfCopy(memory);
}

/**
 * True when `view` lies inside a range toCrlf produced or passed, so that every LF in it, except
 * one at its very first byte (whose CR may lie before the view), is preceded by a CR in it.
 * False means "not known", not "has bare LFs".
 */
export function isKnownCrlfOnly(view: Buffer): boolean {
  return rangesHolding(view).length > 0;
}

/**
 * True when `view` lies inside a range toCrlf passed whole and found no line ending in
 * " \r\n", "\t\r\n" or "\r\r\n": then `view` holds none of the three either. False means
 * "not known".
 */
export function isKnownCleanLineEnds(view: Buffer): boolean {
  return rangesHolding(view).some((range) => range.cleanEnds);
}
