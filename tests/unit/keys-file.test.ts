import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyLookup, type KeyLookupOptions } from '../../src/keys/key-lookup.ts';
import { KeysFileError, keysFileLookup, loadKeysFile, type KeysFile } from '../../src/keys/keys-file.ts';
import { normalizeKeyName, type KeyAnswer } from '../../src/keys/types.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'leakcheck-keys-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function writeKeys(content: string | Buffer | object): string {
  const path = join(dir, `keys-${++counter}.json`);
  writeFileSync(path, typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content));
  return path;
}

const REC_A = 'v=DKIM1; k=rsa; p=AAAA';
const REC_B = 'v=DKIM1; k=rsa; p=BBBB';
const REC_C = 'v=DKIM1; k=ed25519; p=CCCC';

describe('normalizeKeyName', () => {
  it('lower-cases, trims and drops one trailing dot', () => {
    expect(normalizeKeyName('  S1._DomainKey.Example.COM. ')).toBe('s1._domainkey.example.com');
    expect(normalizeKeyName('s1._domainkey.example.com')).toBe('s1._domainkey.example.com');
  });
});

describe('loadKeysFile', () => {
  it('reads string and list values under normalized names, recording the file as origin', () => {
    const path = writeKeys({ 'S1._DomainKey.Example.COM.': REC_A, 's2._domainkey.example.org': [REC_B, REC_C] });
    const file = loadKeysFile(path);
    expect(file.path).toBe(path);
    expect([...file.records.keys()]).toEqual(['s1._domainkey.example.com', 's2._domainkey.example.org']);
    expect(file.records.get('s1._domainkey.example.com')).toEqual([{ txt: REC_A, source: 'file', origin: path }]);
    expect(file.records.get('s2._domainkey.example.org')?.map((r) => r.txt)).toEqual([REC_B, REC_C]);
  });

  it('merges entries that differ only in case or a trailing dot, in file order', () => {
    const path = writeKeys({ 's1._domainkey.example.com': REC_A, 'S1._DOMAINKEY.EXAMPLE.COM.': [REC_B] });
    const file = loadKeysFile(path);
    expect(file.records.size).toBe(1);
    expect(file.records.get('s1._domainkey.example.com')?.map((r) => r.txt)).toEqual([REC_A, REC_B]);
  });

  it('records the sha256 of the file bytes exactly as read', () => {
    const text = `{\n  "s1._domainkey.example.com": "${REC_A}"\n}\n`;
    const path = writeKeys(text);
    expect(loadKeysFile(path).sha256).toBe(createHash('sha256').update(text).digest('hex'));
    const other = writeKeys(text.replace('\n}', ' \n}'));
    expect(loadKeysFile(other).sha256).not.toBe(loadKeysFile(path).sha256);
  });

  it('an empty object is a valid, empty file', () => {
    expect(loadKeysFile(writeKeys({})).records.size).toBe(0);
  });

  it('invalid JSON is a KeysFileError naming the file', () => {
    const path = writeKeys('{"s1._domainkey.example.com": "v=DKIM1; p=AAAA",}');
    expect(() => loadKeysFile(path)).toThrow(KeysFileError);
    expect(() => loadKeysFile(path)).toThrow(`${path}: line 1: not valid JSON`);
  });

  it('a byte-order mark is skipped, as keys import skips it, and the hash is of the file as it is (red team 11, 08)', () => {
    const text = `{"s1._domainkey.example.com": "${REC_A}"}`;
    const path = writeKeys(`\ufeff${text}`);
    const loaded = loadKeysFile(path);
    expect(loaded.records.get('s1._domainkey.example.com')?.map((r) => r.txt)).toEqual([REC_A]);
    expect(loaded.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
    expect(loaded.sha256).not.toBe(createHash('sha256').update(text).digest('hex'));
  });

  it('bytes that are not UTF-8 are refused with their line, as keys import refuses them', () => {
    const path = writeKeys(Buffer.concat([Buffer.from('{\n"s1._domainkey.example.com": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]));
    expect(() => loadKeysFile(path)).toThrow(`${path}: line 2: not valid UTF-8`);
  });

  it('a JSON value that is not an object is refused, naming the file', () => {
    for (const content of ['[]', '"v=DKIM1; p=AAAA"', 'null', '42']) {
      const path = writeKeys(content);
      expect(() => loadKeysFile(path)).toThrow(KeysFileError);
      expect(() => loadKeysFile(path)).toThrow(`${path}: expected a JSON object`);
    }
  });

  it('an entry that is not a string or a list of strings is refused, naming the file and the entry', () => {
    for (const value of [42, null, { p: 'x' }, ['ok', 7], [REC_A, null]]) {
      const path = writeKeys({ 'good._domainkey.example.com': REC_A, 'Bad._domainkey.example.com': value });
      let error: unknown;
      try {
        loadKeysFile(path);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(KeysFileError);
      expect((error as Error).name).toBe('KeysFileError');
      expect((error as Error).message).toBe(`${path}: entry "Bad._domainkey.example.com" must be a string or a list of strings`);
    }
  });

  it('a name repeated in one object is refused with the name and the line of the second (red team 10, 07)', () => {
    const path = writeKeys(`{\n  "s1._domainkey.example.com": ["${REC_A}; h=sha1"],\n  "s1._domainkey.example.com": ["${REC_A}"]\n}`);
    expect(() => loadKeysFile(path)).toThrow(KeysFileError);
    expect(() => loadKeysFile(path)).toThrow(`${path}: line 3: the name "s1._domainkey.example.com" appears twice in one object`);
  });

  it('reads the key-store file keys export writes, with its records\' own provenance and dates', () => {
    const path = writeKeys({
      format: 'leakcheck-key-store',
      version: 1,
      keys: [
        { domain: 'example.com', selector: 's1', value: REC_A, provenance: 'archive', origin: 'an-archive', originSha256: null, firstSeenAt: '2016-01-01T00:00:00.000Z', lastSeenAt: null, fetchedAt: null, dnsAnswer: null },
        { domain: 'example.com', selector: 'gone', value: null, provenance: 'dns', origin: 'system resolver', originSha256: null, firstSeenAt: null, lastSeenAt: null, fetchedAt: '2026-01-01T00:00:00.000Z', dnsAnswer: null },
      ],
      compromised: [],
    });
    const file = loadKeysFile(path);
    expect(file.keyStore?.compromised).toEqual([]);
    expect([...file.records]).toEqual([['s1._domainkey.example.com', [{ txt: REC_A, source: 'archive', origin: 'an-archive', fetchedAt: null, firstSeen: '2016-01-01T00:00:00.000Z', lastSeen: null }]]]);
  });

  it('a missing file throws the file system error', () => {
    expect(() => loadKeysFile(join(dir, 'does-not-exist.json'))).toThrow(/ENOENT/);
  });
});

describe('keysFileLookup', () => {
  it('answers from every file in order, by normalized name, and nothing for an unknown name', () => {
    const one = loadKeysFile(writeKeys({ 's1._domainkey.example.com': REC_A }));
    const two = loadKeysFile(writeKeys({ 'S1._domainkey.example.com': [REC_B] }));
    const lookup = keysFileLookup([one, two]);
    expect(lookup('s1._DOMAINKEY.example.com.').map((r) => [r.txt, r.origin])).toEqual([
      [REC_A, one.path],
      [REC_B, two.path],
    ]);
    expect(lookup('s9._domainkey.example.com')).toEqual([]);
  });
});

describe('createKeyLookup', () => {
  let file: KeysFile;
  beforeAll(() => {
    file = loadKeysFile(writeKeys({ 's1._domainkey.example.com': REC_A }));
  });

  const neverLive = async (name: string): Promise<KeyAnswer> => {
    throw new Error(`live lookup of ${name} must not happen`);
  };

  function options(overrides: Partial<KeyLookupOptions>): KeyLookupOptions & { stored: KeyAnswer[] } {
    const stored: KeyAnswer[] = [];
    return {
      files: [file],
      cached: () => null,
      offline: false,
      live: neverLive,
      onLiveAnswer: (answer) => stored.push(answer),
      stored,
      ...overrides,
    };
  }

  it('answers from the files first, without a live lookup, whatever the case of the name', async () => {
    const o = options({});
    const lookup = createKeyLookup(o);
    const answer = await lookup('S1._domainkey.EXAMPLE.com.');
    expect(answer).toEqual({ status: 'found', name: 's1._domainkey.example.com', records: [{ txt: REC_A, source: 'file', origin: file.path }] });
    expect(o.stored).toEqual([]);
  });

  it('puts file records before cached ones', async () => {
    const cachedRecord = { txt: REC_B, source: 'dns' as const, origin: 'system resolver', fetchedAt: '2016-03-14T00:00:00.000Z' };
    const lookup = createKeyLookup(
      options({ cached: (name) => ({ status: 'found', name, records: [cachedRecord] }) }),
    );
    const answer = await lookup('s1._domainkey.example.com');
    expect(answer.status === 'found' && answer.records).toEqual([{ txt: REC_A, source: 'file', origin: file.path }, cachedRecord]);
  });

  it('answers from the cache when the files do not know the name, found or absent', async () => {
    const absent: KeyAnswer = { status: 'absent', name: 'gone._domainkey.example.com', detail: 'DNS says ENOTFOUND' };
    const lookup = createKeyLookup(
      options({
        cached: (name) =>
          name === 'gone._domainkey.example.com'
            ? absent
            : name === 'old._domainkey.example.com'
              ? { status: 'found', name, records: [{ txt: REC_C, source: 'dns', origin: 'system resolver' }] }
              : null,
      }),
    );
    expect(await lookup('gone._domainkey.example.com')).toEqual(absent);
    const old = await lookup('old._domainkey.example.com');
    expect(old.status === 'found' && old.records.map((r) => r.txt)).toEqual([REC_C]);
  });

  it('offline, a name nobody knows is absent and live DNS is never asked', async () => {
    const o = options({ offline: true, live: neverLive });
    const lookup = createKeyLookup(o);
    const answer = await lookup('unknown._domainkey.example.com');
    expect(answer.status).toBe('absent');
    expect(answer.name).toBe('unknown._domainkey.example.com');
    expect(answer.status === 'absent' && answer.detail).toMatch(/offline/);
    expect(o.stored).toEqual([]);
  });

  it('offline, a cached DNS error is not retried and reads as absent', async () => {
    const lookup = createKeyLookup(
      options({ offline: true, cached: (name) => ({ status: 'error', name, code: 'ETIMEOUT', detail: 'timeout' }) }),
    );
    expect((await lookup('flaky._domainkey.example.com')).status).toBe('absent');
  });

  it('online, asks live DNS once per name however many concurrent questions, and stores each answer', async () => {
    const liveCalls: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const live = async (name: string): Promise<KeyAnswer> => {
      liveCalls.push(name);
      await gate;
      return { status: 'found', name, records: [{ txt: REC_B, source: 'dns', origin: 'test resolver' }] };
    };
    const o = options({ live });
    const lookup = createKeyLookup(o);
    const pending = [
      lookup('s2._domainkey.example.com'),
      lookup('S2._DOMAINKEY.example.com.'),
      lookup('s2._domainkey.example.com'),
      lookup('s3._domainkey.example.com'),
    ];
    release();
    const answers = await Promise.all(pending);
    expect(liveCalls).toEqual(['s2._domainkey.example.com', 's3._domainkey.example.com']);
    expect(answers[0]).toBe(answers[1]);
    expect(answers[1]).toBe(answers[2]);
    expect(o.stored).toEqual([answers[0], answers[3]]);
    // later questions reuse the answer too
    expect(await lookup('s2._domainkey.example.com')).toBe(answers[0]);
    expect(liveCalls).toHaveLength(2);
  });

  it('hands absent and error answers from live DNS to onLiveAnswer as well', async () => {
    const o = options({
      live: async (name) =>
        name.startsWith('err') ? { status: 'error', name, code: 'ESERVFAIL', detail: 'server failure' } : { status: 'absent', name, detail: 'DNS says ENOTFOUND' },
    });
    const lookup = createKeyLookup(o);
    const err = await lookup('err._domainkey.example.com');
    const none = await lookup('none._domainkey.example.com');
    expect(err.status).toBe('error');
    expect(none.status).toBe('absent');
    expect(o.stored).toEqual([err, none]);
  });

  it('online, a cached DNS error is looked up again', async () => {
    const calls: string[] = [];
    const lookup = createKeyLookup(
      options({
        cached: (name) => ({ status: 'error', name, code: 'ETIMEOUT', detail: 'timeout' }),
        live: async (name) => {
          calls.push(name);
          return { status: 'absent', name, detail: 'DNS says NXDOMAIN' };
        },
      }),
    );
    expect((await lookup('flaky._domainkey.example.com')).status).toBe('absent');
    expect(calls).toEqual(['flaky._domainkey.example.com']);
  });
});
