import { closeSync, constants, existsSync, openSync } from 'node:fs';

/*
 * A dump can nest deeper than PATH_MAX (4096 bytes on Linux, NUL included): `find`, `tar` and
 * `cp -r` make and copy such trees, but any system call given the whole absolute path fails with
 * ENAMETOOLONG. Node has no openat, and process.chdir is the whole process's (and unavailable in
 * workers). On Linux, though, /proc/self/fd/N of a directory opened by descriptor N is a name
 * the kernel resolves to that very directory, so `/proc/self/fd/N/rest` reaches `rest` below it
 * with a path of its own length. A path too long for one call is therefore cut at a `/`: the
 * longest prefix that fits is opened as a directory (an anchor), the rest is taken from there,
 * again and again if need be. Anchors are held only while the call is made (or, for the walk, in
 * an AnchorCache for as long as it walks); the file descriptor of a file opened this way does not
 * depend on them.
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
 * Anchors kept open from one call to the next, for a caller that reaches many long paths with a
 * common prefix in turn (the walk: a child's path is its directory's path and one name). Without
 * them every call re-opens the whole chain of anchors from the root, each open resolving up to
 * 2,000 components, so a chain of 10,000 one-letter directories took time (and a walk of it
 * 81 s) growing with the square of its depth. Each anchor is the directory `prefix` names, as
 * it was when first opened: the caller keeps the cache only as long as one pass over the tree
 * lasts, and closes it.
 */
export class AnchorCache {
  /** each anchor opened from the one before it (the first from the root), and the absolute path it stands for */
  readonly #chain: Array<{ prefix: Buffer; fd: number }> = [];

  /** How many leading anchors `path` can reuse: those whose prefix is a whole-component prefix of it. The rest are closed. */
  keepFor(path: Buffer): number {
    let kept = 0;
    for (const { prefix } of this.#chain) {
      if (path.length <= prefix.length || path[prefix.length] !== SLASH || path.compare(prefix, 0, prefix.length, 0, prefix.length) !== 0) break;
      kept += 1;
    }
    this.#truncate(kept);
    return kept;
  }

  anchor(index: number): { prefix: Buffer; fd: number } {
    return this.#chain[index] as { prefix: Buffer; fd: number };
  }

  push(prefix: Buffer, fd: number): void {
    this.#chain.push({ prefix, fd });
  }

  /** Closes every anchor held. */
  close(): void {
    this.#truncate(0);
  }

  #truncate(length: number): void {
    while (this.#chain.length > length) closeSync((this.#chain.pop() as { fd: number }).fd);
  }
}

/**
 * `path` itself if it fits in one system call (or if this system has no /proc/self/fd: the call
 * then fails with ENAMETOOLONG, as it would have), else the same file reached through an anchor
 * directory. A directory on the way that cannot be opened throws, as opening the file would have.
 * With `cache`, anchors are taken from it and left in it (see AnchorCache); without, they are
 * opened for this call and closed by release.
 */
export function shortPath(path: string | Buffer, cache?: AnchorCache): ShortPath {
  // every open of the dump comes through here: a short path costs a length, no copy
  const length = typeof path === 'string' ? Buffer.byteLength(path) : path.length;
  if (length <= MAX_PATH_BYTES || !canReachLongPaths()) return { path, release: nothingToRelease };
  const whole = typeof path === 'string' ? Buffer.from(path) : path;
  if (cache !== undefined) return cachedShortPath(whole, cache);
  let anchor: number | null = null;
  let rest = whole;
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

/** shortPath through a cache: the same cuts as without one, so an anchor's prefix decides its place in the chain. */
function cachedShortPath(whole: Buffer, cache: AnchorCache): ShortPath {
  const kept = cache.keepFor(whole);
  let anchor: number | null = null;
  let start = 0;
  if (kept > 0) {
    const last = cache.anchor(kept - 1);
    anchor = last.fd;
    start = last.prefix.length + 1;
  }
  for (;;) {
    const rest = whole.subarray(start);
    const base = anchor === null ? Buffer.alloc(0) : Buffer.from(`/proc/self/fd/${anchor}/`);
    if (base.length + rest.length <= MAX_PATH_BYTES) return { path: Buffer.concat([base, rest]), release: nothingToRelease };
    const cut = rest.lastIndexOf(SLASH, MAX_PATH_BYTES - base.length);
    if (cut <= 0) throw Object.assign(new Error('ENAMETOOLONG: name too long'), { code: 'ENAMETOOLONG' });
    anchor = openSync(Buffer.concat([base, rest.subarray(0, cut)]), DIRECTORY_FLAGS);
    // a copy: the caller's buffer may be reused, the prefix must stay what was opened
    cache.push(Buffer.from(whole.subarray(0, start + cut)), anchor);
    start += cut + 1;
  }
}

/** Calls `use` with a path that reaches `path` whatever its length (see shortPath), synchronously. */
export function withShortPath<T>(path: string | Buffer, use: (path: string | Buffer) => T, cache?: AnchorCache): T {
  const short = shortPath(path, cache);
  try {
    return use(short.path);
  } finally {
    short.release();
  }
}

/** withShortPath for an asynchronous call: the anchors are held until its promise settles. */
export async function withShortPathAsync<T>(path: string | Buffer, use: (path: string | Buffer) => Promise<T>, cache?: AnchorCache): Promise<T> {
  const short = shortPath(path, cache);
  try {
    return await use(short.path);
  } finally {
    short.release();
  }
}
