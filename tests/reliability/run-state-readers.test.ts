import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runCli, verifiedDemoDatabase } from '../helpers/cli.ts';

// The readers on a database whose last verify is recorded `running`: killed (SIGKILL, the OOM
// killer, a reboot: no lock, or a lock naming a dead pid), or under way (a lock naming a live
// pid). They printed "run #1 running", exited 0 and said nothing, and a verify killed during the
// passes across the dump left messages those passes make suspicious exported as unverifiable
// (red team V, V-03, V-04).

const demo = verifiedDemoDatabase();
const MESSAGE = 'inbox/2017-02-14 Q1 budget.eml';

/** A copy of the verified database whose last run is recorded `status`, with `lock` beside it (or none). */
function runningCopy(name: string, lock: { pid: number } | null, status = 'running'): string {
  const db = join(demo.dir, `${name}.db`);
  const verified = new Database(demo.db, { readonly: true });
  verified.prepare('VACUUM INTO ?').run(db);
  verified.close();
  const store = new Database(db);
  store.prepare('UPDATE runs SET status = ?, finished_at = NULL').run(status);
  store.close();
  if (lock) writeFileSync(`${db}.lock`, JSON.stringify({ pid: lock.pid, host: hostname(), since: '2026-12-06T00:00:00Z' }));
  return db;
}

const recordedStatus = (db: string): string => {
  const store = new Database(db, { readonly: true });
  try {
    return store.prepare('SELECT status FROM runs ORDER BY id DESC LIMIT 1').pluck().get() as string;
  } finally {
    store.close();
  }
};

/** The exit status and output of a reader, which must exit 0. */
function read(args: string[], db: string): { stdout: string; stderr: string } {
  const result = runCli([...args, '--db', db]);
  expect(result.status, result.stderr).toBe(0);
  return result;
}

const CUT_SHORT = 'run #1 did not finish (its process is gone)';
const CUT_SHORT_WARNING = /^leakcheck: warning: run #1 did not finish \(its process is gone\): .*verdicts from the passes across the dump may be missing; run verify again\n$/;
const lastRunState = (manifest: string): unknown => (JSON.parse(manifest) as { last_run_state: unknown }).last_run_state;

