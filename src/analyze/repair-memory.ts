import type { ReadTarget } from '../discover/open-evidence.ts';
import { DEFAULT_MAX_KEPT, releaseNow, ReusableBuffer } from '../read/reusable-buffer.ts';

/** Memory kept for the next analyses once one gives it back: enough for a message and one repaired form of it beside the best. */
const MAX_SPARE = 2;
const spare: ReusableBuffer[] = [];

/**
 * The memory one analysis makes its repaired copies of a message in (the CRLF copy of a message
 * stored with bare LFs, above all). Each `take` is memory of its own, kept until `giveBack`,
 * when the analysis ends: more than one form of a message may be alive at once (the best, and
 * a form an ARC chain is read on; the search itself holds one at a time, see analyzeForms). The
 * memory then goes to the next analysis instead of back to the
 * system. Fresh memory for every copy cost an LF-only dump 20,000 more page faults than the same
 * dump with CRLF, at 14 µs each on this machine (docs/performance.md). Copies larger than a
 * reused buffer keeps get memory of their own, given back at once.
 *
 * Nothing the analysis returns may point into this memory: it holds the next message's bytes
 * soon after.
 */
export class RepairMemory implements ReadTarget {
  #lent: ReusableBuffer[] = [];
  #own: Buffer[] = [];
  /** lent to this analysis, and given back by it before its end (release) */
  #free: ReusableBuffer[] = [];

  take(size: number): Buffer {
    if (size > DEFAULT_MAX_KEPT) {
      const own = Buffer.allocUnsafeSlow(size);
      this.#own.push(own);
      return own;
    }
    const memory = this.#free.pop() ?? spare.pop() ?? new ReusableBuffer();
    this.#lent.push(memory);
    return memory.take(size);
  }

  /**
   * Gives back, before the analysis ends, the memory of a copy nothing will read again: a form
   * that lost. Kept until the end, every form of a message was alive at once, and a forged 50 MB
   * message stored with bare LFs and four `>From ` lines (twenty forms) peaked at 1,255 MB (red
   * team BB, BB-04).
   */
  release(bytes: Uint8Array): void {
    const own = this.#own.findIndex((b) => b.buffer === bytes.buffer);
    if (own >= 0) {
      releaseNow(this.#own.splice(own, 1)[0]!);
      return;
    }
    const lent = this.#lent.findIndex((m) => m.holds(bytes));
    if (lent >= 0) this.#free.push(this.#lent.splice(lent, 1)[0]!);
  }

  giveBack(): void {
    for (const own of this.#own.splice(0)) releaseNow(own);
    for (const memory of [...this.#lent.splice(0), ...this.#free.splice(0)]) if (spare.length < MAX_SPARE) spare.push(memory);
  }
}
