/**
 * Rows that stand for no file of the dump (a forwarded message, `a.eml#attachment-1`; an email in
 * an archive, `b.zip!inner.eml`) have paths that a file of the dump may also have: `#` and `!`
 * are legal in names. A forger who names a file that way must not make a message vanish by
 * having its row overwritten.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DerivedPaths } from '../../src/pipeline/derived-paths.ts';
import { ROOT } from '../helpers/cli.ts';
import { readResults, runCliMeasured } from './support.ts';

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
