import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Db } from './open-store.ts';

/**
 * The symbolic links of the dump that lead out of it, or to nothing the walk read: links are
 * recorded, never followed, so what is behind one was never read, and a folder link may hold a
 * whole mailbox (red team AA, AA-09). A link to a file or folder of the dump is not counted: the
 * walk read that under its own name. Resolved as the system resolves it (realpath(3)); reads no file.
 */
export function linksNotRead(db: Db, dumpRoot: string): number {
  let root: string;
  try {
    root = realpathSync.native(dumpRoot);
  } catch {
    return 0;
  }
  const walked = db.prepare('SELECT 1 FROM source_files WHERE path = ? AND parent_file_id IS NULL').pluck();
  const walkedBelow = db.prepare("SELECT 1 FROM source_files WHERE path > ? AND path < ? || '0' AND parent_file_id IS NULL LIMIT 1").pluck();
  let count = 0;
  for (const path of db.prepare("SELECT path FROM source_files WHERE status = 'skipped' AND reason = 'symlink' AND parent_file_id IS NULL").pluck().iterate() as Iterable<string>) {
    let target: string;
    try {
      target = realpathSync.native(join(dumpRoot, path));
    } catch {
      continue; // dangling: nothing behind it
    }
    const inside = relative(root, target);
    const outside = inside.startsWith('..') || isAbsolute(inside);
    const rel = inside.split(sep).join('/');
    if (outside || (inside !== '' && walked.get(rel) === undefined && walkedBelow.get(`${rel}/`, rel) === undefined)) count++;
  }
  return count;
}
