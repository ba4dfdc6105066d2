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
import { caseRng, pick, randInt } from '../../src/fuzz/mutate.ts';
import { tempDir } from '../helpers/cli.ts';
import { mutateJsonText } from '../helpers/json-mutation.ts';
import { ED_TXT, RSA_TXT } from './fixtures.ts';

const tmp = tempDir('leakcheck-key-store-fuzz-');
afterAll(() => tmp.cleanup());

/** The cases are caseRng(SEED, n): a failure names the case to replay. */
const SEED = 36;

/** What a mutation inserts: JSON's structure, escapes, and members the format has or refuses. */
const INSERTS = ['"', '\\', ',', '{', '}', '[', ']', ':', '0', '-', 'e', 'null', 'true', ' ', '\n', '\t', '\\u0000', '\\"', 'é', '\u2028', '\ufeff', '1e400', '"_x":1,', '"keys":[],', '"version":1,', '"format":"leakcheck-key-store",'];

function mutatedFile(caseIndex: number): string {
  const rng = caseRng(SEED, caseIndex);
  const below = (n: number): number => randInt(rng, n);
  const choose = <T>(items: readonly T[]): T => pick(rng, items);
  const keys = Array.from({ length: 1 + below(5) }, () =>
    below(4) === 0
      ? { domain: `d${below(3)}.example`, selector: `s${below(4)}`, value: choose([RSA_TXT, null]), provenance: 'dns', origin: 'system resolver', originSha256: null, firstSeenAt: null, lastSeenAt: null, fetchedAt: '2026-01-01T00:00:00.000Z', dnsAnswer: choose([null, { status: 'x', n: [1, { y: 'a"}' }] }]) }
      : { domain: `d${below(3)}.example`, selector: `s${below(4)}`, value: choose([RSA_TXT, ED_TXT]), provenance: choose(['archive', 'file']), origin: choose(['a', 'b "q"', 'é']), originSha256: choose([null, 'ab'.repeat(32)]), firstSeenAt: choose([null, '2016-01-01T00:00:00.000Z']), lastSeenAt: choose([null, '2020-01-01T00:00:00.000Z']), fetchedAt: null, dnsAnswer: null },
  );
  const file = { format: 'leakcheck-key-store', version: 1, _about: 'x', keys, compromised: [{ fingerprint: 'ab'.repeat(32), list: '/l', listSha256: 'cd'.repeat(32) }] };
  const text = JSON.stringify(file, null, below(2) ? 1 : 0);
  return mutateJsonText(text, rng, INSERTS);
}

/** A name's records as the key store keeps them: the first of each key record. */
function asStored(keys: readonly ImportedKey[]): ImportedKey[] {
  const seen = new Set<string>();
  return keys.filter((key) => !seen.has(keyIdentity(key)) && Boolean(seen.add(keyIdentity(key))));
}

describe('a key-store file checked in one pass, against the whole reading, on 1,500 mutated files', () => {
  it('takes no file the whole reading refuses, and reads each file it takes as the whole reading does', () => {
    let taken = 0;
    for (let n = 1; n <= 1500; n++) {
      const path = join(tmp.path, `case-${n}.json`);
      writeFileSync(path, mutatedFile(n));
      const scan = scanKeyStoreFile(path, { index: true });
      if (!scan) continue;
      taken++;
      let whole;
      try {
        whole = parseKeyFile(readFileSync(path), path);
      } catch (err) {
        throw new Error(`case ${n}: the pass took a file the whole reading refuses (${(err as Error).message})`);
      }
      expect(scan.compromised, `case ${n}`).toEqual(whole.compromised);
      for (const name of new Set(whole.keys.map((k) => k.name))) {
        expect(asStored(readIndexedRecords(path, scan.index!, name)), `case ${n}, ${name}`).toEqual(whole.keys.filter((k) => k.name === name));
      }
    }
    // about half the files stay valid: the comparison is not vacuous
    expect(taken).toBeGreaterThan(500);
  });
});
