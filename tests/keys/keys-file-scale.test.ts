import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseKeyRecord } from '../../src/keys/parse-key.ts';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_DUMP, DEMO_KEYS, ROOT, runCli, tempDir } from '../helpers/cli.ts';
import { exportJsonl, keysImportInProcess } from '../helpers/in-process.ts';
import { hasGnuTime, runCliMeasured } from '../hostile/support.ts';

// A --keys map or key-store file is indexed, not imported whole: only the records of names the
// dump's results ask for or carry go into the key store (red team BB, BB-08; the key-store file
// since). What the examiner reads, and what a re-run reads again, must be what importing the
// whole file first gave.

const BULK = 300;
const demoKeys = JSON.parse(readFileSync(DEMO_KEYS, 'utf8')) as Record<string, string[]>;
const S2048 = demoKeys['s2048._domainkey.demo.example']![0]!;
const publicTxt = (pemFile: string): string =>
  `v=DKIM1; k=rsa; p=${createPublicKey(createPrivateKey(readFileSync(join(ROOT, 'fixtures/keys', pemFile)))).export({ type: 'spki', format: 'der' }).toString('base64')}`;

/** The demo keys and `BULK` selectors no message of the dump names, the shape of a key archive. */
const archiveMap = (keys: Record<string, string[]> = demoKeys): Record<string, string[]> => {
  const map: Record<string, string[]> = { ...keys };
  for (let i = 0; i < BULK; i++) map[`s${i}._domainkey.bulk${i % 10}.example`] = [S2048];
  return map;
};

/**
 * A map's records as a key-store file (`keys export --format key-store`) holds an archive's:
 * with a provenance, an origin and dates of their own (the demo's messages of 2019 fall after
 * the last-seen date, and are warned so).
 */
const keyStoreOf = (map: Record<string, string[]>): Record<string, unknown> => ({
  format: 'leakcheck-key-store',
  version: 1,
  _about: 'test',
  keys: Object.entries(map).flatMap(([name, values]) => {
    const [selector, domain] = name.split('._domainkey.');
    return values.map((value) => ({
      domain, selector, value, provenance: 'archive', origin: 'dkim-archive.example', originSha256: null,
      firstSeenAt: '2016-01-01T00:00:00.000Z', lastSeenAt: '2018-12-31T00:00:00.000Z', fetchedAt: null, dnsAnswer: null,
    }));
  }),
  compromised: [],
});
const FORMATS: Array<[string, (map: Record<string, string[]>) => unknown]> = [
  ['map', (map) => map],
  ['key-store file', keyStoreOf],
];

/** A message whose one signature is of an algorithm not verified: its key name is recorded, never looked up. */
const UNCHECKED = [
  'From: a@bulk7.example',
  'To: b@example.org',
  'Subject: unchecked',
  'Date: Mon, 1 Feb 2016 10:00:00 +0000',
  'Message-ID: <unchecked@bulk7.example>',
  'DKIM-Signature: v=1; a=rsa-sha512; c=relaxed/relaxed; d=bulk7.example; s=s7; h=from:subject; bh=AAAA; b=AAAA',
  '',
  'body',
  '',
].join('\r\n');

interface Row { path: string; index: number; verdict: string; reasons: string[]; findings: Array<{ code: string }>; signatures: Array<{ reason: string; key_source: string | null; key_fingerprint: string | null }> }
const records = (db: string): string[] =>
  exportJsonl(db).trim().split('\n').map((l) => {
    const r = JSON.parse(l) as Row;
    return JSON.stringify([r.path, r.index, r.verdict, r.reasons, r.findings.map((f) => f.code).sort(), r.signatures.map((s) => [s.reason, s.key_source, s.key_fingerprint])]);
  });
const query = <T>(db: string, sql: string): T[] => {
  const handle = new Database(db, { readonly: true });
  try {
    return handle.prepare(sql).all() as T[];
  } finally {
    handle.close();
  }
};
/** The messages the database's last run analysed (read again), not those it found unchanged. */
const analysedByLastRun = (db: string): string[] =>
  query<{ path: string }>(db, `SELECT f.path || '#' || m.idx AS path FROM messages m JOIN source_files f ON f.id = m.file_id
    WHERE m.run_id = (SELECT max(id) FROM runs) ORDER BY 1`).map((r) => r.path);

