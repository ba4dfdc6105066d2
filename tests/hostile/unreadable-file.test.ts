/**
 * Red team 28, G-03 (the variant of a file): a file a run read and recorded, which a later run
 * cannot read (its permissions changed, the run is another user's, a share mounted otherwise),
 * lost its analysis and verdicts to an `error / unreadable` row, and `verify --rehash --fail-on
 * changed`, the custody check, passed with no word of it. Nothing says the file changed (its size
 * and mtime are as recorded), nor that it is the same: it was not confirmed, and custody says so.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_DUMP, DEMO_KEYS, tempDir } from '../helpers/cli.ts';
import { canRunAsNobody, NOBODY, readFileChanges, readResults, runCliMeasured } from './support.ts';

const tmp = tempDir('leakcheck-unreadable-');
afterAll(() => {
  spawnSync('chmod', ['-R', 'u+rwX,go+rX', tmp.path]);
  tmp.cleanup();
});

const fileRow = (db: string, path: string): Record<string, unknown> | undefined => {
  const store = new Database(db, { readonly: true });
  try {
    return store.prepare('SELECT status, reason, size, sha256, run_id FROM source_files WHERE path = ?').get(path) as Record<string, unknown> | undefined;
  } finally {
    store.close();
  }
};

/** A dump of demo messages, readable by all, and a database folder that `nobody` may write. */
function setUp(name: string, files: Record<string, string>): { dump: string; db: string } {
  chmodSync(tmp.path, 0o755);
  const dump = join(tmp.path, name);
  for (const [to, from] of Object.entries(files)) {
    mkdirSync(join(dump, to, '..'), { recursive: true });
    cpSync(join(DEMO_DUMP, from), join(dump, to));
  }
  spawnSync('chmod', ['-R', 'a+rX', dump]);
  const dbDir = join(tmp.path, `${name}-db`);
  mkdirSync(dbDir);
  spawnSync('chown', [`${NOBODY}:${NOBODY}`, dbDir]);
  return { dump, db: join(dbDir, 'r.db') };
}

const verify = (dump: string, db: string, extra: string[], expected: number): string => {
  const run = runCliMeasured(['verify', dump, '--offline', '--db', db, '--quiet', '--fail-on', 'changed', ...extra], { asUser: NOBODY });
  expect(run.status, run.stderr).toBe(expected);
  return run.stdout;
};

const BUDGET = 'inbox/2017-02-14 Q1 budget.eml';
const MIGRATION = 'inbox/2016-10-04 Server migration.eml';

