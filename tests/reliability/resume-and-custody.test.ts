import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, lutimesSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { RunLockedError } from '../../src/store/run-lock.ts';
import { DEMO_DUMP, DEMO_KEYS, ROOT, runCli, tempDir } from '../helpers/cli.ts';
import { exportJsonl } from '../helpers/in-process.ts';
import { startVerify } from '../helpers/verify-child.ts';

const HAS_PYTHON = spawnSync('python3', ['-c', 'import pty'], { stdio: 'ignore' }).status === 0;

/** A dump big enough that a run takes a few seconds: the demo dump, many times over. */
function buildDump(dir: string, copies: number): void {
  for (let i = 0; i < copies; i++) cpSync(DEMO_DUMP, join(dir, `box-${String(i).padStart(3, '0')}`), { recursive: true });
}

/** The same pseudo-random integers every run, so that a failure can be replayed. */
function seededIntegers(seed: number, count: number, min: number, max: number): number[] {
  let x = seed >>> 0;
  return Array.from({ length: count }, () => {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return min + (x % (max - min));
  });
}

/** Files committed so far by a run in progress (WAL lets us read while it writes). */
function committedFiles(db: string): number {
  if (!existsSync(db)) return 0;
  try {
    const store = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return (store.prepare('SELECT count(*) AS n FROM source_files').get() as { n: number }).n;
    } finally {
      store.close();
    }
  } catch {
    return 0; // not created yet
  }
}

