/**
 * Decoding a part's content straight out of the message bytes, in bounded chunks, to exactly
 * the bytes mailsplit's decoder streams would hand to mailparser.
 *
 * base64: mailsplit uses libbase64's Decoder. For each chunk it reads the bytes as 'ascii'
 * (which clears the high bit: 0xC1 reads as "A"), drops everything outside [A-Za-z0-9+/=],
 * decodes everything up to the last "=" (libbase64's decode() restarts at each run of "=") and
 * then whole quartets, carrying the rest to the next chunk; the end flushes the carry. Its
 * output does not depend on how the input is chunked, which lets this read chunks of its own
 * choosing and decode the clean ones natively (see decodeCleanChunk); any chunk it is not sure
 * about is decoded the way libbase64 does it, with libbase64's own decode().
 *
 * quoted-printable: libqp's Decoder buffers the whole part and runs libqp's decode() on it at
 * the end, which makes strings of all of it (about 20 bytes of memory a byte). decode() is three
 * passes over the text, of which only the last reaches across a cut chosen well: see
 * decodeQuotedPrintable. Text that lies in a worker's read buffer is decoded there in
 * WebAssembly (decodeQuotedPrintableInMemory, src/read/line-scan.ts) to the same bytes.
 *
 * anything else: mailsplit passes the bytes through as they are.
 */

import { decodeQuotedPrintableInMemory } from '../read/line-scan.ts';

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const EQUALS = 0x3d;

/**
 * Raw base64 bytes read per chunk. The string made of them must stay below V8's largest regular
 * heap object (128 KiB): larger strings go to the large-object space, which made decoding three
 * times slower, and from about 1 MB Node makes external strings, which are freed only when V8
 * notices 64 MiB of external memory.
 */
const BASE64_CHUNK = 64 * 1024;
/** Raw quoted-printable bytes decoded at a time, extended to the next place it can be cut (see qpCut). */
const QP_CHUNK = 64 * 1024;

export type ContentSink = (bytes: Buffer) => void;

/** Reused for every clean base64 chunk: the sink consumes (hashes or copies) the bytes at once. */
let scratch: Buffer | null = null;

function scratchBuffer(): Buffer {
  scratch ??= Buffer.allocUnsafe((BASE64_CHUNK / 4) * 3 + 16);
  return scratch;
}

/**
 * How many base64 characters [start, end) of `message` can hold at most: its length less the
 * line breaks found. 0 or more; the decoded length checks the guess (see decodeCleanChunk).
 */
function base64CharacterBound(message: Buffer, start: number, end: number): number {
  const firstLf = message.indexOf(LF, start);
  if (firstLf === -1 || firstLf >= end) return end - start;
  // encoders write lines of one length: check the line ends where that length puts them
  const breakBytes = firstLf > start && message[firstLf - 1] === CR ? 2 : 1;
  const stride = firstLf + 1 - start;
  let lines = 1;
  let pos = firstLf + 1;
  let regular = true;
  while (pos + stride <= end) {
    const lf = pos + stride - 1;
    if (message[lf] !== LF || (breakBytes === 2 && message[lf - 1] !== CR)) {
      regular = false;
      break;
    }
    lines++;
    pos += stride;
  }
  if (regular) {
    const next = pos < end ? message.indexOf(LF, pos) : -1;
    if (next === -1 || next >= end) return end - start - lines * breakBytes;
  }
  // lines of varying length: count the line breaks one by one
  let count = end - start;
  pos = start;
  for (;;) {
    const lf = message.indexOf(LF, pos);
    if (lf === -1 || lf >= end) return count;
    count -= lf > pos && message[lf - 1] === CR ? 2 : 1;
    pos = lf + 1;
  }
}

/**
 * Decodes [start, end) of `message` (read as `text`, in latin1) natively when that is sure to
 * give what libbase64 gives, and returns whether it did; nothing is emitted otherwise.
 *
 * The caller guarantees that nothing is carried into the chunk and that the text holds no "=",
 * "-" or "_", the only characters besides the alphabet that Node's decoder does not skip. What
 * is left to check is that Node decodes the same characters as libbase64, which drops the same
 * ones except for bytes of 0x80 and over (it clears their high bit: 0xC1 reads as "A", Node
 * skips it). That holds if every byte but the line breaks is an alphabet character, and that is
 * checked on the output: its length is 3q + [0, 0, 1, 2][r] for 4q + r characters decoded,
 * which tells every count from the others but 4q from 4q + 1, so a length that matches `bound`
 * (the bytes less the line breaks, never 4q + 1 here) means that all of them were decoded.
 *
 * A chunk followed by more content must hold whole quartets (libbase64 would carry the rest);
 * the last chunk of a part may end in a partial quartet of 2 or 3 characters, which both
 * decode alike.
 */
