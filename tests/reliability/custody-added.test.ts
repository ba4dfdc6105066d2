import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

interface ChangeRow {
  run_id: number;
  path: string;
  change: string;
  old_size: number | null;
  old_sha256: string | null;
  new_size: number | null;
  new_sha256: string | null;
}

function changesIn(db: string): ChangeRow[] {
  const store = new Database(db, { readonly: true });
  try {
    return store.prepare('SELECT run_id, path, change, old_size, old_sha256, new_size, new_sha256 FROM file_changes ORDER BY id').all() as ChangeRow[];
  } finally {
    store.close();
  }
}

const verify = (dumpRoot: string, dbPath: string, signal?: AbortSignal) => runVerify({ dumpRoot, dbPath, keyFiles: [DEMO_KEYS], offline: true, signal });

describe('chain of custody: files that join the dump after a completed walk are recorded as added', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir();
  });
  afterAll(() => tmp.cleanup());

  it('a message file, a zip of messages and a document added after a completed run are each recorded once, with their sha256; nothing found inside them is', async () => {
    const dump = join(tmp.path, 'grown');
    cpSync(DEMO_DUMP, dump, { recursive: true });
    // held back from the first run, added before the second
    const later = join(tmp.path, 'later');
    mkdirSync(later);
    for (const [from, to] of [
      ['inbox/2018-10-03 Fwd- Invoice.eml', 'a forwarded invoice.eml'],
      ['exports/mailbox-export.zip', 'export.zip'],
      ['downloads/contract-draft-v3.pdf', 'contract.pdf'],
    ] as const) {
      renameSync(join(dump, from), join(later, to));
    }
    const db = join(tmp.path, 'grown.db');
    const first = await verify(dump, db);
    expect(first.counts.added).toBe(0); // a first walk finds the evidence; nothing is "added" to it
    expect(changesIn(db)).toEqual([]);

    const unchanged = await verify(dump, db);
    expect(unchanged.counts.added).toBe(0);

    const placed = { 'new/a forwarded invoice.eml': 'a forwarded invoice.eml', 'new/export.zip': 'export.zip', 'new/contract.pdf': 'contract.pdf' };
    mkdirSync(join(dump, 'new'));
    for (const [path, name] of Object.entries(placed)) renameSync(join(later, name), join(dump, path));
    const grown = await verify(dump, db);
    expect(grown.counts).toMatchObject({ added: 3, changed: 0, removed: 0 });
    const rows = changesIn(db);
    expect(rows.map((r) => r.path).sort()).toEqual(Object.keys(placed).sort());
    for (const row of rows) {
      expect(row).toMatchObject({ run_id: grown.runId, change: 'added', old_size: null, old_sha256: null, new_sha256: sha256(join(dump, row.path)) });
    }
    // The forwarded message and the zip's entries have rows of their own, and no custody entry.
    const store = new Database(db, { readonly: true });
    const derived = store.prepare("SELECT count(*) AS n FROM source_files WHERE parent_file_id IS NOT NULL AND (path LIKE 'new/export.zip!%' OR path LIKE 'new/a forwarded invoice.eml#%')").get() as { n: number };
    store.close();
    expect(derived.n).toBeGreaterThan(1);

    // The summaries say so, and a removal then a return is two entries.
    const report = runCli(['report', '--db', db]);
    expect(report.status).toBe(0);
    expect(report.stdout).toMatch(/0 file change\(s\), 0 removal\(s\) and 3 addition\(s\) recorded across runs/);
    expect(report.stdout).toMatch(/added +new\/contract\.pdf .*not in the dump when a walk of it completed/);
    const pdfHash = sha256(join(dump, 'new/contract.pdf'));
    const md = runCli(['report', '--db', db, '--format', 'md']).stdout;
    expect(md).toContain('**0 file changes, 0 removals and 3 additions** recorded across runs');
    expect(md).toContain(`| added | new/contract.pdf | ${statSync(join(dump, 'new/contract.pdf')).size} | \`${pdfHash.slice(0, 16)}\` |`);
    const html = runCli(['report', '--db', db, '--format', 'html']).stdout;
    expect(html).toContain('<h3>0 file changes, 0 removals and 3 additions recorded across runs.</h3>');
    expect(html).toMatch(new RegExp(`<td>added</td><td class="path">new/contract\\.pdf</td><td class="size">[0-9,]+</td><td><code>${pdfHash}</code></td>`));
    const json = JSON.parse(runCli(['report', '--db', db, '--format', 'json']).stdout) as { custody: { added: number; lastRun: { added: number } } };
    expect(json.custody).toMatchObject({ added: 3, lastRun: { added: 3 } });
    const csv = runCli(['custody', '--db', db, '--format', 'csv']).stdout.trim().split('\r\n');
    expect(csv[0]).toBe('run_id,noticed_at,path,change,old_size,old_mtime,old_sha256,new_size,new_mtime,new_sha256');
    const pdf = csv.find((line) => line.includes('new/contract.pdf'))!.split(',');
    expect(pdf.slice(3, 7)).toEqual(['added', '', '', '']);
    expect(pdf[9]).toBe(sha256(join(dump, 'new/contract.pdf')));

    renameSync(join(dump, 'new/contract.pdf'), join(later, 'contract.pdf'));
    expect((await verify(dump, db)).counts).toMatchObject({ removed: 1, added: 0 });
    renameSync(join(later, 'contract.pdf'), join(dump, 'new/contract.pdf'));
    expect((await verify(dump, db)).counts).toMatchObject({ removed: 0, added: 1 });
    expect(changesIn(db).filter((r) => r.path === 'new/contract.pdf').map((r) => r.change)).toEqual(['added', 'removed', 'added']);
  }, 60_000);

  it('before any walk of the dump completed, a file reached by a resumed run was there all along: nothing is recorded as added', async () => {
    const db = join(tmp.path, 'resumed.db');
    const stop = new AbortController();
    let seen = 0;
    const interrupted = await runVerify({
      dumpRoot: DEMO_DUMP,
      dbPath: db,
      keyFiles: [DEMO_KEYS],
      offline: true,
      signal: stop.signal,
      onProgress: () => {
        if (++seen === 3) stop.abort();
      },
    });
    expect(interrupted.interrupted).toBe(true);
    const resumed = await verify(DEMO_DUMP, db);
    expect(resumed.interrupted).toBe(false);
    expect(resumed.counts.containers).toBeGreaterThan(resumed.counts.unchanged); // it did read files the first run had not reached
    expect(resumed.counts.added).toBe(0);
    expect(changesIn(db)).toEqual([]);
  }, 60_000);

  it('a completed walk of another folder is no baseline: its files are removed, this folder\'s are not "added"', async () => {
    const db = join(tmp.path, 'two-roots.db');
    const other = join(tmp.path, 'other');
    mkdirSync(other);
    cpSync(join(DEMO_DUMP, 'inbox'), join(other, 'elsewhere'), { recursive: true });
    await verify(other, db);
    const second = await verify(DEMO_DUMP, db);
    expect(second.counts.added).toBe(0);
    expect(second.counts.removed).toBeGreaterThan(0);
    expect(new Set(changesIn(db).map((r) => r.change))).toEqual(new Set(['removed']));
  }, 60_000);

  it('verify --fail-on added fails a run that found files added; --fail-on changed does not', async () => {
    const dump = join(tmp.path, 'ci');
    cpSync(join(DEMO_DUMP, 'inbox'), dump, { recursive: true });
    const held = join(tmp.path, 'held.eml');
    renameSync(join(dump, '2018-03-12 Weekly status.eml'), held);
    const db = join(tmp.path, 'ci.db');
    const args = ['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet'];
    expect(runCli([...args, '--fail-on', 'added']).status).toBe(0);
    renameSync(held, join(dump, 'weekly.eml'));
    const changed = runCli([...args, '--fail-on', 'changed', '--json']);
    expect(changed.status).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({ custody: { lastRun: { added: 1, changed: 0, removed: 0 } } });
    rmSync(join(dump, 'weekly.eml'));
    cpSync(join(DEMO_DUMP, 'inbox/2018-03-12 Weekly status.eml'), join(dump, 'weekly again.eml'));
    const added = runCli([...args, '--fail-on', 'added']);
    expect(added.status).toBe(1);
    expect(runCli(['verify', dump, '--fail-on', 'nothing', '--db', db]).stderr).toMatch(/Allowed choices are suspicious, unverifiable, changed, added/);
  }, 60_000);
});
