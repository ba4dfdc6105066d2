import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireRunLock, RunLockedError } from '../../src/store/run-lock.ts';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_DUMP, DEMO_KEYS, tempDir } from '../helpers/cli.ts';

const tmp = tempDir('leakcheck-lock-');
const ownLock = (db: string): { pid: number; started: number } & Record<string, unknown> => JSON.parse(readFileSync(`${db}.lock`, 'utf8'));
afterAll(() => tmp.cleanup());

describe('the run lock', () => {
  it('is never seen empty: it holds its owner from the moment it exists, and leaves no draft behind', () => {
    const db = join(tmp.path, 'owned.db');
    const release = acquireRunLock(db);
    const owner = JSON.parse(readFileSync(`${db}.lock`, 'utf8')) as { pid: number; host: string };
    expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
    expect(readdirSync(tmp.path).filter((f) => f.startsWith('owned.db'))).toEqual(['owned.db.lock']);
    expect(() => acquireRunLock(db)).toThrow(/another leakcheck verify \(pid \d+/);
    release();
    expect(existsSync(`${db}.lock`)).toBe(false);
    acquireRunLock(db)();
  });

  it('takes an unreadable lock for one being written while it is young, and for a leftover once it is old', () => {
    const db = join(tmp.path, 'unreadable.db');
    writeFileSync(`${db}.lock`, '');
    expect(() => acquireRunLock(db)).toThrow(/another run is starting/);
    expect(existsSync(`${db}.lock`)).toBe(true);
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(`${db}.lock`, anHourAgo, anHourAgo);
    const release = acquireRunLock(db);
    expect(JSON.parse(readFileSync(`${db}.lock`, 'utf8')).pid).toBe(process.pid);
    release();
  });

  // Red team Z, Z-14: the liveness test was host and kill(pid, 0): a verify killed as a container's
  // pid 1 left a lock that pid 1 (always alive) kept for ever, and a reused pid did the same.
  it('tells the process that wrote it from another with its pid: a lock of pid 1, or of a reused pid, is taken over', () => {
    const db = join(tmp.path, 'reused.db');
    const releaseFirst = acquireRunLock(db);
    const mine = ownLock(db);
    releaseFirst();
    expect(mine).toMatchObject({ pid: process.pid, command: 'verify', boot: expect.any(String), pidNamespace: expect.any(String), started: expect.any(Number) });
    for (const other of [{ ...mine, pid: 1 }, { ...mine, started: mine.started + 1 }, { ...mine, boot: 'a boot before the last restart' }]) {
      writeFileSync(`${db}.lock`, JSON.stringify(other));
      const release = acquireRunLock(db);
      expect(ownLock(db)).toMatchObject({ pid: process.pid, started: mine.started, boot: mine.boot });
      release();
    }
    // the same instance is live: refused
    writeFileSync(`${db}.lock`, JSON.stringify(mine));
    expect(() => acquireRunLock(db)).toThrow(/another leakcheck verify \(pid \d+/);
    // Red team AA, AA-14: a start time written in another time namespace reads otherwise from
    // here (its boot clock offset): a live pid is then not judged by it, and stays live
    // (recorded where the kernel has time namespaces, Linux 5.6 and later)
    if (existsSync('/proc/self/ns/time')) expect(mine.timeNamespace).toEqual(expect.stringMatching(/^time:\[\d+\]$/));
    writeFileSync(`${db}.lock`, JSON.stringify({ ...mine, started: mine.started + 8_640_000, timeNamespace: 'time:[1]' }));
    expect(() => acquireRunLock(db)).toThrow(/another leakcheck verify \(pid \d+/);
  });

  // Red team Z, Z-10: the lock was named after --db as typed, so a second verify reaching the
  // database through a symlink found no lock and wrote into the database the first was writing.
  it('is one lock for every name of the database: a symlink to it, or to its folder', async () => {
    const db = join(tmp.path, 'evidence.db');
    const workspace = join(tmp.path, 'ci-workspace');
    mkdirSync(workspace);
    symlinkSync(db, join(workspace, 'leakcheck.db'));
    symlinkSync(tmp.path, join(workspace, 'evidence-folder'));
    const names = [join(workspace, 'leakcheck.db'), join(workspace, 'evidence-folder', 'evidence.db'), join(workspace, '..', 'evidence.db')];
    // before the database exists (the link is dangling), and after
    for (const created of [false, true]) {
      if (created) writeFileSync(db, '');
      const release = acquireRunLock(db);
      try {
        for (const name of names) expect(() => acquireRunLock(name)).toThrow(/another leakcheck verify \(pid \d+/);
        await expect(runVerify({ dumpRoot: DEMO_DUMP, dbPath: names[0]!, keyFiles: [DEMO_KEYS], offline: true })).rejects.toThrow(RunLockedError);
        // refused before it opened, created or changed the database
        expect(existsSync(db) && readFileSync(db, 'utf8')).toBe(created && '');
      } finally {
        release();
      }
      expect(readdirSync(workspace).sort()).toEqual(['evidence-folder', 'leakcheck.db']);
    }
  });

  it('says why when it cannot be created', () => {
    const db = join(tmp.path, 'no-such-folder', 'x.db');
    expect(() => acquireRunLock(db)).toThrow(RunLockedError);
    expect(() => acquireRunLock(db)).toThrow(/its folder does not exist/);
  });

  it('is taken before the database is opened: a refused run neither creates nor changes it', async () => {
    const db = join(tmp.path, 'held.db');
    writeFileSync(`${db}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), since: '2026-12-03T00:00:00Z' }));
    await expect(runVerify({ dumpRoot: DEMO_DUMP, dbPath: db, keyFiles: [DEMO_KEYS], offline: true })).rejects.toThrow(RunLockedError);
    expect(existsSync(db)).toBe(false);
  });

  it('a lock caught while it has two names (being taken) is a busy database; a file of the dump under its name is still refused', async () => {
    // on the dump's file system: there, a second name may be a file of the dump
    const dump = join(tmp.path, 'dump');
    mkdirSync(dump);
    copyFileSync(join(DEMO_DUMP, 'inbox/2017-02-14 Q1 budget.eml'), join(dump, 'budget.eml'));
    const db = join(tmp.path, 'busy.db');
    // what a run taking the lock leaves for a moment: its draft, linked to the lock's name
    const draft = `${db}.lock.${process.pid}.draft`;
    writeFileSync(draft, JSON.stringify({ pid: process.pid, host: hostname(), since: '2026-12-05T00:00:00Z' }));
    linkSync(draft, `${db}.lock`);
    const busy = runVerify({ dumpRoot: dump, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    await expect(busy).rejects.toThrow(RunLockedError);
    await expect(busy).rejects.toThrow(/another leakcheck verify \(pid \d+/);
    expect(existsSync(db)).toBe(false);
    // a name given to a file of the dump is not a lock, whatever it holds
    const planted = join(tmp.path, 'planted.db');
    linkSync(join(dump, 'budget.eml'), `${planted}.lock`);
    await expect(runVerify({ dumpRoot: dump, dbPath: planted, keyFiles: [DEMO_KEYS], offline: true })).rejects.toThrow(/2 names \(hard links\)/);
    expect(readFileSync(join(dump, 'budget.eml'))).toEqual(readFileSync(join(DEMO_DUMP, 'inbox/2017-02-14 Q1 budget.eml')));
  });
});