function decodeCleanChunk(message: Buffer, start: number, end: number, text: string, last: boolean, sink: ContentSink): boolean {
  const bound = base64CharacterBound(message, start, end);
  const partial = bound % 4;
  if (partial === 1 || (!last && partial !== 0)) return false;
  const expected = (bound >> 2) * 3 + (partial === 0 ? 0 : partial - 1);
  const out = scratchBuffer();
  if (expected > out.length) return false;
  const written = out.write(text, 0, out.length, 'base64');
  if (written !== expected) return false;
  if (written > 0) sink(out.subarray(0, written));
  return true;
}

/** What decoders other than libbase64 may make of base64: anything but the alphabet, "=" and whitespace. */
const NOT_BASE64 = /[^A-Za-z0-9+/=\r\n\t ]/;
const BASE64_DATA = /[A-Za-z0-9+/]/;

/**
 * Whether base64 text, read a piece at a time, is one that every decoder reads to the same bytes:
 * the alphabet, whitespace, and "=" only at its end. Decoders part ways on the rest: libbase64
 * (mailparser's) decodes on after "=" padding and Python's `email` stops there; libbase64 reads a
 * byte of 0x80 and over with its high bit cleared, Node's decoder skips it, and Node reads "-"
 * and "_" as "+" and "/" where others drop them (red team Y, Y-07: a verified email's
 * attachment decoded to 38 bytes for leakcheck and 11 for Python). A signature fixes such a text,
 * not one decoding of it.
 */
export class Base64Agreement {
  /** "=" came: whatever data follows is read by some decoders and not by others */
  private padded = false;
  agreed = true;

  update(text: string): void {
    if (!this.agreed) return;
    if (NOT_BASE64.test(text)) {
      this.agreed = false;
      return;
    }
    const pad = this.padded ? 0 : text.indexOf('=');
    if (pad === -1) return;
    this.padded = true;
    if (BASE64_DATA.test(pad === 0 ? text : text.substring(pad))) this.agreed = false;
  }

  /** a piece known to hold only alphabet characters and line breaks (decodeCleanChunk) */
  updateClean(text: string): void {
    if (this.padded && BASE64_DATA.test(text)) this.agreed = false;
  }
}

/** libbase64's Decoder._transform on one chunk of text; returns the new carry. */
function decodeLikeLibbase64(text: string, carry: string, decode: (b64: string) => Buffer, sink: ContentSink): string {
  let b64 = carry + text;
  if (/[^a-zA-Z0-9+/=]/.test(b64)) b64 = b64.replace(/[^a-zA-Z0-9+/=]/g, '');
  let padded = '';
  const lastPad = b64.lastIndexOf('=');
  if (lastPad >= 0) {
    padded = b64.substring(0, lastPad + 1);
    b64 = b64.substring(lastPad + 1);
  }
  let rest = '';
  if (b64.length < 4) {
    rest = b64;
    b64 = '';
  } else if (b64.length % 4) {
    rest = b64.substring(b64.length - (b64.length % 4));
    b64 = b64.substring(0, b64.length - rest.length);
  }
  b64 = padded + b64;
  if (b64) sink(decode(b64));
  return rest;
}

/**
 * Decodes base64 content [start, end) of `message` into `sink`, as mailsplit's libbase64 Decoder
 * would, and says whether every decoder reads it alike (Base64Agreement). `chunkBytes` (at most
 * the default) is there for tests, to cross many chunk ends cheaply.
 */
