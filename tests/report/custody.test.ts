import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CUSTODY_CSV_COLUMNS, custodyCsvHeader, custodyCsvLine, custodyJsonl, renderCustodyText } from '../../src/report/custody.ts';
import { documentCsvHeader, documentCsvLine } from '../../src/report/documents.ts';
import type { DocumentRecord } from '../../src/store/documents-pass.ts';
import type { CustodyChange, RunRecordSummary } from '../../src/store/queries.ts';

const sha = (c: string): string => c.repeat(64);
/** A path as hostile as a dump can make one: a formula, a comma, a quote, a line break and a terminal escape. */
const hostile = '=HYPERLINK("http://x","y"),\r\n\u001b[2Jevil.txt';
const changes: CustodyChange[] = [
  { runId: 2, path: hostile, change: 'changed', old: { size: 10, mtimeMs: 1_500_000_000_000, sha256: sha('a') }, new: { size: 12, mtimeMs: 1_500_000_001_500, sha256: sha('b') }, detail: null, noticedAt: '2026-12-04T10:00:00.000Z' },
  { runId: 3, path: 'gone.pdf', change: 'removed', old: { size: 5, mtimeMs: null, sha256: sha('c') }, new: null, detail: null, noticedAt: '2026-12-04T11:00:00.000Z' },
  { runId: 3, path: 'late.eml', change: 'added', old: null, new: { size: 7, mtimeMs: 1_500_000_000_000, sha256: sha('d') }, detail: null, noticedAt: '2026-12-04T11:00:01.000Z' },
  {
    runId: 3, path: 'locked.eml', change: 'unconfirmed', old: { size: 9, mtimeMs: 1_500_000_000_000, sha256: sha('e') },
    new: { size: 9, mtimeMs: 1_500_000_000_000, sha256: null }, detail: 'EACCES: permission denied', noticedAt: '2026-12-04T11:00:02.000Z',
  },
];
const runs: RunRecordSummary[] = [
  { id: 1, startedAt: '2026-12-04T09:00:00.000Z', finishedAt: '2026-12-04T09:01:00.000Z', status: 'completed', toolVersion: '0.1.0', commandLine: 'leakcheck verify d', options: {}, counts: { files: 3, messages: 1 } },
  { id: 3, startedAt: '2026-12-04T11:00:00.000Z', finishedAt: null, status: 'interrupted', toolVersion: '0.1.0', commandLine: 'leakcheck verify d --rehash', options: { rehash: true }, counts: { files: 2, messages: 0, confirmed: 1, changed: 0, removed: 1, added: 1, unconfirmed: 1 } },
];

describe('leakcheck custody', () => {
  it('writes one CSV row per change that a spreadsheet reads back exactly, the formula made inert', () => {
    const csv = custodyCsvHeader() + changes.map(custodyCsvLine).join('');
    const rows = parse(csv, { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!)).toEqual([...CUSTODY_CSV_COLUMNS]);
    expect(rows).toEqual([
      {
        run_id: '2', noticed_at: '2026-12-04T10:00:00.000Z', path: `'${hostile}`, change: 'changed',
        old_size: '10', old_mtime: '2017-07-14T02:40:00.000Z', old_sha256: sha('a'),
        new_size: '12', new_mtime: '2017-07-14T02:40:01.500Z', new_sha256: sha('b'), detail: '',
      },
      { run_id: '3', noticed_at: '2026-12-04T11:00:00.000Z', path: 'gone.pdf', change: 'removed', old_size: '5', old_mtime: '', old_sha256: sha('c'), new_size: '', new_mtime: '', new_sha256: '', detail: '' },
      {
        run_id: '3', noticed_at: '2026-12-04T11:00:01.000Z', path: 'late.eml', change: 'added',
        old_size: '', old_mtime: '', old_sha256: '', new_size: '7', new_mtime: '2017-07-14T02:40:00.000Z', new_sha256: sha('d'), detail: '',
      },
      {
        run_id: '3', noticed_at: '2026-12-04T11:00:02.000Z', path: 'locked.eml', change: 'unconfirmed',
        old_size: '9', old_mtime: '2017-07-14T02:40:00.000Z', old_sha256: sha('e'), new_size: '9', new_mtime: '2017-07-14T02:40:00.000Z', new_sha256: '',
        detail: 'EACCES: permission denied',
      },
    ]);
  });

  it('keeps a path with a bare line feed one cell, in the custody and the documents CSVs, the formula after it no cell of its own (red team Z, Z-09)', () => {
    const path = 'note\n=2+5';
    // (csv-parse, told the records end in CRLF, reads a bare line feed as part of a cell; Python's
    // csv module and spreadsheets end the record there unless the cell is quoted)
    const custodyLine = custodyCsvLine({ ...changes[2]!, path });
    expect(custodyLine).toContain(`,"${path}",added,`);
    const custody = parse(custodyCsvHeader() + custodyLine, { columns: true }) as Array<Record<string, string>>;
    expect(custody).toHaveLength(1);
    expect(custody[0]).toMatchObject({ path, change: 'added', new_size: '7' });
    const document: DocumentRecord = { path, sha256: sha('f'), size: 3, status: 'no-email-match', matches: [], nameConflicts: [], nameConflictsTotal: 0 };
    expect(documentCsvLine(document).startsWith(`"${path}",`)).toBe(true);
    const documents = parse(documentCsvHeader() + documentCsvLine(document), { columns: true }) as Array<Record<string, string>>;
    expect(documents).toEqual([{ path, sha256: sha('f'), size: '3', status: 'no-email-match', matching_messages: '', name_conflict: '', as_email: '' }]);
  });

  it('writes the same fields as JSON Lines, the path as it is', () => {
    const lines = changes.map(custodyJsonl);
    expect(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(parsed[0]!)).toEqual([...CUSTODY_CSV_COLUMNS]);
    expect(parsed[0]).toMatchObject({ path: hostile, old_size: 10, new_size: 12 });
    expect(parsed[1]).toMatchObject({ change: 'removed', new_size: null, new_sha256: null, old_mtime: null });
    expect(parsed[2]).toMatchObject({ change: 'added', old_size: null, old_sha256: null, old_mtime: null, new_size: 7, detail: null });
    expect(parsed[3]).toMatchObject({ change: 'unconfirmed', old_sha256: sha('e'), new_size: 9, new_sha256: null, detail: 'EACCES: permission denied' });
  });

  it('lists the runs and the changes for a terminal, with no control character of the path let through', () => {
    const text = renderCustodyText(runs, changes);
    expect(text).toContain('#1  2026-12-04T09:00:00.000Z  completed');
    expect(text).toContain('3 files, 1 message analysed');
    expect(text).toContain('--rehash: 1 matched their sha256; 0 changed, 1 removed, 1 added, 1 unconfirmed');
    expect(text).toContain('Changes to the dump (4), oldest first');
    expect(text).toMatch(/changed .*\(run #2\)  10 → 12 bytes, sha256 aaaaaaaaaaaa… → bbbbbbbbbbbb…/);
    expect(text).toContain('removed  gone.pdf  (run #3)  was 5 bytes');
    expect(text).toContain('added    late.eml  (run #3)  7 bytes, sha256 dddddddddddd…, not in the dump when a walk of it completed');
    expect(text).toContain(
      'unconfirmed locked.eml  (run #3)  9 bytes, same size and mtime, could not be read (EACCES: permission denied): sha256 eeeeeeeeeeee… not confirmed, its analysis kept',
    );
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(renderCustodyText(runs, [])).toContain('No file of the dump was found changed, removed or added, or could not be read again, by any run.');
  });
});
