import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { toFsPath, toFsPathSync } from './fs-path.ts';
import { withShortPath, withShortPathAsync } from './long-path.ts';

/*
 * Every file under the dump is opened through here, so the evidence rules hold in one place:
 * - read-only;
 * - O_NOFOLLOW: a file swapped for a symlink after the walk looked at it is not followed;
 * - O_NONBLOCK: a file swapped for a FIFO does not hang the run (no effect on regular files);
 * - O_NOATIME where the kernel allows it (owner or root), so reading leaves even the access
 *   time untouched. Callers still fstat the handle: only a regular file may be read.
 * Flags missing on a platform count as 0.
 */
const BASE_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
const NOATIME = constants.O_NOATIME ?? 0;

/** Opens a file of the dump for reading; `path` is a walkDump absPath (escaped names allowed) or raw bytes. */
export async function openEvidence(path: string | Buffer): Promise<FileHandle> {
  // A path past PATH_MAX is reached through a directory descriptor (long-path.ts).
  return withShortPathAsync(typeof path === 'string' ? await toFsPath(path) : path, openReachable);
}

async function openReachable(fsPath: string | Buffer): Promise<FileHandle> {
  if (NOATIME !== 0) {
    try {
      return await open(fsPath, BASE_FLAGS | NOATIME);
    } catch (error) {
      // EPERM: not our file and no privilege; the atime then is the kernel's business.
      if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    }
  }
  return open(fsPath, BASE_FLAGS);
}

/** Reads up to `length` bytes from the start of the file (fewer only at end of file). */
export async function readHead(handle: FileHandle, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * The same, synchronously, returning a file descriptor. The main thread opens and reads loose
 * files this way: a promise-based open/stat/read/close costs four thread-pool round trips per
 * file (a third of the main thread's time on a dump of small files), while the workers it feeds
 * keep analysing in the meantime. The caller closes the descriptor.
 */
export function openEvidenceSync(path: string | Buffer): number {
  return withShortPath(typeof path === 'string' ? toFsPathSync(path) : path, openReachableSync);
}

function openReachableSync(fsPath: string | Buffer): number {
  if (NOATIME !== 0) {
    try {
      return openSync(fsPath, BASE_FLAGS | NOATIME);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    }
  }
  return openSync(fsPath, BASE_FLAGS);
}

/**
 * Memory to read a file into, reused from one file to the next (see ReusableBuffer). What `take`
 * returns stays valid until the next call.
 */
export interface ReadTarget {
  take(size: number): Buffer;
}

/** Fills `buffer` from `position` of an open file; fewer bytes only at end of file. */
function fillSync(fd: number, buffer: Buffer, position: number): number {
  let filled = 0;
  while (filled < buffer.length) {
    const bytesRead = readSync(fd, buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** Reads up to `length` bytes from `position` (default the start) of an open file (fewer only at end of file). */
export function readHeadSync(fd: number, length: number, position = 0, into?: ReadTarget): Buffer {
  // Memory of its own (never Node's shared pool for small buffers): a message kept for as long
  // as its analysis pins nothing else. Left uninitialised: only the bytes read are ever visible
  // through the view returned.
  const buffer = into ? into.take(length) : Buffer.allocUnsafeSlow(length);
  return buffer.subarray(0, fillSync(fd, buffer, position));
}

/**
 * Everything from the start of an open file to its end. `expectedSize` (from fstat) sizes the
 * first read; a file that grew since is still read to its end, as a stream read would.
 */
export function readToEndSync(fd: number, expectedSize: number, into?: ReadTarget): Buffer {
  if (into) {
    // One byte of room past the size seen: a file that grew since fills it.
    const room = into.take(expectedSize + 1);
    const filled = fillSync(fd, room, 0);
    if (filled <= expectedSize) return room.subarray(0, filled);
  }
  const first = readHeadSync(fd, expectedSize);
  // Exactly the size seen, in memory of its own; one more byte read past it tells a file that
  // grew since.
  if (first.length < expectedSize || readSync(fd, Buffer.alloc(1), 0, 1, expectedSize) === 0) return first;
  const chunks = [first];
  let position = first.length;
  for (;;) {
    const more = Buffer.allocUnsafe(1024 * 1024);
    const bytesRead = readSync(fd, more, 0, more.length, position);
    if (bytesRead === 0) {
      // into memory of its own, like the first read (Buffer.concat may use the shared pool)
      const whole = Buffer.allocUnsafeSlow(position);
      let at = 0;
      for (const chunk of chunks) at += chunk.copy(whole, at);
      return whole;
    }
    chunks.push(more.subarray(0, bytesRead));
    position += bytesRead;
  }
}

/** fstat of an open evidence file. */
export function statEvidenceSync(fd: number): Stats {
  return fstatSync(fd);
}

export function closeEvidenceSync(fd: number): void {
  closeSync(fd);
}

/**
 * Whether reading the dump leaves the access times of its files as they are: O_NOATIME is granted
 * to a file's owner and to root only, and for anyone else opening falls back to a plain open,
 * which updates them. Judged from the dump's own owner (a dump copied for an examination belongs
 * to whoever copied it); true where the system does not tell.
 */
export function accessTimesKept(root: string): boolean {
  const uid = process.getuid?.();
  if (uid === undefined || uid === 0 || !NOATIME) return true;
  let owner: number | undefined;
  try {
    owner = statSync(root, { throwIfNoEntry: false })?.uid;
  } catch {
    // a dump that cannot be reached: the run says so itself
  }
  return owner === undefined || owner === uid;
}
