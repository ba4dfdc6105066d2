import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { toFsPath } from './fs-path.ts';

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
  const fsPath = typeof path === 'string' ? await toFsPath(path) : path;
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
