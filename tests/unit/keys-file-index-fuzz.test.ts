/**
 * The one-pass index of a `--keys` JSON map (indexKeysMap) against the whole reading, on maps
 * mutated at random: the index must never take a file the whole reading refuses (the refusal is
 * worded by the whole reading), and each name it takes must have the values the whole reading
 * gives it. The whole reading is spelled out here as loadKeysFile's whole path reads a map
 * (src/keys/keys-file.ts): parseJsonBytes, one object, each value a string or a list of strings,
 * each name a DKIM key name, names merged as the store normalizes them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJsonBytes } from '../../src/keys/import/json-text.ts';
import { indexKeysMap, isStorableKeyName, readIndexedValue } from '../../src/keys/keys-file-index.ts';
import { normalizeKeyName } from '../../src/keys/types.ts';
import { caseRng, pick, randInt } from '../../src/fuzz/mutate.ts';
import { tempDir } from '../helpers/cli.ts';
import { mutateJsonText } from '../helpers/json-mutation.ts';

const tmp = tempDir('leakcheck-keys-map-fuzz-');
afterAll(() => tmp.cleanup());

/** The cases are caseRng(SEED, n): a failure names the case to replay. */
const SEED = 36;

const NAMES = ['s1._domainkey.d.example', 'S1._domainkey.D.example', 's1._domainkey.d.example.', 's2._domainkey.d.example', 'sel._domainkey.xn--bcher-kva.example', 'é._domainkey.d.example', 'x'];
const VALUES = ['v=DKIM1; k=rsa; p=AAAA', 'p=', 'v=DKIM1; p="q\\"x"', '\u2028', 'é', ''];
const INSERTS = ['"', '\\', ',', '{', '}', '[', ']', ':', '0', 'null', ' ', '\n', '\\u0000', '\\"', '\\u00e9', 'é', '\ufeff', '"x":"y",', '"s3._domainkey.d.example":[],'];

function mutatedMap(caseIndex: number): string {
  const rng = caseRng(SEED, caseIndex);
  const below = (n: number): number => randInt(rng, n);
  const choose = <T>(items: readonly T[]): T => pick(rng, items);
  const map: Record<string, unknown> = {};
  for (let n = 1 + below(4); n > 0; n--) map[choose(NAMES)] = below(2) ? choose(VALUES) : Array.from({ length: below(3) }, () => choose(VALUES));
  const text = JSON.stringify(map, null, below(2) ? 1 : 0);
  return mutateJsonText(text, rng, INSERTS);
}

/** The map as the whole reading takes it, or null when it refuses it. */
function readWhole(path: string): Map<string, string[]> | null {
  let data: unknown;
  try {
    data = parseJsonBytes(readFileSync(path), path);
  } catch {
    return null;
  }
  if (!data || typeof data !== 'object' || Array.isArray(data) || (data as Record<string, unknown>)['format'] !== undefined) return null;
  const records = new Map<string, string[]>();
  for (const [raw, value] of Object.entries(data)) {
    const values = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'string') || !isStorableKeyName(raw)) return null;
    const name = normalizeKeyName(raw);
    records.set(name, [...(records.get(name) ?? []), ...values]);
  }
  return records;
}

describe('a --keys map indexed in one pass, against the whole reading, on 2,000 mutated maps', () => {
  it('takes no map the whole reading refuses, and gives each name the values the whole reading does', () => {
    let taken = 0;
    for (let n = 1; n <= 2000; n++) {
      const path = join(tmp.path, `case-${n}.json`);
      writeFileSync(path, mutatedMap(n));
      const index = indexKeysMap(path);
      if (!index) continue;
      taken++;
      const whole = readWhole(path);
      expect(whole, `case ${n}: the index took a map the whole reading refuses`).not.toBeNull();
      expect([...index.names.keys()].sort(), `case ${n}`).toEqual([...whole!.keys()].sort());
      for (const [name, values] of whole!) {
        expect(index.valuesOf(name).flatMap((at) => readIndexedValue(path, index, at)), `case ${n}, ${name}`).toEqual(values);
      }
    }
    expect(taken).toBeGreaterThan(500);
  });
});
