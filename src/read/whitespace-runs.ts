import type { Hash } from 'node:crypto';
import { BLANKS } from './line-scan.ts';

/**
 * Where the runs of spaces and tabs that relaxed canonicalization collapses lie in a body: a tab,
 * or two spaces (a run with a tab is found at its tab, and begins one space before when a space
 * precedes it). Searched for forwards, each search resumed where the last found one, so that a
 * body is searched once however many lines and runs it has.
 */
export class WhitespaceRuns {
  private readonly body: Buffer;
  private nextTab: number;
  private nextPair: number;
  /** `hasPair` false when the body is known to hold no two spaces in a row (a scan of it said so) */
  constructor(body: Buffer, hasTab: boolean, hasPair = true) {
    this.body = body;
    this.nextTab = hasTab ? -2 : -1;
    this.nextPair = hasPair ? -2 : -1;
  }

  /**
   * The runs of `body`, given what the blanks scan of line-scan.ts found in it, or in bytes that
   * hold it (null: not scanned, so its tab is searched for now and its pairs of spaces as they
   * are asked for). Where the scan found no pair, none is searched for: on text, a space every
   * few bytes, that search reads every byte at about 1 ns a byte.
   */
  static scanned(body: Buffer, blanks: number | null): WhitespaceRuns {
    return blanks === null ? new WhitespaceRuns(body, body.indexOf(0x09) >= 0) : new WhitespaceRuns(body, (blanks & BLANKS.tab) !== 0, (blanks & BLANKS.twoSpaces) !== 0);
  }

  /** the start of the first run at or after `from`, or -1 */
  next(from: number): number {
    if (this.nextTab !== -1 && this.nextTab < from) this.nextTab = this.body.indexOf(0x09, from);
    if (this.nextPair !== -1 && this.nextPair < from) this.nextPair = this.body.indexOf('  ', from);
    const at = this.nextTab < 0 ? this.nextPair : this.nextPair < 0 ? this.nextTab : Math.min(this.nextTab, this.nextPair);
    return at > from && this.body[at - 1] === 0x20 ? at - 1 : at;
  }

  /** Hashes body[from, to) with each run in it as one space (a run reaching `to` is dropped: it ends a line). */
  update(hash: Hash, from: number, to: number): void {
    let at = from;
    for (let run = this.next(at); run >= 0 && run < to; run = this.next(at)) {
      let end = run;
      while (end < to && (this.body[end] === 0x20 || this.body[end] === 0x09)) end++;
      hash.update(this.body.subarray(at, run));
      if (end < to) hash.update(' ');
      at = end;
    }
    hash.update(this.body.subarray(at, to));
  }
}
