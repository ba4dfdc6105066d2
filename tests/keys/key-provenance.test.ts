import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import dns from 'node:dns';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { fetchMissingKeys } from '../../src/pipeline/key-commands.ts';
import { openStore } from '../../src/store/open-store.ts';
import { DEMO_DUMP, DEMO_KEYS, ROOT, runCli, tempDir } from '../helpers/cli.ts';
import { exportRows } from '../helpers/in-process.ts';

const ROTATED = 'inbox/2016-10-04 Server migration.eml';
const S2048_SIGNED = 'inbox/2017-02-14 Q1 budget.eml';

/** The public half of a committed test key, as DER SPKI. */
function publicDer(pemFile: string): Buffer {
  const key = createPrivateKey(readFileSync(join(ROOT, 'fixtures/keys', pemFile)));
  return createPublicKey(key).export({ type: 'spki', format: 'der' });
}
const txtFor = (der: Buffer): string => `v=DKIM1; k=rsa; p=${der.toString('base64')}`;

interface Row { path: string; index: number; verdict: string; explanation: string; reasons: string[]; findings: Array<{ code: string }>; signatures: Array<{ key_source: string | null; key_fingerprint: string | null; reason: string }> }
const rowFor = (rows: Row[], path: string): Row => rows.find((r) => r.path === path)!;

