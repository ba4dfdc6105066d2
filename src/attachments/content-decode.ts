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
 * the end. decode() works line by line, except that a soft line break ("=" at the end of a
 * line) joins two lines, so the part is decoded by the same function in pieces cut after hard
 * line breaks, where nothing joins across the cut.
 *
 * anything else: mailsplit passes the bytes through as they are.
 */

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
/** Raw quoted-printable bytes decoded at a time, extended to the next hard line break (libqp makes a string of them too). */
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

/**
 * The end of the first line that ends at or after `from` with a hard line break: one whose last
 * byte before the line break, spaces, tabs and CRs aside, is not "=" (libqp drops trailing
 * spaces and tabs before it looks for soft line breaks). `end` when there is none before it.
 * `start` is where the content begins: `from` may fall inside a line, whose end is judged whole.
 */
function hardLineEnd(message: Buffer, start: number, from: number, end: number): number {
  let pos = from;
  for (;;) {
    const lf = message.indexOf(LF, pos);
    if (lf === -1 || lf + 1 >= end) return end;
    let last = lf - 1;
    while (last >= start && (message[last] === SP || message[last] === TAB || message[last] === CR)) last--;
    if (last < start || message[last] !== EQUALS) return lf + 1;
    pos = lf + 1;
  }
}

/**
 * Decodes quoted-printable content [start, end) of `message` into `sink`, as libqp's Decoder
 * would. `chunkBytes` is there for tests, to cut the content in many places cheaply.
 */
export function decodeQuotedPrintable(message: Buffer, start: number, end: number, decode: (encoded: Buffer) => Buffer, sink: ContentSink, chunkBytes = QP_CHUNK): void {
  let pos = start;
  while (pos < end) {
    const stop = end - pos > chunkBytes ? hardLineEnd(message, start, pos + chunkBytes, end) : end;
    sink(decode(message.subarray(pos, stop)));
    pos = stop;
  }
}
