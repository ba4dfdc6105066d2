import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonText } from '../../src/report/json-text.ts';
import { manifestText } from '../../src/report/manifest.ts';
import { openStore } from '../../src/store/open-store.ts';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
import { DATE_HEADER, rsaKey, SIGN_TIME, signed } from '../unit/support/signing.ts';
import { demoDatabase } from './demo-db.ts';

let demo: Awaited<ReturnType<typeof demoDatabase>>;
beforeAll(async () => {
  demo = await demoDatabase();
});
afterAll(() => demo.cleanup());

const text = (db: Parameters<typeof manifestText>[0], pageSize?: number): string => [...manifestText(db, { pageSize })].join('');

describe('the manifest, written as it is read', () => {
  it('is exactly jsonText (JSON.stringify, terminal-active characters escaped) of itself with two-space indents, whatever the page of files read at once', () => {
    const whole = text(demo.db);
    const parsed = JSON.parse(whole) as { counts: { files: number; messages: number }; files: Array<{ path: string; messages: unknown[] }> };
    expect(whole).toBe(`${jsonText(parsed, 2)}\n`);
    expect(parsed.files.length).toBe(parsed.counts.files);
    expect(parsed.files.reduce((n, f) => n + f.messages.length, 0)).toBe(parsed.counts.messages);
    expect(parsed.files.map((f) => f.path)).toEqual(parsed.files.map((f) => f.path).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const pageSize of [1, 2, 3, 7]) expect(text(demo.db, pageSize)).toBe(whole);
    // it read inside a transaction of its own, and closed it
    expect(demo.db.inTransaction).toBe(false);
  });

  // Red team W2, W2-04: a page of files held all of their messages at once; a page that is one
  // mbox of 200,000 messages took 629 MB.
  it('holds a bounded piece at a time however many messages one file has, and stays exactly jsonText of itself', async () => {
    const dir = tempDir('leakcheck-manifest-');
    try {
      mkdirSync(join(dir.path, 'dump'));
      // 1,500 messages make a file's part of the manifest about 525,000 characters: held whole, as
      // the bug held it, it would be one piece far over the bound asserted below
      const messages = Array.from({ length: 1500 }, (_, i) => `From sender@example.org Mon Jan  1 00:00:00 2024\nFrom: sender@example.org\nSubject: ${i}\nMessage-ID: <m${i}@example.org>\n\nbody ${i}\n`);
      writeFileSync(join(dir.path, 'dump/big.mbox'), messages.join('\n'));
      writeFileSync(join(dir.path, 'dump/after.eml'), 'From: a@example.org\nSubject: after\n\nhi\n');
      const path = join(dir.path, 'case.db');
      await runVerify({ dumpRoot: join(dir.path, 'dump'), dbPath: path, keyFiles: [], offline: true });
      const db = openStore(path, { readonly: true });
      try {
        const pieces = [...manifestText(db)];
        const whole = pieces.join('');
        const parsed = JSON.parse(whole) as { files: Array<{ path: string; messages: unknown[] }> };
        expect(whole).toBe(`${jsonText(parsed, 2)}\n`);
        expect(parsed.files.map((f) => [f.path, f.messages.length])).toEqual([['after.eml', 1], ['big.mbox', 1500]]);
        expect(whole.length).toBeGreaterThan(400_000);
        expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(256 * 1024 + 2000);
        for (const pageSize of [1, 2]) expect([...manifestText(db, { pageSize })].join('')).toBe(whole);
      } finally {
        db.close();
      }
    } finally {
      dir.cleanup();
    }
  });

  it('of a database with no file yet, is the same JSON with an empty list', () => {
    const dir = tempDir('leakcheck-manifest-');
    try {
      const db = openStore(join(dir.path, 'empty.db'));
      const empty = text(db);
      expect(empty).toBe(`${jsonText(JSON.parse(empty), 2)}\n`);
      expect(JSON.parse(empty)).toMatchObject({ manifest_version: 1, produced_by: null, counts: { files: 0, messages: 0 }, files: [] });
      db.close();
    } finally {
      dir.cleanup();
    }
  });

  it('counts a verdict of a hand-edited database after the three, in the order the messages were stored, as it always did', async () => {
    const dir = tempDir('leakcheck-manifest-');
    try {
      const path = join(dir.path, 'edited.db');
      await demo.db.backup(path);
      const raw = new Database(path);
      const ids = raw.prepare('SELECT id FROM messages ORDER BY file_id, idx').pluck().all() as number[];
      raw.prepare("UPDATE verdicts SET verdict = 'forged?' WHERE message_id = ?").run(ids[5]);
      raw.prepare("UPDATE verdicts SET verdict = 'another' WHERE message_id = ?").run(ids[3]);
      raw.close();
      const db = openStore(path, { readonly: true });
      const edited = JSON.parse(text(db)) as { counts: { verdicts: Record<string, number> } };
      db.close();
      expect(Object.keys(edited.counts.verdicts)).toEqual(['verified', 'unverifiable', 'suspicious', 'another', 'forged?']);
      expect(edited.counts.verdicts['forged?']).toBe(1);
    } finally {
      dir.cleanup();
    }
  });
});