describe('keys: provenance, re-verification, forgeable keys', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: string;
  beforeEach(() => {
    tmp = tempDir();
    db = join(tmp.path, 'keys.db');
  });
  afterEach(() => tmp.cleanup());

  it('a rotated key supplied by import turns an unverifiable message verified on re-run, re-reading only what waited for it', async () => {
    const first = await runVerify({ dumpRoot: DEMO_DUMP, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    expect(rowFor(exportRows<Row>(db), ROTATED).reasons).toEqual(['key-not-found']);

    const archive = join(tmp.path, 'archive.json');
    writeFileSync(archive, JSON.stringify([
      { domain: 'demo.example', selector: 's2016', value: txtFor(publicDer('s2016._domainkey.demo.example.pem')), firstSeenAt: '2016-01-01T00:00:00Z', lastSeenAt: '2016-12-31T00:00:00Z', source: 'test-archive' },
    ]));
    const imported = runCli(['keys', 'import', archive, '--db', db]);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/archive-list, 1 key record\(s\) added/);

    const second = await runVerify({ dumpRoot: DEMO_DUMP, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    // Only the one container whose signature waited for that key was read again.
    expect(second.counts.unchanged).toBe(first.counts.containers - 1);
    const row = rowFor(exportRows<Row>(db), ROTATED);
    expect(row.verdict).toBe('verified');
    expect(row.signatures[0]!.key_source).toBe('archive');
    expect(row.signatures[0]!.key_fingerprint).toBe(createHash('sha256').update(publicDer('s2016._domainkey.demo.example.pem')).digest('hex'));
    expect(row.findings.map((f) => f.code)).not.toContain('key-outside-known-lifetime');

    // A third run has nothing left to do.
    const third = await runVerify({ dumpRoot: DEMO_DUMP, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    expect(third.counts.unchanged).toBe(first.counts.containers);
  });

  it('importing the same file twice changes nothing', () => {
    expect(runCli(['keys', 'import', DEMO_KEYS, '--db', db]).stdout).toMatch(/json-map, \d+ key record\(s\) added, 0 already known/);
    const again = runCli(['keys', 'import', DEMO_KEYS, '--db', db]);
    expect(again.stdout).toMatch(/json-map, 0 key record\(s\) added, \d+ already known/);
    const store = new Database(db, { readonly: true });
    const count = (store.prepare('SELECT count(*) AS n FROM keys').get() as { n: number }).n;
    store.close();
    expect(count).toBe(Object.keys(JSON.parse(readFileSync(DEMO_KEYS, 'utf8')) as object).length);
  });

  it('a malformed key file is refused with its line, and nothing is imported', () => {
    const bad = join(tmp.path, 'bad.zone');
    writeFileSync(bad, 's1._domainkey.example.com. IN TXT "v=DKIM1; k=rsa; p=MIIB\n');
    const result = runCli(['keys', 'import', DEMO_KEYS, bad, '--db', db]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/bad\.zone.*line 1/);
    // the files are read before the database is opened: it is not even created
    expect(existsSync(db)).toBe(false);
  });

  it('keys list --json and keys export escape what a terminal acts on, keeping the value', () => {
    // a selector as a hostile signature could name it: a CSI (U+009B) and a right-to-left override
    const name = 's\u009b2j\u202e1._domainkey.example.com';
    const map = join(tmp.path, 'hostile.json');
    writeFileSync(map, JSON.stringify({ [name]: 'v=DKIM1; k=rsa; p=' }));
    expect(runCli(['keys', 'import', map, '--db', db]).status).toBe(0);
    const list = runCli(['keys', 'list', '--db', db, '--json']);
    expect(list.stdout).not.toMatch(/[\u009b\u202e]/);
    expect(list.stdout).toContain('s\\u009b2j\\u202e1');
    expect(list.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { name: string }).name)).toContain(name);
    const exported = runCli(['keys', 'export', '--db', db, '--format', 'key-store']);
    expect(exported.stdout).not.toMatch(/[\u009b\u202e]/);
    const stored = (JSON.parse(exported.stdout) as { keys: Array<{ selector: string; domain: string }> }).keys;
    expect(stored.map((k) => `${k.selector}._domainkey.${k.domain}`)).toContain(name);
    const asMap = runCli(['keys', 'export', '--db', db]);
    expect(asMap.stdout).not.toMatch(/[\u009b\u202e]/);
    expect(Object.keys(JSON.parse(asMap.stdout) as object)).toContain(name);
  });

  it('lists keys with provenance, and exports a map that re-runs offline to the same verdicts', async () => {
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    const list = runCli(['keys', 'list', '--db', db, '--domain', 'demo.example']);
    expect(list.stdout).toMatch(/s2048\._domainkey\.demo\.example\s+file\s+rsa 2048-bit sha256:/);
    expect(list.stdout).not.toMatch(/weak\.example/);
    expect(runCli(['keys', 'list', '--db', db]).stdout).toMatch(/revoked\._domainkey\.gone\.example\s+revoked/);

    const verdicts = (rows: Row[]) => rows.map((r) => `${r.path}#${r.index}:${r.verdict}:${r.reasons.join(',')}`);
    for (const format of ['key-store', 'map']) {
      const exported = join(tmp.path, `exported-${format}.json`);
      expect(runCli(['keys', 'export', '--db', db, '--format', format, '--out', exported]).status).toBe(0);
      const otherDb = join(tmp.path, `colleague-${format}.db`);
      await runVerify({ dumpRoot: DEMO_DUMP, dbPath: otherDb, keyFiles: [exported], offline: true });
      expect(verdicts(exportRows<Row>(otherDb)), format).toEqual(verdicts(exportRows<Row>(db)));
    }
  });

  it('a compromised-key list (sha256 or md5) downgrades a pass to unverifiable', async () => {
    const der = publicDer('s2048._domainkey.demo.example.pem');
    for (const [algo, prefix] of [['sha256', 'sha256:'], ['md5', '']] as const) {
      const list = join(tmp.path, `compromised-${algo}.txt`);
      writeFileSync(list, `# retired keys published by demo.example\n${prefix}${createHash(algo).update(der).digest('hex')}\n`);
      const dbPath = join(tmp.path, `${algo}.db`);
      await runVerify({ dumpRoot: DEMO_DUMP, dbPath, keyFiles: [DEMO_KEYS], offline: true, compromisedFile: list });
      const row = rowFor(exportRows<Row>(dbPath), S2048_SIGNED);
      expect(row.verdict).toBe('unverifiable');
      expect(row.reasons).toContain('key-compromised');
      expect(row.signatures[0]!.reason).toBe('pass');
      // the list by its file name, never the analyst's folders
      expect(row.explanation).toContain(`is listed in compromised-${algo}.txt`);
      expect(row.explanation).not.toContain(tmp.path);
    }
  });

  // Red team, round 4 (09): a plain re-run without the flag turned the message back to verified.
  it('a key once listed as compromised stays so for every later run on the database, and the run record says how many are known', async () => {
    const der = publicDer('s2048._domainkey.demo.example.pem');
    const list = join(tmp.path, 'compromised-once.txt');
    writeFileSync(list, `${createHash('sha256').update(der).digest('hex')}\n`);
    const dbPath = join(tmp.path, 'remembered.db');
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath, keyFiles: [DEMO_KEYS], offline: true, compromisedFile: list });
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath, keyFiles: [DEMO_KEYS], offline: true });
    const row = rowFor(exportRows<Row>(dbPath), S2048_SIGNED);
    expect(row.verdict).toBe('unverifiable');
    expect(row.reasons).toContain('key-compromised');
    const store = new Database(dbPath, { readonly: true });
    const runs = (store.prepare('SELECT compromised_json FROM runs ORDER BY id').all() as Array<{ compromised_json: string }>).map((r) => JSON.parse(r.compromised_json));
    store.close();
    expect(runs).toEqual([
      { path: list, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), count: 1, knownInStore: 1 },
      { path: null, sha256: null, count: 0, knownInStore: 1 },
    ]);
  });

  // Red team 10 (06): the compromised list and the archive dates stayed behind in the database, so
  // a colleague re-running with the exported map got messages signed with a forgeable key verified.
  // The key-store file carries both (tests/keys/key-store-export.test.ts); the map, the default, needs them beside it.
  it('keys export hands over what the map cannot carry beside it, and warns when the compromised list is left behind', async () => {
    const der = publicDer('s2048._domainkey.demo.example.pem');
    const list = join(tmp.path, 'compromised.txt');
    writeFileSync(list, `${createHash('sha256').update(der).digest('hex')}\n`);
    const archive = join(tmp.path, 'archive.json');
    writeFileSync(archive, JSON.stringify([
      { domain: 'news.example', selector: 's1024', value: txtFor(publicDer('s1024._domainkey.news.example.pem')), firstSeenAt: '2019-06-01', lastSeenAt: '2020-01-01', source: 'late-archive' },
    ]));
    expect(runCli(['keys', 'import', archive, '--db', db]).status).toBe(0);
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: db, keyFiles: [DEMO_KEYS], offline: true, compromisedFile: list });
    const original = exportRows<Row>(db);
    expect(rowFor(original, S2048_SIGNED).reasons).toContain('key-compromised');
    expect(original.some((r) => r.findings.some((f) => f.code === 'key-outside-known-lifetime'))).toBe(true);

    const map = join(tmp.path, 'map.json');
    // the map cannot mark a key compromised: said loudly
    const plain = runCli(['keys', 'export', '--db', db, '--out', map]);
    expect(plain.status).toBe(0);
    expect(plain.stderr).toMatch(/WARNING: this database knows 1 compromised key fingerprint\(s\).*takes signatures made with those keys for proof.*--compromised-out/s);
    // nor carry archive dates: said
    const compromised = join(tmp.path, 'compromised-out.txt');
    const withList = runCli(['keys', 'export', '--db', db, '--format', 'map', '--out', map, '--compromised-out', compromised]);
    expect(withList.status).toBe(0);
    expect(withList.stderr).toMatch(/first\/last-seen dates and archive names of 1 archive record\(s\).*--archive-out/);

    // the whole hand-over: the same verdicts, reasons and findings
    const archived = join(tmp.path, 'archive-out.json');
    const full = runCli(['keys', 'export', '--db', db, '--format', 'map', '--out', map, '--compromised-out', compromised, '--archive-out', archived]);
    expect(full.status).toBe(0);
    expect(full.stderr).not.toMatch(/archive/);
    const colleague = join(tmp.path, 'colleague.db');
    expect(runCli(['keys', 'import', archived, '--db', colleague]).status).toBe(0);
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: colleague, keyFiles: [map], offline: true, compromisedFile: compromised });
    // ... and each signature decided with a key of the same provenance (red team 11, 06: the map's dateless copies of archive keys outranked the archive list)
    const summary = (rows: Row[]) => rows.map((r) => `${r.path}#${r.index}:${r.verdict}:${r.reasons.join(',')}:${r.findings.map((f) => f.code).sort().join(',')}:${r.signatures.map((sig) => sig.key_source).join(',')}`);
    expect(summary(exportRows<Row>(colleague))).toEqual(summary(original));
  });

  it('a key file that repeats a name is refused by verify --keys and keys import; a hostile name in a refusal reaches the terminal escaped (red team 10, 07 and 13)', () => {
    const txt = txtFor(publicDer('s2048._domainkey.demo.example.pem'));
    const dup = join(tmp.path, 'dup.json');
    writeFileSync(dup, `{"s2048._domainkey.demo.example": ["${txt}; h=sha1"],\n "s2048._domainkey.demo.example": ["${txt}"]}`);
    for (const args of [['verify', DEMO_DUMP, '--keys', dup, '--offline', '--quiet'], ['keys', 'import', dup]]) {
      const refused = runCli([...args, '--db', db]);
      expect(refused.status, args[0]).toBe(2);
      expect(refused.stderr, args[0]).toMatch(/the name "s2048\._domainkey\.demo\.example" appears twice in one object/);
    }
    expect(runCli(['keys', 'list', '--db', db]).stdout).not.toMatch(/s2048/);

    const hostile = join(tmp.path, 'hostile.json');
    writeFileSync(hostile, '{"evil\\u202e\\u009b2J\\u001b[31m.example": ["v=DKIM1; p="]}');
    const refused = runCli(['keys', 'import', hostile, '--db', db]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('"evil\\u202e\\u009b2J\\u001b[31m.example"');
    expect(refused.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);

    // an entry that is only ignored (a TXT record that is no DKIM key) is named escaped too
    const ignored = join(tmp.path, 'ignored.json');
    writeFileSync(ignored, '{"evil\\u202e\\u009b2J\\u001b[31m._domainkey.example": ["v=spf1 -all"]}');
    const listed = runCli(['keys', 'import', ignored, '--db', db]);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('ignored entry 1 ("evil\\u202e\\u009b2J\\u001b[31m._domainkey.example")');
    expect(listed.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  });

  it('warns when a signature verifies with a key outside its known lifetime', async () => {
    const archive = join(tmp.path, 'archive.json');
    writeFileSync(archive, JSON.stringify([
      { domain: 'demo.example', selector: 's2048', value: txtFor(publicDer('s2048._domainkey.demo.example.pem')), firstSeenAt: '2019-06-01', lastSeenAt: '2020-01-01', source: 'late-archive' },
    ]));
    expect(runCli(['keys', 'import', archive, '--db', db]).status).toBe(0);
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    const row = rowFor(exportRows<Row>(db), S2048_SIGNED); // dated 2017-02-14
    expect(row.verdict).toBe('verified'); // a warning, not proof of forgery
    const finding = row.findings.find((f) => f.code === 'key-outside-known-lifetime') as { code: string; severity?: string; text?: string };
    expect(finding).toBeDefined();
    expect(finding.text).toMatch(/not known to be in use at that date/);
  });

  it('keys fetch asks only for missing selectors and stores every answer, failures included', async () => {
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
    const asked: string[] = [];
    const store = openStore(db);
    try {
      const report = await fetchMissingKeys(store, {
        lookup: async (name) => {
          asked.push(name);
          return { status: 'error', name, code: 'ETIMEOUT', detail: 'simulated timeout' };
        },
      });
      expect(asked).toEqual(['s2016._domainkey.demo.example']);
      expect(report.errors).toHaveLength(1);
      const logged = store.prepare('SELECT status, detail FROM key_lookups WHERE name = ?').all('s2016._domainkey.demo.example');
      expect(logged).toEqual([{ status: 'error', detail: 'simulated timeout' }]);
    } finally {
      store.close();
    }
  });
});