export function decodeBase64(message: Buffer, start: number, end: number, decode: (b64: string) => Buffer, sink: ContentSink, chunkBytes = BASE64_CHUNK): boolean {
  const agreement = new Base64Agreement();
  const chunk = Math.min(chunkBytes, BASE64_CHUNK);
  let carry = '';
  let pos = start;
  while (pos < end) {
    let stop = Math.min(end, pos + chunk);
    if (stop < end) {
      // cut after a line break, where a chunk of regular lines holds whole quartets
      const lf = message.lastIndexOf(LF, stop - 1);
      if (lf >= pos) stop = lf + 1;
    }
    const last = stop === end;
    if (carry === '') {
      const text = message.toString('latin1', pos, stop);
      if (text.indexOf('-') === -1 && text.indexOf('_') === -1) {
        const pad = text.indexOf('=');
        // padding ends the data, normally on the last line: the lines before it are clean
        const cleanEnd = pad === -1 ? text.length : text.lastIndexOf('\n', pad) + 1;
        if (cleanEnd > 0 && decodeCleanChunk(message, pos, pos + cleanEnd, cleanEnd === text.length ? text : text.substring(0, cleanEnd), last && pad === -1, sink)) {
          agreement.updateClean(text);
          if (cleanEnd < text.length) {
            agreement.update(text.substring(cleanEnd));
            carry = decodeLikeLibbase64(message.toString('ascii', pos + cleanEnd, stop), '', decode, sink);
          }
          pos = stop;
          continue;
        }
      }
    }
    agreement.update(message.toString('latin1', pos, stop));
    carry = decodeLikeLibbase64(message.toString('ascii', pos, stop), carry, decode, sink);
    pos = stop;
  }
  // libbase64's _flush
  if (carry) sink(decode(carry));
  return agreement.agreed;
}

const isHexDigit = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const hexValue = (digit: number): number => (digit <= 0x39 ? digit - 0x30 : (digit | 0x20) - 0x57);

/**
 * Where a piece of quoted-printable content may end, at or after `from`: after a byte other
 * than a space, a tab, a CR or "=". Neither of libqp's first two passes then reaches across the
 * cut: the first drops blanks before a line end (the byte before the cut is no blank, and what
 * follows a blank at the cut is no line end to the whole text), the second drops "=" followed by
 * CRLF, LF or the end of the text (the byte before the cut is neither "=" nor the CR of a
 * "=\r\n"). `end` when there is no such place.
 */
function qpCut(message: Buffer, from: number, end: number): number {
  for (let pos = from; pos < end; pos++) {
    const before = message[pos - 1];
    if (before !== SP && before !== TAB && before !== CR && before !== EQUALS) return pos;
  }
  return end;
}

/** What a piece is decoded in: the "=" or "=" and hex digit carried from the last piece, the piece's first two passes, then its bytes decoded in place. */
let qpScratch: Uint8Array = new Uint8Array(0);

/**
 * Decodes quoted-printable content [start, end) of `message` into `sink`, to the bytes libqp's
 * decode() gives for all of it, in pieces of about `chunkBytes` (a parameter for tests, to cut
 * the content in many places cheaply).
 *
 * decode() takes three passes over the text as a string: it drops the blanks before a line end
 * (a CR or an LF) or the text's end, then "=" followed by CRLF, LF or the text's end (soft line
 * breaks), then reads each "=" followed by two hex digits as a byte and every other character as
 * itself. Here each piece is cut at its CRs and LFs and the first two passes are one: a segment's
 * blanks before its break go, and then a "=" that ends it goes with the break when the break is
 * an LF, a CRLF or the piece's end (qpCut says why a piece's end is the text's end to both
 * passes). The third pass reaches across a soft line break: "=4=\r\n1" is "=41" once the break is
 * gone, and so the byte 0x41. So a piece's last "=", or "=" and one hex digit, are carried to the
 * next piece. The segments are found and copied by V8's builtins (see plainView in
 * src/read/line-endings.ts), the third pass is a loop over bytes in place: until the
 * fifty-second round a piece was made a latin1 string, passed through two regular expressions
 * and read a character at a time, 5-9 ns a byte against 3.3-4.2 now (efficiency mode the
 * second figure), and it was a fifth of the analysis of quoted-printable mail. (Searching for
 * each "=" instead was no faster: such text has one in every 13 bytes or so.)
 */
