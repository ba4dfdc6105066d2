/**
 * Rows that stand for no file of the dump (a forwarded message, `a.eml#attachment-1`; an email in
 * an archive, `b.zip!inner.eml`) have paths that a file of the dump may also have: `#` and `!`
 * are legal in names. A forger who names a file that way must not make a message vanish by
 * having its row overwritten.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DerivedPaths } from '../../src/pipeline/derived-paths.ts';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { ROOT } from '../helpers/cli.ts';
import { readResults, runCliMeasured, type FileRow } from './support.ts';

const DEMO = join(ROOT, 'fixtures', 'demo-dump');
const FORWARDED = 'inbox/2018-10-02 Fwd- Board minutes.eml';
const ZIP = 'exports/mailbox-export.zip';
const ZIPPED = 'export/2019-05-20 Travel plan.eml';

const dir = mkdtempSync(join(tmpdir(), 'leakcheck-derived-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DerivedPaths', () => {
  it('gives a path asked for once, and never a path a file of the dump has or one given before', () => {
    const root = join(dir, 'claims');
    mkdirSync(join(root, 'a'), { recursive: true });
    writeFileSync(join(root, 'a', 'x.eml#attachment-1'), 'a file of the dump');
    writeFileSync(join(root, 'a', 'x.eml#attachment-1#derived-2'), 'and another');
    const paths = new DerivedPaths(root);
    expect(paths.claim('a/y.eml#attachment-1')).toEqual({ path: 'a/y.eml#attachment-1', note: null });
    expect(paths.claim('a/y.eml#attachment-1')).toEqual({ path: 'a/y.eml#attachment-1#derived-2', note: 'another row already has the path a/y.eml#attachment-1' });
    expect(paths.claim('a/x.eml#attachment-1')).toEqual({ path: 'a/x.eml#attachment-1#derived-3', note: 'a file of the dump is named a/x.eml#attachment-1' });
  });

  it('tells which recorded rows a claim made now would put elsewhere', () => {
    const root = join(dir, 'moves');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'x.eml#attachment-1'), 'a file of the dump');
    writeFileSync(join(root, 'y.eml'), 'a file of the dump');
    // rows kept from earlier runs: one found in y.eml, still there, one in z.eml, gone
    const kept = new Map([['y.eml#attachment-1', 'y.eml'], ['z.eml#attachment-1', 'z.eml']]);
    const paths = new DerivedPaths(root, (path) => kept.get(path) ?? null);
    // a file of the dump now has the row's path
    expect(paths.wouldMove('x.eml#attachment-1')).toBe(true);
    expect(paths.wouldMove('w.eml#attachment-1')).toBe(false);
    // a row that stepped aside stays aside while what it stepped aside for is there, a file or a kept row
    expect(paths.wouldMove('x.eml#attachment-1#derived-2')).toBe(false);
    expect(paths.wouldMove('y.eml#attachment-1#derived-2')).toBe(false);
    // and goes back to the first path freed before it, the row of a file that is gone included
    expect(paths.wouldMove('w.eml#attachment-1#derived-2')).toBe(true);
    expect(paths.wouldMove('y.eml#attachment-1#derived-3')).toBe(true);
    expect(paths.wouldMove('z.eml#attachment-1#derived-2')).toBe(true);
    // a claim steps aside for a kept row of another file, not for one of the file claiming
    expect(paths.forFile('w.eml').claim('y.eml#attachment-1')).toEqual({ path: 'y.eml#attachment-1#derived-2', note: 'another row already has the path y.eml#attachment-1' });
    expect(new DerivedPaths(root, (path) => kept.get(path) ?? null).forFile('y.eml').claim('y.eml#attachment-1')).toEqual({ path: 'y.eml#attachment-1', note: null });
    expect(paths.forFile('w.eml').claim('z.eml#attachment-1')).toEqual({ path: 'z.eml#attachment-1', note: null });
  });

  // The root's own name is read as the walk writes paths (docs/discovery.md, "Paths as text"):
  // a root named with text that reads as an escape must not be decoded into another directory.
  it('finds the files of a dump whose directory name holds escape-like text', () => {
    const root = join(dir, 'case \\x41');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'x.eml#attachment-1'), 'a file of the dump');
    expect(new DerivedPaths(root).claim('x.eml#attachment-1')).toEqual({ path: 'x.eml#attachment-1#derived-2', note: 'a file of the dump is named x.eml#attachment-1' });
  });
});

describe('leakcheck verify on a dump with files named like the rows of forwarded and zipped messages', () => {
  it('keeps every message: the derived rows step aside, with a note', () => {
    const dump = join(dir, 'dump');
    mkdirSync(join(dump, 'inbox'), { recursive: true });
    mkdirSync(join(dump, 'exports', `mailbox-export.zip!export`), { recursive: true });
    copyFileSync(join(DEMO, FORWARDED), join(dump, FORWARDED));
    copyFileSync(join(DEMO, FORWARDED), join(dump, `${FORWARDED}#attachment-1`));
    copyFileSync(join(DEMO, ZIP), join(dump, ZIP));
    copyFileSync(join(DEMO, FORWARDED), join(dump, `${ZIP}!${ZIPPED}`));
    const db = join(dir, 'dump.db');
    const run = runCliMeasured(['verify', dump, '--keys', join(ROOT, 'fixtures', 'demo-keys.json'), '--offline', '--db', db, '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    const { files, messages } = readResults(db);
    const byPath = new Map(files.map((f) => [f.path, f]));
    // the files of the dump keep their own paths
    expect(byPath.get(`${FORWARDED}#attachment-1`)).toMatchObject({ kind: 'eml', message_count: 1 });
    expect(byPath.get(`${ZIP}!${ZIPPED}`)).toMatchObject({ kind: 'eml', message_count: 1 });
    // the forwarded message and the zip entry they would have hidden are there, under paths of their own
    expect(byPath.get(`${FORWARDED}#attachment-1#derived-2`)).toMatchObject({
      kind: 'embedded',
      message_count: 1,
      detail: `a file of the dump is named ${FORWARDED}#attachment-1`,
    });
    expect(byPath.get(`${ZIP}!${ZIPPED}#derived-2`)).toMatchObject({ kind: 'zip-entry', message_count: 1, detail: `a file of the dump is named ${ZIP}!${ZIPPED}` });
    // 3 loose files with a message each (one of them forwards one), 2 zip entries (one forwards one), and the forwarded message of the loose copy
    expect(messages).toHaveLength(8);
    expect(new Set(files.map((f) => f.path)).size).toBe(files.length);
  });
});

/**
 * A re-run does not re-read an unchanged file, so the rows it found inside it last time stay. A
 * file named like one of them that appears, or one that pushed such a row aside and goes, must
 * leave the database as a fresh run on the final dump would make it: the same rows, the same
 * verdicts. The chain of custody says what happened to the files of the dump, and nothing else.
 */
