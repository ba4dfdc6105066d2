import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { assertOutsideDump } from '../pipeline/outside-dump.ts';
import { warnOfRunState, writerNow } from '../report/run-state-note.ts';
import { openStore, type Db } from '../store/open-store.ts';
import { RunLockedError } from '../store/run-lock.ts';
import { lastRunState, type RunState } from '../store/run-state.ts';

export const DEFAULT_DB = './leakcheck.db';

export type Output = NodeJS.WritableStream;

/**
 * The exit status when the reader of stdout went away before the output was complete
 * (`leakcheck export … | head`): 141, what a shell reports for cat, grep or git ended by SIGPIPE
 * (128 + 13). Node ignores SIGPIPE, so a write fails with EPIPE instead. Not 0: the command did not
 * finish, and 0 would turn a `verify --fail-on` failure into a success whenever the summary found
 * no reader.
 */
export const EXIT_STDOUT_CLOSED = 141;

/** How a write fails once nobody reads: a pipe closed (EPIPE), a terminal hung up (EIO). */
const READER_GONE: ReadonlySet<string> = new Set(['EPIPE', 'EIO']);

// Listened for as the CLI loads, because every command writes to stdout (some through write()
// below, some directly), and an 'error' event nobody listens for ends the process with a stack
// trace. Nothing is lost by stopping: what stdout carries is read from the database, which is
// written before anything is printed.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (!READER_GONE.has(err.code ?? '')) throw err;
  process.exit(EXIT_STDOUT_CLOSED);
});

// stderr carries progress and messages for a person watching. A reader of it that goes away
// (`verify 2> >(head -1)`), or a terminal hung up (a dropped SSH session: writes fail with EIO,
// and the SIGHUP that comes with it is handled as Ctrl-C is, red team X, X-03), must not stop a
// run hours long, or lose its exit status: stderr is given up on, and the command goes on.
// (After the first error the stream is destroyed, and Node drops later writes.)
process.stderr.on('error', (err: NodeJS.ErrnoException) => {
  if (!READER_GONE.has(err.code ?? '')) throw err;
});

export async function openOutput(path: string | undefined): Promise<Output> {
  if (!path) return process.stdout;
  const stream = createWriteStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  return stream;
}

export function write(out: Output, text: string): Promise<void> | void {
  if (!out.write(text)) return new Promise((resolve) => out.once('drain', () => resolve()));
}

export async function closeOutput(out: Output): Promise<void> {
  if (out === process.stdout) return;
  await new Promise<void>((resolve, reject) => (out as WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** Writes `text` to the file at `path` (stdout when none) and closes it. */
export async function writeWhole(path: string | undefined, text: string): Promise<void> {
  const out = await openOutput(path);
  try {
    await write(out, text);
  } finally {
    await closeOutput(out);
  }
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
    if (path) refuseWritingIntoDumps(db, [path]);
    const runState = lastRunState(db, dbPath);
    if (options.refuseWhileVerifying && runState.state === 'in-progress') {
      const what = options.refuseWhileVerifying;
      const then = runState.host === null ? 'wait for it to finish' : 'wait for it to finish, or remove the lock if it is gone';
      throw new RunLockedError(`refusing to write ${what}: ${writerNow(runState)}, and ${what} made now could hold results that are partial and will change; ${then}.`);
    }
    warnOfRunState(runState);
    const out = await openOutput(path);
    try {
      await body(db, out, runState);
    } finally {
      await closeOutput(out);
    }
  } finally {
    db.close();
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
