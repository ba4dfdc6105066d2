import { createHash, type Hash } from 'node:crypto';

const SP = 0x20;
const HT = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const LINE_FEEDS = Buffer.alloc(4096, LF);

/**
 * What a fold leaves of the blanks (spaces, tabs, carriage returns) inside a line:
 * - `relaxed`: each run becomes one space, as a relaxed DKIM body signature reads them. Two texts
 *   with the same relaxed hash differ in nothing such a signature fixes.
 * - `kept`: every blank stays where it was. Two texts with the same kept hash differ only in how
 *   their lines end (CRLF or LF, blanks at the end) and in empty lines at the end: what saving
 *   an attachment to disk, or a mail server, changes (red team 15, F-DOC-3).
 */
export type InsideLines = 'relaxed' | 'kept';

/**
 * The sha256 of text with its whitespace folded: blanks at the end of every line dropped, blanks
 * inside lines as `insideLines` says, empty lines at the end dropped, every line ended with a
 * line feed (so CRLF and LF text fold alike). Fed in pieces: `update`, then `digest`.
 *
 * What it is for: an attachment a relaxed signature covers "except its whitespace"
 * (`covered-except-whitespace`) is compared with a loose document of its name by these hashes.
 * A copy with other line endings is no red flag; one with a row added is (red team 14, finding
 * 09); one whose blanks inside lines changed is one too, of its own kind: the signature cannot
 * tell it from the attachment, but in tab-separated data a tab moved is a value moved to another
 * column (red team 15, F-DOC-3).
 */
export class WhitespaceFoldHash {
  private hash: Hash = createHash('sha256');
  /** a blank run seen since the last character of the line */
  private blank = false;
  /** the line so far has a character other than a blank */
  private content = false;
  /** empty lines seen since the last line with content, written only if content follows */
  private emptyLines = 0;
  private readonly out = Buffer.allocUnsafe(64 * 1024);
  private used = 0;
  /** `kept`: the blanks since the line's last character, written only if another character follows */
  private readonly held: Buffer | null;
  private heldBytes = 0;
  /**
   * `kept`, a run of blanks longer than `held`: the hash with the run so far, which becomes the
   * hash if a character follows. Memory stays bounded whatever the run (a hostile file can be one
   * line of a gigabyte of spaces).
   */
  private withRun: Hash | null = null;

  constructor(insideLines: InsideLines = 'relaxed') {
    this.held = insideLines === 'kept' ? Buffer.allocUnsafe(4096) : null;
  }

  update(bytes: Uint8Array): this {
    const held = this.held;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === LF) {
        if (this.content) this.put(LF);
        else this.emptyLines++;
        this.blank = false;
        this.content = false;
        this.heldBytes = 0;
        this.withRun = null;
      } else if (b === SP || b === HT || b === CR) {
        this.blank = true;
        if (held) {
          if (this.heldBytes === held.length) this.holdLongRun();
          held[this.heldBytes++] = b;
        }
      } else {
        if (this.withRun) this.takeLongRun();
        if (!this.content) {
          for (; this.emptyLines > 0; this.emptyLines--) this.put(LF);
          this.content = true;
        }
        if (this.blank) {
          if (held) this.writeHeld();
          else this.put(SP);
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

  /**
   * `held` is full: its blanks go into a copy of the hash, after the empty lines before them,
   * which that copy writes now: it is the hash only if a character follows on this line, and
   * then they are written.
   */
  private holdLongRun(): void {
    if (!this.withRun) {
      this.hash.update(this.out.subarray(0, this.used));
      this.used = 0;
      this.withRun = this.hash.copy();
      if (!this.content) {
        for (let lines = this.emptyLines; lines > 0; lines -= LINE_FEEDS.length) this.withRun.update(LINE_FEEDS.subarray(0, Math.min(lines, LINE_FEEDS.length)));
      }
    }
    this.withRun.update(this.held!);
    this.heldBytes = 0;
  }

  /** A character follows a long run of blanks: the copy of the hash that has it goes on. */
  private takeLongRun(): void {
    this.hash = this.withRun!;
    this.withRun = null;
    if (!this.content) {
      this.emptyLines = 0;
      this.content = true;
    }
  }

  /** A character follows the held blanks: they were inside the line, and are written. */
  private writeHeld(): void {
    for (let i = 0; i < this.heldBytes; i++) this.put(this.held![i]!);
    this.heldBytes = 0;
  }

  private put(b: number): void {
    if (this.used === this.out.length) {
      this.hash.update(this.out);
      this.used = 0;
    }
    this.out[this.used++] = b;
  }
}

/**
 * Both folded hashes of one content, fed once: what an attachment a relaxed signature may cover
 * all but the whitespace of keeps.
 */
export class WhitespaceFolds {
  private readonly relaxed = new WhitespaceFoldHash('relaxed');
  private readonly kept = new WhitespaceFoldHash('kept');

  update(bytes: Uint8Array): this {
    this.relaxed.update(bytes);
    this.kept.update(bytes);
    return this;
  }

  digest(): { foldedSha256: string; blanksKeptSha256: string } {
    return { foldedSha256: this.relaxed.digest(), blanksKeptSha256: this.kept.digest() };
  }
}

/** The folded hash of whole bytes (see WhitespaceFoldHash). */
export const foldedSha256 = (bytes: Uint8Array, insideLines: InsideLines = 'relaxed'): string => new WhitespaceFoldHash(insideLines).update(bytes).digest();
