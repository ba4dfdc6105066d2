import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, cpSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_DUMP, DEMO_KEYS, ROOT, runCli, tempDir } from '../helpers/cli.ts';
import { canRunAsNobody, NOBODY, runCliMeasured } from '../hostile/support.ts';

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

/** A count from the database of a run in progress, as far as it has committed (WAL lets it be read); 0 while it cannot be. */
function countInRunningDb(db: string, sql: string): number {
  try {
    const store = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return store.prepare(sql).pluck().get() as number;
    } finally {
      store.close();
    }
  } catch {
    return 0; // not created yet, or busy
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
    expect(csv[0]).toBe('run_id,noticed_at,path,change,old_size,old_mtime,old_sha256,new_size,new_mtime,new_sha256,detail');
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

  it('a sub-folder verified on its own in between is no baseline: the whole dump walked again records no file of it as added (red team 8, 01)', async () => {
    const dump = join(tmp.path, 'sub-folder');
    cpSync(DEMO_DUMP, dump, { recursive: true });
    const db = join(tmp.path, 'sub-folder.db');
    await verify(dump, db);
    await verify(join(dump, 'inbox'), db); // its records replace the whole dump's
    const whole = await verify(dump, db);
    expect(whole.counts.added).toBe(0);
    expect(changesIn(db).filter((r) => r.change === 'added')).toEqual([]);
  }, 60_000);

  it('verify warns when the database last walked another folder, naming it, and not for the same folder by another name', () => {
    const one = join(tmp.path, 'warn-one');
    const two = join(tmp.path, 'warn-two');
    cpSync(join(DEMO_DUMP, 'inbox'), one, { recursive: true });
    cpSync(join(DEMO_DUMP, 'sent'), two, { recursive: true });
    symlinkSync(one, join(tmp.path, 'warn-link'));
    const db = join(tmp.path, 'warn.db');
    const run = (dump: string) => runCli(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet']);
    expect(run(one).stderr).not.toMatch(/warning/);
    expect(run(join(tmp.path, 'warn-link')).stderr).not.toMatch(/warning/);
    const other = run(two);
    expect(other.status).toBe(0);
    // (the last walk was through the link: its name is the one on record)
    expect(other.stderr).toContain(`leakcheck: warning: ${db} last completed a walk of another folder, ${join(tmp.path, 'warn-link')}.`);
    expect(other.stderr).toMatch(/for another dump, or a part of this one, use another --db/);
    expect(run(two).stderr).not.toMatch(/warning/);
  }, 60_000);

  it('the same folder by another name (a symlink) is the same baseline (red team 8, 02)', async () => {
    const real = join(tmp.path, 'real');
    cpSync(join(DEMO_DUMP, 'inbox'), real, { recursive: true });
    symlinkSync(real, join(tmp.path, 'case-42'));
    const db = join(tmp.path, 'symlinked.db');
    await verify(join(tmp.path, 'case-42'), db);
    cpSync(join(real, '2018-03-12 Weekly status.eml'), join(real, 'planted.eml'));
    expect((await verify(real, db)).counts.added).toBe(1);
    expect(changesIn(db).map((r) => [r.path, r.change])).toEqual([['planted.eml', 'added']]);
  }, 60_000);

  it.skipIf(!canRunAsNobody())('files below a directory the last walk could not list are not additions once it can be (red team 8, 03)', () => {
    const base = join(tmp.path, 'locked-base');
    mkdirSync(base);
    chmodSync(tmp.path, 0o755);
    chmodSync(base, 0o777);
    const dump = join(base, 'dump');
    cpSync(join(DEMO_DUMP, 'inbox'), join(dump, 'inbox'), { recursive: true });
    cpSync(join(DEMO_DUMP, 'sent'), join(dump, 'sent'), { recursive: true });
    chmodSync(join(dump, 'sent'), 0o000);
    const db = join(base, 'locked.db');
    const args = ['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet'];
    expect(runCliMeasured(args, { asUser: NOBODY }).status).toBe(0);
    chmodSync(join(dump, 'sent'), 0o755);
    const again = runCliMeasured([...args, '--fail-on', 'added'], { asUser: NOBODY });
    expect(again.status).toBe(0);
    // the directory's error record goes, as no file of the dump (red team 28, G-03: it was
    // recorded as removed); its files are recorded, not as additions
    expect(changesIn(db).map((r) => [r.path, r.change])).toEqual([]);
  }, 60_000);

  it('a change or an addition found by an interrupted run fails the run that resumes it (--fail-on), as it fails an uninterrupted one (red team 8, 04)', async () => {
    const dump = join(tmp.path, 'resumed-after');
    cpSync(DEMO_DUMP, dump, { recursive: true });
    const db = join(tmp.path, 'resumed-after.db');
    await verify(dump, db);
    // both first in the walk's order, so that the interrupted run reaches them
    const changed = join(dump, '2016-06-01 Offsite logistics.eml');
    appendFileSync(changed, 'Appended after the leak.\r\n');
    cpSync(join(DEMO_DUMP, 'inbox/2018-03-12 Weekly status.eml'), join(dump, '0-planted.eml'));
    const stop = new AbortController();
    const reached = new Set<string>();
    const interrupted = await runVerify({
      dumpRoot: dump,
      dbPath: db,
      keyFiles: [DEMO_KEYS],
      offline: true,
      signal: stop.signal,
      onProgress: ({ currentPath }) => {
        reached.add(currentPath);
        if (reached.has('0-planted.eml') && reached.has('2016-06-01 Offsite logistics.eml')) stop.abort();
      },
    });
    expect(interrupted.interrupted).toBe(true);
    expect(interrupted.counts).toMatchObject({ added: 1, changed: 1 });
    const args = ['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet', '--json'];
    const resumed = runCli([...args, '--fail-on', 'added']);
    expect(resumed.status).toBe(1);
    const custody = (JSON.parse(resumed.stdout) as { custody: { lastRun: Record<string, unknown> } }).custody.lastRun;
    // the resuming run found nothing itself; the walk it finished did
    expect(custody).toMatchObject({ added: 0, changed: 0, walk: { fromRun: interrupted.runId, added: 1, changed: 1, removed: 0 } });
    // the next run, a walk of its own, finds nothing
    expect(runCli([...args, '--fail-on', 'added', '--fail-on', 'changed']).status).toBe(0);
  }, 60_000);

  it('mboxes whose reading is killed: one added, one grown, one changed under the same size and mtime; every change is on record and fails the run that resumes (red team 8, 08; red team 9, 02)', async () => {
    const dump = join(tmp.path, 'killed');
    mkdirSync(dump);
    const mbox = readFileSync(join(DEMO_DUMP, 'archive/2017.mbox'));
    // 1,000 messages each: the first batch is committed at 2,000 messages, well before the end
    const box = Buffer.concat(Array.from({ length: 250 }, () => mbox));
    for (const name of ['grown.mbox', 'same-size.mbox']) writeFileSync(join(dump, name), box);
    const sameSize = join(dump, 'same-size.mbox');
    utimesSync(sameSize, 1_500_000_000, 1_500_000_000);
    const db = join(tmp.path, 'killed.db');
    await verify(dump, db);
    const before = sha256(sameSize);
    appendFileSync(join(dump, 'grown.mbox'), mbox);
    writeFileSync(join(dump, '0-planted.mbox'), box);
    // one byte of the last message's body, the size and the mtime kept
    const bytes = readFileSync(sameSize);
    bytes[bytes.lastIndexOf('the ')] = 'T'.charCodeAt(0);
    writeFileSync(sameSize, bytes);
    utimesSync(sameSize, 1_500_000_000, 1_500_000_000);
    // a new list of compromised keys: every file is read again, whatever its size and mtime
    const compromised = join(tmp.path, 'compromised.txt');
    writeFileSync(compromised, `${'0'.repeat(64)}\n`);
    const args = ['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet', '--compromised', compromised];
    // one worker: the messages after the first commit take a second or more
    const child = spawn(process.execPath, [join(ROOT, 'bin/leakcheck.js'), ...args, '--jobs', '1'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const committed = (): number => countInRunningDb(db, "SELECT count(*) FROM messages m JOIN source_files f ON f.id = m.file_id WHERE f.status = 'in-progress'");
    const deadline = Date.now() + 30_000;
    while (committed() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await exited;
    expect(countInRunningDb(db, "SELECT count(*) FROM source_files WHERE status = 'in-progress'")).toBe(3);
    // what the killed run left: the addition and the growth, their sha256 not yet known; the
    // same-size change nothing could tell yet
    expect(changesIn(db).map((r) => [r.path, r.change, r.new_sha256])).toEqual([
      ['0-planted.mbox', 'added', null],
      ['grown.mbox', 'changed', null],
    ]);
    const resumed = runCli([...args, '--json', '--fail-on', 'added', '--fail-on', 'changed']);
    expect(resumed.status).toBe(1);
    expect((JSON.parse(resumed.stdout) as { custody: { lastRun: { walk: object } } }).custody.lastRun.walk).toMatchObject({ added: 1, changed: 2 });
    // the resumed run completes what the killed one began
    expect(changesIn(db).map((r) => [r.path, r.change, r.old_sha256, r.new_sha256])).toEqual([
      ['0-planted.mbox', 'added', null, sha256(join(dump, '0-planted.mbox'))],
      ['grown.mbox', 'changed', expect.stringMatching(/^[0-9a-f]{64}$/), sha256(join(dump, 'grown.mbox'))],
      ['same-size.mbox', 'changed', before, sha256(sameSize)],
    ]);
  }, 90_000);

  it('an mbox changed, read to the end: its change has its new sha256', async () => {
    const dump = join(tmp.path, 'mbox-changed');
    mkdirSync(dump);
    cpSync(join(DEMO_DUMP, 'archive/2017.mbox'), join(dump, 'box.mbox'));
    const db = join(tmp.path, 'mbox-changed.db');
    await verify(dump, db);
    appendFileSync(join(dump, 'box.mbox'), readFileSync(join(DEMO_DUMP, 'archive/2017.mbox')));
    cpSync(join(DEMO_DUMP, 'archive/2017.mbox'), join(dump, 'new.mbox'));
    expect((await verify(dump, db)).counts).toMatchObject({ added: 1, changed: 1 });
    expect(changesIn(db).map((r) => [r.path, r.change, r.new_size, r.new_sha256]).sort()).toEqual([
      ['box.mbox', 'changed', statSync(join(dump, 'box.mbox')).size, sha256(join(dump, 'box.mbox'))],
      ['new.mbox', 'added', statSync(join(dump, 'new.mbox')).size, sha256(join(dump, 'new.mbox'))],
    ]);
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
