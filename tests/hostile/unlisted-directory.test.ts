/**
 * Red team 28, G-03: a directory that a later run cannot list (an evidence share mounted with
 * other permissions, a run as another user) made the files below it "removed", their verdicts
 * deleted, and the directory itself "added"; listed again, it was "removed". Its files were not
 * reached, not removed, and a directory is no file of the dump.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_DUMP, DEMO_KEYS, tempDir } from '../helpers/cli.ts';
import { canRunAsNobody, NOBODY, readResults, runCliMeasured } from './support.ts';

const tmp = tempDir('leakcheck-unlisted-');
afterAll(() => {
  spawnSync('chmod', ['-R', 'u+rwX,go+rX', tmp.path]);
  tmp.cleanup();
});

const changes = (db: string): string[] => {
  const store = new Database(db, { readonly: true });
  try {
    return (store.prepare('SELECT run_id, change, path FROM file_changes ORDER BY id').all() as Array<{ run_id: number; change: string; path: string }>).map((c) => `${c.run_id} ${c.change} ${c.path}`);
  } finally {
    store.close();
  }
};

describe.runIf(canRunAsNobody())('a directory that a later run cannot list', () => {
  it('keeps the rows and verdicts below it, records no removal or addition, and none once it is listed again', () => {
    chmodSync(tmp.path, 0o755);
    const dump = join(tmp.path, 'dump');
    mkdirSync(join(dump, 'box'), { recursive: true });
    cpSync(join(DEMO_DUMP, 'inbox/2017-02-14 Q1 budget.eml'), join(dump, 'box/a.eml'));
    cpSync(join(DEMO_DUMP, 'inbox/2016-10-04 Server migration.eml'), join(dump, 'c.eml'));
    spawnSync('chmod', ['-R', 'a+rX', dump]);
    const dbDir = join(tmp.path, 'db');
    mkdirSync(dbDir);
    spawnSync('chown', [`${NOBODY}:${NOBODY}`, dbDir]);
    const db = join(dbDir, 'r.db');
    const verify = (asUser?: number): void => {
      const run = runCliMeasured(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet', '--fail-on', 'changed', '--fail-on', 'added'], asUser === undefined ? {} : { asUser });
      expect(run.status, run.stderr).toBe(0);
    };
    verify(NOBODY);
    const before = readResults(db).messages.map((m) => [m.path, m.verdict]);
    expect(before).toContainEqual(['box/a.eml', 'verified']);
    // the directory closed to the user who runs the next check
    chmodSync(join(dump, 'box'), 0o700);
    verify(NOBODY);
    const { messages, files } = readResults(db);
    expect(messages.map((m) => [m.path, m.verdict])).toEqual(before);
    expect(files.find((f) => f.path === 'box')).toMatchObject({ kind: 'directory', status: 'error', reason: 'unreadable' });
    // open again: the directory's row goes, as no file of the dump
    chmodSync(join(dump, 'box'), 0o755);
    verify(NOBODY);
    expect(readResults(db).files.map((f) => f.path)).not.toContain('box');
    expect(changes(db)).toEqual([]);
  });
});