// Red team 10 (09): the manifest took its provenance from the last run's options alone: after a
// plain re-run, or with keys from `keys import`, it named no key file and no compromised list,
// while its verdicts rested on both; and the thread count made manifests differ between machines.
describe('the manifest says what the verdicts rest on', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  type KeyEntry = { name: string; fingerprint: string | null; provenance: string; origin: string; origin_sha256: string | null; first_seen: string | null; last_seen: string | null; compromised: boolean; record: string | null };
  type Manifest = { produced_by: { options: Record<string, unknown>; key_files: unknown[]; compromised_list: string | null }; keys: { used: KeyEntry[]; compromised: string[] }; files: unknown[] };
  const manifestOf = (path: string): string => {
    const db = openStore(path, { readonly: true });
    try {
      return text(db);
    } finally {
      db.close();
    }
  };
  const read = (path: string): Manifest => JSON.parse(manifestOf(path)) as Manifest;
  const demoKeysSha256 = createHash('sha256').update(readFileSync(DEMO_KEYS)).digest('hex');
  const demoKeyNames = Object.keys(JSON.parse(readFileSync(DEMO_KEYS, 'utf8')) as Record<string, unknown>).sort();
  const byFile = join(tmp.path, 'by-file.db');
  const byFileTwoThreads = join(tmp.path, 'by-file-2.db');
  const imported = join(tmp.path, 'imported.db');
  beforeAll(async () => {
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: byFile, keyFiles: [DEMO_KEYS], offline: true, concurrency: 1 });
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: byFileTwoThreads, keyFiles: [DEMO_KEYS], offline: true, concurrency: 2 });
    // the same keys by `keys import` (run from another folder: the origin is the path as typed), then a plain run
    const keysImport = runCli(['keys', 'import', 'demo-keys.json', '--db', imported], { cwd: dirname(DEMO_KEYS) });
    expect(keysImport.status, keysImport.stderr).toBe(0);
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: imported, keyFiles: [], offline: true, concurrency: 2 });
  });

  it('names every key record the signatures and ARC sets asked for: name, fingerprint, provenance, origin file and its sha256, the record', () => {
    const { keys } = read(byFile);
    expect(keys.used.map((k) => k.name)).toEqual(demoKeyNames);
    for (const k of keys.used) {
      expect(k).toMatchObject({ origin: 'demo-keys.json', origin_sha256: demoKeysSha256, first_seen: null, last_seen: null, compromised: false });
      expect(k.record).toMatch(/^v=DKIM1; /);
    }
    expect(keys.used.find((k) => k.name === 'revoked._domainkey.gone.example')).toMatchObject({ provenance: 'revoked', fingerprint: null });
    expect(keys.used.find((k) => k.name === 's2048._domainkey.demo.example')).toMatchObject({ provenance: 'file', fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(keys.compromised).toEqual([]);
  });

  it('is byte-identical for the same results on one thread or two, and for keys by --keys or by keys import but for the last run\'s key_files', () => {
    const oneThread = manifestOf(byFile);
    expect(manifestOf(byFileTwoThreads)).toBe(oneThread);
    const a = read(byFile);
    expect(a.produced_by.options).toEqual({ offline: true, rehash: false });
    expect(a.produced_by.key_files).toEqual([{ name: 'demo-keys.json', sha256: demoKeysSha256 }]);
    const b = read(imported);
    expect(b.produced_by.key_files).toEqual([]);
    expect(jsonText(b.keys, 2)).toBe(jsonText(a.keys, 2));
    expect(`${jsonText({ ...b, produced_by: { ...b.produced_by, key_files: a.produced_by.key_files } }, 2)}\n`).toBe(oneThread);
  });

  // Red team Q, Q-04: --zip-max-bytes decides which archives are read at all (the demo's zip,
  // over 2,000 bytes, is not), so a second newsroom comparing manifests must see it.
  it('records --zip-max-bytes among the options, as the verdicts rest on it', async () => {
    const limited = join(tmp.path, 'zip-limited.db');
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: limited, keyFiles: [DEMO_KEYS], offline: true, concurrency: 1, zipMaxBytes: 2000 });
    const manifest = read(limited);
    expect(manifest.produced_by.options).toEqual({ offline: true, rehash: false, zipMaxBytes: 2000 });
    expect(manifest.files.length).toBeLessThan(read(byFile).files.length);
  });

  it('is the same bytes in any time zone and locale', () => {
    const here = runCli(['manifest', '--db', byFile]);
    expect(here.status, here.stderr).toBe(0);
    expect(here.stdout).toBe(manifestOf(byFile));
    for (const place of [{ TZ: 'Pacific/Chatham', LANG: 'sv_SE.UTF-8', LC_ALL: 'sv_SE.UTF-8' }, { TZ: 'America/St_Johns', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' }]) {
      expect(runCli(['manifest', '--db', byFile], { env: place }).stdout).toBe(here.stdout);
    }
  });

  it('lists a key an ARC set asked for, and leaves out a key of the store that nothing asked for', async () => {
    const edited = join(tmp.path, 'arc-only.db');
    const source = openStore(byFile, { readonly: true });
    await source.backup(edited);
    source.close();
    // arc._domainkey.lists.example is the lists.example DKIM signature's key and the ARC set's: keep only the ARC set's question
    const raw = new Database(edited);
    raw.prepare("DELETE FROM signatures WHERE key_name = 'arc._domainkey.lists.example'").run();
    raw.close();
    const extra = join(tmp.path, 'extra-keys.json');
    writeFileSync(extra, JSON.stringify({ 'unused._domainkey.elsewhere.example': ['v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAL'] }));
    expect(runCli(['keys', 'import', extra, '--db', edited]).status).toBe(0);
    const { keys } = read(edited);
    expect(keys.used.map((k) => k.name)).toEqual(demoKeyNames);
  });

  it('names the compromised fingerprints the database remembers, after a run without the list too, sha256 and md5 alike', async () => {
    const listed = join(tmp.path, 'compromised.db');
    const s2048 = read(byFile).keys.used.find((k) => k.name === 's2048._domainkey.demo.example')!.fingerprint!;
    const raw = new Database(byFile, { readonly: true });
    const ed1Md5 = raw.prepare("SELECT fingerprint_md5 FROM keys WHERE name = 'ed1._domainkey.demo.example'").pluck().get() as string;
    raw.close();
    const list = join(tmp.path, 'compromised.txt');
    writeFileSync(list, `${s2048}\nmd5:${ed1Md5}\n`);
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: listed, keyFiles: [DEMO_KEYS], offline: true, compromisedFile: list });
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: listed, keyFiles: [], offline: true, rehash: true });
    const c = read(listed);
    expect(c.produced_by.compromised_list).toBeNull();
    expect(c.keys.compromised).toEqual([s2048, ed1Md5].sort());
    expect(c.keys.used.filter((k) => k.compromised).map((k) => k.name)).toEqual(['ed1._domainkey.demo.example', 's2048._domainkey.demo.example']);
  });
});

