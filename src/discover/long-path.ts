import { closeSync, constants, existsSync, openSync } from 'node:fs';

/*
 * A dump can nest deeper than PATH_MAX (4096 bytes on Linux, NUL included): `find`, `tar` and
 * `cp -r` make and copy such trees, but any system call given the whole absolute path fails with
 * ENAMETOOLONG. Node has no openat, and process.chdir is the whole process's (and unavailable in
 * workers). On Linux, though, /proc/self/fd/N of a directory opened by descriptor N is a name
 * the kernel resolves to that very directory, so `/proc/self/fd/N/rest` reaches `rest` below it
 * with a path of its own length. A path too long for one call is therefore cut at a `/`: the
 * longest prefix that fits is opened as a directory (an anchor), the rest is taken from there,
 * again and again if need be. Anchors are held only while the call is made; the file descriptor
 * of a file opened this way does not depend on them.
 */

/** The longest path handed to one system call: PATH_MAX less its NUL and room to spare. */
export const MAX_PATH_BYTES = 4000;

const SLASH = 0x2f;
const DIRECTORY_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0);
let procFd: boolean | undefined;

/** Whether /proc/self/fd can stand in for openat here (Linux with /proc mounted). */
export function canReachLongPaths(): boolean {
  procFd ??= process.platform === 'linux' && existsSync('/proc/self/fd');
  return procFd;
}

/** A path to hand to fs, and what to call once the call that uses it is made. */
export interface ShortPath {
  path: string | Buffer;
  release(): void;
}

const nothingToRelease = (): void => {};

/**
 * `path` itself if it fits in one system call (or if this system has no /proc/self/fd: the call
 * then fails with ENAMETOOLONG, as it would have), else the same file reached through an anchor
 * directory. A directory on the way that cannot be opened throws, as opening the file would have.
 */
export function shortPath(path: string | Buffer): ShortPath {
  // every open of the dump comes through here: a short path costs a length, no copy
  const length = typeof path === 'string' ? Buffer.byteLength(path) : path.length;
  if (length <= MAX_PATH_BYTES || !canReachLongPaths()) return { path, release: nothingToRelease };
  let anchor: number | null = null;
  let rest = typeof path === 'string' ? Buffer.from(path) : path;
  try {
    for (;;) {
      const base = anchor === null ? Buffer.alloc(0) : Buffer.from(`/proc/self/fd/${anchor}/`);
      if (base.length + rest.length <= MAX_PATH_BYTES) {
        const held = anchor;
        anchor = null; // handed over to release
        return { path: Buffer.concat([base, rest]), release: () => held !== null && closeSync(held) };
      }
      const cut = rest.lastIndexOf(SLASH, MAX_PATH_BYTES - base.length);
      if (cut <= 0) {
        throw Object.assign(new Error('ENAMETOOLONG: name too long'), { code: 'ENAMETOOLONG' });
      }
      const next = openSync(Buffer.concat([base, rest.subarray(0, cut)]), DIRECTORY_FLAGS);
      if (anchor !== null) closeSync(anchor);
      anchor = next;
      rest = rest.subarray(cut + 1);
    }
  } finally {
    if (anchor !== null) closeSync(anchor);
  }
}

/** Calls `use` with a path that reaches `path` whatever its length (see shortPath), synchronously. */
export function withShortPath<T>(path: string | Buffer, use: (path: string | Buffer) => T): T {
  const short = shortPath(path);
  try {
    return use(short.path);
  } finally {
    short.release();
  }
}

/** withShortPath for an asynchronous call: the anchors are held until its promise settles. */
export async function withShortPathAsync<T>(path: string | Buffer, use: (path: string | Buffer) => Promise<T>): Promise<T> {
  const short = shortPath(path);
  try {
    return await use(short.path);
  } finally {
    short.release();
  }
}
