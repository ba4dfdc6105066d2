import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { parseKeyFile } from '../../src/keys/import/parse-key-file.ts';
import type { ImportedKey } from '../../src/keys/import/types.ts';
import { readIndexedRecords, scanKeyStoreFile } from '../../src/keys/key-store-file-index.ts';
import { KeysFileChangedError } from '../../src/keys/keys-file-index.ts';
import { loadKeysFile } from '../../src/keys/keys-file.ts';
import { readKeyFiles, storeKeyFiles } from '../../src/pipeline/key-commands.ts';
import { openStore } from '../../src/store/open-store.ts';
import { tempDir } from '../helpers/cli.ts';
import { keysImportInProcess } from '../helpers/in-process.ts';
import { hasGnuTime, runCliMeasured } from '../hostile/support.ts';
import { ED_TXT, RSA_TXT } from './fixtures.ts';

// A key-store file is checked in one pass and not held, by verify --keys and keys import alike:
// what the pass reads must be what the whole reading (parseKeyStoreFile) reads, and every file
// that reading refuses must be left to it, so that the refusal reads as it always did.

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let files = 0;
const write = (content: string | Buffer): string => {
  const path = join(tmp.path, `store-${++files}.json`);
  writeFileSync(path, content);
  return path;
};

const record = (i: number, more: Record<string, unknown> = {}): Record<string, unknown> => ({
  domain: `d${i % 7}.example`, selector: `s${i}`, value: i % 2 ? RSA_TXT : ED_TXT, provenance: 'archive', origin: `archive "é" \u2028 ${i % 3}`,
  originSha256: null, firstSeenAt: '2016-01-01T00:00:00Z', lastSeenAt: 1546300800, fetchedAt: null, dnsAnswer: null, ...more,
});
const FINGERPRINT = 'ab'.repeat(32);
const storeFile = (keys: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  format: 'leakcheck-key-store', version: 1, _about: 'x', keys, compromised: [{ fingerprint: FINGERPRINT, list: '/l.txt', listSha256: 'cd'.repeat(32) }], ...extra,
});

