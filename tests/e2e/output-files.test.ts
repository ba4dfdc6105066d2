import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, cpSync, existsSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_DUMP, DEMO_KEYS, ROOT, runCli, verifiedDemoDatabase } from '../helpers/cli.ts';
import { canRunAsNobody, NOBODY, runCliMeasured } from '../hostile/support.ts';
import { verifyOffline } from '../helpers/in-process.ts';

/*
 * Red team Z: what a CI job's `--out`, stdout and stderr do when something goes wrong.
 * Z-01: `--out` naming the database emptied it, every verdict and the chain of custody with it.
 * Z-03: a write that failed (a full disk) exited 13 with no message, and left a truncated file in
 * place of the previous result. Z-04: a stdout or stderr that failed otherwise than by a closed
 * pipe turned every exit status into 1, the code of `--fail-on`.
 */

const { db, dir } = verifiedDemoDatabase();
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const partials = (): string[] => readdirSync(dir).filter((name) => name.endsWith('.partial'));

/** The CLI with stdout and stderr given as file descriptors, and an optional RLIMIT_FSIZE in KB (a disk that fills up). */
function runWithStreams(args: string[], streams: { stdout?: string; stderr?: string; maxFileKb?: number } = {}): { status: number | null; stderr: string } {
  const fds = [streams.stdout, streams.stderr].map((path) => (path ? openSync(path, 'w') : 'pipe' as const));
  try {
    const cli = [process.execPath, join(ROOT, 'bin/leakcheck.js'), ...args];
    // (Node ignores SIGXFSZ, so a write past the limit fails with EFBIG, as one on a full disk with ENOSPC)
    const child = streams.maxFileKb === undefined
      ? spawnSync(cli[0]!, cli.slice(1), { cwd: ROOT, stdio: ['ignore', fds[0]!, fds[1]!], encoding: 'utf8' })
      : spawnSync('sh', ['-c', `ulimit -f ${streams.maxFileKb} && exec "$0" "$@"`, ...cli], { cwd: ROOT, stdio: ['ignore', fds[0]!, fds[1]!], encoding: 'utf8' });
    return { status: child.status, stderr: child.stderr ?? '' };
  } finally {
    for (const fd of fds) if (typeof fd === 'number') closeSync(fd);
  }
}

describe('--out, stdout and stderr in scripts (red team Z)', () => {
  it('refuses an --out that is the database, another name of it, or a file SQLite keeps beside it, and leaves the database whole (Z-01)', () => {
    const before = sha256(db);
    const link = join(dir, 'same-file.db');
    linkSync(db, link);
    for (const out of [db, link, `${db}-wal`, `${db}.lock`]) {
      for (const command of [['export', '--format', 'csv'], ['report', '--format', 'md'], ['keys', 'export']]) {
        const run = runCli([...command, '--db', db, '--out', out]);
        expect(run.status, `${command.join(' ')} --out ${out}: ${run.stderr}`).toBe(2);
        expect(run.stderr).toMatch(/refusing to write/);
      }
    }
    // (AA-11) the -journal SQLite keeps beside the real file, named through the real folder of a --db given through a link
    const viaLink = join(dir, 'via');
    symlinkSync(dir, viaLink);
    const journal = runCli(['export', '--format', 'csv', '--db', join(viaLink, 'demo.db'), '--out', `${db}-journal`]);
    expect(journal.status, journal.stderr).toBe(2);
    expect(sha256(db)).toBe(before);
    expect(runCli(['export', '--format', 'csv', '--db', db]).stdout.split('\r\n').filter(Boolean)).toHaveLength(31);
  });

  it('a write that fails leaves the previous file as it was, says so in one line, and exits 3 (Z-03)', () => {
    const out = join(dir, 'report.html');
    writeFileSync(out, 'the previous report\n', { mode: 0o640 });
    const failed = runWithStreams(['report', '--format', 'html', '--db', db, '--out', out], { maxFileKb: 64 });
    expect(failed.status, failed.stderr).toBe(3);
    expect(failed.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^leakcheck: cannot write .*report\.html: EFBIG: file too large; the file was left as it was$/)]);
    expect(readFileSync(out, 'utf8')).toBe('the previous report\n');
    expect(partials()).toEqual([]);
    // complete, it takes the file's place, with the file's permissions
    const done = runCli(['report', '--format', 'html', '--db', db, '--out', out]);
    expect(done.status, done.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/<\/html>\n$/);
    expect(statSync(out).mode & 0o777).toBe(0o640);
    expect(partials()).toEqual([]);
  });

  it('an --out that cannot be replaced (a device) is written as it is; a full one exits 3 (Z-03)', () => {
    const full = runCli(['export', '--format', 'csv', '--db', db, '--out', '/dev/full']);
    expect(full.status).toBe(3);
    expect(full.stderr).toMatch(/^leakcheck: cannot write \/dev\/full: ENOSPC: no space left on device; what was written is incomplete\n$/);
  });

  it('a stdout on a full disk is a runtime error, 3, never 1 (Z-04)', () => {
    const stderr = join(dir, 'stderr.txt');
    for (const args of [['export', '--format', 'csv', '--db', db], ['report', '--format', 'json', '--db', db]]) {
      const run = runWithStreams(args, { stdout: '/dev/full', stderr });
      expect(run.status, args.join(' ')).toBe(3);
      expect(readFileSync(stderr, 'utf8')).toMatch(/^leakcheck: cannot write the output: ENOSPC/);
    }
  });

  it('a stderr on a full disk changes no exit status (Z-04)', () => {
    const stdout = join(dir, 'stdout.txt');
    expect(runWithStreams(['verify', join(dir, 'no-such-dump'), '--db', join(dir, 'x.db')], { stderr: '/dev/full', stdout }).status).toBe(2);
    expect(runWithStreams(['show', '--db', db, 'no-such-message'], { stderr: '/dev/full', stdout }).status).toBe(2);
    expect(runWithStreams(['export', '--format', 'csv', '--db', join(dir, 'missing.db')], { stderr: '/dev/full', stdout }).status).toBe(3);
    expect(runWithStreams(['export', '--format', 'csv', '--db', db], { stderr: '/dev/full', stdout }).status).toBe(0);
    expect(readFileSync(stdout, 'utf8').split('\r\n').filter(Boolean)).toHaveLength(31);
  });

  it('a reader stopped by SIGTERM while its reader is slow exits 130, as an interrupted verify does (Z-12)', async () => {
    // stdout a pipe nobody reads: the HTML report of ten copies of the demo dump (1.4 MB) waits for
    // it to drain when SIGTERM comes
    const dump = join(dir, 'ten');
    for (let i = 0; i < 10; i++) cpSync(DEMO_DUMP, join(dump, `copy-${i}`), { recursive: true });
    const big = join(dir, 'ten.db');
    await verifyOffline(dump, big, [DEMO_KEYS]);
    const child = spawn(process.execPath, [join(ROOT, 'bin/leakcheck.js'), 'report', '--format', 'html', '--db', big], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
  });

  it('an --out name of 255 bytes is written (its temporary name shortened), the previous file replaced (red team AA, AA-20)', () => {
    const out = join(dir, `${'д'.repeat(125)}.csv`);
    expect(Buffer.byteLength(out.split('/').pop()!)).toBe(254);
    writeFileSync(out, 'old\n');
    const run = runCli(['export', '--format', 'csv', '--db', db, '--out', out]);
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^path,index,sha256/);
    expect(partials()).toEqual([]);
  });

  it('an --out that is a link to a file not made yet writes the file, and keeps the link (red team AA, AA-07)', () => {
    mkdirSync(join(dir, 'reports'));
    const link = join(dir, 'latest.csv');
    symlinkSync('reports/latest.csv', link);
    expect(runCli(['export', '--format', 'csv', '--db', db, '--out', link]).status).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'reports/latest.csv'), 'utf8')).toMatch(/^path,index,sha256/);
  });
});

