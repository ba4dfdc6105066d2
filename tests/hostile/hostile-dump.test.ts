/**
 * One dump holding every kind of hostile or broken input (tests/hostile/build-dump.ts), verified
 * by the real CLI with a memory ceiling: the run must finish, and every directory entry must be
 * in the database with a status that says what it is. Run as `nobody` where possible, so that
 * file permissions mean something (root reads everything).
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameToString } from '../../src/discover/fs-path.ts';
import { DEMO_KEYS, tempDir } from '../helpers/cli.ts';
import { buildHostileDump, type Expectation, type HostileDump } from './build-dump.ts';
import { canRunAsNobody, isDerivedRow, NOBODY, readResults, runCliMeasured, type FileRow, type MeasuredRun, type MessageRow } from './support.ts';

/**
 * Peak RSS allowed for the whole run (with --jobs 2). At rest the CLI with two analysis workers
 * (Node, better-sqlite3, mailauth in each isolate) takes ~190 MB on the demo dump. The largest
 * inputs here are 1 MB messages; a worker analysing one holds it, up to two repaired copies and
 * mailauth's latin1 strings of it, some tens of MB. Measured: 270-370 MB (the top under a
 * fully loaded 2-core machine). 450 MB leaves room for the GC, but not for any cost that grows
 * with the dump or with a message beyond a small multiple of its size.
 * The V8 heap is capped at 256 MB as well, so a leak dies rather than passing slowly.
 */
const MAX_RSS_MB = 450;
const HEAP_MB = 256;

/** Paths leakcheck should record, from our own walk: every non-directory entry, and every directory it cannot list. */
function expectedPaths(root: string, unprivileged: boolean): string[] {
  const out: string[] = [];
  const visit = (dir: Buffer, rel: string): void => {
    for (const name of readdirSync(dir, { encoding: 'buffer' })) {
      const path = Buffer.concat([dir, Buffer.from('/'), name]);
      const relPath = rel === '' ? nameToString(name) : `${rel}/${nameToString(name)}`;
      const stats = lstatSync(path);
      if (!stats.isDirectory()) out.push(relPath);
      else if (unprivileged && (stats.mode & 0o005) !== 0o005) out.push(relPath);
      else visit(path, relPath);
    }
  };
  visit(Buffer.from(root), '');
  return out.sort();
}

const matchesVerdict = (actual: string | null, wanted: NonNullable<Expectation['verdicts']>[number]): boolean =>
  wanted === 'not-verified' ? actual === 'unverifiable' || actual === 'suspicious' : actual === wanted;

// Built while the tests are collected, so that each entry can be a test of its own.
const tmp = tempDir('leakcheck-hostile-');
const dumpRoot = join(tmp.path, 'dump');
const dbDir = join(tmp.path, 'db');
mkdirSync(dumpRoot);
mkdirSync(dbDir);
const dump: HostileDump = await buildHostileDump(dumpRoot);
const unprivileged = canRunAsNobody();

