import { createHash } from 'node:crypto';
import { cpSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
import { verifyOffline } from '../helpers/in-process.ts';

/*
 * Evidence is read-only for every file leakcheck writes, not only its database: a report, an
 * export or a key hand-over aimed into the dump (by its path, or through a symlink that points
 * there) is refused, and nothing is created in the dump.
 */
describe('--out never writes into a dump the database read', () => {
  const tmp = tempDir();
  const dump = join(tmp.path, 'dump');
  const db = join(tmp.path, 'x.db');
  const listing = (): string[] => (readdirSync(dump, { recursive: true }) as string[]).sort();
  let before: string[];
  beforeAll(async () => {
    cpSync(DEMO_DUMP, dump, { recursive: true });
    await verifyOffline(dump, db, [DEMO_KEYS]);
    symlinkSync(join(dump, 'inbox'), join(tmp.path, 'looks-outside'));
    mkdirSync(join(tmp.path, 'reports'));
    before = listing();
  });
  afterAll(() => tmp.cleanup());

  it.each([
    ['report', ['report', '--format', 'html', '--out', 'DUMP/report.html']],
    ['export', ['export', '--format', 'csv', '--out', 'DUMP/inbox/verdicts.csv']],
    ['documents', ['documents', '--out', 'DUMP/documents.txt']],
    ['custody', ['custody', '--out', 'DUMP/custody.txt']],
    ['manifest through a symlink', ['manifest', '--out', 'LINK/manifest.json']],
    ['keys export', ['keys', 'export', '--out', join(tmp.path, 'reports/keys.json'), '--archive-out', 'DUMP/archive.json']],
  ])('%s is refused, and the dump is as it was', (_, args) => {
    const r = runCli([...args.map((a) => a.replace('DUMP', dump).replace('LINK', join(tmp.path, 'looks-outside'))), '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/refusing to write .* inside the dump .*: evidence is read-only/);
    expect(listing()).toEqual(before);
    expect(existsSync(join(tmp.path, 'reports/keys.json'))).toBe(false);
  });

  it.each([
    ['report', ['report', '--format', 'md']],
    ['export', ['export', '--format', 'jsonl']],
    ['keys export', ['keys', 'export']],
  ])('%s over a hard link to a file of the dump is refused, and the file is as it was', (_, args) => {
    const evidence = join(dump, 'inbox/2017-02-14 Q1 budget.eml');
    const link = join(tmp.path, `reports/${args[0]}-hard-link.out`);
    if (!existsSync(link)) linkSync(evidence, link);
    const sha = (): string => createHash('sha256').update(readFileSync(evidence)).digest('hex');
    const was = sha();
    const r = runCli([...args, '--out', link, '--db', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/refusing to write .*: it is a file with \d+ names \(hard links\) on the file system of the dump/);
    expect(sha()).toBe(was);
    expect(listing()).toEqual(before);
  });

  it('a file outside the dump is written', () => {
    const out = join(tmp.path, 'reports/report.html');
    const r = runCli(['report', '--format', 'html', '--out', out, '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });
});