// Red team AA: what the temporary file and the rename changed for files the user owns or not.
describe.runIf(canRunAsNobody())('--out over files of other owners and permissions (red team AA)', () => {
  const { db, dir: home } = verifiedDemoDatabase();
  const place = (name: string, mode: number, owner: number): string => {
    // (the temporary folder is its creator's alone: nobody must reach the database and the outputs)
    chmodSync(home, 0o755);
    chmodSync(db, 0o644);
    const folder = join(home, name);
    mkdirSync(folder, { mode: 0o755 });
    chownSync(folder, owner, owner);
    return folder;
  };

  it('a report made read-only is refused, as a shell refuses it, and left as it was (AA-01)', () => {
    const folder = place('mine', 0o755, NOBODY);
    const kept = join(folder, 'kept.csv');
    writeFileSync(kept, 'the report I keep\n');
    chownSync(kept, NOBODY, NOBODY);
    chmodSync(kept, 0o444);
    const run = runCliMeasured(['export', '--format', 'csv', '--db', db, '--out', kept], { asUser: NOBODY });
    expect(run.status, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/cannot write .*kept\.csv: EACCES/);
    expect(readFileSync(kept, 'utf8')).toBe('the report I keep\n');
  });

  it('a file the user may write in a folder they may not is written in place (AA-02)', () => {
    const folder = place('shared', 0o755, 0);
    const report = join(folder, 'report.csv');
    writeFileSync(report, 'old\n');
    chownSync(report, NOBODY, NOBODY);
    const run = runCliMeasured(['export', '--format', 'csv', '--db', db, '--out', report], { asUser: NOBODY });
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(report, 'utf8')).toMatch(/^path,index,sha256/);
  });

  it('a file of another user replaced by root keeps its owner and group (AA-03)', () => {
    const folder = place('theirs', 0o755, NOBODY);
    const report = join(folder, 'report.csv');
    writeFileSync(report, 'old\n');
    chownSync(report, NOBODY, NOBODY);
    expect(runCli(['export', '--format', 'csv', '--db', db, '--out', report]).status).toBe(0);
    expect(statSync(report)).toMatchObject({ uid: NOBODY, gid: NOBODY });
    expect(readFileSync(report, 'utf8')).toMatch(/^path,index,sha256/);
  });

  it('keys export writes none of its outputs when one is in a folder the user may not write (AA-05)', () => {
    const mine = place('keys-mine', 0o755, NOBODY);
    const closed = place('keys-closed', 0o755, 0);
    const map = join(mine, 'map.json');
    const run = runCliMeasured(['keys', 'export', '--db', db, '--out', map, '--compromised-out', join(closed, 'compromised.txt')], { asUser: NOBODY });
    expect(run.status, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/cannot write .*compromised\.txt: permission denied/);
    expect(existsSync(map)).toBe(false);
  });
});
