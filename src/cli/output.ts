import { accessSync, chmodSync, chownSync, constants, createWriteStream, existsSync, realpathSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { UsageError } from '../pipeline/usage-error.ts';
import { EXIT, STOP_SIGNALS } from './exit-codes.ts';
import { assertOutsideDump } from '../pipeline/outside-dump.ts';
import { warnOfRunState, writerNow } from '../report/run-state-note.ts';
import { openStore, type Db } from '../store/open-store.ts';
import { realPathToWrite, RunLockedError } from '../store/run-lock.ts';
import { lastRunState, type RunState } from '../store/run-state.ts';

export const DEFAULT_DB = './leakcheck.db';

export type Output = NodeJS.WritableStream;

/** How a write fails once nobody reads: a pipe closed (EPIPE), a terminal hung up (EIO). */
const READER_GONE: ReadonlySet<string> = new Set(['EPIPE', 'EIO']);

/** A command's output could not be written (a full disk, a file it may not replace): exit 3, one line. */
export class OutputError extends Error {
  override name = 'OutputError';
}

// Listened for as the CLI loads, because every command writes to stdout (some through write()
// below, some directly), and an 'error' event nobody listens for ends the process with a stack
// trace and exit 1, the code of `--fail-on` (red team Z, Z-04). Nothing is lost by stopping: what
// stdout carries is read from the database, which is written before anything is printed. A reader
// gone is 141; any other failure (a full disk under `> summary.txt`) is a runtime error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (READER_GONE.has(err.code ?? '')) process.exit(EXIT.stdoutClosed);
  try {
    process.stderr.write(`leakcheck: cannot write the output: ${err.message}\n`);
  } catch {
    // stderr is gone too: the exit status says it
  }
  process.exit(EXIT.runtime);
});

// stderr carries progress and messages for a person watching. A reader of it that goes away
// (`verify 2> >(head -1)`), a terminal hung up (a dropped SSH session: writes fail with EIO, and
// the SIGHUP that comes with it is handled as Ctrl-C is, red team X, X-03), or a log on a full
// disk must not stop a run hours long, or change its exit status (red team Z, Z-04): stderr is
// given up on, and the command goes on. (After the first error the stream is destroyed, and Node
// drops later writes.)
process.stderr.on('error', () => {});

/**
 * A file output (`--out`). It is written beside its place under a temporary name and renamed into
 * it only once complete: a full disk, a failed query or a CI job's timeout used to leave a file
 * with a header and hundreds of good rows in place of the previous result, which the next step of
 * a script took for the result (red team Z, Z-03). A path that is not a regular file (a FIFO, a
 * device, a process substitution's /dev/fd/N) is written as it is: it cannot be replaced.
 */
class FileOutput {
  readonly stream: WriteStream;
  readonly target: string;
  private readonly temporary: string | null;
  private failure: Error | null = null;
  /** the temporary file is this run's own: only then is it removed */
  private opened = false;
  private readonly onSignal = (): void => {
    this.discard();
    process.exit(EXIT.interrupted);
  };

  private constructor(target: string, temporary: string | null) {
    this.target = target;
    this.temporary = temporary;
    this.stream = createWriteStream(temporary ?? target, temporary ? { flags: 'wx' } : {});
    this.stream.on('error', (err) => (this.failure ??= err));
    if (temporary) for (const s of STOP_SIGNALS) process.on(s, this.onSignal);
  }

  static async open(path: string): Promise<FileOutput> {
    const existing = statSync(path, { throwIfNoEntry: false });
    // (/dev/stdout or /proc/self/fd/1 on a redirected stdout names a regular file, not one to replace)
    const special = /^\/(?:dev|proc)\//.test(resolve(path)) || (existing !== undefined && /^\/(?:dev|proc)\//.test(realpathSync.native(path)));
    // beside the file a symbolic link names, so that the rename replaces it and keeps the link; a
    // link to a file not made yet is followed as `>` follows it (red team AA, AA-07)
    const target = special ? path : existing?.isFile() ? realpathSync.native(path) : existing === undefined ? realPathToWrite(path) : path;
    // A file the user may not write is refused, as a shell's `>` refuses it: renaming over it
    // would replace a report made read-only (red team AA, AA-01). A file replaced keeps its owner
    // and group, or is written in place: a report written by root over another user's took
    // root's (AA-03). A folder the user may not write, beside a file they may: written in place (AA-02).
    if (existing?.isFile()) accessOrThrow(path, constants.W_OK);
    const ours = existing === undefined || (existing.uid === process.getuid?.() && existing.gid === process.getgid?.());
    const replaceable = !special && (existing === undefined || existing.isFile()) && (ours || process.getuid?.() === 0) && canWrite(dirname(target));
    // (a name of its own: a leftover of another run, or another container's run with this pid, is none of ours to remove; AA-06)
    const temporary = replaceable ? join(dirname(target), temporaryName(basename(target))) : null;
    const output = new FileOutput(target, temporary);
    try {
      await new Promise<void>((resolve, reject) => {
        output.stream.once('open', () => resolve());
        output.stream.once('error', reject);
      });
      output.opened = true;
      if (existing && temporary) {
        chmodSync(temporary, existing.mode & 0o7777);
        if (!ours) chownSync(temporary, existing.uid, existing.gid);
      }
    } catch (err) {
      output.discard();
      throw new OutputError(`cannot write ${path}: ${systemWords(err as Error)}`);
    }
    return output;
  }

