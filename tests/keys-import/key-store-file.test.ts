import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyStoreFile } from '../../src/keys/import/key-store-file.ts';
import { storeKeyFile } from '../../src/pipeline/key-commands.ts';
import { jsonText } from '../../src/report/json-text.ts';
import { KeyStore } from '../../src/store/key-store.ts';
import { openStore } from '../../src/store/open-store.ts';
import { tempDir } from '../helpers/cli.ts';
import { ED_TXT, expectImportError, fixtureDir, parse, RSA_TXT } from './fixtures.ts';

const write = fixtureDir();
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const FINGERPRINT = 'ab'.repeat(32);
const SHA = 'cd'.repeat(32);

/** A store with a record of every kind: file, archive with dates, DNS with its answer, revoked, absent; and a compromised fingerprint. */
function fill(store: KeyStore): KeyStore {
  store.addKey({ name: 'f._domainkey.example.com', txt: RSA_TXT, source: 'file', origin: '/home/a/keys.json', originSha256: SHA });
  store.addKey({ name: 'f._domainkey.example.com', txt: `${RSA_TXT}; h=sha1`, source: 'archive', origin: 'dkim-archive.example', firstSeen: '2016-01-01T00:00:00.000Z', lastSeen: '2018-06-30T00:00:00.000Z' });
  store.recordLookup({ status: 'found', name: 'd._domainkey.example.com', records: [{ txt: ED_TXT, source: 'dns', origin: 'system resolver' }] }, '2026-01-02T03:04:05.000Z');
  store.addKey({ name: 'gone._domainkey.example.com', txt: 'v=DKIM1; k=rsa; p=', source: 'file', origin: '/home/a/keys.json' });
  store.recordLookup({ status: 'absent', name: 'x\u202e._domainkey.example.com', detail: 'NXDOMAIN' }, '2026-01-02T03:04:06.000Z');
  store.addCompromised([{ fingerprint: FINGERPRINT, listPath: '/home/a/leaked.txt', listSha256: SHA }], '2026-01-01T00:00:00.000Z');
  return store;
}

/** What the store holds, without the row ids and the times the rows were added here. */
function contents(path: string): unknown {
  const db = openStore(path, { readonly: true });
  try {
    const keys = db.prepare('SELECT * FROM keys ORDER BY name, source, origin, txt').all() as Array<Record<string, unknown>>;
    return {
      keys: keys.map(({ id: _id, added_at: _added, ...rest }) => rest),
      compromised: db.prepare('SELECT fingerprint, list_path, list_sha256 FROM compromised_keys ORDER BY fingerprint').all(),
    };
  } finally {
    db.close();
  }
}

describe('key-store file: what keys export writes, keys import and verify --keys read back', () => {
  it('a store written out and read into a fresh one holds the same records: provenance, origins, dates, DNS answers, absent records, compromised fingerprints', () => {
    const from = join(tmp.path, 'from.db');
    const fromDb = openStore(from);
    const bundle = fill(new KeyStore(fromDb)).exportBundle();
    fromDb.close();
    const f = write('store.json', jsonText(keyStoreFile(bundle.records, bundle.compromised), 2));
    const parsed = parse(f);
    expect(parsed.format).toBe('key-store');
    expect(parsed.ignored).toEqual([]);
    const to = join(tmp.path, 'to.db');
    const toDb = openStore(to);
    const store = new KeyStore(toDb);
    expect(storeKeyFile(store, parsed, 'ef'.repeat(32))).toEqual({ added: 5, compromised: 1 });
    // read twice, nothing new
    expect(storeKeyFile(store, parsed, 'ef'.repeat(32))).toEqual({ added: 0, compromised: 0 });
    toDb.close();
    expect(contents(to)).toEqual(contents(from));
  });

  const file = (over: Record<string, unknown> = {}, key: Record<string, unknown> = {}) => ({
    format: 'leakcheck-key-store',
    version: 1,
    keys: [{ domain: 'example.com', selector: 's1', value: RSA_TXT, provenance: 'file', origin: 'keys.json', originSha256: null, firstSeenAt: null, lastSeenAt: null, fetchedAt: null, dnsAnswer: null, ...key }],
    compromised: [{ fingerprint: FINGERPRINT, list: 'leaked.txt', listSha256: SHA }],
    ...over,
  });

  it('reads a hand-written file', () => {
    const parsed = parse(write('ok.json', file({ _note: 'notes beside the members are fine' })));
    expect(parsed.keys).toMatchObject([{ name: 's1._domainkey.example.com', txt: RSA_TXT, provenance: 'file', origin: 'keys.json' }]);
    expect(parsed.compromised).toEqual([{ fingerprint: FINGERPRINT, listPath: 'leaked.txt', listSha256: SHA }]);
  });

  // What a reader skips could be a key's compromised status: anything it does not know refuses the file.
  it.each([
    ['a newer version', file({ version: 2 }), null, /^version 2 of the key-store file: this leakcheck reads version 1/],
    ['an unknown member', file({ revoked: [] }), null, /^unknown member "revoked"/],
    ['an unknown member of a record', file({}, { compromised: true }), 'keys entry 1', /^unknown member "compromised"/],
    ['no compromised list', file({ compromised: undefined }), null, /^"compromised" must be a list, not missing/],
    ['a provenance it does not know', file({}, { provenance: 'revoked' }), 'keys entry 1', /^"provenance" must be one of file, archive, dns, not "revoked"/],
    ['no record, not from DNS', file({}, { value: null }), 'keys entry 1', /only DNS can say/],
    ['a bad date', file({}, { firstSeenAt: 'yesterday' }), 'keys entry 1', /^"firstSeenAt": "yesterday" is not an ISO 8601 date/],
    ['dates out of order', file({}, { provenance: 'archive', firstSeenAt: '2020-01-01', lastSeenAt: '2019-01-01' }), 'keys entry 1', /^"firstSeenAt" \(2020-01-01T00:00:00\.000Z\) is after "lastSeenAt" \(2019-01-01T00:00:00\.000Z\)/],
    ['a bad fingerprint', file({ compromised: [{ fingerprint: 'XYZ', list: 'l', listSha256: SHA }] }), 'compromised entry 1', /^"fingerprint" must be a sha256/],
    ['a hostile unknown member, escaped', file({}, { 'a\u202e\u009b': 1 }), 'keys entry 1', /^unknown member "a\\u202e\\u009b"/],
  ])('refuses %s, naming the place', (_what, content, where, detail) => {
    expectImportError(write('bad.json', content), where, detail);
  });
});
