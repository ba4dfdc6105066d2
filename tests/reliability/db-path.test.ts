/*
 * Where `verify --db` may write, and how a file named on the command line that cannot be read is
 * reported (red team round 4, 11).
 */
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';

const tmp = tempDir('leakcheck-dbpath-');
const dump = join(tmp.path, 'dump');
afterAll(() => tmp.cleanup());
beforeAll(() => {
  mkdirSync(dump);
  writeFileSync(join(dump, 'a.eml'), 'From: a@b.example\r\nSubject: x\r\n\r\nhi\r\n');
});

function verify(db: string, ...more: string[]): ReturnType<typeof runCli> {
  return runCli(['verify', dump, '--offline', '--db', db, '--quiet', ...more]);
}

describe('verify --db that leads into the dump through its own name', () => {
  const cases: Array<[string, () => string]> = [
    ['a dangling symlink whose target is inside the dump', () => link('dangling.db', join(dump, 'case.db'))],
    ['a symlink to a symlink to a file inside the dump', () => link('twice.db', link('once.db', join(dump, 'twice-target.db')))],
    ['a relative symlink climbing back into the dump', () => link('relative.db', 'dump/sub/../rel.db')],
    ['a name whose .lock would be made inside the dump', () => (link('locked.db.lock', join(dump, 'x.lock')), join(tmp.path, 'locked.db'))],
  ];
  function link(name: string, target: string): string {
    const path = join(tmp.path, name);
    symlinkSync(target, path);
    return path;
  }

  for (const [what, make] of cases) {
    it(`is refused with exit 2 and nothing is created: ${what}`, () => {
      const run = verify(make());
      expect(run.status, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/inside the dump/);
      expect(readdirSync(dump)).toEqual(['a.eml']);
    });
  }

  it('a symlink to a place outside the dump is still accepted, and the database is made there', () => {
    mkdirSync(join(tmp.path, 'case'));
    const run = verify(link('outside.db', join(tmp.path, 'case', 'real.db')));
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(join(tmp.path, 'case'))).toContain('real.db');
    expect(readdirSync(dump)).toEqual(['a.eml']);
  });

  it('a loop of symlinks is a usage error, not a crash', () => {
    link('loop-a.db', join(tmp.path, 'loop-b.db'));
    const run = verify(link('loop-b.db', join(tmp.path, 'loop-a.db')));
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).not.toMatch(/unexpected error/);
  });
});

describe('a --keys or --compromised file that cannot be read', () => {
  for (const [flag, path, why] of [
    ['--keys', join(tmp.path, 'missing.json'), 'no such file'],
    ['--keys', tmp.path, 'is a directory'],
    ['--compromised', join(tmp.path, 'missing.txt'), 'no such file'],
  ] as const) {
    it(`${flag} ${why}: usage error (exit 2) that names it, no stack trace, no database`, () => {
      const db = join(tmp.path, `never-${flag.slice(2)}-${why.replace(/ /g, '-')}.db`);
      const run = verify(db, flag, path);
      expect(run.status, run.stderr).toBe(2);
      expect(run.stderr).toContain(`${flag} ${path}: cannot read it (${why})`);
      expect(run.stderr).not.toMatch(/unexpected error|\n\s+at /);
      expect(readdirSync(tmp.path)).not.toContain(db.slice(tmp.path.length + 1));
    });
  }
});

// Red team Z, Z-07: the same mistakes outside verify's own flags ended as "unexpected error" with a
// stack trace, exit 3 (a runtime failure a script retries), not as usage errors.
describe('bad values outside verify\'s own flags are usage errors too', () => {
  const keys = join(tmp.path, 'keys.db');
  beforeAll(() => {
    writeFileSync(join(tmp.path, 'keys.json'), JSON.stringify({}));
    expect(runCli(['keys', 'import', '--db', keys, join(tmp.path, 'keys.json')]).status).toBe(0);
    mkdirSync(join(tmp.path, 'folder.db'));
  });
  for (const [what, args, said] of [
    ['keys fetch --concurrency 0', ['keys', 'fetch', '--db', keys, '--concurrency', '0'], /--concurrency <n>' argument '0' is invalid\. expected a whole number ≥ 1/],
    ['keys fetch --concurrency abc', ['keys', 'fetch', '--db', keys, '--concurrency', 'abc'], /--concurrency <n>' argument 'abc' is invalid/],
    ['keys fetch --timeout abc', ['keys', 'fetch', '--db', keys, '--timeout', 'abc'], /--timeout <ms>' argument 'abc' is invalid/],
    ['keys fetch --timeout -1', ['keys', 'fetch', '--db', keys, '--timeout', '-1'], /--timeout <ms>' argument '-1' is invalid/],
    ['keys import of a missing file', ['keys', 'import', '--db', join(tmp.path, 'never-import.db'), join(tmp.path, 'missing-keys.json')], /^leakcheck: keys import .*missing-keys\.json: cannot read it \(no such file\)\n$/],
    ['--db a directory (a reader)', ['export', '--format', 'csv', '--db', join(tmp.path, 'folder.db')], /^leakcheck: --db .*folder\.db is a directory, not a database file\n$/],
    ['--db a directory (verify)', ['verify', dump, '--offline', '--quiet', '--db', join(tmp.path, 'folder.db')], /^leakcheck: --db .*folder\.db is a directory, not a database file\n$/],
    ['--db a directory (keys list)', ['keys', 'list', '--db', join(tmp.path, 'folder.db')], /^leakcheck: --db .*folder\.db is a directory, not a database file\n$/],
  ] as const) {
    it(`${what}: exit 2, said in one line, no stack trace`, () => {
      const run = runCli([...args]);
      expect(run.status, run.stderr).toBe(2);
      expect(run.stderr).toMatch(said);
      expect(run.stderr).not.toMatch(/unexpected error|\n\s+at /);
    });
  }

  it('keys import reads its files before it creates the database', () => {
    expect(readdirSync(tmp.path)).not.toContain('never-import.db');
  });
});

// Red team AA, AA-18: `--db l/../x.db` through a linked folder names, to the system, the x.db
// beside the link's target; the database was opened as the lexical ./x.db while the checks asked
// about the other: a complete verify ended "no such database", and so did every reader.
describe('a --db whose path has a .. after a link', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('is the file the system names, for verify and the readers alike', () => {
    mkdirSync(join(tmp.path, 'a/b'), { recursive: true });
    symlinkSync('a/b', join(tmp.path, 'l'));
    const verify = runCli(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', 'l/../x.db', '--quiet'], { cwd: tmp.path });
    expect(verify.status, verify.stderr).toBe(0);
    expect(readdirSync(join(tmp.path, 'a'))).toContain('x.db');
    expect(readdirSync(tmp.path)).not.toContain('x.db');
    const exported = runCli(['export', '--format', 'csv', '--db', 'l/../x.db'], { cwd: tmp.path });
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stdout.split('\r\n').filter(Boolean)).toHaveLength(31);
  });
});
