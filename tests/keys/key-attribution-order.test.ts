/**
 * Red team 28, H-04: when the same key record is in two files, the record that speaks for it (its
 * origin in `signatures.key_origin`, the file an explanation names) was the one that entered the
 * store first. The same dump and the same keys then gave other explanations for `--keys A --keys B`
 * than for `--keys B --keys A`, and another again after a run with part of the keys. The tie
 * between records of equal rank is now broken by the file's name.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_DUMP, DEMO_KEYS, tempDir } from '../helpers/cli.ts';
import { exportJsonl } from '../helpers/in-process.ts';

describe('which of two files holding the same key record an explanation names (red team 28, H-04)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let a: string;
  let b: string;
  const db = (name: string): string => join(tmp.path, `${name}.db`);
  const verify = (name: string, ...keyFiles: string[]) => runVerify({ dumpRoot: DEMO_DUMP, dbPath: db(name), keyFiles, offline: true });
  const exported = (name: string): string => exportJsonl(db(name));
  beforeEach(() => {
    tmp = tempDir();
    a = join(tmp.path, 'A.json');
    b = join(tmp.path, 'B.json');
    writeFileSync(a, readFileSync(DEMO_KEYS));
  });
  afterEach(() => tmp.cleanup());

  it('the same two files in either order give the same export, naming the file whose name sorts first', async () => {
    writeFileSync(b, readFileSync(DEMO_KEYS));
    await verify('ab', a, b);
    await verify('ba', b, a);
    await verify('b-then-a', b);
    await verify('b-then-a', a);

    const ab = exported('ab');
    expect(ab).toContain('from file A.json');
    expect(ab).not.toContain('B.json');
    expect(exported('ba')).toBe(ab);
    expect(exported('b-then-a')).toBe(ab);
  });

  it('a run with part of the keys first, then all of them: the export of a fresh database given both files', async () => {
    const all = JSON.parse(readFileSync(DEMO_KEYS, 'utf8')) as Record<string, unknown>;
    writeFileSync(b, JSON.stringify(Object.fromEntries(Object.entries(all).filter((_, i) => i % 2 === 0))));
    await verify('history', b);
    expect(exported('history')).toContain('from file B.json');
    await verify('history', a);
    await verify('fresh', b, a);

    expect(exported('history')).not.toContain('B.json');
    expect(exported('history')).toBe(exported('fresh'));
  });
});