describe('a --keys map is imported for the names the run asks for (red team BB, BB-08)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let dump: string;
  const path = (name: string): string => join(tmp.path, name);
  const writeKeys = (name: string, keys: unknown): string => {
    writeFileSync(path(name), JSON.stringify(keys, null, 1));
    return path(name);
  };
  const verify = (db: string, keyFiles: string[] = []) => runVerify({ dumpRoot: dump, dbPath: path(db), keyFiles, offline: true });
  const keysImport = (db: string, file: string): void => void keysImportInProcess(path(db), file);
  beforeEach(() => {
    tmp = tempDir();
    dump = path('dump');
    cpSync(DEMO_DUMP, dump, { recursive: true });
    mkdirSync(join(dump, 'extra'));
    writeFileSync(join(dump, 'extra/unchecked.eml'), UNCHECKED);
  });
  afterEach(() => tmp.cleanup());

  it('keeps in the key store only the records of names the dump asks for, each with the file and its sha256', async () => {
    const keys = writeKeys('archive.json', archiveMap());
    await verify('run.db', [keys]);
    const sha256 = createHash('sha256').update(readFileSync(keys)).digest('hex');
    const stored = query<{ name: string; origin: string; origin_sha256: string }>(path('run.db'), 'SELECT name, origin, origin_sha256 FROM keys ORDER BY name');
    const asked = query<{ name: string }>(path('run.db'), 'SELECT DISTINCT key_name AS name FROM signatures WHERE key_name IS NOT NULL');
    const askedNames = new Set(asked.map((r) => r.name));
    expect(stored.length).toBeLessThan(20);
    for (const row of stored) {
      expect(askedNames.has(row.name), row.name).toBe(true);
      expect([row.origin, row.origin_sha256]).toEqual([keys, sha256]);
    }
    // every key a signature was checked with is on record, and the recorded name of the unchecked one too
    const used = query<{ key_name: string }>(path('run.db'), 'SELECT DISTINCT key_name FROM signatures WHERE key_fingerprint IS NOT NULL');
    for (const { key_name } of used) expect(stored.map((r) => r.name)).toContain(key_name);
    expect(stored.map((r) => r.name)).toContain('s7._domainkey.bulk7.example');
    expect(stored.map((r) => r.name)).not.toContain('s8._domainkey.bulk8.example');
    // what the examiner reads is what importing the whole file first gives
    keysImport('eager.db', keys);
    await verify('eager.db');
    expect(records(path('run.db'))).toEqual(records(path('eager.db')));
    const list = runCli(['keys', 'list', '--json', '--db', path('run.db')]);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout.trim().split('\n')).toHaveLength(stored.length);
  });

  it('a key-store file: only the records of names the dump asks for go in, each as importing the whole file stores it, and every compromised fingerprint', async () => {
    const espKey = demoKeys['esp._domainkey.mailer.example']![0]!;
    const file = keyStoreOf(archiveMap()) as { keys: Array<Record<string, unknown>>; compromised: unknown[] };
    // a dump's name with DNS's "no such record", a record of DNS with its answer, and a key listed as compromised
    file.keys.push(
      { domain: 'demo.example', selector: 's2016', value: null, provenance: 'dns', origin: 'system resolver', originSha256: null, firstSeenAt: null, lastSeenAt: null, fetchedAt: '2026-01-01T00:00:00.000Z', dnsAnswer: { status: 'absent', nested: { a: 1 } } },
      { domain: 'mailer.example', selector: 'esp', value: espKey, provenance: 'dns', origin: 'system resolver', originSha256: null, firstSeenAt: null, lastSeenAt: null, fetchedAt: '2026-01-01T00:00:00.000Z', dnsAnswer: null },
    );
    file.compromised.push({ fingerprint: parseKeyRecord(espKey).fingerprint, list: '/cases/leaked.txt', listSha256: 'ab'.repeat(32) });
    const keys = writeKeys('store.json', file);
    await verify('run.db', [keys]);
    keysImport('eager.db', keys);
    await verify('eager.db');

    const columns = 'name, provenance, source, origin, origin_sha256, txt, first_seen, last_seen, fetched_at, dns_answer_json';
    type KeyRow = { name: string };
    const stored = query<KeyRow>(path('run.db'), `SELECT ${columns} FROM keys ORDER BY name, id`);
    const storedNames = new Set(stored.map((r) => r.name));
    expect(stored.length).toBeLessThan(20);
    expect(storedNames).toContain('s7._domainkey.bulk7.example');
    expect(storedNames).toContain('s2016._domainkey.demo.example');
    expect(storedNames).not.toContain('s8._domainkey.bulk8.example');
    // each record as the whole file imported first stored it: its own provenance, origin, dates and answer
    const eager = query<KeyRow>(path('eager.db'), `SELECT ${columns} FROM keys ORDER BY name, id`);
    expect(stored).toEqual(eager.filter((r) => storedNames.has(r.name)));
    const askedInEager = query<{ key_name: string }>(path('eager.db'), 'SELECT DISTINCT key_name FROM signatures WHERE key_name IS NOT NULL');
    for (const { key_name } of askedInEager) expect(storedNames.has(key_name) || !eager.some((r) => r.name === key_name), key_name).toBe(true);
    const compromised = 'SELECT fingerprint, list_path, list_sha256 FROM compromised_keys ORDER BY fingerprint';
    expect(query(path('run.db'), compromised)).toEqual(query(path('eager.db'), compromised));
    expect(query(path('run.db'), compromised)).toHaveLength(1);
    // what the examiner reads is what importing the whole file first gives
    expect(records(path('run.db'))).toEqual(records(path('eager.db')));
    const manifestKeys = (db: string): unknown => {
      const out = runCli(['manifest', '--db', path(db)]);
      expect(out.status, out.stderr).toBe(0);
      return (JSON.parse(out.stdout) as { keys: unknown }).keys;
    };
    expect(manifestKeys('run.db')).toEqual(manifestKeys('eager.db'));
  });

  // 40,000 records (28 MB): read whole, they cost about 3.7 KB each (+140 MB or more); the index
  // holds about 100 bytes a record (+4 MB). Two runs of the same dump differ by up to about 30 MB.
  it.runIf(hasGnuTime())('a key-store file of 40,000 records costs the run about what the file without them does', () => {
    const small = keyStoreOf(demoKeys) as { keys: unknown[] };
    const large = keyStoreOf(demoKeys) as { keys: unknown[] };
    const record = (small.keys as Array<Record<string, unknown>>)[0]!;
    for (let i = 0; i < 40_000; i++) large.keys.push({ ...record, domain: `bulk${i % 997}.example`, selector: `s${i}` });
    const rss = (name: string, file: unknown): number => {
      const keys = writeKeys(`${name}.json`, file);
      const run = runCliMeasured(['verify', dump, '--keys', keys, '--offline', '--db', path(`${name}.db`), '--quiet', '--jobs', '0']);
      expect(run.status, run.stderr).toBe(0);
      return run.maxRssKb!;
    };
    const without = rss('small', small);
    const withRecords = rss('large', large);
    expect(withRecords - without).toBeLessThan(50 * 1024);
    expect(query(path('large.db'), 'SELECT 1 FROM keys').length).toBeLessThan(20);
  });

  for (const [format, shape] of FORMATS) {
    it(`(${format}) a second verify with the same file and dump reads no file again, a recorded name never looked up included`, async () => {
      const keys = writeKeys('archive.json', shape(archiveMap()));
      const first = await verify('run.db', [keys]);
      const second = await verify('run.db', [keys]);
      expect(second.counts.unchanged).toBe(first.counts.containers);
      expect(analysedByLastRun(path('run.db'))).toEqual([]);
    });
  }

  // The reference is the whole file imported first (`keys import`, then verify), what verify
  // --keys did before: the same files must be read again, and the same records result.
  const changes: Array<[string, (keys: Record<string, string[]>) => Record<string, string[]>, boolean]> = [
    ['a record replaced (the same key, another record of it)', (k) => ({ ...k, 's2048._domainkey.demo.example': [`${S2048}; h=sha256`] }), true],
    ['a record added for a name without a key', (k) => ({ ...k, 's2016._domainkey.demo.example': [publicTxt('s2016._domainkey.demo.example.pem')] }), true],
    ['a record added for a name recorded but never looked up', (k) => ({ ...k, 's7._domainkey.bulk7.example': [S2048, publicTxt('s2016._domainkey.demo.example.pem')] }), true],
    ['a record removed', (k) => Object.fromEntries(Object.entries(k).filter(([name]) => name !== 'esp._domainkey.mailer.example')), false],
    ['a record added for a name the dump does not ask for', (k) => ({ ...k, 'new._domainkey.bulk3.example': [S2048] }), false],
  ];
  for (const [format, shape] of FORMATS) describe(`a changed ${format}`, () => {
    // Every change starts from the same two databases, the file before it read by verify --keys
    // and imported whole: made once, and copied for each change (no test below changes the dump).
    const shared = tempDir();
    const at = (name: string): string => join(shared.path, name);
    beforeAll(async () => {
      cpSync(DEMO_DUMP, at('dump'), { recursive: true });
      mkdirSync(at('dump/extra'));
      writeFileSync(at('dump/extra/unchecked.eml'), UNCHECKED);
      writeFileSync(at('keys.json'), JSON.stringify(shape(archiveMap()), null, 1));
      await runVerify({ dumpRoot: at('dump'), dbPath: at('run.db'), keyFiles: [at('keys.json')], offline: true });
      keysImportInProcess(at('eager.db'), at('keys.json'));
      await runVerify({ dumpRoot: at('dump'), dbPath: at('eager.db'), keyFiles: [], offline: true });
    });
    afterAll(() => shared.cleanup());

    for (const [what, change, readsAgain] of changes) {
      it(`(${what}) reads again the files that importing it whole read again`, async () => {
        const runDb = path('run.db');
        const eagerDb = path('eager.db');
        copyFileSync(at('run.db'), runDb);
        copyFileSync(at('eager.db'), eagerDb);
        // (the same path as the file the databases read: it is that file that changed)
        writeFileSync(at('keys.json'), JSON.stringify(shape(change(archiveMap())), null, 1));
        await runVerify({ dumpRoot: at('dump'), dbPath: runDb, keyFiles: [at('keys.json')], offline: true });
        keysImportInProcess(eagerDb, at('keys.json'));
        await runVerify({ dumpRoot: at('dump'), dbPath: eagerDb, keyFiles: [], offline: true });

        const readAgain = analysedByLastRun(runDb);
        expect(readAgain).toEqual(analysedByLastRun(eagerDb));
        expect(readAgain.length > 0).toBe(readsAgain);
        expect(records(runDb)).toEqual(records(eagerDb));
      });
    }
  });

  for (const [format, shape] of FORMATS) it(`(${format}) a file changed while the run reads it fails the run, and no message is recorded without the key it names`, async () => {
    const keys = writeKeys('archive.json', shape(archiveMap()));
    // (zz/last.eml, the only message naming its key, comes last in the walk: long after the first file is done)
    mkdirSync(join(dump, 'zz'));
    writeFileSync(join(dump, 'zz/last.eml'), UNCHECKED.replace('d=bulk7.example; s=s7', 'd=bulk9.example; s=s9'));
    let changed = false;
    const run = runVerify({
      dumpRoot: dump, dbPath: path('run.db'), keyFiles: [keys], offline: true, concurrency: 1,
      onProgress: () => {
        if (changed) return;
        changed = true;
        writeFileSync(keys, JSON.stringify(shape(archiveMap()), null, 2));
      },
    });
    await expect(run).rejects.toThrow(`${keys}: the key file changed while the run was reading it`);
    expect(query<{ status: string }>(path('run.db'), 'SELECT status FROM runs')).toEqual([{ status: 'failed' }]);
    expect(query(path('run.db'), "SELECT 1 FROM signatures WHERE key_lookup = 'error'")).toEqual([]);
    expect(query(path('run.db'), "SELECT 1 FROM source_files WHERE path = 'zz/last.eml' AND status = 'ok'")).toEqual([]);
    // run again on the file as it is now: what a fresh database gives
    await verify('run.db', [keys]);
    await verify('fresh.db', [keys]);
    expect(records(path('run.db'))).toEqual(records(path('fresh.db')));
  });

  it('a name that is not a DKIM key name refuses the file before the run, naming it', () => {
    const keys = writeKeys('bad.json', { ...demoKeys, 'nodkim.example': [S2048] });
    const out = runCli(['verify', dump, '--keys', keys, '--offline', '--db', path('bad.db')]);
    expect(out.status).toBe(2);
    expect(out.stderr).toContain(`${keys}: entry "nodkim.example" is not a DKIM key name`);
  });
});