describe('--offline makes no DNS query', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => {
    vi.restoreAllMocks();
    tmp.cleanup();
  });

  it('never calls the resolver, even for keys it does not have', async () => {
    const spies = [
      vi.spyOn(dns.promises.Resolver.prototype, 'resolveTxt'),
      vi.spyOn(dns.promises, 'resolveTxt'),
      vi.spyOn(dns.promises, 'resolve'),
      vi.spyOn(dns, 'resolveTxt'),
    ];
    const dump = join(tmp.path, 'dump');
    cpSync(DEMO_DUMP, dump, { recursive: true });
    const live = vi.fn(async () => {
      throw new Error('live lookup called in offline mode');
    });
    // No --keys: every signature needs a key, and none may be looked up.
    const { counts } = await runVerify({ dumpRoot: dump, dbPath: join(tmp.path, 'offline.db'), keyFiles: [], offline: true, liveLookup: live });
    expect(counts.messages).toBeGreaterThan(0);
    expect(live).not.toHaveBeenCalled();
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    const rows = exportRows<Row>(join(tmp.path, 'offline.db'));
    const signed = rows.filter((r) => r.signatures.length);
    expect(signed.length).toBeGreaterThan(0);
    for (const r of signed) expect(r.verdict).not.toBe('verified');
    expect(rows.some((r) => r.reasons.includes('key-not-found'))).toBe(true);
    expect(rows.some((r) => r.reasons.includes('dns-error'))).toBe(false);
  });

  it('without --offline, the live lookup is used and its answers are stored', async () => {
    const asked: string[] = [];
    const dbPath = join(tmp.path, 'online.db');
    await runVerify({
      dumpRoot: DEMO_DUMP, dbPath, keyFiles: [], offline: false,
      liveLookup: async (name) => {
        asked.push(name);
        return { status: 'absent', name, detail: 'simulated NXDOMAIN' };
      },
    });
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked).size).toBe(asked.length); // each selector once per run
    const store = new Database(dbPath, { readonly: true });
    const absent = (store.prepare("SELECT count(*) AS n FROM keys WHERE provenance = 'absent'").get() as { n: number }).n;
    store.close();
    expect(absent).toBe(asked.length);
  });
});
