import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runVerify } from '../../src/pipeline/run-verify.ts';

/** A stored message as the cross-dump tests look at it: its final verdict and its dump findings, in order. */
export interface DumpRow {
  verdict: string;
  reasons: string[];
  findings: Array<{ code: string; severity: string; text: string }>;
}

/** Every message of a verified database, by the path of its file. */
export function dumpRows(dbPath: string): Map<string, DumpRow> {
  const rows = new Map<string, DumpRow>();
  const db = new Database(dbPath, { readonly: true });
  try {
    for (const r of db.prepare(`SELECT f.path, v.verdict, v.reasons_json,
        (SELECT json_group_array(json_object('code', d.code, 'severity', d.severity, 'text', d.text) ORDER BY d.id) FROM findings d
          WHERE d.message_id = m.id AND d.scope = 'dump') AS findings
      FROM messages m JOIN source_files f ON f.id = m.file_id JOIN verdicts v ON v.message_id = m.id`).all() as Array<{ path: string; verdict: string; reasons_json: string; findings: string }>) {
      rows.set(r.path, { verdict: r.verdict, reasons: JSON.parse(r.reasons_json) as string[], findings: JSON.parse(r.findings) as DumpRow['findings'] });
    }
  } finally {
    db.close();
  }
  return rows;
}

/**
 * Writes `files` (path: content) as a dump under `root`/dump and `keys` as a key file, verifies
 * it offline, and returns its messages as dumpRows reads them.
 */
export async function verifiedDumpRows(root: string, files: Record<string, string>, keys: Record<string, string[]>): Promise<Map<string, DumpRow>> {
  const dump = join(root, 'dump');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dump, path)), { recursive: true });
    writeFileSync(join(dump, path), content, 'latin1');
  }
  const keysFile = join(root, 'keys.json');
  writeFileSync(keysFile, JSON.stringify(keys));
  const dbPath = join(root, 'x.db');
  await runVerify({ dumpRoot: dump, dbPath, keyFiles: [keysFile], offline: true });
  return dumpRows(dbPath);
}