describe.runIf(canRunAsNobody())('a file read before that a later run cannot read', () => {
  it('keeps its analysis and verdict under --rehash, records it unconfirmed, and fails --fail-on changed', () => {
    const { dump, db } = setUp('rehash', { 'a.eml': BUDGET, 'c.eml': MIGRATION });
    verify(dump, db, ['--keys', DEMO_KEYS], 0);
    const before = readResults(db).messages.map((m) => [m.path, m.verdict]);
    expect(before).toContainEqual(['a.eml', 'verified']);
    const recorded = fileRow(db, 'a.eml');
    const { size, mtimeMs } = statSync(join(dump, 'a.eml'));

    chmodSync(join(dump, 'a.eml'), 0o000);
    const summary = verify(dump, db, ['--keys', DEMO_KEYS, '--rehash'], 1);
    expect(readResults(db).messages.map((m) => [m.path, m.verdict])).toEqual(before);
    // the row as the run that read it wrote it, not an error row of this one
    expect(fileRow(db, 'a.eml')).toEqual(recorded);
    expect(readFileChanges(db)).toEqual([
      {
        run_id: 2, path: 'a.eml', change: 'unconfirmed', old_size: size, old_mtime_ms: mtimeMs, old_sha256: recorded!['sha256'],
        new_size: size, new_mtime_ms: mtimeMs, new_sha256: null, detail: expect.stringContaining('EACCES'),
      },
    ]);
    expect(summary).toMatch(/unconfirmed +a\.eml +\(run #2\)/);
    const custody = runCliMeasured(['custody', '--db', db]);
    expect(custody.stdout).toMatch(/unconfirmed +a\.eml .*could not be read/);
    expect(custody.stdout).toContain('1 unconfirmed');
    expect(runCliMeasured(['report', '--format', 'md', '--db', db]).stdout).toMatch(/\| 2 \| unconfirmed \| a\.eml \| \d+ \| `[0-9a-f]{16}`, not confirmed: could not be read \(EACCES/);
    expect(runCliMeasured(['report', '--format', 'html', '--db', db]).stdout).toContain('<td>unconfirmed</td><td class="path">a.eml</td>');

    // readable again: confirmed by its sha256, nothing more recorded
    chmodSync(join(dump, 'a.eml'), 0o644);
    verify(dump, db, ['--keys', DEMO_KEYS, '--rehash'], 0);
    expect(readFileChanges(db)).toHaveLength(1);
    expect(readResults(db).messages.map((m) => [m.path, m.verdict])).toEqual(before);
  });

  it('keeps it too when the run reads it again for another reason (keys imported since)', () => {
    const { dump, db } = setUp('keys', { 'a.eml': BUDGET });
    // no keys offline: the message waits for its key
    verify(dump, db, [], 0);
    const before = readResults(db).messages.map((m) => [m.path, m.verdict]);
    expect(before).toEqual([['a.eml', 'unverifiable']]);
    chmodSync(join(dump, 'a.eml'), 0o000);
    verify(dump, db, ['--keys', DEMO_KEYS], 1);
    expect(readResults(db).messages.map((m) => [m.path, m.verdict])).toEqual(before);
    expect(readFileChanges(db).map((c) => `${c.run_id} ${c.change} ${c.path}`)).toEqual(['2 unconfirmed a.eml']);
    // (still waiting for the key: read again, and verified, once it can be read)
    chmodSync(join(dump, 'a.eml'), 0o644);
    verify(dump, db, [], 0);
    expect(readResults(db).messages.map((m) => [m.path, m.verdict])).toEqual([['a.eml', 'verified']]);
  });

  it('keeps the files of a directory that can be listed but not searched, and records neither additions nor removals', () => {
    const { dump, db } = setUp('search', { 'box/b.eml': BUDGET, 'box/sub/c.eml': MIGRATION, 'd.eml': MIGRATION });
    verify(dump, db, ['--keys', DEMO_KEYS, '--fail-on', 'added'], 0);
    const before = readResults(db).messages.map((m) => [m.path, m.verdict]);
    expect(before).toHaveLength(3);
    // nobody may read the names in box, but not look at what they name
    chmodSync(join(dump, 'box'), 0o744);
    verify(dump, db, ['--keys', DEMO_KEYS, '--rehash'], 1);
    expect(readResults(db).messages.map((m) => [m.path, m.verdict])).toEqual(before);
    expect(readFileChanges(db).map((c) => `${c.run_id} ${c.change} ${c.path} ${c.new_size}`)).toEqual(['2 unconfirmed box/b.eml null']);
    chmodSync(join(dump, 'box'), 0o755);
    verify(dump, db, ['--keys', DEMO_KEYS, '--rehash', '--fail-on', 'added'], 0);
    expect(readResults(db).messages.map((m) => [m.path, m.verdict])).toEqual(before);
    expect(readResults(db).files.map((f) => f.path)).toEqual(['box/b.eml', 'box/sub/c.eml', 'd.eml']);
    expect(readFileChanges(db)).toHaveLength(1);
  });
});

// Red team Z, Z-11: a dump whose top folder the user cannot list (a CI runner that is not the
// evidence's owner) completed a run of nothing, passed every --fail-on, and the next run, able
// to list it, recorded every file of the evidence as added since.
describe.runIf(canRunAsNobody())('a dump whose top folder cannot be listed or reached', () => {
  it('is refused, exit 2, with no run recorded; once it can be listed, nothing is called added', () => {
    const { dump, db } = setUp('closed', { 'a.eml': BUDGET, 'c.eml': MIGRATION });
    chmodSync(dump, 0o700);
    const closed = runCliMeasured(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--fail-on', 'suspicious', '--fail-on', 'unverifiable'], { asUser: NOBODY });
    expect(closed.status, closed.stderr).toBe(2);
    expect(closed.stderr).toMatch(/cannot list the dump \(EACCES: permission denied\); nothing was verified/);
    chmodSync(dump, 0o755);
    verify(dump, db, ['--keys', DEMO_KEYS, '--fail-on', 'added'], 0);
    expect(readFileChanges(db)).toEqual([]);
    expect(readResults(db).messages.map((m) => m.path).sort()).toEqual(['a.eml', 'c.eml']);
  });

  it('one inside a folder the user cannot enter is "cannot reach", not "no such directory"', () => {
    const { dump, db } = setUp('behind/locked', { 'a.eml': BUDGET });
    chmodSync(join(tmp.path, 'behind'), 0o700);
    const run = runCliMeasured(['verify', dump, '--offline', '--db', db], { asUser: NOBODY });
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/cannot reach the dump \(EACCES: permission denied\)/);
  });
});

// Red team Z, Z-15: the record of a run handed over on read-only media (a write-blocked custody
// copy) could not be read: a database in WAL mode needs its -shm file created beside it.
describe('a database on media the reader cannot write', () => {
  it.runIf(canRunAsNobody())('is read by a user who may not write beside it', () => {
    const { dump, db } = setUp('handed-over', { 'a.eml': BUDGET });
    expect(runCliMeasured(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet']).status).toBe(0);
    // handed over as one file, as a database is copied (its owner's folder, which nobody may write)
    const copy = join(tmp.path, 'custody-copy');
    mkdirSync(copy);
    cpSync(db, join(copy, 'r.db'));
    chmodSync(copy, 0o755);
    const read = runCliMeasured(['export', '--format', 'csv', '--db', join(copy, 'r.db')], { asUser: NOBODY });
    expect(read.status, read.stderr).toBe(0);
    expect(read.stdout.split('\r\n').filter(Boolean)).toHaveLength(2);
  });
});

// Red team AA, AA-16: the read-only open looked for a -wal beside the name it was given, not
// beside the real file: read through a link, a log with changes not yet in the database was
// ignored, and the reader showed the database as it was before them.
describe.runIf(canRunAsNobody())('a database with a write-ahead log, read through a link, on media the reader cannot write', () => {
  it('is refused for its log, as it is by its own name', () => {
    const { dump, db } = setUp('wal-behind-link', { 'a.eml': BUDGET });
    expect(runCliMeasured(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet']).status).toBe(0);
    const media = join(tmp.path, 'wal-media');
    mkdirSync(media);
    // a copy taken while a writer had changes in its log: the log is copied with the database
    const writer = new Database(db);
    try {
      writer.pragma('wal_autocheckpoint = 0');
      writer.prepare("UPDATE verdicts SET explanation = explanation || ' (edited)'").run();
      expect(statSync(`${db}-wal`).size).toBeGreaterThan(0);
      cpSync(db, join(media, 'r.db'));
      cpSync(`${db}-wal`, join(media, 'r.db-wal'));
    } finally {
      writer.close();
    }
    chmodSync(media, 0o755);
    const desk = join(tmp.path, 'wal-desk');
    mkdirSync(desk);
    symlinkSync(join(media, 'r.db'), join(desk, 'evidence.db'));
    chmodSync(desk, 0o777);
    for (const name of [join(media, 'r.db'), join(desk, 'evidence.db')]) {
      const read = runCliMeasured(['export', '--format', 'csv', '--db', name], { asUser: NOBODY });
      expect(read.status, name).toBe(3);
      expect(read.stderr, name).toContain('holds changes not yet in it');
    }
  });
});

// Red team AA, AA-17: a database the user may not read was an "unexpected error" with a stack trace.
describe.runIf(canRunAsNobody())('a database the user may not read', () => {
  it('is one line, exit 3', () => {
    const { dump, db } = setUp('private-db', { 'a.eml': BUDGET });
    expect(runCliMeasured(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet']).status).toBe(0);
    spawnSync('chown', ['0:0', db]);
    chmodSync(db, 0o600);
    const read = runCliMeasured(['export', '--format', 'csv', '--db', db], { asUser: NOBODY });
    expect(read.status).toBe(3);
    expect(read.stderr).toBe(`leakcheck: ${db}: cannot read the database (EACCES)\n`);
  });
});
