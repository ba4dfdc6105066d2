import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPAIR_TEXT } from '../../src/verdict/repairs.ts';
import { ROOT, runCli, verifiedDemoDatabase } from '../helpers/cli.ts';

/**
 * Export fields are a contract with users' scripts (docs/export.md: "fields may be added, never
 * renamed or removed"), and the docs are where those scripts' authors read them. Every field the
 * exports write must be documented under its exact name, and every CSV header is documented
 * column for column. (The documents CSV's last column was once documented as `name_conflicts`,
 * the JSON field's name, while the CSV has always written `name_conflict`.)
 */

const exportDoc = readFileSync(join(ROOT, 'docs/export.md'), 'utf8');
const documentsDoc = readFileSync(join(ROOT, 'docs/documents.md'), 'utf8');

const backticked = (doc: string, name: string): boolean => doc.includes(`\`${name}\``);

/** The comma-separated names a doc gives in backticks after `label` (the first such list). */
function documentedColumns(doc: string, label: string): string[] {
  const after = doc.slice(doc.indexOf(label) + label.length);
  const list = /`([a-z_0-9]+(?:,\s+[a-z_0-9]+)+)`/.exec(after)?.[1] ?? '';
  return list.split(/,\s+/);
}

const headerOf = (csv: string): string[] => csv.split('\r\n')[0]!.split(',');

describe('export fields are documented', () => {
  const { db } = verifiedDemoDatabase();

  it('docs/export.md names every field of the JSON Lines export, and of its signatures, findings and arc', () => {
    const out = runCli(['export', '--format', 'jsonl', '--db', db]);
    expect(out.status, out.stderr).toBe(0);
    const rows = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { signatures: object[]; findings: object[]; arc: object });
    expect(rows.length).toBe(30);
    const fields = new Set<string>();
    for (const row of rows) {
      for (const key of Object.keys(row)) fields.add(key);
      for (const nested of [...row.signatures, ...row.findings, row.arc]) for (const key of Object.keys(nested)) fields.add(key);
    }
    expect(fields.size).toBeGreaterThan(25);
    expect([...fields].filter((f) => !backticked(exportDoc, f))).toEqual([]);
  });

  // Red team K, K-13: `gateway-subject-tag` was exported and documented in docs/verdicts.md, but
  // missing from this list.
  it('docs/export.md names every repair the exports can give', () => {
    const row = exportDoc.split('\n').find((line) => line.startsWith('| `repairs` |')) ?? '';
    expect(Object.keys(REPAIR_TEXT).filter((repair) => !backticked(row, repair))).toEqual([]);
  });

  it('docs/export.md gives the CSV columns in the order the export writes them', () => {
    const out = runCli(['export', '--format', 'csv', '--db', db]);
    expect(headerOf(out.stdout)).toEqual(documentedColumns(exportDoc, 'Columns:'));
  });

  it('docs/export.md gives the custody CSV columns in order', () => {
    const out = runCli(['custody', '--format', 'csv', '--db', db]);
    expect(out.status, out.stderr).toBe(0);
    expect(headerOf(out.stdout)).toEqual(documentedColumns(exportDoc, 'with the fields'));
  });

  it('docs/documents.md names every JSON Lines field and gives the CSV columns in order', () => {
    const jsonl = runCli(['documents', '--format', 'jsonl', '--db', db]);
    const fields = new Set(jsonl.stdout.trim().split('\n').flatMap((l) => Object.keys(JSON.parse(l) as object)));
    expect(fields.size).toBe(9);
    expect([...fields].filter((f) => !backticked(documentsDoc, f))).toEqual([]);
    const csv = runCli(['documents', '--format', 'csv', '--db', db]);
    expect(headerOf(csv.stdout)).toEqual(documentedColumns(documentsDoc, 'CSV columns:'));
  });
});
