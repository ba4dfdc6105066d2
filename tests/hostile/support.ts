/**
 * Shared helpers of the hostile-input tests: running the real CLI with a memory ceiling (and
 * measuring it), as another user, in another network namespace; reading the database.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DEMO_KEYS, ROOT } from '../helpers/cli.ts';

export const IS_ROOT = process.getuid?.() === 0;
export const NOBODY = 65534;
const TIME = '/usr/bin/time';

export interface MeasuredRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** peak resident set size of the CLI process, from GNU time; null where time is missing */
  maxRssKb: number | null;
  timedOut: boolean;
}

export interface CliRunOptions {
  /** V8 old-space ceiling: a run whose heap grows without bound dies instead of passing */
  heapMb?: number;
  /** run as this uid/gid (root only, through setpriv) */
  asUser?: number;
  /** wrap in `unshare -n`: a fresh network namespace with only a down loopback */
  noNetwork?: boolean;
  timeoutMs?: number;
  cwd?: string;
}

let setprivWorks: boolean | null = null;
/** Whether this process can run commands as `nobody` (it must be root, with setpriv). */
export function canRunAsNobody(): boolean {
  if (setprivWorks === null) {
    setprivWorks =
      IS_ROOT &&
      spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, '-e', '0'], { timeout: 10_000 }).status === 0;
  }
  return setprivWorks;
}

let unshareWorks: boolean | null = null;
/** Whether `unshare -n` (a new network namespace) is permitted here. */
export function canUnshareNetwork(): boolean {
  if (unshareWorks === null) unshareWorks = spawnSync('unshare', ['-n', 'true'], { timeout: 10_000 }).status === 0;
  return unshareWorks;
}

export const hasGnuTime = (): boolean => existsSync(TIME) && spawnSync(TIME, ['-f', '%M', 'true']).status === 0;

/** Runs `leakcheck ...args` in a child process, optionally capped, measured, demoted or offline. */
export function runCliMeasured(args: string[], options: CliRunOptions = {}): MeasuredRun {
  const node = [process.execPath, ...(options.heapMb ? [`--max-old-space-size=${options.heapMb}`] : []), join(ROOT, 'bin/leakcheck.js'), ...args];
  let command = node;
  if (options.asUser !== undefined) command = ['setpriv', `--reuid=${options.asUser}`, `--regid=${options.asUser}`, '--clear-groups', ...command];
  if (options.noNetwork) command = ['unshare', '-n', ...command];
  // `timeout` kills the CLI itself on a hang; spawnSync's own timeout would only kill GNU time.
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (existsSync('/usr/bin/timeout')) command = ['/usr/bin/timeout', '-s', 'KILL', String(Math.ceil(timeoutMs / 1000)), ...command];
  const scratch = mkdtempSync(join(tmpdir(), 'leakcheck-time-'));
  const timeFile = join(scratch, 'rss');
  const measured = hasGnuTime();
  if (measured) command = [TIME, '-f', '%M', '-o', timeFile, ...command];
  try {
    const child = spawnSync(command[0]!, command.slice(1), {
      cwd: options.cwd ?? ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '0' },
      maxBuffer: 64 * 1024 * 1024,
      timeout: timeoutMs + 10_000,
      killSignal: 'SIGKILL',
    });
    let maxRssKb: number | null = null;
    if (measured && existsSync(timeFile)) {
      const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
      const value = Number(lines[lines.length - 1]);
      maxRssKb = Number.isFinite(value) ? value : null;
    }
    // GNU time reports the child's fate itself and exits with its status.
    return {
      status: child.status,
      signal: child.signal,
      stdout: child.stdout ?? '',
      stderr: child.stderr ?? '',
      maxRssKb,
      // timeout(1) exits 137 when it had to kill
      timedOut: (child.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT' || child.status === 137,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export interface FileRow {
  path: string;
  kind: string | null;
  status: string;
  reason: string | null;
  detail: string | null;
  message_count: number;
}

/**
 * Rows that stand for no directory entry: a forwarded message verified on its own
 * (`parent.eml#attachment-2`) or an email inside a zip archive (`a.zip!inner.eml`).
 */
export const isDerivedRow = (row: FileRow): boolean => row.kind === 'embedded' || row.kind === 'zip-entry' || /#attachment-\d+$/.test(row.path);

export interface MessageRow {
  path: string;
  idx: number;
  verdict: string | null;
  reasons_json: string | null;
  size: number;
}

export function readResults(dbPath: string): { files: FileRow[]; messages: MessageRow[]; run: Record<string, unknown> | undefined } {
  const db = new Database(dbPath, { readonly: true });
  try {
    const files = db.prepare('SELECT path, kind, status, reason, detail, message_count FROM source_files ORDER BY path').all() as FileRow[];
    const messages = db
      .prepare(
        `SELECT f.path AS path, m.idx AS idx, m.size AS size, v.verdict AS verdict, v.reasons_json AS reasons_json
         FROM messages m JOIN source_files f ON f.id = m.file_id LEFT JOIN verdicts v ON v.message_id = m.id ORDER BY f.path, m.idx`,
      )
      .all() as MessageRow[];
    const run = db.prepare('SELECT * FROM runs ORDER BY id DESC LIMIT 1').get() as Record<string, unknown> | undefined;
    return { files, messages, run };
  } finally {
    db.close();
  }
}

/** A row of the chain of custody (`file_changes`), as stored. */
export interface FileChangeRow {
  run_id: number;
  path: string;
  change: string;
  old_size: number | null;
  old_mtime_ms: number | null;
  old_sha256: string | null;
  new_size: number | null;
  new_mtime_ms: number | null;
  new_sha256: string | null;
  detail: string | null;
}

export function readFileChanges(dbPath: string): FileChangeRow[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db
      .prepare('SELECT run_id, path, change, old_size, old_mtime_ms, old_sha256, new_size, new_mtime_ms, new_sha256, detail FROM file_changes ORDER BY id')
      .all() as FileChangeRow[];
  } finally {
    db.close();
  }
}

/** A dump of one message (`dir`/`name`/one.eml), verified: the run's peak RSS, and its database. */
export function verifyOneMeasured(dir: string, name: string, message: Buffer): { rssMb: number; db: string } {
  const dump = join(dir, name);
  mkdirSync(dump, { recursive: true });
  const fd = openSync(join(dump, 'one.eml'), 'w');
  try {
    writeSync(fd, message);
  } finally {
    closeSync(fd);
  }
  const db = join(dir, `${name}.db`);
  const run = runCliMeasured(['verify', dump, '--offline', '--keys', DEMO_KEYS, '--db', db, '--quiet']);
  if (run.status !== 0) throw new Error(`verify exited with ${run.status}: ${run.stderr.slice(-2000)}`);
  return { rssMb: run.maxRssKb! / 1024, db };
}