describe('a key-store file checked in one pass (scanKeyStoreFile)', () => {
  it('reads every record and compromised entry as the whole reading does, across 1 MiB pieces, in any member order, after a byte-order mark', () => {
    const keys = Array.from({ length: 4000 }, (_, i) => record(i, i % 500 === 0 ? { provenance: 'dns', value: null, origin: 'system resolver', fetchedAt: '2026-01-01T00:00:00Z', dnsAnswer: { status: 'absent', n: [1, { x: 'a\\"}' }] } } : {}));
    const { compromised, ...rest } = storeFile(keys);
    // compromised first, the notes an object, pretty-printed: 2.7 MB
    const text = `\ufeff${JSON.stringify({ compromised, _note: { a: [1, 2, { b: null }] }, ...rest }, null, 2)}`;
    const path = write(text);
    const whole = parseKeyFile(readFileSync(path), path);
    const seen: ImportedKey[] = [];
    const scan = scanKeyStoreFile(path, { index: true, onRecord: (key) => seen.push(key) });
    expect(scan).not.toBeNull();
    expect(scan!.records).toBe(4000);
    expect(seen).toEqual(whole.keys);
    expect(scan!.compromised).toEqual(whole.compromised);
    // the index finds each name's records again, as read whole
    for (const name of ['s0._domainkey.d0.example', 's1499._domainkey.d1.example', 's3999._domainkey.d2.example']) {
      expect(readIndexedRecords(path, scan!.index!, name)).toEqual(whole.keys.filter((k) => k.name === name));
    }
  });

  const refused: Array<[string, (file: Record<string, unknown>) => string | Buffer]> = [
    ['a member this leakcheck does not know', (f) => JSON.stringify({ ...f, extra: 1 })],
    ['another version', (f) => JSON.stringify({ ...f, version: 2 })],
    ['no version', (f) => JSON.stringify({ ...f, version: undefined })],
    ['a record field of the wrong type', (f) => JSON.stringify({ ...f, keys: [record(1), record(2, { domain: 5 })] })],
    ['a record member this leakcheck does not know', (f) => JSON.stringify({ ...f, keys: [record(1, { note: 'x' })] })],
    ['a record that is a list', (f) => JSON.stringify({ ...f, keys: [[1]] })],
    ['"keys" that is no list', (f) => JSON.stringify({ ...f, keys: {} })],
    ['dates out of order', (f) => JSON.stringify({ ...f, keys: [record(1, { firstSeenAt: '2020-01-01', lastSeenAt: '2019-01-01' })] })],
    ['a compromised fingerprint in upper case', (f) => JSON.stringify({ ...f, compromised: [{ fingerprint: 'AB'.repeat(32), list: 'l', listSha256: 'cd'.repeat(32) }] })],
    ['no compromised list', (f) => JSON.stringify({ ...f, compromised: undefined })],
    ['a name repeated in a record', (f) => JSON.stringify({ ...f, keys: [record(1)] }).replace('"origin":', '"origin":"x","origin":')],
    ['a name repeated in a DNS answer', (f) => JSON.stringify({ ...f, keys: [record(1, { dnsAnswer: { a: 1 } })] }).replace('{"a":1}', '{"a":1,"a":2}')],
    ['a member repeated', (f) => JSON.stringify(f).replace('"version":1', '"version":1,"version":1')],
    ['a trailing comma', (f) => JSON.stringify(f).replace(/}$/, ',}')],
    ['a file cut short', (f) => JSON.stringify(f).slice(0, -20)],
    ['something after the object', (f) => `${JSON.stringify(f)} 1`],
    ['a number JSON does not allow', (f) => JSON.stringify(f).replace('"version":1', '"version":01')],
    ['a control character in a string', (f) => JSON.stringify({ ...f, keys: [record(1)] }).replace('archive', 'arc\thive')],
    ['bytes that are not UTF-8', (f) => Buffer.concat([Buffer.from(JSON.stringify(f).slice(0, 30)), Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(f).slice(30))])],
    ['another format (then it is read as a map)', (f) => JSON.stringify({ ...f, format: 'other' })],
  ];
  it.each(refused)('leaves %s to the whole reading, which refuses it in the same words for verify --keys and keys import', (_what, make) => {
    const path = write(make(storeFile([record(1), record(2)])));
    expect(scanKeyStoreFile(path, { index: true })).toBeNull();
    let wholeError = '';
    try {
      parseKeyFile(readFileSync(path), path);
    } catch (err) {
      wholeError = (err as Error).message;
    }
    expect(wholeError).not.toBe('');
    expect(() => readKeyFiles([path])).toThrow(wholeError);
    expect(() => loadKeysFile(path)).toThrow();
  });

  it('keys import reports a record repeated in the file as the whole reading did', () => {
    const path = write(JSON.stringify(storeFile([record(1), record(2), record(1)])));
    const whole = parseKeyFile(readFileSync(path), path);
    const [report] = keysImportInProcess(join(tmp.path, 'repeat.db'), path);
    expect(report!.ignored).toEqual(whole.ignored);
    expect(report!.ignored).toEqual([{ where: 'keys entry 3', why: 'same key as keys entry 1' }]);
    expect([report!.added, report!.alreadyKnown, report!.compromised]).toEqual([2, 0, 1]);
  });

  it('keys import reads the file again as it stores it, and a file changed since it was checked adds nothing', () => {
    const path = write(JSON.stringify(storeFile([record(1), record(2)])));
    const read = readKeyFiles([path]);
    writeFileSync(path, JSON.stringify(storeFile([record(1), record(3)])));
    const dbPath = join(tmp.path, 'changed.db');
    const db = openStore(dbPath);
    try {
      expect(() => storeKeyFiles(db, read)).toThrow(KeysFileChangedError);
    } finally {
      db.close();
    }
    const check = new Database(dbPath, { readonly: true });
    try {
      expect(check.prepare('SELECT count(*) FROM keys').pluck().get()).toBe(0);
      expect(check.prepare('SELECT count(*) FROM compromised_keys').pluck().get()).toBe(0);
    } finally {
      check.close();
    }
  });

  // 40,000 records (26 MB): parsed whole, about 3.7 KB a record (+147 MB measured); streamed, a
  // digest of each record's identity (about 100 bytes), SQLite's cache and the garbage of the
  // parse (+35 MB measured). The margin lies between, clear of either.
  it.runIf(hasGnuTime())('keys import of 40,000 records costs about what importing a few does', () => {
    const rss = (count: number): number => {
      const path = write(JSON.stringify(storeFile(Array.from({ length: count }, (_, i) => record(i)))));
      const run = runCliMeasured(['keys', 'import', path, '--db', join(tmp.path, `import-${count}.db`)]);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain(`${count} key record(s) added`);
      return run.maxRssKb!;
    };
    expect(rss(40_000) - rss(10)).toBeLessThan(80 * 1024);
  });
});
