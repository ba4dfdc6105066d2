import type { DiscoveredFile } from '../discover/types.ts';
import type { Db } from './open-store.ts';

/**
 * Why a container is (or is not) analysed again on a re-run. Unchanged evidence whose verdicts
 * cannot have moved is not re-read: a re-run after importing a few keys touches only the
 * messages that were waiting for them.
 */
export type FileState = 'new' | 'changed' | 'retry' | 'new-context' | 'new-keys' | 'unchanged';

export function fileStateChecker(db: Db, context: string): (file: DiscoveredFile) => FileState {
  const byPath = db.prepare('SELECT id, size, mtime_ms, status, analyzed_at, analysis_context FROM source_files WHERE path = ?');
  // A signature that did not verify, whose key name has gained a usable key record since.
  const waitingForKeys = db.prepare(`SELECT 1 FROM messages m JOIN signatures s ON s.message_id = m.id
    WHERE m.file_id = ? AND s.outcome != 'pass' AND s.key_name IS NOT NULL AND EXISTS (
      SELECT 1 FROM keys k WHERE k.name = s.key_name AND k.provenance != 'absent' AND k.added_at >= ?) LIMIT 1`);
  return (file) => {
    const row = byPath.get(file.relPath) as
      | { id: number; size: number | null; mtime_ms: number | null; status: string; analyzed_at: string | null; analysis_context: string | null }
      | undefined;
    if (!row) return 'new';
    if (row.size !== file.size || row.mtime_ms !== file.mtimeMs) return 'changed';
    if (row.status !== 'ok' || !row.analyzed_at) return 'retry';
    if (row.analysis_context !== context) return 'new-context';
    if (waitingForKeys.get(row.id, row.analyzed_at)) return 'new-keys';
    return 'unchanged';
  };
}
