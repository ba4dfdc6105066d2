/**
 * Memory shared with the analysis threads, reused message after message, for the messages this
 * thread cuts out of an mbox inside a zip (a Google Takeout export is one).
 *
 * Each such message used to be assembled in fresh memory here, then copied into more fresh
 * memory to be handed to a worker: the copy stays here in case the worker is replaced or the
 * analysis fails. On this machine the first touch of a fresh page costs about 14 µs
 * (docs/performance.md). Traced with `perf` (docs/performance-history.md, twenty-sixth round),
 * those two copies took 61 % of the page faults of a
 * run on the 1 GB bench mbox with bare LFs, deflated in a zip: 171,000 faults, against 63,000
 * for the same mbox loose (89,000 since). Assembled
 * here instead, a message is analysed by its worker where it lies, and both copies are gone.
 *
 * `take` never waits. With no room (or a message too large for it) it answers null, and the
 * message gets memory of its own as before. So the ring never holds up a run, and a region never
 * given back costs room, never a stalled run.
 *
 * Each message goes in the lowest gap it fits, not round the ring. What the process holds is then
 * the most ever in flight at once: a Takeout of small messages touches a few MB, not 48.
 */

/** Room for the messages in flight: three of the largest at once, or hundreds of typical ones. */
export const RING_BYTES = 48 * 1024 * 1024;

/**
 * Larger messages get memory of their own: each would take the room of hundreds, and the ring
 * could then hold fewer than three of them at once.
 */
export const RING_MAX_MESSAGE = 16 * 1024 * 1024;

/** Where a message taken from the ring lies in it: what a worker is told, instead of the bytes. */
export interface RingPlace {
  memory: SharedArrayBuffer;
  offset: number;
  length: number;
}

interface Region {
  start: number;
  end: number;
}

export class MessageRing {
  readonly capacity: number;
  readonly maxMessage: number;
  #memory: SharedArrayBuffer | null = null;
  /** the regions held, by start */
  #regions: Region[] = [];

  constructor(capacity = RING_BYTES, maxMessage = RING_MAX_MESSAGE) {
    this.capacity = capacity;
    this.maxMessage = Math.min(maxMessage, capacity);
  }

  /** `size` bytes of the ring, or null: no room now, or too large (take memory of your own). */
  take(size: number): Buffer | null {
    if (size > this.maxMessage || size === 0) return null;
    let at = 0;
    let index = 0;
    for (; index < this.#regions.length; index++) {
      const region = this.#regions[index]!;
      if (region.start - at >= size) break;
      at = region.end;
    }
    if (index === this.#regions.length && this.capacity - at < size) return null;
    // Taken at the first message: a run with no mbox inside a zip never has it. The system maps
    // a page of it only when a message is first written there.
    this.#memory ??= new SharedArrayBuffer(this.capacity);
    this.#regions.splice(index, 0, { start: at, end: at + size });
    return Buffer.from(this.#memory, at, size);
  }

  /**
   * Memory for a message of an mbox inside a zip: a region of the ring (`take`); for a message too
   * large for the ring, memory of its own shared with the workers, as a forwarded message's is,
   * handed to its worker shared rather than copied; null when a message the ring could hold finds
   * no room now (memory of the caller's own, copied to its worker and freed back into this
   * thread's pool). The copy for the worker, beside the one kept here in case the worker is
   * replaced, was a third copy of a 50 MB message alive while it was analysed: a Takeout holding
   * one altered after signing peaked at 319 MB, 270 MB handed over shared.
   */
  gather(size: number): Buffer | null {
    return this.take(size) ?? (size > this.maxMessage ? Buffer.from(new SharedArrayBuffer(size)) : null);
  }

  /** Where `bytes` lie in the ring (a region taken and not given back), or null. */
  placeOf(bytes: Uint8Array): RingPlace | null {
    if (this.#memory === null || bytes.buffer !== this.#memory || this.#find(bytes.byteOffset) === -1) return null;
    return { memory: this.#memory, offset: bytes.byteOffset, length: bytes.byteLength };
  }

  /**
   * Gives back the region `bytes` begin (a view of its first bytes will do): the caller, and any
   * thread it told where they lie, is done with them. False if `bytes` are not such a region.
   */
  give(bytes: Uint8Array): boolean {
    if (this.#memory === null || bytes.buffer !== this.#memory) return false;
    const index = this.#find(bytes.byteOffset);
    if (index === -1) return false;
    this.#regions.splice(index, 1);
    return true;
  }

  /** Regions taken and not given back. */
  held(): number {
    return this.#regions.length;
  }

  #find(start: number): number {
    let low = 0;
    let high = this.#regions.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const at = this.#regions[mid]!.start;
      if (at === start) return mid;
      if (at < start) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }
}