  check(): void {
    if (!this.failure) return;
    // `--out /dev/stdout | head`: a reader gone, as for stdout itself
    if (READER_GONE.has((this.failure as NodeJS.ErrnoException).code ?? '')) process.exit(EXIT.stdoutClosed);
    throw new OutputError(`cannot write ${this.target}: ${systemWords(this.failure)}; ${this.temporary ? 'the file was left as it was' : 'what was written is incomplete'}`);
  }

  async close(): Promise<void> {
    try {
      this.check();
      this.stream.end();
      await finished(this.stream);
      if (this.temporary) renameSync(this.temporary, this.target);
    } catch (err) {
      this.failure ??= err as Error;
      this.discard();
      this.check();
    } finally {
      this.release();
    }
  }

  discard(): void {
    this.stream.destroy();
    if (this.temporary && this.opened) rmSync(this.temporary, { force: true });
    this.release();
  }

  private release(): void {
    for (const s of STOP_SIGNALS) process.removeListener(s, this.onSignal);
  }
}

/**
 * `.NAME.leakcheck-PID-RANDOM.partial`, or without NAME where that would pass the 255 bytes a
 * file name may have (a legal NAME of 231 bytes or more could not be written; red team AA, AA-20).
 */
function temporaryName(name: string): string {
  const own = `leakcheck-${process.pid}-${randomBytes(4).toString('hex')}.partial`;
  return Buffer.byteLength(`.${name}.${own}`) <= 255 ? `.${name}.${own}` : `.${own}`;
}

function accessOrThrow(path: string, mode: number): void {
  try {
    accessSync(path, mode);
  } catch (err) {
    throw new OutputError(`cannot write ${path}: ${systemWords(err as Error)}`);
  }
}

function canWrite(folder: string): boolean {
  try {
    accessSync(folder, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The system's words for a failure, without the temporary file's name ("ENOSPC: no space left on device"). */
const systemWords = (err: Error): string => err.message.replace(/, \w+ '[^']*'$/, '').replace(/, write$/, '');

const fileOutputs = new WeakMap<Output, FileOutput>();

export async function openOutput(path: string | undefined): Promise<Output> {
  if (!path) return process.stdout;
  const output = await FileOutput.open(path);
  fileOutputs.set(output.stream, output);
  return output.stream;
}

export function write(out: Output, text: string): Promise<void> | void {
  const file = fileOutputs.get(out);
  file?.check();
  if (out.write(text)) return;
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      out.removeListener('drain', settle);
      out.removeListener('error', settle);
      try {
        file?.check();
        resolve();
      } catch (err) {
        reject(err as Error);
      }
    };
    out.once('drain', settle);
    if (file) out.once('error', settle);
  });
}

/** Ends the output: a file is complete, and put in its place. */
export async function closeOutput(out: Output): Promise<void> {
  await fileOutputs.get(out)?.close();
}

/** Ends the output of a command that failed: a file's partial text is removed, the previous file left. */
export function discardOutput(out: Output): void {
  fileOutputs.get(out)?.discard();
}

/** Writes `text` to the file at `path` (stdout when none) and closes it. */
export async function writeWhole(path: string | undefined, text: string): Promise<void> {
  const out = await openOutput(path);
  try {
    await write(out, text);
  } catch (err) {
    discardOutput(out);
    throw err;
  }
  await closeOutput(out);
}

/**
 * Opens the database read-only and the output (`path`, stdout when none), runs `body`, and closes
 * both whatever happens: what the report, export, documents, custody and manifest commands share.
 * A last run cut short or under way is said on stderr first, and handed to `body` to say where
 * it shows the run; `refuseWhileVerifying` (what the command makes) refuses, before any output is
 * opened, while a verify writes the database.
 */
