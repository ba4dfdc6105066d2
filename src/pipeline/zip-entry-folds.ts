import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { normalizeFileName } from '../attachments/inventory.ts';
import { nameSkeleton } from '../attachments/name-skeleton.ts';
import { WhitespaceFolds } from '../attachments/whitespace-fold.ts';
import { zipEntryChunks } from '../read/zip-entry.ts';
import { locateZipEntries } from '../read/zip.ts';
import { DOCUMENT_REASONS, zipEntryFileName, zipEntryInside, type Folds } from '../store/documents-pass.ts';
import type { Db } from '../store/open-store.ts';

/**
 * The whitespace folds (whitespace-fold.ts) of the documents inside zip archives that the
 * documents pass compares with text attachments, by their row's id: a loose document is read
 * again there, but an entry can only be inflated again from its archive, which takes the archive
 * reader's async listing. Without them a genuine copy of a text attachment sent as 7bit, zipped
 * with LF line ends, was a name conflict (red team Y, Y-14, for loose copies). Only the entries
 * named as (or like) such an attachment are read; an entry whose bytes are not those hashed
 * when it was read gets none, and is compared by its bytes alone.
 */
export async function zipEntryFolds(db: Db, dumpRoot: string): Promise<Map<number, Folds>> {
  const folds = new Map<number, Folds>();
  // as the documents pass compares them: the attachments whose copies are compared with their
  // whitespace folded, by the skeleton of their name (which names that read alike share)
  const textNames = db.prepare(`SELECT DISTINCT normalized_name FROM attachments
    WHERE normalized_name IS NOT NULL AND (blanks_kept_sha256 IS NOT NULL OR strength = 'covered-except-whitespace')`).pluck().all() as string[];
  if (!textNames.length) return folds;
  const skeletons = new Set(textNames.map(nameSkeleton));
  const reasons = [...DOCUMENT_REASONS].map((r) => `'${r}'`).join(', ');
  const entries = db.prepare(`SELECT f.id, f.path, f.sha256, p.path AS archive FROM source_files f JOIN source_files p ON p.id = f.parent_file_id
    WHERE f.kind = 'zip-entry' AND f.status = 'skipped' AND f.reason IN (${reasons}) AND f.sha256 IS NOT NULL ORDER BY p.path, f.path`).all() as Array<{ id: number; path: string; sha256: string; archive: string }>;
  // by archive, then by the entry's path inside it (an archive of thousands of text entries is
  // listed once, each entry looked up, not searched for)
  const wanted = new Map<string, Map<string, { id: number; sha256: string }>>();
  for (const e of entries) {
    const name = normalizeFileName(zipEntryFileName(e.path, e.archive));
    if (name === null || !skeletons.has(nameSkeleton(name))) continue;
    const inArchive = wanted.get(e.archive) ?? new Map<string, { id: number; sha256: string }>();
    const inside = zipEntryInside(e.path, e.archive);
    if (!inArchive.has(inside)) inArchive.set(inside, { id: e.id, sha256: e.sha256 });
    wanted.set(e.archive, inArchive);
  }
  for (const [archive, rows] of wanted) {
    const absPath = join(dumpRoot, archive);
    try {
      for await (const item of locateZipEntries(absPath)) {
        if (!('location' in item)) continue;
        const row = rows.get(item.safeName) ?? rows.get(`${item.safeName}#entry-${item.index}`);
        if (!row) continue;
        const folded = new WhitespaceFolds();
        const whole = createHash('sha256');
        try {
          for await (const chunk of zipEntryChunks(absPath, item.location)) {
            folded.update(chunk);
            whole.update(chunk);
          }
        } catch {
          continue;
        }
        if (whole.digest('hex') === row.sha256) folds.set(row.id, folded.digest());
      }
    } catch {
      // (an archive changed or damaged since its entries were read: they are compared by their bytes alone)
    }
  }
  return folds;
}
