import type { Db } from '../store/open-store.ts';

/**
 * The manifest: every file of the dump with its size, sha256 and status, every message with its
 * sha256, verdict and reason codes, and what produced them (versions, options, key files by
 * hash). It is deterministic (no clock time, stable order) so that a third party who re-runs
 * leakcheck on the same evidence with the same keys can compare manifests byte for byte. When
 * each run happened is in the database's `runs` table.
 */
export function buildManifest(db: Db): unknown {
  const run = db.prepare(`SELECT dump_root, tool_version, mailauth_version, node_version, sqlite_version, options_json, key_files_json,
      compromised_json FROM runs WHERE status = 'completed' ORDER BY id DESC LIMIT 1`).get() as Record<string, string> | undefined;
  const files = db.prepare('SELECT id, path, kind, status, reason, size, sha256 FROM source_files ORDER BY path').all() as Array<{
    id: number; path: string; kind: string | null; status: string; reason: string | null; size: number | null; sha256: string | null;
  }>;
  const messages = db.prepare(`SELECT m.file_id, m.idx, m.byte_offset, m.size, m.sha256, m.message_id, v.verdict, v.reasons_json, m.repairs_json
    FROM messages m JOIN verdicts v ON v.message_id = m.id ORDER BY m.file_id, m.idx`).all() as Array<{
    file_id: number; idx: number; byte_offset: number; size: number; sha256: string; message_id: string | null; verdict: string; reasons_json: string; repairs_json: string;
  }>;
  const byFile = new Map<number, typeof messages>();
  for (const m of messages) {
    const list = byFile.get(m.file_id) ?? [];
    list.push(m);
    byFile.set(m.file_id, list);
  }
  const verdicts: Record<string, number> = { verified: 0, unverifiable: 0, suspicious: 0 };
  for (const m of messages) verdicts[m.verdict] = (verdicts[m.verdict] ?? 0) + 1;
  const keyFiles = run ? (JSON.parse(run['key_files_json']!) as Array<{ path: string; sha256: string }>) : [];
  return {
    manifest_version: 1,
    produced_by: run
      ? {
          tool: 'leakcheck',
          tool_version: run['tool_version'],
          mailauth_version: run['mailauth_version'],
          node_version: run['node_version'],
          sqlite_version: run['sqlite_version'],
          options: JSON.parse(run['options_json']!) as unknown,
          key_files: keyFiles.map((k) => ({ name: k.path.split('/').pop(), sha256: k.sha256 })).sort((a, b) => a.sha256.localeCompare(b.sha256)),
          compromised_list: run['compromised_json'] ? (JSON.parse(run['compromised_json']) as { sha256: string } | null)?.sha256 ?? null : null,
        }
      : null,
    dump_root: run?.['dump_root'] ?? null,
    counts: { files: files.length, messages: messages.length, verdicts },
    files: files.map((f) => ({
      path: f.path,
      size: f.size,
      sha256: f.sha256,
      kind: f.kind,
      status: f.status,
      reason: f.reason,
      messages: (byFile.get(f.id) ?? []).map((m) => ({
        index: m.idx,
        offset: m.byte_offset,
        size: m.size,
        sha256: m.sha256,
        message_id: m.message_id,
        verdict: m.verdict,
        reasons: JSON.parse(m.reasons_json) as string[],
        repairs: JSON.parse(m.repairs_json) as string[],
      })),
    })),
  };
}