export function decodeQuotedPrintable(message: Buffer, start: number, end: number, sink: ContentSink, chunkBytes = QP_CHUNK): void {
  const decoded = decodeQuotedPrintableInMemory(message, start, end);
  if (decoded) {
    if (decoded.length > 0) sink(decoded);
    return;
  }
  const source = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
  let carried = 0;
  let carry0 = 0;
  let carry1 = 0;
  let pos = start;
  while (pos < end) {
    const stop = end - pos > chunkBytes ? qpCut(message, pos + chunkBytes, end) : end;
    // (taken at the first piece: most threads' messages hold no quoted-printable text)
    if (qpScratch.length < stop - pos + 2) qpScratch = new Uint8Array(Math.max(stop - pos + 2, QP_CHUNK + 16));
    const out = qpScratch;
    if (carried > 0) out[0] = carry0;
    if (carried > 1) out[1] = carry1;
    const cleaned = softBreaksAndBlanksRemoved(source, pos, stop, out, carried);
    // (searched within what was written, not the stale bytes after it)
    const text = out.subarray(0, cleaned);
    let upTo = cleaned;
    if (stop < end) {
      if (out[upTo - 1] === EQUALS) upTo -= 1;
      else if (upTo >= 2 && out[upTo - 2] === EQUALS && isHexDigit(out[upTo - 1]!)) upTo -= 2;
    }
    // decoded in place: what is written never passes what is read
    let written = 0;
    for (let read = 0; read < upTo; read++) {
      const c = text[read]!;
      if (c === EQUALS) {
        // (past the text written: undefined, no digit)
        const high = text[read + 1] ?? -1;
        const low = text[read + 2] ?? -1;
        if (isHexDigit(high) && isHexDigit(low)) {
          text[written++] = (hexValue(high) << 4) | hexValue(low);
          read += 2;
          continue;
        }
      }
      text[written++] = c;
    }
    carried = cleaned - upTo;
    carry0 = out[upTo]!;
    carry1 = out[upTo + 1]!;
    if (written > 0) sink(Buffer.from(out.buffer, out.byteOffset, written));
    pos = stop;
  }
}

/**
 * libqp's first two passes over source[from, to), written to out from `at`; returns where the
 * written bytes end. See decodeQuotedPrintable.
 */
function softBreaksAndBlanksRemoved(source: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  let cr = source.indexOf(CR, from);
  let lf = source.indexOf(LF, from);
  if (cr < 0 || cr >= to) cr = to;
  if (lf < 0 || lf >= to) lf = to;
  let segment = from;
  for (;;) {
    const brk = cr < lf ? cr : lf;
    let content = brk;
    while (content > segment && (source[content - 1] === SP || source[content - 1] === TAB)) content--;
    // A "=" before an LF, a CRLF or the end is a soft line break; before a CR alone it stays. A CR
    // with blanks and then an LF after it is a CRLF to the second pass: the first took them away.
    let afterCr = brk + 1;
    if (brk === cr) while (afterCr < lf && (source[afterCr] === SP || source[afterCr] === TAB)) afterCr++;
    const crlf = brk === cr && afterCr === lf && lf < to;
    // (lf is `to` when no LF is left: the piece's end)
    const soft = content > segment && source[content - 1] === EQUALS && (brk === lf || crlf);
    const kept = soft ? content - 1 : content;
    if (kept > segment) {
      out.set(source.subarray(segment, kept), at);
      at += kept - segment;
    }
    if (brk === to) return at;
    if (crlf) {
      if (!soft) {
        out[at++] = CR;
        out[at++] = LF;
      }
      segment = lf + 1;
    } else {
      if (!soft) out[at++] = source[brk]!;
      segment = brk + 1;
    }
    if (cr < segment) {
      cr = source.indexOf(CR, segment);
      if (cr < 0 || cr >= to) cr = to;
    }
    if (lf < segment) {
      lf = source.indexOf(LF, segment);
      if (lf < 0 || lf >= to) lf = to;
    }
  }
}

/** All of `encoded` decoded as decodeQuotedPrintable decodes it, in one buffer. */
export function quotedPrintableDecoded(encoded: Buffer): Buffer {
  const pieces: Buffer[] = [];
  // the pieces are views of memory reused for the next
  decodeQuotedPrintable(encoded, 0, encoded.length, (bytes) => pieces.push(Buffer.from(bytes)));
  return Buffer.concat(pieces);
}
