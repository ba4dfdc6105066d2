import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvLine, csvLinePieces } from '../../src/report/csv.ts';
import { EXPORT_FINDINGS_HELD, type ExportRow } from '../../src/report/export-rows.ts';
import { jsonlLine, jsonlLinePieces } from '../../src/report/jsonl.ts';
import { runCli, verifiedDemoDatabase } from '../helpers/cli.ts';

// Red team BB, BB-07: the export held the findings of a page of 500 messages, each message's
// whole (a thousand messages with a thousand findings each: 1.3 GB). A message's findings beyond
// the first EXPORT_FINDINGS_HELD are now read and written a page at a time, in pieces of the line.
describe('export of a message with more findings than it holds at once', () => {
  const row = (over: Partial<ExportRow>): ExportRow => ({
    path: 'a, "b"\nc.eml', index: 0, sha256: 'f'.repeat(64), message_id: '<x@y>', from: '=cmd', from_address: 'a@b', date: null, date_zone_known: null,
    subject: 'Re: "plan", \u202e', verdict: 'suspicious', reasons: ['reply-before-parent'], repairs: [], explanation: 'why, "quoted"',
    signatures: [], arc: { result: 'none', keys: [] },
    findings: [{ code: 'reply-before-parent', severity: 'red-flag', text: 'one, "two"\u0085' }, { code: 'divergent-copies', severity: 'warning', text: 'three\r\nfour' }],
    container: null,
    ...over,
  }) as ExportRow;

  it('writes in pieces the very line it writes whole', () => {
    for (const r of [row({}), row({ container: 'box.mbox' }), row({ path: 'plain.eml', subject: null })]) {
      for (const pieceChars of [1, 10, 64 * 1024]) {
        expect([...jsonlLinePieces(r, r.findings, pieceChars)].join('')).toBe(jsonlLine(r));
        expect([...csvLinePieces(r, r.findings, pieceChars)].join('')).toBe(csvLine(r));
      }
    }
  });

  const demo = verifiedDemoDatabase();
  it('writes every finding of a message, in order, as JSON Lines and CSV', () => {
    const db = new Database(demo.db);
    const { id, path } = db.prepare('SELECT m.id, f.path FROM messages m JOIN source_files f ON f.id = m.file_id ORDER BY m.id LIMIT 1').get() as { id: number; path: string };
    const own = (db.prepare('SELECT count(*) AS n FROM findings WHERE message_id = ?').get(id) as { n: number }).n;
    const added = EXPORT_FINDINGS_HELD + 1500;
    const insert = db.prepare("INSERT INTO findings (message_id, code, severity, text, evidence_json, scope) VALUES (?, 'reply-before-parent', 'warning', ?, '{}', 'dump')");
    db.transaction(() => {
      for (let i = 0; i < added; i++) insert.run(id, `finding "${i}", in order.`);
    })();
    db.close();
    const lines = runCli(['export', '--format', 'jsonl', '--db', demo.db]).stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; findings: Array<{ text: string }> });
    const texts = lines.find((l) => l.path === path)!.findings.map((f) => f.text);
    expect(texts).toHaveLength(own + added);
    expect(texts.slice(own)).toEqual(Array.from({ length: added }, (_, i) => `finding "${i}", in order.`));
    const records = parse(runCli(['export', '--format', 'csv', '--db', demo.db]).stdout, { columns: true }) as Array<Record<string, string>>;
    const cell = records.find((r) => r['path'] === path)!['findings']!.split('\n');
    expect(cell).toHaveLength(own + added);
    expect(cell.at(-1)).toBe(`warning reply-before-parent: finding "${added - 1}", in order.`);
    expect(records).toHaveLength(lines.length);
  });
});
