/**
 * The one-pass check of a key-store file (scanKeyStoreFile) against the whole reading
 * (parseKeyFile), on files mutated at random: the pass must never take a file the whole reading
 * refuses (every refusal is worded by the whole reading), and what it takes it must read as the
 * whole reading does. Repeats are compared as the key store keeps them: the first of a key
 * record (keyIdentity) wins, the others are ignored, here and in the store alike.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyIdentity } from '../../src/keys/import/common.ts';
import { parseKeyFile } from '../../src/keys/import/parse-key-file.ts';
import type { ImportedKey } from '../../src/keys/import/types.ts';
import { readIndexedRecords, scanKeyStoreFile } from '../../src/keys/key-store-file-index.ts';
import { tempDir } from '../helpers/cli.ts';
import { ED_TXT, RSA_TXT } from './fixtures.ts';

const tmp = tempDir('leakcheck-key-store-fuzz-');
afterAll(() => tmp.cleanup());

/** A small seeded generator, so that a failure names the case that made it. */
function generator(seed: number): { below: (n: number) => number; pick: <T>(items: readonly T[]) => T } {
  let state = seed;
  const below = (n: number): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
  return { below, pick: (items) => items[below(items.length)]! };
}

/** What a mutation inserts: JSON's structure, escapes, and members the format has or refuses. */
const INSERTS = ['"', '\\', ',', '{', '}', '[', ']', ':', '0', '-', 'e', 'null', 'true', ' ', '\n', '\t', '\\u0000', '\\"', 'é', '\u2028', '\ufeff', '1e400', '"_x":1,', '"keys":[],', '"version":1,', '"format":"leakcheck-key-store",'];

function mutatedFile(seed: number): string {
  const { below, pick } = generator(seed);
  const keys = Array.from({ length: 1 + below(5) }, () =>
    below(4) === 0
      ? { domain: `d${below(3)}.example`, selector: `s${below(4)}`, value: pick([RSA_TXT, null]), provenance: 'dns', origin: 'system resolver', originSha256: null, firstSeenAt: null, lastSeenAt: null, fetchedAt: '2026-01-01T00:00:00.000Z', dnsAnswer: pick([null, { status: 'x', n: [1, { y: 'a"}' }] }]) }
      : { domain: `d${below(3)}.example`, selector: `s${below(4)}`, value: pick([RSA_TXT, ED_TXT]), provenance: pick(['archive', 'file']), origin: pick(['a', 'b "q"', 'é']), originSha256: pick([null, 'ab'.repeat(32)]), firstSeenAt: pick([null, '2016-01-01T00:00:00.000Z']), lastSeenAt: pick([null, '2020-01-01T00:00:00.000Z']), fetchedAt: null, dnsAnswer: null },
  );
  const file = { format: 'leakcheck-key-store', version: 1, _about: 'x', keys, compromised: [{ fingerprint: 'ab'.repeat(32), list: '/l', listSha256: 'cd'.repeat(32) }] };
  let text = JSON.stringify(file, null, below(2) ? 1 : 0);
  for (let m = below(3); m > 0; m--) {
    const at = below(text.length + 1);
    const kind = below(4);
    if (kind === 0) text = text.slice(0, at) + pick(INSERTS) + text.slice(at);
    else if (kind === 1) text = text.slice(0, at) + text.slice(at + 1 + below(3));
    else if (kind === 2) {
      const from = below(text.length);
      text = text.slice(0, at) + text.slice(from, from + below(20)) + text.slice(at);
    } else text = text.slice(0, at) + String.fromCharCode(below(128)) + text.slice(at + 1);
  }
  return text;
}

/** A name's records as the key store keeps them: the first of each key record. */
function asStored(keys: readonly ImportedKey[]): ImportedKey[] {
  const seen = new Set<string>();
  return keys.filter((key) => !seen.has(keyIdentity(key)) && Boolean(seen.add(keyIdentity(key))));
}

describe('a key-store file checked in one pass, against the whole reading, on 1,500 mutated files', () => {
  it('takes no file the whole reading refuses, and reads each file it takes as the whole reading does', () => {
    let taken = 0;
    for (let seed = 1; seed <= 1500; seed++) {
      const path = join(tmp.path, `case-${seed}.json`);
      writeFileSync(path, mutatedFile(seed));
      const scan = scanKeyStoreFile(path, { index: true });
      if (!scan) continue;
      taken++;
      let whole;
      try {
        whole = parseKeyFile(readFileSync(path), path);
      } catch (err) {
        throw new Error(`case ${seed}: the pass took a file the whole reading refuses (${(err as Error).message})`);
      }
      expect(scan.compromised, `case ${seed}`).toEqual(whole.compromised);
      for (const name of new Set(whole.keys.map((k) => k.name))) {
        expect(asStored(readIndexedRecords(path, scan.index!, name)), `case ${seed}, ${name}`).toEqual(whole.keys.filter((k) => k.name === name));
      }
    }
    // about half the files stay valid: the comparison is not vacuous
    expect(taken).toBeGreaterThan(500);
  });
});
