import { normalizeFileName } from '../attachments/inventory.ts';
import type { Db } from './open-store.ts';

/**
 * Where a loose document of the dump stands: `verified-by-email` when its bytes are those of an
 * attachment that a verified message's signature covers (so those bytes existed, unchanged,
 * when the message was signed); `seen-in-unverified-email` when they match only attachments
 * nothing proves; `no-email-match` otherwise.
 */
export type DocumentStatus = 'verified-by-email' | 'seen-in-unverified-email' | 'no-email-match';

export interface DocumentMatch {
  message: string;
  messageId: string | null;
  date: string | null;
  from: string | null;
  signers: string[];
  verdict: string;
  filename: string | null;
  strength: string;
}

export interface NameConflict extends DocumentMatch {
  attachmentSha256: string;
  attachmentSize: number;
}

/** Files the walk skipped as not email, and that are documents (not links, devices, unreadable entries). */
export const DOCUMENT_REASONS: ReadonlySet<string> = new Set(['not-email', 'binary', 'empty']);
const DOCUMENT_REASONS_SQL = `(${[...DOCUMENT_REASONS].map((r) => `'${r}'`).join(', ')})`;

export function runDocumentsPass(db: Db): { documents: number; verified: number; conflicts: number } {
  const documents = db.prepare(`SELECT id, path, size, sha256 FROM source_files
    WHERE status = 'skipped' AND reason IN ${DOCUMENT_REASONS_SQL} AND sha256 IS NOT NULL AND parent_file_id IS NULL ORDER BY path`).all() as Array<{
    id: number; path: string; size: number | null; sha256: string;
  }>;
  const attachmentRows = db.prepare(`SELECT a.sha256, a.size, a.normalized_name, a.filename, a.strength, v.verdict, m.message_id, m.date,
      m.from_header, m.id AS mid, f.path, f.kind, m.idx
    FROM attachments a JOIN messages m ON m.id = a.message_id JOIN verdicts v ON v.message_id = m.id JOIN source_files f ON f.id = m.file_id
    ORDER BY f.path, m.idx, a.part_index`).all() as Array<{
    sha256: string; size: number; normalized_name: string | null; filename: string | null; strength: string; verdict: string;
    message_id: string | null; date: string | null; from_header: string | null; mid: number; path: string; kind: string; idx: number;
  }>;
  const signers = new Map<number, string[]>();
  for (const row of db.prepare("SELECT message_id, domain FROM signatures WHERE outcome = 'pass' AND domain IS NOT NULL ORDER BY sig_index").all() as Array<{ message_id: number; domain: string }>) {
    const list = signers.get(row.message_id) ?? [];
    if (!list.includes(row.domain)) list.push(row.domain);
    signers.set(row.message_id, list);
  }
  const match = (a: (typeof attachmentRows)[number]): DocumentMatch => ({
    message: a.kind === 'mbox' ? `${a.path}#${a.idx}` : a.path,
    messageId: a.message_id,
    date: a.date,
    from: a.from_header,
    signers: signers.get(a.mid) ?? [],
    verdict: a.verdict,
    filename: a.filename,
    strength: a.strength,
  });
  // Grouped in one pass (Map.groupBy appends in place): a list copied on every append made the
  // pass quadratic in the copies of one attachment (30,000 copies of one message in an mbox: 44 s).
  const bySha = Map.groupBy(attachmentRows, (a) => a.sha256);
  const verifiedByName = Map.groupBy(
    attachmentRows.filter((a) => a.strength === 'verified-content' && a.normalized_name),
    (a) => a.normalized_name!,
  );
  const insert = db.prepare('INSERT INTO documents (file_id, sha256, size, normalized_name, status, matches_json, name_conflicts_json) VALUES (?, ?, ?, ?, ?, ?, ?)');
  let verified = 0;
  let conflicts = 0;
  db.transaction(() => {
    db.prepare('DELETE FROM documents').run();
    for (const doc of documents) {
      const name = normalizeFileName(doc.path.split('/').pop() ?? '');
      const matches = bySha.get(doc.sha256) ?? [];
      const status: DocumentStatus = matches.some((a) => a.strength === 'verified-content')
        ? 'verified-by-email'
        : matches.length
          ? 'seen-in-unverified-email'
          : 'no-email-match';
      const conflicting = (name ? (verifiedByName.get(name) ?? []) : []).filter((a) => a.sha256 !== doc.sha256);
      if (status === 'verified-by-email') verified++;
      if (conflicting.length) conflicts++;
      insert.run(
        doc.id, doc.sha256, doc.size, name, status,
        JSON.stringify(matches.map(match)),
        JSON.stringify(conflicting.map((a): NameConflict => ({ ...match(a), attachmentSha256: a.sha256, attachmentSize: a.size }))),
      );
    }
  })();
  return { documents: documents.length, verified, conflicts };
}

export interface DocumentRecord {
  path: string;
  sha256: string;
  size: number | null;
  status: DocumentStatus;
  matches: DocumentMatch[];
  nameConflicts: NameConflict[];
}

export function listDocuments(db: Db, status?: DocumentStatus): DocumentRecord[] {
  const rows = db.prepare(`SELECT f.path, d.sha256, d.size, d.status, d.matches_json, d.name_conflicts_json FROM documents d
    JOIN source_files f ON f.id = d.file_id ${status ? 'WHERE d.status = ?' : ''} ORDER BY f.path`).all(...(status ? [status] : [])) as Array<{
    path: string; sha256: string; size: number | null; status: DocumentStatus; matches_json: string; name_conflicts_json: string;
  }>;
  return rows.map((r) => ({
    path: r.path,
    sha256: r.sha256,
    size: r.size,
    status: r.status,
    matches: JSON.parse(r.matches_json) as DocumentMatch[],
    nameConflicts: JSON.parse(r.name_conflicts_json) as NameConflict[],
  }));
}
