import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Db } from './open-store.ts';

/**
 * Where a link of the dump leads, as the system resolves it when a reader opens it (realpath(3):
 * every link on the way, and a `..` after a link as the parent of the folder it names; Node's own
 * realpathSync reads that `..` as text): the path inside the dump, `/`-separated, '' for the
 * root, or `outside`, or null when it leads nowhere. Reads no file, only the links.
 */
export function linkTargetInDump(realRoot: string, dumpRoot: string, path: string): string | 'outside' | null {
  let target: string;
  try {
    target = realpathSync.native(join(dumpRoot, path));
  } catch {
    return null;
  }
  const inside = relative(realRoot, target);
  return inside.startsWith('..') || isAbsolute(inside) ? 'outside' : inside.split(sep).join('/');
}

/** The dump root's real path, or null when it is gone. */
export function realRootOf(dumpRoot: string): string | null {
  try {
    return realpathSync.native(dumpRoot);
  } catch {
    return null;
  }
}

/**
 * The symbolic links of the dump that lead out of it, or to nothing the walk read: links are
 * recorded, never followed, so what is behind one was never read, and a folder link may hold a
 * whole mailbox (red team AA, AA-09). A link to a file or folder of the dump is not counted: the
 * walk read that under its own name.
 */
export function linksNotRead(db: Db, dumpRoot: string): number {
  const root = realRootOf(dumpRoot);
  if (root === null) return 0;
  const walked = db.prepare('SELECT 1 FROM source_files WHERE path = ? AND parent_file_id IS NULL').pluck();
  // (by the index on path: `+` keeps SQLite off the one on parent_file_id, every file of the dump)
  const walkedBelow = db.prepare("SELECT 1 FROM source_files WHERE path > ? AND path < ? || '0' AND +parent_file_id IS NULL LIMIT 1").pluck();
  let count = 0;
  for (const path of db.prepare("SELECT path FROM source_files WHERE status = 'skipped' AND reason = 'symlink' AND parent_file_id IS NULL").pluck().iterate() as Iterable<string>) {
    const inside = linkTargetInDump(root, dumpRoot, path);
    if (inside === null || inside === '') continue;
    if (inside === 'outside' || (walked.get(inside) === undefined && walkedBelow.get(`${inside}/`, inside) === undefined)) count++;
  }
  return count;
}
