import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detectKeyFileFormat, parseKeyFile } from '../../src/keys/import/parse-key-file.ts';
import { parseKeyRecord } from '../../src/keys/parse-key.ts';

/** The shared third-party corpus lives beside the project; a user's clone has none. */
const CORPUS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus');
const HAS_CORPUS = existsSync(CORPUS);
const SKIP_NOTE = HAS_CORPUS ? '' : ' (skipped: ../shared/corpus is absent)';

const HUNTER_DIG = join(CORPUS, 'hunter-dkim/keys/20120113._domainkey.gmail.com.-TXT.txt');
const MIMEKIT_BIND9 = join(CORPUS, 'mimekit/keys/example.bind9');
const KEYRING = join(CORPUS, 'keyring-real-world.json');

const parseFile = (path: string) => parseKeyFile(readFileSync(path), path);

describe.skipIf(!existsSync(HUNTER_DIG))(`corpus: hunter-dkim dig output of 20120113._domainkey.gmail.com${SKIP_NOTE}`, () => {
  it('yields exactly one key, gmail.com 20120113, its strings joined without quotes', () => {
    const { format, keys, ignored } = parseFile(HUNTER_DIG);
    expect(format).toBe('zone');
    expect(ignored).toEqual([]);
    expect(keys).toHaveLength(1);
    const [key] = keys;
    expect(key).toMatchObject({
      name: '20120113._domainkey.gmail.com',
      domain: 'gmail.com',
      selector: '20120113',
      provenance: 'file',
      origin: HUNTER_DIG,
      firstSeen: null,
      lastSeen: null,
    });
    expect(key?.txt.startsWith('k=rsa; p=MIIBIjAN')).toBe(true);
    expect(key?.txt).not.toMatch(/["']/);
    expect(key?.where).toMatch(/^line \d+$/);
  });

  it('is the 2048-bit RSA key the keyring lists for gmail.com 20120113', () => {
    const [key] = parseFile(HUNTER_DIG).keys;
    const parsed = parseKeyRecord(key?.txt ?? '');
    expect(parsed.error).toBeNull();
    expect(parsed.keyType).toBe('rsa');
    expect(parsed.bits).toBe(2048);
    if (existsSync(KEYRING)) {
      const ring = JSON.parse(readFileSync(KEYRING, 'utf8')) as { keys: Record<string, { txt: string[] }> };
      expect(ring.keys['20120113._domainkey.gmail.com']?.txt).toContain(key?.txt);
    }
  });
});

describe.skipIf(!existsSync(MIMEKIT_BIND9))(`corpus: MimeKit example.bind9 (parenthesised multi-line record)${SKIP_NOTE}`, () => {
  it('yields the one key with its four strings joined', () => {
    const { format, keys, ignored } = parseFile(MIMEKIT_BIND9);
    expect(format).toBe('zone');
    expect(ignored).toEqual([]);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({
      name: '1433868189.example._domainkey.example.com',
      selector: '1433868189.example',
      domain: 'example.com',
      where: 'line 1',
    });
    expect(keys[0]?.txt).toMatch(/^v=DKIM1;t=s;p=MIGfMA0G[A-Za-z0-9+/]+IDAQAB$/);
    const parsed = parseKeyRecord(keys[0]?.txt ?? '');
    expect(parsed.error).toBeNull();
    expect(parsed.bits).toBe(1024);
  });
});

describe.skipIf(!existsSync(KEYRING))(`corpus: keyring-real-world.json (the keyring shape)${SKIP_NOTE}`, () => {
  it('is a json-map whose 32 keys are read with provenance "file"', () => {
    const bytes = readFileSync(KEYRING);
    expect(detectKeyFileFormat(bytes)).toBe('json-map');
    const ring = JSON.parse(bytes.toString('utf8')) as { keys: Record<string, { txt: string[] }> };
    const expected = Object.entries(ring.keys).flatMap(([name, entry]) => entry.txt.map((txt) => [name.toLowerCase(), txt]));
    expect(expected).toHaveLength(32);

    const { format, keys, ignored } = parseFile(KEYRING);
    expect(format).toBe('json-map');
    expect(ignored).toEqual([]);
    expect(keys).toHaveLength(32);
    expect(new Set(keys.map((k) => k.name)).size).toBe(32);
    expect(keys.map((k) => [k.name, k.txt])).toEqual(expected);
    for (const key of keys) {
      expect(key.provenance).toBe('file');
      expect(key.origin).toBe(KEYRING);
      expect(key.name).toBe(`${key.selector}._domainkey.${key.domain}`);
    }
  });
});

describe.skipIf(!HAS_CORPUS)(`corpus: every file parses the same way twice${SKIP_NOTE}`, () => {
  it.each([HUNTER_DIG, MIMEKIT_BIND9, KEYRING].filter((p) => existsSync(p)))('%s', (path) => {
    const bytes = readFileSync(path);
    expect(parseKeyFile(Buffer.from(bytes), path)).toEqual(parseKeyFile(bytes, path));
  });
});
