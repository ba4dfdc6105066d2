import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireRunLock, RunLockedError } from '../../src/store/run-lock.ts';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_DUMP, DEMO_KEYS, tempDir } from '../helpers/cli.ts';

const tmp = tempDir('leakcheck-lock-');
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
});