describe('readers of a database whose last verify did not finish, or is under way (red team V, V-03, V-04)', () => {
  it('a finished run: nothing new is said, and the manifest records it completed', () => {
    const report = read(['report'], demo.db);
    expect(report.stdout).toContain('run #1 completed');
    expect(report.stdout).not.toMatch(/did not finish|is writing this database/);
    expect(report.stderr).toBe('');
    expect(read(['export', '--format', 'csv'], demo.db).stderr).toBe('');
    const manifest = read(['manifest'], demo.db);
    expect(manifest.stderr).toBe('');
    expect(lastRunState(manifest.stdout)).toBe('completed');
  });

  it('a run left `running` with no lock (killed): every reader says it did not finish, exits 0, and keeps stdout the clean data', () => {
    const db = runningCopy('no-lock', null);
    const text = read(['report'], db);
    expect(text.stdout).toContain(`run #1 did not finish\n${CUT_SHORT}: `);
    expect(text.stdout).not.toContain('run #1 running');
    expect(text.stderr).toMatch(CUT_SHORT_WARNING);
    const md = read(['report', '--format', 'md'], db);
    expect(md.stdout).toContain(`Run #1 (did not finish)`);
    expect(md.stdout).toContain(`> **Warning: ${CUT_SHORT}: `);
    expect(md.stderr).toMatch(CUT_SHORT_WARNING);
    const html = read(['report', '--format', 'html'], db);
    expect(html.stdout).toContain('run #1, did not finish');
    expect(html.stdout).toContain(`<p class="run-note" role="alert"><strong>${CUT_SHORT}: `);
    expect(html.stderr).toMatch(CUT_SHORT_WARNING);
    const json = read(['report', '--format', 'json'], db);
    expect((JSON.parse(json.stdout) as { runState: unknown }).runState).toEqual({ state: 'cut-short', runId: 1, filesInProgress: 0 });
    for (const format of ['csv', 'jsonl']) {
      const exported = read(['export', '--format', format], db);
      expect(exported.stderr).toMatch(CUT_SHORT_WARNING);
      expect(exported.stdout).toBe(read(['export', '--format', format], demo.db).stdout);
    }
    const show = read(['show', MESSAGE], db);
    // said before the verdict, which may not be the final one
    expect(show.stdout.indexOf(`  run         ${CUT_SHORT}: `)).toBeGreaterThan(0);
    expect(show.stdout.indexOf(`  run         ${CUT_SHORT}: `)).toBeLessThan(show.stdout.indexOf('Verdict: verified'));
    expect(show.stderr).toMatch(CUT_SHORT_WARNING);
    const manifest = read(['manifest'], db);
    expect(manifest.stderr).toMatch(CUT_SHORT_WARNING);
    expect(lastRunState(manifest.stdout)).toBe('cut-short');
    // the readers told it without writing: the next verify is what relabels the run
    expect(recordedStatus(db)).toBe('running');
  });

  it('a run left `running` with a lock naming a dead process: as with no lock', () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    const db = runningCopy('dead-lock', { pid: gone });
    const text = read(['report'], db);
    expect(text.stdout).toContain(`${CUT_SHORT}: `);
    expect(text.stderr).toMatch(CUT_SHORT_WARNING);
    expect(read(['export', '--format', 'jsonl'], db).stderr).toMatch(CUT_SHORT_WARNING);
    expect(lastRunState(read(['manifest'], db).stdout)).toBe('cut-short');
  });

  it('a run recorded interrupted (Ctrl-C, SIGTERM) is said to have stopped early too', () => {
    const db = runningCopy('interrupted', null, 'interrupted');
    const text = read(['report'], db);
    expect(text.stdout).toContain('run #1 interrupted\nrun #1 was interrupted before it finished: ');
    expect(text.stderr).toMatch(/^leakcheck: warning: run #1 was interrupted before it finished: .*run verify again\n$/);
    expect(lastRunState(read(['manifest'], db).stdout)).toBe('interrupted');
  });

  it('a verify holding the lock (a live pid): the readers say the results are partial; manifest refuses, exit 3', () => {
    const db = runningCopy('live-lock', { pid: process.pid });
    const writing = `a verify (pid ${process.pid}) is writing this database now: these results are partial and will change`;
    const warning = `leakcheck: warning: ${writing}\n`;
    const text = read(['report'], db);
    expect(text.stdout).toContain(`run #1 running\n${writing}\n`);
    expect(text.stderr).toBe(warning);
    const html = read(['report', '--format', 'html'], db);
    expect(html.stdout).toContain(`<p class="run-note" role="alert"><strong>${writing}.</strong></p>`);
    const exported = read(['export', '--format', 'csv'], db);
    expect(exported.stderr).toBe(warning);
    expect(exported.stdout).toBe(read(['export', '--format', 'csv'], demo.db).stdout);
    const show = read(['show', MESSAGE], db);
    expect(show.stdout).toContain(`  run         ${writing}\n`);
    expect(show.stderr).toBe(warning);
    const manifest = runCli(['manifest', '--db', db]);
    expect(manifest.status).toBe(3);
    expect(manifest.stdout).toBe('');
    expect(manifest.stderr).toMatch(new RegExp(`^leakcheck: refusing to write a manifest: a verify \\(pid ${process.pid}\\) is writing this database now`));
    // a verify that holds the lock and has not recorded its run yet is under way too
    const starting = runningCopy('live-lock-not-recorded', { pid: process.pid });
    const store = new Database(starting);
    store.prepare("UPDATE runs SET status = 'completed'").run();
    store.close();
    expect(read(['export', '--format', 'jsonl'], starting).stderr).toBe(warning);
  });

  // Red team X, X-04: a lock left on the machine the database was copied from, or naming a pid a
  // reboot gave to another process, read as a verify writing now, beside "run #1 completed", and
  // the manifest was refused for good.
  it('a lock taken before the last run ended belongs to no run: nothing is said, and the manifest is made', () => {
    for (const [name, lock] of [
      ['old-lock-elsewhere', { pid: 4242, host: 'archive-server', since: '2020-03-01T10:00:00.000Z' }],
      ['old-lock-pid-reused', { pid: process.pid, host: hostname(), since: '2020-03-01T10:00:00.000Z' }],
    ] as const) {
      const db = join(demo.dir, `${name}.db`);
      const verified = new Database(demo.db, { readonly: true });
      verified.prepare('VACUUM INTO ?').run(db);
      verified.close();
      writeFileSync(`${db}.lock`, JSON.stringify(lock));
      expect(read(['report'], db).stderr, name).toBe('');
      expect(lastRunState(read(['manifest'], db).stdout), name).toBe('completed');
    }
  });

  it("a lock of another host taken since: said as what it is, which cannot be seen from here; the manifest says how to go on", () => {
    const db = runningCopy('lock-elsewhere', null, 'completed');
    writeFileSync(`${db}.lock`, JSON.stringify({ pid: 4242, host: 'archive-server', since: '2026-12-06T00:00:00Z' }));
    const said = 'the database is locked by a verify on archive-server (pid 4242, since 2026-12-06T00:00:00Z), which cannot be seen from here; if that run is gone, remove the database\'s .lock file: these results may be partial';
    expect(read(['report'], db).stderr).toBe(`leakcheck: warning: ${said}\n`);
    const manifest = runCli(['manifest', '--db', db]);
    expect(manifest.status).toBe(3);
    expect(manifest.stderr).toMatch(/wait for it to finish, or remove the lock if it is gone\.\n$/);
  });
});
