import { runDumpChecks } from '../checks/dump/index.ts';
import type { DumpMessage } from '../checks/dump/types.ts';
import type { Finding } from '../checks/types.ts';
import { applyDumpFindings } from '../verdict/decide.ts';
import type { Verdict } from '../verdict/reasons.ts';
import type { Db } from './open-store.ts';

/**
 * The second pass: compares every message with the others and settles the final verdicts.
 * It is recomputed whole on every run, from each message's own verdict, so that adding or
 * removing one message is reflected everywhere it matters.
 */
export function runDumpPass(db: Db): { findings: number; raised: number } {
  const messages = loadDumpMessages(db);
  const found = runDumpChecks(messages);
  const byMessage = new Map<number, Finding[]>();
  for (const { messageId, finding } of found) {
    const list = byMessage.get(messageId);
    if (list) list.push(finding);
    else byMessage.set(messageId, [finding]);
  }
  let raised = 0;
  const insert = db.prepare("INSERT INTO findings (message_id, code, severity, text, evidence_json, scope) VALUES (?, ?, ?, ?, ?, 'dump')");
  const own = db.prepare('SELECT message_id, message_verdict, message_reasons_json, message_explanation FROM verdicts');
  const update = db.prepare('UPDATE verdicts SET verdict = ?, reasons_json = ?, explanation = ? WHERE message_id = ?');
  db.transaction(() => {
    db.prepare("DELETE FROM findings WHERE scope = 'dump'").run();
    for (const [messageId, findings] of byMessage) {
      for (const f of findings) insert.run(messageId, f.code, f.severity, f.text, JSON.stringify(f.evidence));
    }
    for (const row of own.all() as Array<{ message_id: number; message_verdict: Verdict; message_reasons_json: string; message_explanation: string }>) {
      const base = { verdict: row.message_verdict, reasons: JSON.parse(row.message_reasons_json) as string[], explanation: row.message_explanation };
      const final = applyDumpFindings(base, byMessage.get(row.message_id) ?? []);
      if (final.verdict !== base.verdict) raised++;
      update.run(final.verdict, JSON.stringify(final.reasons), final.explanation, row.message_id);
    }
  })();
  return { findings: found.length, raised };
}

function loadDumpMessages(db: Db): DumpMessage[] {
  const signatures = new Map<number, DumpMessage['signatures']>();
  for (const s of db.prepare('SELECT message_id, domain, selector, outcome FROM signatures WHERE domain IS NOT NULL AND selector IS NOT NULL').all() as Array<{
    message_id: number; domain: string; selector: string; outcome: string;
  }>) {
    const list = signatures.get(s.message_id) ?? [];
    list.push({ domain: s.domain, selector: s.selector.toLowerCase(), outcome: s.outcome });
    signatures.set(s.message_id, list);
  }
  const rows = db.prepare(`SELECT m.id, f.path, f.kind, m.idx, m.sha256, m.message_id, m.from_address, m.date, m.date_offset_min,
      m.mailer, m.body_sha256, m.visible_sha256, m.in_reply_to, m.references_json, v.message_verdict
    FROM messages m JOIN source_files f ON f.id = m.file_id JOIN verdicts v ON v.message_id = m.id ORDER BY f.path, m.idx`).all() as Array<Record<string, unknown>>;
  return rows.map((r) => {
    const str = (k: string): string | null => (r[k] === null || r[k] === undefined ? null : String(r[k]));
    return {
      id: Number(r['id']),
      where: r['kind'] === 'mbox' ? `${String(r['path'])}#${Number(r['idx'])}` : String(r['path']),
      sha256: String(r['sha256']),
      messageId: str('message_id'),
      fromAddress: str('from_address'),
      date: str('date'),
      dateOffsetMinutes: r['date_offset_min'] === null ? null : Number(r['date_offset_min']),
      mailer: str('mailer'),
      bodySha256: str('body_sha256'),
      visibleSha256: str('visible_sha256'),
      inReplyTo: str('in_reply_to'),
      references: r['references_json'] ? (JSON.parse(String(r['references_json'])) as string[]) : [],
      verdict: r['message_verdict'] as Verdict,
      signatures: signatures.get(Number(r['id'])) ?? [],
    };
  });
}
