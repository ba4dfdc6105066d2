import { describe, expect, it } from 'vitest';
import { detectKeyFileFormat, KeyImportError, parseKeyFile } from '../../src/keys/import/parse-key-file.ts';
import { ED_TXT, expectImportError, fixtureDir, importError, parse, RSA_P, RSA_TXT } from './fixtures.ts';

const write = fixtureDir();

const NOT_A_KEY_FILE = 'not a key file: expected a JSON map, a JSON list of archive entries, or zone-file/dig TXT lines';

const JSON_MAP = { 's1._domainkey.example.com': RSA_TXT };
const KEYRING = { _about: 'test keyring', keys: { 's1._domainkey.example.com': { txt: [RSA_TXT], provenance: ['a test'] } } };
const ARCHIVE = [{ domain: 'example.com', selector: 's1', value: RSA_TXT, firstSeenAt: 1325376000, lastSeenAt: null, source: 'arch' }];
const ZONE = `$ORIGIN example.com.\ns1._domainkey IN TXT "${RSA_TXT}"\n`;
const DIG = `; <<>> DiG 9.18.28 <<>> TXT s1._domainkey.example.com\n;; global options: +cmd\n;; Got answer:\n;; QUESTION SECTION:\n;s1._domainkey.example.com.\tIN\tTXT\n\n;; ANSWER SECTION:\ns1._domainkey.example.com. 300\tIN\tTXT\t"v=DKIM1; k=rsa; " "p=${RSA_P}"\n\n;; Query time: 12 msec\n`;

describe('detectKeyFileFormat: by content, not by file name', () => {
  it.each([
    ['json-map', 'map.json', JSON.stringify(JSON_MAP)],
    ['json-map', 'keyring.json', JSON.stringify(KEYRING, null, 1)],
    ['json-map', 'map-with-space-and-bom.txt', `\uFEFF \n\t${JSON.stringify(JSON_MAP)}`],
    ['archive-list', 'archive.json', JSON.stringify(ARCHIVE)],
    ['archive-list', 'empty-archive.zone', '  []  '],
    ['zone', 'keys.zone', ZONE],
    ['zone', 'dig.json', DIG],
    ['zone', 'one-line.txt', `s1._domainkey.example.com. TXT "${ED_TXT}"`],
  ] as const)('%s: %s', (format, name, content) => {
    const f = write(name, content);
    expect(detectKeyFileFormat(f.bytes)).toBe(format);
    expect(parse(f).format).toBe(format);
  });

  it('names the file when it is none of them, with the exact sentence', () => {
    const f = write('notes.txt', 'These are my notes.\nThey hold no key.\n');
    expect(importError(f).message).toBe(`${f.path}: ${NOT_A_KEY_FILE}`);
    expect(() => detectKeyFileFormat(f.bytes, f.path)).toThrow(`${f.path}: ${NOT_A_KEY_FILE}`);
  });

  it('says "input" when detection is given no path', () => {
    expect(() => detectKeyFileFormat(Buffer.from('hello'))).toThrow(`input: ${NOT_A_KEY_FILE}`);
  });

  it.each([
    ['an empty file', 'empty.txt', ''],
    ['white space only', 'blank.txt', ' \n\n\t\n'],
    ['comments only (dig with no answer)', 'nxdomain.txt', ';; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN\n;; QUESTION SECTION:\n;s1._domainkey.example.com. IN TXT\n'],
    ['DNS data with no TXT record', 'a-only.zone', '$ORIGIN example.com.\n@ 300 IN A 192.0.2.1\nwww IN CNAME @\n'],
    ['a binary file', 'blob.bin', Buffer.from([0x00, 0x01, 0x02, 0x54, 0x58, 0x54, 0x00])],
    ['a JSON string', 'string.json', '"s1._domainkey.example.com"'],
    ['an email message', 'mail.eml', 'From: a@example.com\nTo: b@example.com\nSubject: TXT "p=abc"\n\nbody\n'],
  ] as const)('refuses %s', (_what, name, content) => {
    const f = write(name, content);
    expect(expectImportError(f, null, /^not a key file: /)).toContain(NOT_A_KEY_FILE);
  });

  it('hints that a bare key record needs its name', () => {
    const f = write('bare.txt', `${RSA_TXT}\n`);
    const message = expectImportError(f, null, /^not a key file: /);
    expect(message).toContain('line 1 looks like a bare key record');
    expect(message).toContain('_domainkey');
  });
});

describe('invalid JSON is refused with the line where the parser stopped', () => {
  it('an object with a missing quote on line 3', () => {
    const f = write('bad-object.json', `{\n  "s1._domainkey.example.com": "${RSA_TXT}",\n  s2._domainkey.example.com: "x"\n}\n`);
    expectImportError(f, 'line 3', /^not valid JSON: .*\(column 3\)$/);
  });

  it('a list whose trailing comma is on line 4 (V8 gives context, not a position)', () => {
    const entries = Array.from({ length: 3 }, (_, i) => `  {"domain": "example${i}.com", "selector": "s", "value": "p="}`);
    const f = write('bad-list.json', `[\n${entries.join(',\n')},\n]\n`);
    expectImportError(f, 'line 5', /^not valid JSON: Unexpected token '\]'/);
  });

  it('a short one-line list with a trailing comma', () => {
    const f = write('short.json', '[1,]');
    expectImportError(f, 'line 1', /^not valid JSON: Unexpected token '\]'/);
  });

  it('a file that ends inside the JSON', () => {
    const f = write('truncated.json', `{\n  "s1._domainkey.example.com": [\n    "${RSA_TXT}"\n\n`);
    expectImportError(f, 'line 3', /^not valid JSON: the file ends before the JSON does/);
    const g = write('truncated-no-newline.json', `[\n  {"domain": "example.com",`);
    expectImportError(g, 'line 2', /^not valid JSON: the file ends before the JSON does/);
  });

  it('text after the JSON', () => {
    const f = write('trailing.json', `{}\n\n}\n`);
    expectImportError(f, 'line 3', /^not valid JSON: Unexpected non-whitespace character after JSON/);
  });

  it('JSON that is not UTF-8', () => {
    const f = write('latin1.json', Buffer.concat([Buffer.from('{\n"_about": "caf'), Buffer.from([0xe9]), Buffer.from('"\n}\n')]));
    expectImportError(f, 'line 2', /not valid UTF-8/);
  });

  it('is a KeyImportError named so', () => {
    const err = importError(write('x.json', '{'));
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('KeyImportError');
  });
});

describe('parseKeyFile is a function of the bytes alone', () => {
  it.each([
    ['map.json', JSON.stringify(JSON_MAP)],
    ['keyring.json', JSON.stringify(KEYRING)],
    ['archive.json', JSON.stringify([...ARCHIVE, { ...ARCHIVE[0], value: 'v=spf1 -all' }])],
    ['dig.txt', `${DIG}example.com. 300 IN MX 10 mx.example.com.\n`],
  ])('%s: parsing twice gives deep-equal results', (name, content) => {
    const f = write(name, content);
    const first = parseKeyFile(f.bytes, f.path);
    const second = parseKeyFile(Buffer.from(f.bytes), f.path);
    expect(second).toEqual(first);
    expect(first.keys.length).toBeGreaterThan(0);
  });

  it('throws the same error twice', () => {
    const f = write('bad.zone', `s1._domainkey.example.com. IN TXT "${RSA_TXT}\n`);
    expect(importError(f).message).toBe(importError(f).message);
    expect(importError(f)).toBeInstanceOf(KeyImportError);
  });
});
