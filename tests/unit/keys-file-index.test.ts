import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { indexKeysMap, KeysFileChangedError } from '../../src/keys/keys-file-index.ts';
import { loadKeysFile } from '../../src/keys/keys-file.ts';
import { normalizeKeyName } from '../../src/keys/types.ts';
import { tempDir } from '../helpers/cli.ts';

// A JSON map given to --keys is indexed in one pass, in chunks of 1 MiB, and its values read when
// a name is asked for (red team BB, BB-08). The index must read every file as JSON.parse does, or
// hand it to the whole reading, which words the refusals.

const MiB = 1 << 20;
const dir = tempDir('leakcheck-keys-index-');
afterAll(() => dir.cleanup());
let counter = 0;
const write = (content: string | Buffer): string => {
  const path = join(dir.path, `keys-${++counter}.json`);
  writeFileSync(path, content);
  return path;
};

/** What JSON.parse makes of the file: normalized name -> its TXT records, in file order. */
const parsedWhole = (text: string): Array<[string, string[]]> => {
  const data = JSON.parse(text.replace(/^\ufeff/, '')) as Record<string, string | string[]>;
  const out = new Map<string, string[]>();
  for (const [name, value] of Object.entries(data)) {
    const key = normalizeKeyName(name);
    out.set(key, [...(out.get(key) ?? []), ...(typeof value === 'string' ? [value] : value)]);
  }
  return [...out];
};
const indexed = (path: string): Array<[string, string[]]> => [...loadKeysFile(path).records].map(([name, records]) => [name, records.map((r) => r.txt)]);

/** `text` padded with spaces after its `{` so that `marker` begins `before` bytes ahead of a chunk boundary. */
const across = (head: string, marker: string, rest: string, boundary: number, before: number): string => {
  const headBytes = Buffer.byteLength(head);
  const pad = boundary - before - headBytes - Buffer.byteLength('{');
  return `{${' '.repeat(pad)}${head}${marker}${rest}`;
};

describe('indexKeysMap', () => {
  const valid: Array<[string, string]> = [
    ['escapes in names and values', '{"s1\\u002e_domainkey.example.com": "v=DKIM1; p=\\"x\\\\y\\/z\\u00e9\\n\\t\\b\\f\\r", "S2._domainkey.example.com": ["a", "b\\ud83d\\ude00"]}'],
    ['a byte-order mark, CRLF and tabs', '\ufeff{\r\n\t"s1._domainkey.example.com" :\t[ "v=DKIM1; p=AAAA" , "v=DKIM1; p=BBBB" ]\r\n}\r\n'],
    ['an empty object and an empty list', '{"s1._domainkey.example.com": []}'],
    ['names that differ only in case or a trailing dot, merged in file order', '{"s1._domainkey.example.com": "A", "x._domainkey.e.org": "X", "S1._DOMAINKEY.EXAMPLE.COM.": ["B"]}'],
    ['non-ASCII text', '{"sél._domainkey.exämple.com": "v=DKIM1; n=日本語 𝄞; p=AAAA"}'],
  ];
  for (const [what, text] of valid) {
    it(`reads ${what} as JSON.parse does`, () => {
      const path = write(text);
      expect(indexKeysMap(path)).not.toBeNull();
      expect(indexed(path)).toEqual(parsedWhole(text));
      expect(loadKeysFile(path).sha256).toBe(createHash('sha256').update(text).digest('hex'));
    });
  }

  it('reads names, values, escapes and characters cut by a chunk boundary', () => {
    const value = (n: number): string => `v=DKIM1; p=${'A'.repeat(n)}`;
    // a 4-byte character across the first boundary, a name across the second, a \u escape across the third
    let text = across('"s0._domainkey.example.com": "', '𝄞', `${value(10)}", `, MiB, 2);
    text = text + across('', '"s1._domainkey.example.com"', `: "${value(5)}", `, 2 * MiB - Buffer.byteLength(text), 5).slice(1);
    text = text + across('"s2._domainkey.example.com": ["x", "', '\\u00e9', `${value(3)}"]}`, 3 * MiB - Buffer.byteLength(text), 3).slice(1);
    const path = write(text);
    expect(Buffer.byteLength(text)).toBeGreaterThan(3 * MiB);
    expect(indexKeysMap(path)).not.toBeNull();
    expect(indexed(path)).toEqual(parsedWhole(text));
  });

  const refused: Array<[string, string | Buffer]> = [
    ['a trailing comma', '{"s1._domainkey.example.com": "A",}'],
    ['a control character in a string', '{"s1._domainkey.example.com": "A\tB"}'],
    ['an unknown escape', '{"s1._domainkey.example.com": "A\\x41"}'],
    ['a short \\u escape', '{"s1._domainkey.example.com": "A\\u41"}'],
    ['a repeated name', '{"s1._domainkey.example.com": "A", "s1._domainkey.example.com": "B"}'],
    ['a repeated name after another spelling of it', '{"S1._domainkey.example.com": "A", "s1._domainkey.example.com": "B", "s1._domainkey.example.com": "C"}'],
    ['a repeated name in capitals', '{"s1._domainkey.example.com": "A", "S1._domainkey.example.com": "B", "S1._domainkey.example.com": "C"}'],
    ['a number value', '{"s1._domainkey.example.com": 1}'],
    ['an object in a list', '{"s1._domainkey.example.com": [{}]}'],
    ['a name that is not a key name', '{"example.com": "A"}'],
    ['a key-store file', '{"format": "leakcheck-key-store", "version": 1, "keys": [], "compromised": []}'],
    ['text after the object', '{"s1._domainkey.example.com": "A"} {}'],
    ['a file that ends early', '{"s1._domainkey.example.com": "A"'],
    ['bytes that are not UTF-8', Buffer.concat([Buffer.from('{"s1._domainkey.example.com": "'), Buffer.from([0xc3]), Buffer.from('"}')])],
    ['a list', '[]'],
  ];
  for (const [what, content] of refused) {
    it(`hands ${what} to the whole reading`, () => {
      expect(indexKeysMap(write(content))).toBeNull();
    });
  }

  it('a value whose bytes changed after the index was made is refused, not credited to the file', () => {
    const text = '{"s1._domainkey.example.com": "v=DKIM1; p=AAAA", "s2._domainkey.example.com": "v=DKIM1; p=BBBB"}';
    const path = write(text);
    const file = loadKeysFile(path);
    writeFileSync(path, text.replace('p=BBBB', 'p=CCCC'));
    expect(file.records.get('s1._domainkey.example.com')?.map((r) => r.txt)).toEqual(['v=DKIM1; p=AAAA']);
    expect(() => file.records.get('s2._domainkey.example.com')).toThrow(KeysFileChangedError);
    expect(() => file.records.get('s2._domainkey.example.com')).toThrow(`${path}: the key file changed while the run was reading it`);
  });
});
