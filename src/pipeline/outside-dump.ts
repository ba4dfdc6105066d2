import { readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative } from 'node:path';
import { UsageError } from './usage-error.ts';

/**
 * Evidence is read-only: leakcheck never creates a file inside a dump. Each of `paths` (a file
 * about to be written) is refused with `refusal(path)` when the folder it would land in is the
 * dump root or under it. The file's own name is followed too, dangling or not: SQLite follows a
 * symlink named as the database and creates the file, and its -wal and -shm beside it, where the
 * link points, and so does a write stream.
 */
export function assertOutsideDump(root: string, paths: readonly string[], refusal: (path: string) => string): void {
  const realRoot = realpathSync.native(root);
  for (const path of paths) {
    const target = followLinks(path);
    const rel = relative(realRoot, dirname(target));
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) throw new UsageError(refusal(path));
    assertNoSharedInode(realRoot, path, target);
  }
}

/**
 * A file outside the dump can still be a file of the dump: a hard link is the same file under a
 * second name, and writing it (a report opened for writing truncates what is there) changes the
 * evidence. An existing file with other names, on the dump's file system, is refused: which
 * names those are cannot be told without walking the dump.
 */
function assertNoSharedInode(realRoot: string, path: string, target: string): void {
  let file;
  try {
    file = statSync(target);
  } catch {
    return; // not there yet: it will be a new file
  }
  if (!file.isFile() || file.nlink < 2 || file.dev !== statSync(realRoot).dev) return;
  throw new UsageError(
    `refusing to write ${path}: it is a file with ${file.nlink} names (hard links) on the file system of the dump ${realRoot}, so it may be a file of the dump, and writing it would change the evidence. Write it elsewhere.`,
  );
}

/** Symlinks a path may pass through before it is taken for a loop (Linux's own limit). */
const MAX_LINK_HOPS = 40;

/**
 * Where the kernel would take `path`, component by component: every symlink is replaced by its
 * target, the last component's too, even when the target does not exist (realpath gives up on a
 * dangling link; opening it for writing would create the target). A component that does not
 * exist, or that cannot be read as a link, is kept as it is. `..` is taken after the link
 * before it is followed, as the kernel does, not lexically.
 */
function followLinks(path: string): string {
  const absolute = isAbsolute(path) ? path : `${process.cwd()}/${path}`;
  let resolved = '/';
  let rest = absolute.split('/');
  let hops = 0;
  for (let name = rest.shift(); name !== undefined; name = rest.shift()) {
    if (name === '' || name === '.') continue;
    if (name === '..') {
      resolved = dirname(resolved);
      continue;
    }
    const candidate = resolved === '/' ? `/${name}` : `${resolved}/${name}`;
    let target: string;
    try {
      target = readlinkSync(candidate);
    } catch {
      resolved = candidate; // not a symlink, or not there (yet)
      continue;
    }
    hops += 1;
    if (hops > MAX_LINK_HOPS) throw new UsageError(`${path}: too many levels of symbolic links`);
    rest = [...target.split('/'), ...rest];
    if (isAbsolute(target)) resolved = '/';
  }
  return resolved;
}