describe('re-running with files named like the rows of forwarded and zipped messages', () => {
  const PLANTED = [`${FORWARDED}#attachment-1`, `${ZIP}!${ZIPPED}`];
  let runs = 0;
  /** A dump of the given files of the demo dump, each planted path holding a copy of the forwarding message. */
  const makeDump = (parents: string[], planted: string[]): string => {
    const dump = join(dir, `rerun-${++runs}`);
    for (const path of parents) {
      mkdirSync(join(dump, path, '..'), { recursive: true });
      copyFileSync(join(DEMO, path), join(dump, path));
    }
    plant(dump, planted);
    return dump;
  };
  const plant = (dump: string, planted: string[]): void => {
    for (const path of planted) {
      mkdirSync(join(dump, path, '..'), { recursive: true });
      copyFileSync(join(DEMO, FORWARDED), join(dump, path));
    }
  };
  // In process, on the main thread: the scenarios are about the store, and a CLI run per
  // verification (fifteen of them) took most of this file's time.
  const verify = async (dump: string, db: string): Promise<void> => {
    await runVerify({ dumpRoot: dump, dbPath: db, keyFiles: [join(ROOT, 'fixtures', 'demo-keys.json')], offline: true, concurrency: 0 });
  };
  /**
   * Verifies the dump as it is now on `db`, and on a fresh database: the two must hold the same
   * rows, messages and verdicts. Returns the re-run's rows.
   */
  const rerunAsFresh = async (dump: string, db: string): Promise<FileRow[]> => {
    await verify(dump, db);
    const freshDb = join(dir, `fresh-${++runs}.db`);
    await verify(dump, freshDb);
    const rerun = readResults(db);
    const fresh = readResults(freshDb);
    expect(rerun.files).toEqual(fresh.files);
    expect(rerun.messages).toEqual(fresh.messages);
    return rerun.files;
  };
  /** The custody records of files removed and added, by path, as `file_changes` holds them. */
  const changes = (removed: string[], added: string[] = []): Array<{ path: string; change: string }> =>
    [...removed.map((path) => ({ path, change: 'removed' })), ...added.map((path) => ({ path, change: 'added' }))].sort((a, b) => (a.path < b.path ? -1 : 1));
  const custody = (db: string): Array<{ path: string; change: string }> => {
    const store = new Database(db, { readonly: true });
    try {
      return store.prepare('SELECT path, change FROM file_changes ORDER BY path').all() as Array<{ path: string; change: string }>;
    } finally {
      store.close();
    }
  };

  it('a file that appears under the path of a row found in an unchanged file leaves that row where a fresh run puts it', async () => {
    const dump = makeDump([FORWARDED, ZIP], []);
    const db = join(dir, 'appears.db');
    await verify(dump, db);
    plant(dump, PLANTED);
    const byPath = new Map((await rerunAsFresh(dump, db)).map((f) => [f.path, f]));
    for (const path of PLANTED) {
      expect(byPath.get(path)).toMatchObject({ kind: 'eml', message_count: 1 });
      expect(byPath.get(`${path}#derived-2`)).toMatchObject({ message_count: 1, detail: `a file of the dump is named ${path}` });
    }
    // the new files are additions to the dump: no file of it changed
    expect(custody(db)).toEqual(changes([], PLANTED));
  });

  it('a file that had pushed such a row aside and is gone gives the row its own path back', async () => {
    const dump = makeDump([FORWARDED, ZIP], PLANTED);
    const db = join(dir, 'goes.db');
    await verify(dump, db);
    for (const path of PLANTED) rmSync(join(dump, path));
    expect((await rerunAsFresh(dump, db)).map((f) => f.path)).toEqual(expect.arrayContaining(PLANTED));
    expect(custody(db)).toEqual(changes(PLANTED));
  });

  it('a file that is gone while a new file would find a row at its path is recorded as removed', async () => {
    const dump = makeDump([], PLANTED);
    const db = join(dir, 'replaced.db');
    await verify(dump, db);
    for (const path of PLANTED) rmSync(join(dump, path));
    for (const path of [FORWARDED, ZIP]) copyFileSync(join(DEMO, path), join(dump, path));
    expect((await rerunAsFresh(dump, db)).map((f) => f.path)).toEqual(expect.arrayContaining(PLANTED));
    expect(custody(db)).toEqual(changes(PLANTED, [FORWARDED, ZIP]));
  });

  it('a file read again never takes the path of a row found in a file that is not: the forwarded messages of both stay', async () => {
    // The first message of `box.mbox` and the file `box.mbox#0` both forward a message, which both
    // would call `box.mbox#0#attachment-1`. One of them gets `…#derived-2`; reading the other
    // again must not give it the path the first one's row keeps.
    const dump = makeDump([], []);
    mkdirSync(dump, { recursive: true });
    const forwarding = readFileSync(join(DEMO, FORWARDED));
    writeFileSync(join(dump, 'box.mbox'), Buffer.concat([Buffer.from('From board@example.com Tue Oct  2 09:00:00 2018\r\n'), forwarding]));
    writeFileSync(join(dump, 'box.mbox#0'), forwarding);
    const db = join(dir, 'two-holders.db');
    await verify(dump, db);
    for (const [n, path] of ['box.mbox', 'box.mbox#0'].entries()) {
      utimesSync(join(dump, path), 1_500_000_000 + n, 1_500_000_000 + n);
      expect((await rerunAsFresh(dump, db)).map((f) => f.path)).toEqual(['box.mbox', 'box.mbox#0', 'box.mbox#0#attachment-1', 'box.mbox#0#attachment-1#derived-2']);
    }
  });

  it('a file that takes the path of a row whose parent is gone is a file of its own, and the parent is recorded as removed', async () => {
    const dump = makeDump([FORWARDED, ZIP], []);
    const db = join(dir, 'orphaned.db');
    await verify(dump, db);
    for (const path of [FORWARDED, ZIP]) rmSync(join(dump, path));
    plant(dump, PLANTED);
    expect((await rerunAsFresh(dump, db)).filter((f) => PLANTED.includes(f.path))).toMatchObject([{ kind: 'eml' }, { kind: 'eml' }]);
    expect(custody(db)).toEqual(changes([FORWARDED, ZIP], PLANTED));
  });
});
