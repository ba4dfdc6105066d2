import type { ReadTarget } from '../discover/open-evidence.ts';
import { DEFAULT_MAX_KEPT, releaseNow, ReusableBuffer } from '../read/reusable-buffer.ts';

/** Memory kept for the next analyses once one gives it back: enough for a message and one repaired form of it beside the best. */
const MAX_SPARE = 2;
const spare: ReusableBuffer[] = [];

/**
 * The memory one analysis makes its repaired copies of a message in (the CRLF copy of a message
 * stored with bare LFs, above all). Each `take` is memory of its own, kept until `giveBack`,
 * when the analysis ends: several forms of a message may be alive at once (the best so far and
 * the one being tried). The memory then goes to the next analysis instead of back to the
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

  take(size: number): Buffer {
    if (size > DEFAULT_MAX_KEPT) {
      const own = Buffer.allocUnsafeSlow(size);
      this.#own.push(own);
      return own;
    }
    const memory = spare.pop() ?? new ReusableBuffer();
    this.#lent.push(memory);
    return memory.take(size);
  }

  giveBack(): void {
    for (const own of this.#own.splice(0)) releaseNow(own);
    for (const memory of this.#lent.splice(0)) if (spare.length < MAX_SPARE) spare.push(memory);
  }
}
