/**
 * Red team 28, H-08: `runs.command_line` was argv joined with spaces. `verify "my dump"` could not
 * be told from `verify my dump`, the working directory that relative arguments meant was not
 * recorded, and pasting the line into a shell ran whatever `$(…)` a dump's, key file's or
 * database's name held. The run now records its arguments as a JSON array with the working
 * directory, and the command line shell-quoted.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';

describe('the command a run records (red team 28, H-08)', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('every argument as given, the working directory, and a command line a shell reads back to the same arguments', () => {
    const cwd = realpathSync(tmp.path);
    cpSync(DEMO_DUMP, join(cwd, 'my dump'), { recursive: true });
    copyFileSync(DEMO_KEYS, join(cwd, 'k e y s.json'));
    const dbName = "x;$(touch pwned)'q.db";
    const args = ['verify', 'my dump', '--keys', 'k e y s.json', '--offline', '--db', dbName, '--quiet'];
    const run = runCli(args, { cwd });
    expect(run.status, run.stderr).toBe(0);

    const store = new Database(join(cwd, dbName), { readonly: true });
    const recorded = store.prepare('SELECT command_line, argv_json, cwd FROM runs').get() as { command_line: string; argv_json: string; cwd: string };
    store.close();
    expect(JSON.parse(recorded.argv_json)).toEqual(['leakcheck', ...args]);
    expect(recorded.cwd).toBe(cwd);
    expect(recorded.command_line).toBe(`leakcheck verify 'my dump' --keys 'k e y s.json' --offline --db 'x;$(touch pwned)'\\''q.db' --quiet`);

    const readBack = spawnSync('sh', ['-c', `printf '%s\\0' ${recorded.command_line}`], { cwd, encoding: 'utf8' });
    expect(readBack.status, readBack.stderr).toBe(0);
    expect(readBack.stdout.split('\0').slice(0, -1)).toEqual(['leakcheck', ...args]);
    expect(existsSync(join(cwd, 'pwned'))).toBe(false);
  });
});