export async function readingInto(
  dbPath: string,
  path: string | undefined,
  body: (db: Db, out: Output, runState: RunState) => Promise<void>,
  options: { refuseWhileVerifying?: string } = {},
): Promise<void> {
  const db = openStore(dbPath, { readonly: true });
  try {
    if (path) {
      refuseWritingIntoDumps(db, [path]);
      refuseWritingOverDatabase(dbPath, [path]);
    }
    const runState = lastRunState(db, dbPath);
    if (options.refuseWhileVerifying && runState.state === 'in-progress') {
      const what = options.refuseWhileVerifying;
      const then = runState.host === null ? 'wait for it to finish' : 'wait for it to finish, or remove the lock if it is gone';
      throw new RunLockedError(`refusing to write ${what}: ${writerNow(runState)}, and ${what} made now could hold results that are partial and will change; ${then}.`);
    }
    warnOfRunState(runState);
    const out = await openOutput(path);
    // (a reader stopped by a signal exits 130, by bin/leakcheck.js's listener: red team Z, Z-12)
    try {
      await body(db, out, runState);
    } catch (err) {
      discardOutput(out);
      throw err;
    }
    await closeOutput(out);
  } finally {
    db.close();
  }
}

/**
 * Refuses, before any is written, outputs that cannot be made: a folder that does not exist, a
 * directory in the file's place. A command with several outputs wrote the first and failed on
 * the next: `keys export --out map.json --compromised-out typo/c.txt` left the key map without
 * the compromised list that must go with it (red team Z, Z-07).
 */
export function refuseOutputsThatCannotBeWritten(paths: readonly string[]): void {
  const seen = new Map<string, string>();
  for (const path of paths) {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new OutputError(`cannot write ${path}: it is a directory`);
    if (!statSync(dirname(resolve(path)), { throwIfNoEntry: false })?.isDirectory()) throw new OutputError(`cannot write ${path}: its folder does not exist`);
    // (a file to replace in place, or a folder to create it in: red team AA, AA-05)
    if (!canWrite(existsSync(path) ? path : dirname(resolve(path)))) {
      throw new OutputError(`cannot write ${path}: permission denied`);
    }
    // Two outputs of one command that are one file: the second replaced the first, and `keys
    // export --out X --compromised-out X` handed over the compromised list as the key map, exit 0
    // (red team AA, AA-04). By the file's identity when it exists, else by its real folder and name.
    const file = statSync(path, { throwIfNoEntry: false });
    const identity = file ? `${file.dev}:${file.ino}` : realPathToWrite(path);
    const other = seen.get(identity);
    if (other !== undefined) throw new UsageError(`${other} and ${path} are one file: give each output a file of its own`);
    seen.set(identity, path);
  }
}

/**
 * Evidence is read-only, for a report as for the database: a file to be written (`--out` and the
 * like) is refused when it would land inside a dump a run of this database read. A dump that is
 * no longer where it was read is no longer there to write into.
 */
export function refuseWritingIntoDumps(db: Db, paths: readonly string[]): void {
  for (const root of db.prepare('SELECT DISTINCT dump_root FROM runs').pluck().all() as string[]) {
    if (!existsSync(root)) continue;
    assertOutsideDump(root, paths, (path) => `refusing to write ${path} inside the dump ${root}: evidence is read-only. Write it elsewhere.`);
  }
}

/**
 * An output that would replace the database, or a file SQLite or the run lock keeps beside it, is
 * refused before anything is written: `export --out leakcheck.db` (a typo for `--db`) emptied the
 * database under the open connection, every verdict and the chain of custody with it, and the next
 * verify took the empty file for a new database (red team Z, Z-01). The same file by another name
 * (a hard or symbolic link) is the same file.
 */
export function refuseWritingOverDatabase(dbPath: string, paths: readonly string[]): void {
  // (by the names SQLite uses, beside the database's real path, too: a -journal written through
  // the real folder of a linked --db was taken by SQLite for its own and deleted; red team AA, AA-11)
  const companions = [dbPath, realPathToWrite(dbPath)].flatMap((db) => ['', '-wal', '-shm', '-journal', '.lock'].map((suffix) => `${db}${suffix}`));
  const identity = (path: string): string | null => {
    const stat = statSync(path, { throwIfNoEntry: false });
    return stat ? `${stat.dev}:${stat.ino}` : null;
  };
  const taken = new Set(companions.flatMap((path) => [resolve(path), realPathToWrite(path), identity(path)]).filter((id) => id !== null));
  for (const path of paths) {
    if (taken.has(resolve(path)) || taken.has(realPathToWrite(path)) || taken.has(identity(path) ?? '')) {
      throw new UsageError(`refusing to write ${path}: it is the database ${dbPath}${resolve(path) === resolve(dbPath) || identity(path) === identity(dbPath) ? '' : ', or a file kept beside it'}. Write the output elsewhere.`);
    }
  }
}

