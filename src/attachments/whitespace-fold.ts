import { createHash, type Hash } from 'node:crypto';

const SP = 0x20;
const HT = 0x09;
const CR = 0x0d;
const LF = 0x0a;

/**
 * The sha256 of text with its whitespace folded the way a relaxed DKIM body signature leaves it
 * unfixed: in every line, runs of spaces, tabs and carriage returns become one space (one at its
 * start included), and none is kept at the end of a line; empty lines at the end are dropped; every line ends with a line
 * feed (so CRLF and LF text fold alike). Two texts with the same folded hash differ in nothing
 * such a signature fixes. Fed in pieces: `update`, then `digest`.
 *
 * What it is for: an attachment a relaxed signature covers "except its whitespace"
 * (`covered-except-whitespace`) is compared with a loose document of its name by this hash, so
 * that a saved copy with other line endings is no red flag, and an added row is one (red team
 * 14, finding 09).
 */
export class WhitespaceFoldHash {
  private readonly hash: Hash = createHash('sha256');
  /** a blank run seen since the last character of the line */
  private blank = false;
  /** the line so far has a character other than a blank */
  private content = false;
  /** empty lines seen since the last line with content, written only if content follows */
  private emptyLines = 0;
  private readonly out = Buffer.allocUnsafe(64 * 1024);
  private used = 0;

  update(bytes: Uint8Array): this {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === LF) {
        if (this.content) this.put(LF);
        else this.emptyLines++;
        this.blank = false;
        this.content = false;
      } else if (b === SP || b === HT || b === CR) {
        this.blank = true;
      } else {
        if (!this.content) {
          for (; this.emptyLines > 0; this.emptyLines--) this.put(LF);
          this.content = true;
        }
        if (this.blank) {
          this.put(SP);
          this.blank = false;
        }
        this.put(b);
      }
    }
    return this;
  }

  digest(): string {
    if (this.content) this.put(LF);
    this.hash.update(this.out.subarray(0, this.used));
    return this.hash.digest('hex');
  }

  private put(b: number): void {
    if (this.used === this.out.length) {
      this.hash.update(this.out);
      this.used = 0;
    }
    this.out[this.used++] = b;
  }
}

/** The folded hash of whole bytes (see WhitespaceFoldHash). */
export const foldedSha256 = (bytes: Uint8Array): string => new WhitespaceFoldHash().update(bytes).digest();