const exportOf = exportJsonl;
const manifestOf = (db: string): string => runCli(['manifest', '--db', db]).stdout;
const rowCounts = (db: string): Record<string, number> => {
  const store = new Database(db, { readonly: true });
  try {
    const tables = ['source_files', 'messages', 'signatures', 'arc_results', 'findings', 'verdicts'];
    return Object.fromEntries(tables.map((t) => [t, (store.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n]));
  } finally {
    store.close();
  }
};

describe('reliability: kill and resume, interruption, locking, chain of custody', () => {
  const tmp = tempDir();
  const dump = join(tmp.path, 'dump');
  const cleanDb = join(tmp.path, 'clean.db');
  // For the tests that stop a run as soon as it holds its lock, then compare the re-run with a
  // clean run: a quarter of the dump is still a run of a second or more, long after the lock is
  // taken, and makes each re-run a quarter of the work. (The kill points of the SIGKILL test and
  // the full-disk limit are sized to the whole dump.)
  const quarter = join(tmp.path, 'quarter');
  const quarterCleanDb = join(tmp.path, 'quarter-clean.db');
  // one message, for the tests of what happens before a dump is read: its size does not matter
  const oneMessage = join(tmp.path, 'one-message');
  beforeAll(async () => {
    mkdirSync(oneMessage);
    cpSync(join(DEMO_DUMP, 'inbox/2018-03-12 Weekly status.eml'), join(oneMessage, 'status.eml'));
    buildDump(dump, 12);
    await runVerify({ dumpRoot: dump, dbPath: cleanDb, keyFiles: [DEMO_KEYS], offline: true });
    buildDump(quarter, 3);
    await runVerify({ dumpRoot: quarter, dbPath: quarterCleanDb, keyFiles: [DEMO_KEYS], offline: true });
  }, 120_000);
  afterAll(() => tmp.cleanup());

  it('SIGKILL at several random points, then a re-run: the database equals a clean run', async () => {
    const db = join(tmp.path, 'killed.db');
    let killedMidRun = 0;
    // Kill points are chosen by progress, not by time, so that every kill lands mid-run on any
    // machine: once at least `target` files are committed, the process is killed.
    for (const target of seededIntegers(20261121, 6, 1, 300)) {
      const run = startVerify(dump, db);
      let exited = false;
      void run.done.then(() => (exited = true));
      while (!exited && committedFiles(db) < target) await new Promise((r) => setTimeout(r, 5));
      run.child.kill('SIGKILL');
      const { signal } = await run.done;
      if (signal === 'SIGKILL') killedMidRun++;
    }
    expect(killedMidRun).toBeGreaterThan(0);
    const resumed = startVerify(dump, db);
    const { status, stderr } = await resumed.done;
    expect(status, stderr).toBe(0);
    expect(rowCounts(db)).toEqual(rowCounts(cleanDb));
    expect(exportOf(db)).toBe(exportOf(cleanDb));
    expect(manifestOf(db)).toBe(manifestOf(cleanDb));
    const store = new Database(db, { readonly: true });
    const statuses = (store.prepare('SELECT status FROM runs ORDER BY id').all() as Array<{ status: string }>).map((r) => r.status);
    store.close();
    // Killed runs are recorded as interrupted (a run killed before it had recorded itself leaves
    // no row); none is left "running"; the last one completed.
    expect(statuses.at(-1)).toBe('completed');
    expect(statuses.filter((s) => s === 'running')).toEqual([]);
    const interrupted = statuses.filter((s) => s === 'interrupted').length;
    expect(interrupted).toBeGreaterThan(0);
    expect(interrupted).toBeLessThanOrEqual(killedMidRun);
  }, 120_000);

  // SIGTERM is what timeout, systemd, docker stop and a cancelled CI job send: it stopped the run
  // with no word, left "running" (red team V, V-02).
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s stops cleanly, says how to resume, and the re-run completes', async (signal) => {
    const db = join(tmp.path, `${signal}.db`);
    const run = startVerify(quarter, db);
    // As soon as the run holds its lock, it is under way.
    const deadline = Date.now() + 10_000;
    while (!existsSync(`${db}.lock`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    run.child.kill(signal);
    const { status, stderr } = await run.done;
    expect(status).toBe(130);
    expect(stderr).toMatch(/run the same command again to resume/);
    const store = new Database(db, { readonly: true });
    expect((store.prepare('SELECT status FROM runs ORDER BY id DESC LIMIT 1').get() as { status: string }).status).toBe('interrupted');
    store.close();
    expect((await startVerify(quarter, db).done).status).toBe(0);
    expect(exportOf(db)).toBe(exportOf(quarterCleanDb));
  }, 120_000);

  // A dropped SSH session or a closed terminal window: SIGHUP, and every write to the terminal
  // fails with EIO. The stop's own line to stderr then ended the process with exit code 1, the
  // run left "running" and its lock in place (red team X, X-03). A pseudo-terminal is hung up
  // under the run, as the kernel does it (Python's pty: Node has none).
  it.skipIf(!HAS_PYTHON)(`a terminal hung up under the run stops it as Ctrl-C does${HAS_PYTHON ? '' : ' (skipped: no python3 for a pseudo-terminal)'}`, () => {
    const db = join(tmp.path, 'hangup.db');
    const script = [
      'import os, pty, sys, time, select',
      'db = sys.argv[1]',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      '    os.execv(sys.argv[2], sys.argv[2:])',
      'end = time.time() + 20',
      "while time.time() < end and not os.path.exists(db + '.lock'):",
      '    r, _, _ = select.select([fd], [], [], 0.02)',
      '    if r:',
      '        try: os.read(fd, 65536)',
      '        except OSError: break',
      'os.close(fd)',
      '_, status = os.waitpid(pid, 0)',
      'print(os.waitstatus_to_exitcode(status))',
    ].join('\n');
    const args = [process.execPath, join(ROOT, 'bin/leakcheck.js'), 'verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db];
    const run = spawnSync('python3', ['-c', script, db, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(run.stdout.trim(), run.stderr).toBe('130');
    expect(existsSync(`${db}.lock`)).toBe(false);
    const store = new Database(db, { readonly: true });
    expect((store.prepare('SELECT status FROM runs ORDER BY id DESC LIMIT 1').get() as { status: string }).status).toBe('interrupted');
    store.close();
  }, 120_000);

  // A full disk ended the process as an unhandled rejection: a stack trace, exit code 1 (which
  // means --fail-on), the lock left behind (red team V, V-01).
  it('a database the system stops writing (a full disk) ends the run with exit code 3 and one line; the re-run completes', async () => {
    const db = join(tmp.path, 'full.db');
    const { status, stderr } = await startVerify(dump, db, [], 600).done;
    expect(status, stderr).toBe(3);
    expect(stderr).toMatch(/^leakcheck: .*full\.db: the system could not write it \(SQLITE_IOERR_WRITE\)\. Everything analysed up to the last batch written is kept; .* run the same command again to resume/);
    expect(stderr).not.toMatch(/SqliteError|at .*\.ts:\d+/);
    expect(existsSync(`${db}.lock`)).toBe(false);
    expect(committedFiles(db)).toBeLessThan(committedFiles(cleanDb));
    expect((await startVerify(dump, db).done).status).toBe(0);
    expect(exportOf(db)).toBe(exportOf(cleanDb));
  }, 120_000);

  it('a second verify on the same database is refused while the first runs; the first is unharmed', async () => {
    const db = join(tmp.path, 'busy.db');
    const first = startVerify(quarter, db);
    const deadline = Date.now() + 10_000;
    while (!existsSync(`${db}.lock`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(`${db}.lock`), 'the first run took its lock within 10 s').toBe(true);
    await expect(runVerify({ dumpRoot: quarter, dbPath: db, keyFiles: [DEMO_KEYS], offline: true })).rejects.toThrow(RunLockedError);
    expect((await first.done).status).toBe(0);
    expect(exportOf(db)).toBe(exportOf(quarterCleanDb));
    expect(existsSync(`${db}.lock`)).toBe(false);
  }, 120_000);

  it('the CLI refuses a database locked by a live process with exit code 3 and names it', () => {
    const db = join(tmp.path, 'held.db');
    writeFileSync(`${db}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), since: '2026-11-21T00:00:00Z' }));
    const second = runCli(['verify', oneMessage, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet']);
    expect(second.status).toBe(3);
    expect(second.stderr).toMatch(new RegExp(`another leakcheck verify \\(pid ${process.pid}`));
    rmSync(`${db}.lock`);
  });

  it('a lock left by a dead process does not block the next run', () => {
    const db = join(tmp.path, 'stale.db');
    writeFileSync(`${db}.lock`, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: '2020-01-01' }));
    const run = runCli(['verify', oneMessage, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet']);
    expect(run.status, run.stderr).toBe(0);
  });

  it('re-running on an unchanged dump re-reads nothing; a changed file is re-verified and the change recorded; a removed one too', async () => {
    const small = join(tmp.path, 'small');
    cpSync(DEMO_DUMP, small, { recursive: true });
    const db = join(tmp.path, 'incremental.db');
    // (a whole-second mtime, so that it can be put back exactly)
    const vouched = join(small, 'inbox/2018-03-12 Weekly status.eml');
    const document = join(small, 'scan-0042.pdf');
    for (const file of [vouched, document]) utimesSync(file, 1_500_000_000, 1_500_000_000);
    const first = await runVerify({ dumpRoot: small, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    const firstExport = exportOf(db);
    // Make every file "old", so that none is racily clean and the size/mtime rule decides.
    const store = new Database(db);
    store.prepare("UPDATE source_files SET analyzed_at = '2099-01-01T00:00:00.000Z'").run();
    store.close();
    const again = await runVerify({ dumpRoot: small, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    expect(again.counts.unchanged).toBe(first.counts.containers);
    expect(again.counts.skipped).toBe(first.counts.skipped);
    expect(again.counts.messages).toBe(0);
    // Nothing stored: the passes over the dump would find what the first run's found.
    expect(first.dumpPasses).toBe('ran');
    expect(again.dumpPasses).toBe('kept');
    expect(exportOf(db)).toBe(firstExport);
    // Not even opened: swapped for a PDF of the same size and mtime, the file is still taken for
    // the message analysed before. Sniffed, it would have become a skipped "PDF document". (That
    // is the trust a re-run puts in size and mtime, as documented; a fresh database reads all.)
    // So is a loose document's: neither sniffed nor hashed again.
    const size = statSync(vouched).size;
    writeFileSync(vouched, Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(size - 9, 0x20)]));
    const documentHash = (): unknown => {
      const store = new Database(db, { readonly: true });
      try {
        return store.prepare("SELECT status, reason, sha256 FROM source_files WHERE path = 'scan-0042.pdf'").get();
      } finally {
        store.close();
      }
    };
    const hashed = documentHash();
    writeFileSync(document, Buffer.alloc(statSync(document).size, 0x41));
    for (const file of [vouched, document]) utimesSync(file, 1_500_000_000, 1_500_000_000);
    const unopened = await runVerify({ dumpRoot: small, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    expect(unopened.counts.unchanged).toBe(first.counts.containers);
    expect(unopened.counts.skipped).toBe(first.counts.skipped);
    const kept = new Database(db, { readonly: true });
    expect(kept.prepare("SELECT kind, status, message_count FROM source_files WHERE path = 'inbox/2018-03-12 Weekly status.eml'").get()).toEqual({
      kind: 'eml',
      status: 'ok',
      message_count: 1,
    });
    kept.close();
    expect(documentHash()).toEqual(hashed);
    expect(hashed).toMatchObject({ status: 'skipped', reason: 'not-email', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const changedPath = 'inbox/2017-02-14 Q1 budget.eml';
    appendFileSync(join(small, changedPath), 'Appended after the leak.\r\n');
    rmSync(join(small, 'notes.txt'));
    const third = await runVerify({ dumpRoot: small, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    expect(third.counts.changed).toBe(1);
    expect(third.counts.removed).toBe(1);
    expect(third.dumpPasses).toBe('ran');
    // after a run that did not complete them, they run again even if this one stores nothing
    const stopped = new Database(db);
    stopped.prepare("UPDATE runs SET status = 'interrupted' WHERE id = ?").run(third.runId);
    stopped.close();
    const afterStop = await runVerify({ dumpRoot: small, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    expect(afterStop.counts.messages).toBe(0);
    expect(afterStop.dumpPasses).toBe('ran');
    const check = new Database(db, { readonly: true });
    const changes = check.prepare('SELECT path, change, old_sha256 IS NOT NULL AS hadHash, new_sha256 IS NOT NULL AS hasHash FROM file_changes ORDER BY path').all();
    expect(changes).toEqual([
      { path: changedPath, change: 'changed', hadHash: 1, hasHash: 1 },
      { path: 'notes.txt', change: 'removed', hadHash: 1, hasHash: 0 },
    ]);
    expect(check.prepare("SELECT count(*) AS n FROM source_files WHERE path = 'notes.txt'").get()).toEqual({ n: 0 });
    check.close();
    const row = exportOf(db).trim().split('\n').map((l) => JSON.parse(l) as { path: string; verdict: string }).find((r) => r.path === changedPath)!;
    expect(row.verdict).toBe('suspicious'); // the appended text broke the body hash
  }, 60_000);

  it('--rehash reads every file again: a swap that kept size and mtime is found, recorded and re-verified; a document replaced is recorded without it', async () => {
    const dir = join(tmp.path, 'rehash');
    cpSync(DEMO_DUMP, dir, { recursive: true });
    // a loose document whose name is markup: it reaches the reports as the path of a change
    const hostile = '<img src=x onerror=alert(1)>.txt';
    writeFileSync(join(dir, hostile), 'meeting notes, first draft\n');
    const db = join(tmp.path, 'rehash.db');
    const vouchedPath = 'inbox/2018-09-03 New VPN settings.eml';
    const vouched = join(dir, vouchedPath);
    const document = join(dir, 'scan-0042.pdf');
    for (const file of [vouched, document, join(dir, hostile)]) utimesSync(file, 1_500_000_000, 1_500_000_000);
    const first = await runVerify({ dumpRoot: dir, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    const firstExport = exportOf(db);
    const verdictOf = (path: string): string | undefined =>
      exportOf(db).trim().split('\n').map((l) => JSON.parse(l) as { path: string; verdict: string }).find((r) => r.path === path)?.verdict;
    expect(verdictOf(vouchedPath)).toBe('verified');
    const aged = new Database(db);
    aged.prepare("UPDATE source_files SET analyzed_at = '2099-01-01T00:00:00.000Z'").run();
    aged.close();
    const changes = (): unknown[] => {
      const store = new Database(db, { readonly: true });
      try {
        return store.prepare('SELECT run_id AS runId, path, change, old_size AS oldSize, new_size AS newSize, old_sha256 != new_sha256 AS bytesDiffer FROM file_changes ORDER BY id').all();
      } finally {
        store.close();
      }
    };

    // Nothing changed: every file is read and matches its record; nothing is re-analysed.
    const confirmed = await runVerify({ dumpRoot: dir, dbPath: db, keyFiles: [DEMO_KEYS], offline: true, rehash: true });
    expect(confirmed.counts).toMatchObject({ files: first.counts.files, confirmed: first.counts.files, changed: 0, removed: 0, messages: 0 });
    expect(changes()).toEqual([]);
    expect(exportOf(db)).toBe(firstExport);

    // The message's body edited and the PDF's bytes replaced, sizes and mtimes put back; the
    // notes rewritten at another size.
    const message = readFileSync(vouched);
    // one letter of the body upper-cased
    const body = message.indexOf('\n\n') >= 0 ? message.indexOf('\n\n') : message.indexOf('\r\n\r\n');
    const at = message.findIndex((byte, i) => i > body && byte >= 0x61 && byte <= 0x7a);
    expect(body).toBeGreaterThan(0);
    message[at] = message[at]! - 0x20;
    writeFileSync(vouched, message);
    writeFileSync(document, Buffer.alloc(statSync(document).size, 0x42));
    writeFileSync(join(dir, hostile), 'meeting notes, second draft, edited\n');
    for (const file of [vouched, document, join(dir, hostile)]) utimesSync(file, 1_500_000_000, 1_500_000_000);

    // Without --rehash only what size and mtime show is seen: the document now another size.
    const plain = await runVerify({ dumpRoot: dir, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    expect(plain.counts).toMatchObject({ changed: 1, messages: 0 });
    expect(changes()).toEqual([{ runId: plain.runId, path: hostile, change: 'changed', oldSize: 27, newSize: 36, bytesDiffer: 1 }]);
    expect(exportOf(db)).toBe(firstExport);

    // With it, the CLI finds both swaps, records them and re-verifies the message.
    // (--fail-on changed: a CI job's custody check fails when the evidence changed)
    const cli = runCli(['verify', dir, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet', '--rehash', '--fail-on', 'changed']);
    expect(cli.status, cli.stderr).toBe(1);
    const size = { message: message.length, document: statSync(document).size };
    const rehashRun = plain.runId + 1;
    const byPath = (a: unknown, b: unknown): number => ((a as { path: string }).path < (b as { path: string }).path ? -1 : 1);
    expect(changes().slice(1).sort(byPath)).toEqual([
      { runId: rehashRun, path: 'scan-0042.pdf', change: 'changed', oldSize: size.document, newSize: size.document, bytesDiffer: 1 },
      { runId: rehashRun, path: vouchedPath, change: 'changed', oldSize: size.message, newSize: size.message, bytesDiffer: 1 },
    ].sort(byPath));
    expect(verdictOf(vouchedPath)).toBe('suspicious'); // the body no longer matches its signature
    expect(cli.stdout).toMatch(new RegExp(`run #${rehashRun} re-read every file \\(--rehash\\): ${first.counts.files - 2} matched the sha256 on record, 2 changed, 0 removed`));
    expect(cli.stdout).toContain(`changed  ${vouchedPath}  (run #${rehashRun})  ${size.message} bytes, same size`);

    // So does the message's own record.
    const show = runCli(['show', vouchedPath, '--db', db]);
    expect(show.stdout).toContain(`custody     changed  ${vouchedPath}  (run #${rehashRun})`);
    const shown = JSON.parse(runCli(['show', vouchedPath, '--db', db, '--json']).stdout) as { fileChanges: Array<{ runId: number; change: string }> };
    expect(shown.fileChanges).toEqual([expect.objectContaining({ runId: rehashRun, change: 'changed' })]);
    // The summary and the reports say so, the hostile name made inert.
    const json = JSON.parse(runCli(['report', '--format', 'json', '--db', db]).stdout) as { custody: { changed: number; removed: number; lastRun: unknown; recent: Array<{ path: string }> } };
    expect(json.custody).toMatchObject({ changed: 3, removed: 0, lastRun: { id: rehashRun, changed: 2, removed: 0, confirmed: first.counts.files - 2, rehash: true } });
    expect(json.custody.recent.map((c) => c.path)).toContain(hostile);
    const markdown = runCli(['report', '--format', 'md', '--db', db]).stdout;
    expect(markdown).toContain('## Chain of custody');
    expect(markdown).toContain('**3 file changes and 0 removals**');
    expect(markdown).not.toContain('<img');
    const html = runCli(['report', '--format', 'html', '--db', db]).stdout;
    expect(html).toContain('<section class="block" id="custody"');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;.txt');
    expect(html).not.toContain('<img src=x');

    // All of it, for a spreadsheet: one row per change, oldest first.
    const custody = runCli(['custody', '--db', db, '--format', 'csv']);
    expect(custody.status, custody.stderr).toBe(0);
    const lines = custody.stdout.trim().split('\r\n');
    expect(lines[0]).toBe('run_id,noticed_at,path,change,old_size,old_mtime,old_sha256,new_size,new_mtime,new_sha256,detail');
    const listed = lines.slice(1).map((l) => l.split(',')).map(([run, , path, change]) => `${run} ${path} ${change}`);
    expect(listed[0]).toBe(`${plain.runId} ${hostile} changed`);
    // (within a run, changes are recorded in the order their files finish)
    expect(listed.slice(1).sort()).toEqual([`${rehashRun} ${vouchedPath} changed`, `${rehashRun} scan-0042.pdf changed`].sort());
    expect(runCli(['custody', '--db', db]).stdout).toMatch(new RegExp(`#${rehashRun} .* --rehash: ${first.counts.files - 2} matched their sha256; 2 changed, 0 removed`));

    // The next run finds nothing new: --fail-on changed passes, and --fail-on repeats.
    expect(runCli(['verify', dir, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet', '--rehash', '--fail-on', 'changed']).status).toBe(0);
    expect(runCli(['verify', dir, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet', '--fail-on', 'changed', '--fail-on', 'suspicious']).status).toBe(1);
    expect(runCli(['verify', dir, '--offline', '--db', db, '--quiet', '--fail-on', 'tampered']).status).toBe(2);
  }, 60_000);

  it('a re-run of an unchanged dump records no change, links and empty files among messages included', async () => {
    // Each file's state comes from its own record: a link or an empty file walked right after a
    // message must not be compared with the message's record.
    const dir = join(tmp.path, 'mixed');
    mkdirSync(dir);
    const message = readFileSync(join(DEMO_DUMP, 'inbox/2018-03-12 Weekly status.eml'));
    for (const name of ['a.eml', 'c.eml', 'e.eml']) writeFileSync(join(dir, name), message);
    symlinkSync('a.eml', join(dir, 'b-link.eml'));
    writeFileSync(join(dir, 'd-empty.eml'), '');
    writeFileSync(join(dir, 'f-notes.txt'), 'notes\n');
    const db = join(tmp.path, 'mixed.db');
    const first = await runVerify({ dumpRoot: dir, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    expect(first.counts).toMatchObject({ files: 6, containers: 3, skipped: 3 });
    const aged = new Database(db);
    aged.prepare("UPDATE source_files SET analyzed_at = '2099-01-01T00:00:00.000Z'").run();
    aged.close();
    for (const rehash of [false, true]) {
      const again = await runVerify({ dumpRoot: dir, dbPath: db, keyFiles: [DEMO_KEYS], offline: true, rehash });
      expect(again.counts).toMatchObject({ files: 6, changed: 0, removed: 0, messages: 0 });
    }
    const store = new Database(db, { readonly: true });
    expect(store.prepare('SELECT count(*) AS n FROM file_changes').get()).toEqual({ n: 0 });
    store.close();
  });

  it('a re-run looks again at a path recorded as a symlink, even when a regular file there has its size and mtime', async () => {
    const dir = join(tmp.path, 'swap');
    mkdirSync(dir);
    const message = readFileSync(join(DEMO_DUMP, 'inbox/2018-03-12 Weekly status.eml'));
    // a dangling link whose lstat size (the length of its target) is the message's size: the
    // worst case (a symlink's row records no size, and the state check trusts only what sniffing
    // a regular file concluded, so either would send the file to be read)
    symlinkSync('x'.repeat(message.length), join(dir, 'swapped.eml'));
    lutimesSync(join(dir, 'swapped.eml'), 1_500_000_000, 1_500_000_000);
    const db = join(tmp.path, 'swap.db');
    const first = await runVerify({ dumpRoot: dir, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    expect(first.counts).toMatchObject({ skipped: 1, messages: 0 });
    const store = new Database(db);
    store.prepare("UPDATE source_files SET analyzed_at = '2099-01-01T00:00:00.000Z'").run();
    store.close();
    rmSync(join(dir, 'swapped.eml'));
    writeFileSync(join(dir, 'swapped.eml'), message);
    utimesSync(join(dir, 'swapped.eml'), 1_500_000_000, 1_500_000_000);
    const again = await runVerify({ dumpRoot: dir, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    expect(again.counts).toMatchObject({ skipped: 0, containers: 1, messages: 1 });
  });

  it('a damaged database, or one from a newer leakcheck, is refused and left untouched', async () => {
    const damaged = join(tmp.path, 'damaged.db');
    writeFileSync(damaged, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096, 0xa5)]));
    const before = readFileSync(damaged);
    const result = runCli(['verify', oneMessage, '--offline', '--db', damaged, '--quiet']);
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/damaged|not a leakcheck database/);
    expect(readFileSync(damaged).equals(before)).toBe(true);

    const newer = join(tmp.path, 'newer.db');
    await runVerify({ dumpRoot: oneMessage, dbPath: newer, keyFiles: [], offline: true });
    const store = new Database(newer);
    store.pragma('user_version = 99');
    store.close();
    const refused = runCli(['verify', oneMessage, '--offline', '--db', newer, '--quiet']);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toMatch(/schema version 99, newer than this leakcheck/);
  });

  it('two runs on the same evidence give byte-identical exports and manifests, whatever the time zone and locale', async () => {
    const a = join(tmp.path, 'a.db');
    const b = join(tmp.path, 'b.db');
    expect(runCli(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', a, '--quiet'], { env: { TZ: 'UTC', LANG: 'C' } }).status).toBe(0);
    expect(runCli(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', b, '--quiet'], { env: { TZ: 'Pacific/Chatham', LANG: 'de_DE.UTF-8' } }).status).toBe(0);
    const manifest = manifestOf(a);
    expect(manifest).toBe(manifestOf(b));
    for (const format of ['jsonl', 'csv']) {
      expect(runCli(['export', '--format', format, '--db', a]).stdout).toBe(runCli(['export', '--format', format, '--db', b]).stdout);
    }
    const parsed = JSON.parse(manifest) as { produced_by: { tool_version: string; key_files: Array<{ sha256: string }> }; files: Array<{ path: string; sha256: string | null; messages: Array<{ verdict: string }> }> };
    expect(parsed.produced_by.key_files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    // loose documents are hashed too, to be matched with the attachments of the emails
    expect(parsed.files.find((f) => f.path === 'scan-0042.pdf')!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(parsed.files.find((f) => f.path === 'archive/2017.mbox')!.messages).toHaveLength(4);
  });
});
