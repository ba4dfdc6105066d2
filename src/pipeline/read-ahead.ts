import type { ReadTarget } from '../discover/open-evidence.ts';
import type { MessageLocation } from '../read/read-container.ts';
import type { RawMessage } from '../read/types.ts';

/** The most bytes of small files read ahead at once, and the most files. */
export const READ_AHEAD_BYTES = 1024 * 1024;
export const READ_AHEAD_FILES = 8;
/** A file larger than this (as the walk saw it) is read at its turn, never ahead. */
export const READ_AHEAD_FILE_BYTES = 256 * 1024;

/** A message file queued for a worker, as read-ahead sees it. */
export interface QueuedRead {
  id: number;
  location: MessageLocation;
  maxBytes: number;
}

/**
 * The small message files queued behind the one a worker is about to read, read with it, one
 * after the other, and held for their turn.
 *
 * Why: on this machine a worker's open, fstat, read and close of a file cost 60-70 µs when each
 * comes between two analyses, against about 20 µs back to back (the same calls in a loop over
 * the same files, page cache warm): what an analysis does between them leaves the kernel's
 * caches cold. Read four at a time, one warm thread over 1,500 format=flowed messages took
 * 33 µs a file instead of 46-50 (fifty-fourth round).
 *
 * What is read ahead is the same bytes read a little earlier, through the same checks
 * (readMessageAt: the file as the walk saw it, not grown while read). Each read is marked as its
 * own message in progress (`start`), so that a read that hangs is charged to its own message,
 * which its time limit gives up, and not to the one before it. A failed read is held as it
 * failed and thrown at its turn. The bytes wait in memory of their own and are copied into the
 * worker's read buffer at their turn, so that the analysis sees every message where it always
 * did.
 */
export class ReadAhead implements ReadTarget {
  readonly #staging = Buffer.allocUnsafeSlow(READ_AHEAD_BYTES);
  #used = 0;
  readonly #held = new Map<number, { read: RawMessage } | { failed: unknown }>();

  /** Reads each of `queued` that is small enough, up to the limits above, in order; `read` reads one into this. */
  fill(queued: readonly QueuedRead[], read: (task: QueuedRead, into: ReadTarget) => RawMessage, start: (id: number) => void): void {
    this.#used = 0;
    let bytes = 0;
    for (const task of queued.slice(0, READ_AHEAD_FILES)) {
      const size = smallFileSize(task.location);
      if (size === null || bytes + size >= READ_AHEAD_BYTES) break;
      bytes += size + 1;
      start(task.id);
      try {
        this.#held.set(task.id, { read: read(task, this) });
      } catch (failed) {
        this.#held.set(task.id, { failed });
      }
    }
  }

  /** Room for a file being read ahead (ReadTarget): in the staging memory while it lasts, else of its own. */
  take(size: number): Buffer {
    if (this.#used + size > this.#staging.length) return Buffer.allocUnsafeSlow(size);
    this.#used += size;
    return this.#staging.subarray(this.#used - size, this.#used);
  }

  /** The message read ahead for task `id`, copied into `into`; null when none was; throws what its read threw. */
  claim(id: number, into: ReadTarget): RawMessage | null {
    const held = this.#held.get(id);
    if (!held) return null;
    this.#held.delete(id);
    if ('failed' in held) throw held.failed;
    const raw = into.take(held.read.raw.length);
    held.read.raw.copy(raw);
    return { ...held.read, raw };
  }

  /** Whether anything read ahead still waits for its turn. */
  get holding(): boolean {
    return this.#held.size > 0;
  }
}

/** The size of a message small enough to read ahead (a single-message file as the walk saw it, or an mbox message at the range the scan found), else null. */
function smallFileSize(location: MessageLocation): number | null {
  const size = location.kind === 'mbox' ? location.range.size : location.kind === 'zip-entry' ? null : (location.seen?.size ?? null);
  return size !== null && size <= READ_AHEAD_FILE_BYTES ? size : null;
}
