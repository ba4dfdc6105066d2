import type { ReadTarget } from '../discover/open-evidence.ts';
import { forgetLineEndings } from './line-endings.ts';
import { scannableMemory } from './line-scan.ts';

/** Messages up to this size are read into the reused buffer; larger ones get memory of their own. */
export const DEFAULT_MAX_KEPT = 16 * 1024 * 1024;

/**
 * One buffer that every message a thread reads goes into, one after the other. Fresh memory for
 * each message costs page faults, zeroing and garbage for the collector to find: reading the
 * bench dump (2,000 files, 368 MB, page cache warm) took 0.17–0.58 s into fresh buffers and
 * 0.05–0.09 s into one reused buffer. A larger message (over `maxKept`) gets memory of its own,
 * let go after it.
 *
 * The buffer is taken at its full size the first time. That costs no memory the messages do not
 * use: the system maps a page only when a read first writes to it, so what the process holds is
 * the largest message read so far, as before. Growing it by doubling did cost something: each
 * larger buffer was mapped again, page by page, from its start (on the bench dump, 11,000 of the
 * run's 47,000 page faults, at about 10 µs each on this machine, were reads into buffers being
 * grown).
 *
 * What `take` returns is valid until the next `take`: the caller must be done with the bytes
 * (or have copied what it keeps) before it reads the next message. Facts recorded about the
 * memory (which ranges are known CRLF-only, see line-endings.ts) are forgotten at each `take`.
 */
export class ReusableBuffer implements ReadTarget {
  #buffer: Buffer | null = null;
  readonly maxKept: number;
  readonly #scannable: boolean;

  /**
   * `scannable`: the buffer is WebAssembly memory, where line-endings.ts scans the messages
   * read into it in place, several times faster (see line-scan.ts).
   */
  constructor(maxKept = DEFAULT_MAX_KEPT, options: { scannable?: boolean } = {}) {
    this.maxKept = maxKept;
    this.#scannable = options.scannable ?? false;
  }

  take(size: number): Buffer {
    if (size > this.maxKept) return Buffer.allocUnsafeSlow(size);
    this.#buffer ??= (this.#scannable ? scannableMemory(this.maxKept) : null) ?? Buffer.allocUnsafeSlow(this.maxKept);
    // New bytes go where the old ones were: nothing learnt about the old may stick to them.
    forgetLineEndings(this.#buffer.buffer);
    return this.#buffer.subarray(0, size);
  }

  /** Whether `bytes` lie in the memory this buffer reuses. */
  holds(bytes: Uint8Array): boolean {
    return this.#buffer !== null && bytes.buffer === this.#buffer.buffer;
  }
}

/**
 * Gives the memory under `bytes` back at once, instead of when a collection finds it: fresh
 * memory for each message, left to the collector, piles up and fragments the thread's malloc
 * arena, and the next message's memory is then fresh pages again, each first touch costing
 * 14 µs on this machine (docs/performance.md). Only for memory the caller allocated itself and
 * nothing else views: every view of it is left empty. Memory no larger than Buffer's shared
 * pool (64 KB in Node 24) may be a slice of it, and is left to the collector, as is shared memory.
 */
export function releaseNow(bytes: Uint8Array): void {
  const memory = bytes.buffer;
  if (memory instanceof ArrayBuffer && memory.byteLength > Buffer.poolSize) memory.transfer(0);
}