describe('a dump of hostile and broken input', () => {
  let run: MeasuredRun;
  let files: FileRow[];
  let messages: MessageRow[];
  let runRow: Record<string, unknown> | undefined;
  /** what our own walk finds, taken while the socket still exists */
  let onDisk: string[];

  beforeAll(async () => {
    if (unprivileged) {
      chmodSync(tmp.path, 0o755);
      chownSync(dbDir, NOBODY, NOBODY);
    }
    try {
      // --jobs 2: the bound below must not depend on how many cores the machine has
      run = runCliMeasured(['verify', dumpRoot, '--offline', '--keys', DEMO_KEYS, '--jobs', '2', '--db', join(dbDir, 'hostile.db'), '--quiet', '--json'], {
        heapMb: HEAP_MB,
        ...(unprivileged ? { asUser: NOBODY } : {}),
        timeoutMs: 240_000,
      });
      onDisk = expectedPaths(dumpRoot, unprivileged);
    } finally {
      await dump.close();
    }
    ({ files, messages, run: runRow } = readResults(join(dbDir, 'hostile.db')));
  }, 300_000);

  afterAll(() => {
    // mode 000 entries must be readable again for the cleanup
    for (const path of ['secret.eml', 'locked']) {
      try {
        chmodSync(join(dumpRoot, path), 0o755);
      } catch {
        // not built
      }
    }
    tmp.cleanup();
  });

  it('the run finishes, exits 0 and is recorded as completed', () => {
    expect(run.timedOut, 'the CLI hung').toBe(false);
    expect(run.status, run.stderr.slice(-4000)).toBe(0);
    expect(runRow?.['status']).toBe('completed');
  });

  it(`peak memory stays under ${MAX_RSS_MB} MB (V8 heap capped at ${HEAP_MB} MB)`, () => {
    expect(run.stderr).not.toMatch(/heap out of memory/i);
    if (run.maxRssKb === null) return; // GNU time not installed: the heap cap is the only bound
    process.stdout.write(`hostile dump: peak RSS ${(run.maxRssKb / 1024).toFixed(0)} MB\n`);
    expect(run.maxRssKb / 1024).toBeLessThan(MAX_RSS_MB);
  });

  it('every directory entry is in source_files, once, and nothing else is', () => {
    const recorded = files.filter((f) => !isDerivedRow(f)).map((f) => f.path).sort();
    expect(recorded).toEqual(onDisk);
  });

  it('nothing is followed through a symlink, and directories are not entries', () => {
    for (const path of dump.absent) expect(files.map((f) => f.path)).not.toContain(path);
    expect(files.filter((f) => /^(outside|up|loop-a\.eml|passwd\.eml)\//.test(f.path))).toEqual([]);
  });

  it('every message has a verdict, and only files that were read hold messages', () => {
    expect(messages.filter((m) => m.verdict === null)).toEqual([]);
    for (const file of files) {
      const own = messages.filter((m) => m.path === file.path);
      expect(own.length, file.path).toBe(file.message_count);
      if (file.status === 'skipped' || file.status === 'error') expect(own, file.path).toEqual([]);
    }
  });

  it('each skipped or failed entry says why', () => {
    for (const file of files.filter((f) => f.status !== 'ok')) {
      expect(file.reason, file.path).toMatch(/^[a-z-]+$/);
      expect(file.detail, file.path).toBeTruthy();
    }
  });

  // One test per hostile entry, named after what it is.
  it.each(dump.expectations.map((e) => [`${e.path} (${e.what})`, e] as const))('%s', (_, expectation) => {
    if (expectation.needsUnprivileged && !unprivileged) {
      process.stdout.write(`skipped: ${expectation.path} (${expectation.what}) needs a run as an unprivileged user, which is not possible here\n`);
      return;
    }
    const label = `${expectation.path}: ${expectation.what}${expectation.knownBug ? ` [known bug: ${expectation.knownBug}]` : ''}`;
    const row = files.find((f) => f.path === expectation.path);
    expect(row, `${label}: no row`).toBeDefined();
    expect({ status: row!.status, reason: row!.reason }, label).toMatchObject({
      status: expectation.status,
      ...(expectation.reason !== undefined ? { reason: expectation.reason } : {}),
    });
    if (expectation.kind !== undefined) expect(row!.kind, label).toBe(expectation.kind);
    if (expectation.detail) expect(row!.detail, label).toMatch(expectation.detail);
    if (expectation.messages !== undefined) expect(row!.message_count, label).toBe(expectation.messages);
    const own = messages.filter((m) => m.path === expectation.path);
    for (const [index, wanted] of (expectation.verdicts ?? []).entries()) {
      const message = own.find((m) => m.idx === index);
      expect(message, `${label}: message ${index}`).toBeDefined();
      expect(matchesVerdict(message!.verdict, wanted), `${label}: message ${index} is ${message!.verdict} (${message!.reasons_json}), expected ${wanted}`).toBe(true);
    }
  });

  it('lists what could not be built on this machine', () => {
    for (const note of dump.skipped) process.stdout.write(`hostile dump: skipped sub-case: ${note}\n`);
    if (!unprivileged) process.stdout.write('hostile dump: ran as the current user; permission sub-cases not exercised\n');
    expect(dump.expectations.length).toBeGreaterThan(40);
  });
});
