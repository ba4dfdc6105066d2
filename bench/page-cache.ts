import { spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readSync, writeFileSync } from 'node:fs';

/**
 * `npm run bench -- --cold`: every timed run starts with the kernel's caches dropped, as a dump
 * too large to stay in memory is read (the issue: "a real 10 GB dump is read mostly cold").
 * Linux only, and root only: dirty pages are written out (`sync`), then the page cache and the
 * caches of file names and inodes are dropped (`3`), so that the walk's listings and lstat calls
 * go to the disk as well as the reads.
 */
export const DROP_CACHES = '/proc/sys/vm/drop_caches';

/** Why the caches cannot be dropped here (the usage error --cold gives), or null when they can. */
export function coldRefusal(control = DROP_CACHES): string | null {
  try {
    accessSync(control, constants.W_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist (not Linux?)' : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'is not writable (root only)' : `cannot be written (${String(code)})`;
    return `--cold drops the kernel's caches before every run through ${control}, which ${why}`;
  }
}

/** Writes dirty pages out, then drops the page cache, dentries and inodes. */
export function dropPageCache(control = DROP_CACHES): void {
  const sync = spawnSync('sync');
  if (sync.status !== 0) throw new Error(`sync failed before dropping the caches: ${sync.stderr?.toString() ?? sync.error?.message ?? ''}`);
  writeFileSync(control, '3');
}

/**
 * Reads every file once, untimed, so that a dump's first timed round finds it in the page cache
 * as the later rounds do. This machine's page cache keeps about 4.4 GB whatever the memory free
 * (fiftieth round): after the memory runs, a quarter of the 3.6 GB mix of 20,000 had left it,
 * and the first contender of the first round, leakcheck verify, read that from the disk (901
 * messages/s against 1,492 and 1,560 in the next rounds). Returns the bytes read.
 */
export function readIntoPageCache(files: readonly string[]): number {
  const buffer = Buffer.allocUnsafe(1 << 20);
  let total = 0;
  for (const file of files) {
    const fd = openSync(file, 'r');
    try {
      for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) total += n;
    } finally {
      closeSync(fd);
    }
  }
  return total;
}