// Red team 11, finding 05: `keys.used` was sorted with localeCompare, and Danish collation puts
// "aa" after "z": the same database gave two manifests under LC_ALL=en_US and LC_ALL=da_DK.
describe('the manifest\'s keys, under a locale that sorts "aa" last', () => {
  const tmp = tempDir('leakcheck-manifest-locale-');
  afterAll(() => tmp.cleanup());

  it('are in code-unit order, the same bytes under en_US and da_DK', async () => {
    const key = rsaKey(2048);
    const dump = join(tmp.path, 'dump');
    mkdirSync(dump);
    const keys: Record<string, string[]> = {};
    for (const domain of ['bergen.example', 'aarhus.example']) {
      const message = `From: A <a@${domain}>\r\nTo: b@other.example\r\nSubject: hi\r\nDate: ${DATE_HEADER}\r\nMessage-ID: <m@${domain}>\r\n\r\nhello\r\n`;
      writeFileSync(join(dump, `${domain}.eml`), await signed(message, { key, domain, selector: 's1', signTime: SIGN_TIME }), 'latin1');
      keys[`s1._domainkey.${domain}`] = [key.txt];
    }
    writeFileSync(join(tmp.path, 'keys.json'), JSON.stringify(keys));
    const db = join(tmp.path, 'x.db');
    await runVerify({ dumpRoot: dump, dbPath: db, keyFiles: [join(tmp.path, 'keys.json')], offline: true, concurrency: 1 });
    const [english, danish] = ['en_US.UTF-8', 'da_DK.UTF-8'].map((locale) => runCli(['manifest', '--db', db], { env: { LANG: locale, LC_ALL: locale } }));
    expect(english!.status, english!.stderr).toBe(0);
    expect(danish!.stdout).toBe(english!.stdout);
    const used = (JSON.parse(english!.stdout) as { keys: { used: Array<{ name: string }> } }).keys.used;
    expect(used.map((k) => k.name)).toEqual(['s1._domainkey.aarhus.example', 's1._domainkey.bergen.example']);
  });
});
