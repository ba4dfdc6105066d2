import { isAscii, isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { pushNormalisedLinesInMemory, scanBlanks } from './line-scan.ts';
import { WhitespaceRuns } from './whitespace-runs.ts';

/**
 * The reader-text fingerprint (message-traits.ts, textFingerprint) taken in chunks as a text is
 * decoded, to the sha256 that reading the whole text at once gives: that hash is stored and
 * compared across messages. Read whole, a text made strings of all of it, a few bytes of memory
 * for each of its bytes (red team BB, BB-02).
 */

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;

/** Bytes hashed at a time. */
const OUT_BYTES = 64 * 1024;

/**
 * slowNormalisedBodyHash (message-traits.ts) over bytes that come in chunks: each line with its
 * trailing spaces, tabs and CRs removed and each run of spaces and tabs in it as one space,
 * ended by CRLF, and the blank lines at the end left out. Blank lines are counted until a line
 * with content comes, and the spaces and CRs after a line's last content byte are held until
 * more content comes (they are its trailing whitespace if a line end comes first).
 */
export class NormalisedTextHash {
  readonly #hash = createHash('sha256');
  readonly #out = Buffer.allocUnsafe(OUT_BYTES);
  #used = 0;
  #blankLines = 0;
  #lineHasContent = false;
  /** spaces (a run as one) and CRs after the current line's last content byte */
  #held = Buffer.allocUnsafe(64);
  #heldBytes = 0;
  #inRun = false;

  update(bytes: Uint8Array): void {
    // Whole lines are taken a line at a time: a line with no tab and no two spaces in a row is
    // its own normalised form less the blanks and CRs at its end, and is copied whole (a CR
    // between its words is held and written back as it is), its end found by V8's builtin
    // search. The rest, and a line cut by a chunk's end, go byte by byte. Ordinary text, a line
    // of words at a time, went byte by byte at about 5 ns a byte in efficiency mode: an eighth of
    // the analysis of quoted-printable mail.
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const length = view.length;
    let at = 0;
    if (this.#lineHasContent || this.#heldBytes > 0) {
      const lf = view.indexOf(LF);
      at = lf < 0 ? length : lf + 1;
      this.#bytes(view, 0, at);
    }
    // In WebAssembly memory (text kept decoded, or stored as it is read), whole lines are
    // normalised there, a window at a time (norm in line-scan.wat).
    at += pushNormalisedLinesInMemory(view.subarray(at), this.#pushNormalised);
    if (at === length) return;
    // (where the bytes lie in WebAssembly memory, the scan says whether they hold a tab or two
    // spaces in a row)
    const runs = WhitespaceRuns.scanned(Buffer.from(view.buffer, view.byteOffset, length), scanBlanks(view));
    for (let lf = view.indexOf(LF, at); lf >= 0; lf = view.indexOf(LF, at)) {
      let end = lf;
      for (let b = view[end - 1]; end > at && (b === SP || b === TAB || b === CR); b = view[--end - 1]);
      const run = runs.next(at);
      if (end === at) this.#blankLines++;
      else if (run >= 0 && run < end) this.#bytes(view, at, lf + 1);
      else {
        for (; this.#blankLines > 0; this.#blankLines--) this.#crlf();
        this.#putAll(view, at, end);
        this.#crlf();
      }
      at = lf + 1;
    }
    if (at < length) this.#bytes(view, at, length);
  }

  /** whole lines normalised elsewhere, from a line's start: the blank lines before them wait as the JavaScript's do */
  readonly #pushNormalised = (normalised: Buffer, blankLinesBefore: number, blankLinesAfter: number): void => {
    this.#blankLines += blankLinesBefore;
    if (normalised.length === 0) return;
    for (; this.#blankLines > 0; this.#blankLines--) this.#crlf();
    this.#hash.update(this.#out.subarray(0, this.#used));
    this.#used = 0;
    this.#hash.update(normalised);
    this.#blankLines = blankLinesAfter;
  };

  /** bytes[from, to) one at a time, from any state */
  #bytes(bytes: Uint8Array, from: number, to: number): void {
    // The state is read into locals and written back at the end: this loop runs once a byte of
    // every text part, and in V8's efficiency mode (src/pipeline/analysis-threads.ts) Maglev's
    // code loaded and stored the private fields at every byte (3.5 times the time TurboFan's
    // took, fifty-first round).
    let blankLines = this.#blankLines;
    let lineHasContent = this.#lineHasContent;
    let held = this.#held;
    let heldBytes = this.#heldBytes;
    let inRun = this.#inRun;
    for (let i = from; i < to; i++) {
      const b = bytes[i]!;
      if (b === LF) {
        if (lineHasContent) this.#crlf();
        else blankLines++;
        lineHasContent = false;
        heldBytes = 0;
        inRun = false;
      } else if (b === SP || b === TAB) {
        if (!inRun) {
          if (heldBytes === held.length) held = larger(held);
          held[heldBytes++] = SP;
        }
        inRun = true;
      } else if (b === CR) {
        if (heldBytes === held.length) held = larger(held);
        held[heldBytes++] = CR;
        inRun = false;
      } else {
        if (!lineHasContent) {
          for (; blankLines > 0; blankLines--) this.#crlf();
          lineHasContent = true;
        }
        if (heldBytes > 0) this.#putAll(held, 0, heldBytes);
        heldBytes = 0;
        inRun = false;
        // the content bytes up to the next space, tab or line end, copied at once
        let end = i + 1;
        for (let c = bytes[end]; end < to && c !== LF && c !== CR && c !== SP && c !== TAB; c = bytes[++end]);
        this.#putAll(bytes, i, end);
        i = end - 1;
      }
    }
    this.#blankLines = blankLines;
    this.#lineHasContent = lineHasContent;
    this.#held = held;
    this.#heldBytes = heldBytes;
    this.#inRun = inRun;
  }

  digest(): string {
    if (this.#lineHasContent) this.#crlf();
    this.#hash.update(this.#out.subarray(0, this.#used));
    return this.#hash.digest('hex');
  }

  #crlf(): void {
    this.#put(CR);
    this.#put(LF);
  }

  #put(b: number): void {
    if (this.#used === OUT_BYTES) {
      this.#hash.update(this.#out);
      this.#used = 0;
    }
    this.#out[this.#used++] = b;
  }

  #putAll(bytes: Uint8Array, from: number, to: number): void {
    if (to - from < 64 && this.#used + (to - from) <= OUT_BYTES) {
      // (a word: a view and a copy cost more than the bytes)
      const out = this.#out;
      let used = this.#used;
      for (let k = from; k < to; k++) out[used++] = bytes[k]!;
      this.#used = used;
      return;
    }
    while (from < to) {
      if (this.#used === OUT_BYTES) {
        this.#hash.update(this.#out);
        this.#used = 0;
      }
      const count = Math.min(to - from, OUT_BYTES - this.#used);
      this.#out.set(bytes.subarray(from, from + count), this.#used);
      this.#used += count;
      from += count;
    }
  }
}

/** Twice the room, the bytes kept: a line's held spaces and CRs are few, but a hostile one may hold many. */
function larger(held: Buffer<ArrayBuffer>): Buffer<ArrayBuffer> {
  const grown = Buffer.allocUnsafe(held.length * 2);
  held.copy(grown);
  return grown;
}

/**
 * Whether bytes that come in chunks are all UTF-8 and not all ASCII (what Buffer's isUtf8 and
 * isAscii answer for all of them). Each chunk is checked up to its last byte that begins a
 * character (no continuation byte), which begins the next check: UTF-8 is UTF-8 in two parts
 * cut before such a byte, and not otherwise.
 */
export class StreamedUtf8Check {
  #carried: Buffer = Buffer.alloc(0);
  #utf8 = true;
  #ascii = true;

  update(bytes: Buffer): void {
    if (!this.#utf8) return;
    const data = this.#carried.length ? Buffer.concat([this.#carried, bytes]) : bytes;
    let cut = data.length;
    for (let at = data.length - 1; at >= 0 && at >= data.length - 4; at--) {
      if ((data[at]! & 0xc0) !== 0x80) {
        cut = at;
        break;
      }
    }
    this.#check(data.subarray(0, cut));
    // a copy: the decoders hand out views of memory they reuse
    this.#carried = Buffer.from(data.subarray(cut));
  }

  /** all of it UTF-8 and not all ASCII */
  composable(): boolean {
    this.#check(this.#carried);
    this.#carried = Buffer.alloc(0);
    return this.#utf8 && !this.#ascii;
  }

  #check(bytes: Buffer): void {
    if (this.#ascii && isAscii(bytes)) return;
    this.#ascii = false;
    if (!isUtf8(bytes)) this.#utf8 = false;
  }
}

/**
 * Whether nothing before `code` (a UTF-16 code unit) can change it or be changed with it by
 * Unicode's composed form: a character of combining class 0 that never composes with what
 * precedes it (NFC_Quick_Check Yes). ASCII is, and so are the letters of the scripts whose text
 * has long runs without ASCII (Cyrillic, CJK ideographs, Hangul syllables); a text cut before one
 * is composed in two parts as it is whole. Characters it does not know are taken as not.
 */
function composesWithNothingBefore(code: number): boolean {
  return code < 0x80 || (code >= 0x0410 && code <= 0x044f) || (code >= 0x4e00 && code <= 0x9fff) || (code >= 0xac00 && code <= 0xd7a3);
}

/**
 * A character from U+0300 on. Text with none is its own composed form: every character below
 * U+0300 has combining class 0 and NFC_Quick_Check Yes, and such text is normalized by Unicode's
 * quick check (UAX #15, section 9). Most European mail is such text, and V8 answers the test at
 * once for text it holds one byte a character, where normalize() took about 0.8 ns a character
 * to find nothing to change (a thirtieth of the analysis of 1,500 format=flowed messages).
 */
const MAY_COMPOSE = /[\u0300-\uffff]/;

/** Characters composed at a time, at least (more while no place to cut has come). */
const COMPOSE_CHARS = 32 * 1024;

/**
 * Text that comes in pieces put in Unicode's composed form (NFC) and handed on as UTF-8: what
 * came so far is composed up to the last character before which it can be cut (see
 * composesWithNothingBefore), the rest waits for more. `changed` once composing changed
 * anything.
 */
export class StreamedComposition {
  readonly #next: (bytes: Buffer) => void;
  readonly #composeChars: number;
  #waiting = '';
  changed = false;

  /** `composeChars` (at most the default) is there for tests, to cut text in many places cheaply */
  constructor(next: (bytes: Buffer) => void, composeChars = COMPOSE_CHARS) {
    this.#next = next;
    this.#composeChars = Math.min(composeChars, COMPOSE_CHARS);
  }

  write(text: string): void {
    if (this.#waiting.length + text.length < this.#composeChars) {
      this.#waiting += text;
      return;
    }
    // only the new text is searched (a place to cut in what waits is found with the next piece)
    let cut = text.length - 1;
    while (cut >= 0 && !composesWithNothingBefore(text.charCodeAt(cut))) cut--;
    if (cut < 0 || this.#waiting.length + cut === 0) {
      this.#waiting += text;
      return;
    }
    this.#compose(this.#waiting + text.substring(0, cut));
    this.#waiting = text.substring(cut);
  }

  end(text: string): void {
    this.#compose(this.#waiting + text);
    this.#waiting = '';
  }

  #compose(text: string): void {
    if (text === '') return;
    const composed = MAY_COMPOSE.test(text) ? text.normalize('NFC') : text;
    if (composed !== text) this.changed = true;
    this.#next(Buffer.from(composed, 'utf8'));
  }
}
