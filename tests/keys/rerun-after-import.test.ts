import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { createSeal } from 'mailauth';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { importKeyFiles } from '../../src/pipeline/key-commands.ts';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { openStore } from '../../src/store/open-store.ts';
import { acquireRunLock } from '../../src/store/run-lock.ts';
import { DEMO_DUMP, DEMO_KEYS, ROOT, runCli, tempDir } from '../helpers/cli.ts';
import { exportRows, keysImportInProcess as keysImport } from '../helpers/in-process.ts';
import { BEFORE_SCHEMA_18 } from '../helpers/older-schema.ts';

// A re-run after `keys import` (or `verify --keys`) must give what a fresh database given the same
// dump and keys gives: the re-run decides which unchanged files to read again (src/store/incremental.ts).

const ZIP_ENTRY = 'exports/mailbox-export.zip!export/2019-05-20 Travel plan.eml';
const FORWARDED = 'inbox/2018-10-02 Fwd- Board minutes.eml#attachment-1';
const S2048_SIGNED = 'inbox/2017-02-14 Q1 budget.eml';

const publicTxt = (pemFile: string): string =>
  `v=DKIM1; k=rsa; p=${createPublicKey(createPrivateKey(readFileSync(join(ROOT, 'fixtures/keys', pemFile)))).export({ type: 'spki', format: 'der' }).toString('base64')}`;

interface Row { path: string; index: number; verdict: string; reasons: string[]; findings: Array<{ code: string }>; signatures: Array<{ reason: string; key_source: string | null; key_fingerprint: string | null }> }
/** What the examiner reads of each message: verdict, reasons, findings, and each signature's result and key. */
const records = (db: string): string[] =>
  exportRows<Row>(db).map((r) => JSON.stringify([r.path, r.index, r.verdict, r.reasons, r.findings.map((f) => f.code).sort(), r.signatures.map((s) => [s.reason, s.key_source, s.key_fingerprint])]));
const rowFor = (db: string, path: string): Row => exportRows<Row>(db).find((r) => r.path === path)!;

describe('re-run after keys import: the same records as a fresh database', () => {
  let tmp: ReturnType<typeof tempDir>;
  let dump: string;
  const db = (name: string): string => join(tmp.path, `${name}.db`);
  const verify = (dbPath: string, keyFiles: string[] = []) => runVerify({ dumpRoot: dump, dbPath, keyFiles, offline: true });
  const archive = (name: string, entries: object[]): string => {
    const path = join(tmp.path, name);
    writeFileSync(path, JSON.stringify(entries));
    return path;
  };
  // One copy of the demo dump for the block, each test's databases in a folder of its own. The
  // dump's first run, with the demo keys or with none, is the same database for every test that
  // starts with it: made once (as the first test to need it), then copied. Only sealerApart adds a
  // file to the dump, taken out again after its test; no test starts from a copy after adding it.
  const shared = tempDir();
  const baseRuns = new Map<string, { dbPath: string; run: ReturnType<typeof verify> }>();
  /** verify(dbPath, keyFiles) on the dump as the demo dump has it, by a copy of the same run's database. */
  const firstRun = async (dbPath: string, keyFiles: string[] = []): ReturnType<typeof verify> => {
    expect(existsSync(join(dump, 'arc-only.eml'))).toBe(false);
    const key = JSON.stringify(keyFiles);
    if (!baseRuns.has(key)) {
      const basePath = join(shared.path, `first-${baseRuns.size}.db`);
      baseRuns.set(key, { dbPath: basePath, run: verify(basePath, keyFiles) });
    }
    const base = baseRuns.get(key)!;
    const run = await base.run;
    // (a closed database has all of itself in its file: its write-ahead log is checkpointed and emptied)
    copyFileSync(base.dbPath, dbPath);
    return run;
  };
  beforeAll(() => {
    dump = join(shared.path, 'dump');
    cpSync(DEMO_DUMP, dump, { recursive: true });
  });
  afterAll(() => shared.cleanup());
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => {
    rmSync(join(dump, 'arc-only.eml'), { force: true });
    tmp.cleanup();
  });

  // Red team 27 (C-01): only a file's own messages were asked about, so the messages found inside
  // it kept "unverifiable" (key-not-found) for ever, even with --rehash.
  it('messages inside a zip archive and forwarded messages are verified again once their keys are imported (red team 27, C-01)', async () => {
    const first = await firstRun(db('rerun'));
    expect(rowFor(db('rerun'), ZIP_ENTRY).reasons).toEqual(['key-not-found']);
    expect(rowFor(db('rerun'), FORWARDED).reasons).toEqual(['key-not-found']);
    keysImport(db('rerun'), DEMO_KEYS);
    await verify(db('rerun'));
    await firstRun(db('fresh'), [DEMO_KEYS]);

    expect(rowFor(db('rerun'), ZIP_ENTRY).verdict).toBe('verified');
    expect(rowFor(db('rerun'), FORWARDED).verdict).toBe('verified');
    expect(records(db('rerun'))).toEqual(records(db('fresh')));
    // Nothing is left waiting: a third run reads no file again.
    expect((await verify(db('rerun'))).counts.unchanged).toBe(first.counts.containers);
  });

  it('a dump that is only a zip archive fails the CI gate on the re-run after keys import, as on a fresh database (red team 27, C-01)', () => {
    const zipOnly = join(tmp.path, 'zip-only');
    mkdirSync(zipOnly);
    cpSync(join(dump, 'exports/mailbox-export.zip'), join(zipOnly, 'mailbox-export.zip'));
    const gate = (dbPath: string, ...keys: string[]): number =>
      runCli(['verify', zipOnly, '--offline', '--db', dbPath, '--quiet', '--fail-on', 'suspicious', ...keys]).status;
    expect(gate(db('zip'))).toBe(0); // without keys, nothing is suspicious
    keysImport(db('zip'), DEMO_KEYS);
    expect(gate(db('zip'))).toBe(1);
    expect(gate(db('zip-fresh'), '--keys', DEMO_KEYS)).toBe(1);
  });

  // Red team 27 (C-02): only signatures that had not verified were asked about, so an archive's
  // dates for a key that had verified messages never reached them.
  it('an archive record with dates for a key that verified messages, imported after the run, gives the re-run the fresh database\'s lifetime warnings (red team 27, C-02)', async () => {
    const dated = archive('archive.json', [
      { domain: 'demo.example', selector: 's2048', value: publicTxt('s2048._domainkey.demo.example.pem'), firstSeenAt: '2021-01-01T00:00:00Z', lastSeenAt: '2022-01-01T00:00:00Z', source: 'dkim-archive.example' },
    ]);
    const first = await firstRun(db('rerun'), [DEMO_KEYS]);
    expect(rowFor(db('rerun'), S2048_SIGNED).findings.map((f) => f.code)).not.toContain('key-outside-known-lifetime');
    keysImport(db('rerun'), dated);
    await verify(db('rerun'));
    keysImport(db('fresh'), DEMO_KEYS, dated);
    await verify(db('fresh'));

    expect(rowFor(db('rerun'), S2048_SIGNED).findings.map((f) => f.code)).toContain('key-outside-known-lifetime');
    expect(records(db('rerun'))).toEqual(records(db('fresh')));
    expect((await verify(db('rerun'))).counts.unchanged).toBe(first.counts.containers);
  });

  // What keeps the re-run cheap: another key under a name whose signatures all verified cannot
  // change them (each candidate is tried, and the one that verifies is kept), so nothing is read
  // again; a record of the very key that verified one is, since it may carry its dates.
  it('a signature that verified is read again for a new record of its own key, not for another key under its name', async () => {
    const first = await firstRun(db('rerun'), [DEMO_KEYS]);
    const rotated = archive('rotated.json', [
      { domain: 'mailer.example', selector: 'esp', value: publicTxt('s2016._domainkey.demo.example.pem'), firstSeenAt: '2016-01-01T00:00:00Z', lastSeenAt: '2016-12-31T00:00:00Z', source: 'dkim-archive.example' },
    ]);
    keysImport(db('rerun'), rotated);
    expect((await verify(db('rerun'))).counts.unchanged).toBe(first.counts.containers);
    keysImport(db('fresh'), DEMO_KEYS, rotated);
    await verify(db('fresh'));
    expect(records(db('rerun'))).toEqual(records(db('fresh')));

    const sameKey = archive('same-key.json', [
      { domain: 'mailer.example', selector: 'esp', value: publicTxt('esp._domainkey.mailer.example.pem'), firstSeenAt: '2010-01-01T00:00:00Z', lastSeenAt: '2011-01-01T00:00:00Z', source: 'dkim-archive.example' },
    ]);
    keysImport(db('rerun'), sameKey);
    expect((await verify(db('rerun'))).counts.unchanged).toBe(first.counts.containers - 1);
    keysImport(db('fresh-2'), DEMO_KEYS, rotated, sameKey);
    await verify(db('fresh-2'));
    expect(records(db('rerun'))).toEqual(records(db('fresh-2')));
  });

  /**
   * The demo keys without the list's ARC sealer and the sealer's alone, and a message the list
   * sealed and nobody signed (`arc-only.eml`): only its ARC chain asks for the sealer's key.
   */
  const sealerApart = async (): Promise<{ withoutSealer: string; sealerOnly: string }> => {
    const all = JSON.parse(readFileSync(DEMO_KEYS, 'utf8')) as Record<string, unknown>;
    const sealer = 'arc._domainkey.lists.example';
    expect(all[sealer]).toBeDefined();
    const withoutSealer = join(tmp.path, 'without-sealer.json');
    const sealerOnly = join(tmp.path, 'sealer.json');
    writeFileSync(withoutSealer, JSON.stringify(Object.fromEntries(Object.entries(all).filter(([name]) => name !== sealer))));
    writeFileSync(sealerOnly, JSON.stringify({ [sealer]: all[sealer] }));
    const message = 'From: carol@demo.example\r\nTo: team@lists.example\r\nSubject: arc only\r\nDate: Tue, 05 Mar 2019 10:00:00 +0000\r\nMessage-ID: <arc-only@demo.example>\r\n\r\nHello.\r\n';
    const seal = await createSeal(Buffer.from(message), {
      seal: {
        signingDomain: 'lists.example',
        selector: 'arc',
        privateKey: readFileSync(join(ROOT, 'fixtures/keys/arc._domainkey.lists.example.pem')),
        cv: 'none',
        signTime: new Date('2019-03-05T10:00:01Z'),
        authResults: 'mail.lists.example; dkim=none; spf=pass smtp.mailfrom=carol@demo.example; dmarc=none header.from=demo.example',
      },
    });
    writeFileSync(join(dump, 'arc-only.eml'), `${seal.headers.join('\r\n')}\r\n${message}`);
    return { withoutSealer, sealerOnly };
  };

  /** Verifies without the sealer's key, has `importSealer` add it, verifies again: the fresh database's records. */
  const arcWaitsForItsSealer = async (importSealer: (sealerOnly: string) => void): Promise<void> => {
    const { withoutSealer, sealerOnly } = await sealerApart();
    await verify(db('rerun'), [withoutSealer]);
    expect(rowFor(db('rerun'), 'arc-only.eml').reasons).toEqual(['unsigned']);
    const before = records(db('rerun'));
    importSealer(sealerOnly);
    await verify(db('rerun'));
    await verify(db('fresh'), [DEMO_KEYS]);
    expect(records(db('fresh'))).not.toEqual(before);
    expect(records(db('rerun'))).toEqual(records(db('fresh')));
    expect(rowFor(db('rerun'), 'arc-only.eml').reasons).toEqual(['unsigned', 'arc-only']);
  };

  // An ARC chain that did not validate for want of its sealer's key waits for it as a DKIM
  // signature does: the messages it seals kept their first verdict (arc-only lost, a failure a
  // vouched-for sealer explains left suspicious).
  it('messages whose ARC chain waited for its sealer key are read again once it is imported', async () => {
    await arcWaitsForItsSealer((sealerOnly) => keysImport(db('rerun'), sealerOnly));
  });

  // Red team 28 (H-05): the strictest record of a sealer's key applies to ARC as to DKIM. A chain
  // that passed must be read again when another record of the key that validated it arrives: one
  // that forbids it (h=sha1 here) turns a fresh database's chain to fail.
  it('a passing ARC chain is read again when a stricter record of the key that validated it is imported', async () => {
    const { sealerOnly } = await sealerApart();
    await verify(db('rerun'), [DEMO_KEYS]);
    expect(rowFor(db('rerun'), 'arc-only.eml').reasons).toEqual(['unsigned', 'arc-only']);
    const stricter = join(tmp.path, 'stricter-sealer.json');
    const record = [(JSON.parse(readFileSync(sealerOnly, 'utf8')) as Record<string, string | string[]>)['arc._domainkey.lists.example']!].flat().join('');
    expect(record).toContain('k=rsa;');
    writeFileSync(stricter, JSON.stringify({ 'arc._domainkey.lists.example': record.replace('k=rsa;', 'k=rsa; h=sha1;') }));
    keysImport(db('rerun'), stricter);
    await verify(db('rerun'));
    keysImport(db('fresh'), DEMO_KEYS, stricter);
    await verify(db('fresh'));
    expect(rowFor(db('fresh'), 'arc-only.eml').reasons).toEqual(['unsigned']);
    expect(records(db('rerun'))).toEqual(records(db('fresh')));
  });

  // Red team 28 (H-01): "a key added since the file's analysis" compared the wall-clock times
  // each run wrote (keys.added_at, source_files.analyzed_at). Keys imported on a clock ten
  // minutes behind the run that analysed the dump were older than every file, and the messages
  // waiting for them stayed key-not-found for ever, tampered ones included.
  describe('whatever the clocks of the runs said (red team 28, H-01)', () => {
    const TEN_MINUTES = 10 * 60 * 1000;
    /** `keys import` on a machine whose clock is `offsetMs` off. */
    const keysImportAtClock = (dbPath: string, offsetMs: number, ...files: string[]): void => {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + offsetMs });
      const store = openStore(dbPath);
      try {
        importKeyFiles(store, files);
      } finally {
        store.close();
        vi.useRealTimers();
      }
    };

    it('keys imported on a clock ten minutes behind reach the messages analysed before', async () => {
      const first = await firstRun(db('rerun'));
      keysImportAtClock(db('rerun'), -TEN_MINUTES, DEMO_KEYS);
      await verify(db('rerun'));
      await firstRun(db('fresh'), [DEMO_KEYS]);

      expect(rowFor(db('rerun'), S2048_SIGNED).verdict).toBe('verified');
      expect(exportRows<Row>(db('rerun')).filter((r) => r.verdict === 'suspicious').length).toBeGreaterThan(0);
      expect(records(db('rerun'))).toEqual(records(db('fresh')));
      expect((await verify(db('rerun'))).counts.unchanged).toBe(first.counts.containers);
    });

    it('verify --keys after a run whose clock was a day ahead', async () => {
      await firstRun(db('rerun'));
      // what that run's clock wrote (the pipeline itself is not run under a faked clock: its
      // worker threads keep the real one)
      const aged = new Database(db('rerun'));
      aged.prepare("UPDATE source_files SET analyzed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 day')").run();
      aged.close();
      await verify(db('rerun'), [DEMO_KEYS]);
      await firstRun(db('fresh'), [DEMO_KEYS]);
      expect(records(db('rerun'))).toEqual(records(db('fresh')));
    });

    it('an ARC chain waiting for its sealer\'s key gets it from an import on a clock behind', async () => {
      await arcWaitsForItsSealer((sealerOnly) => keysImportAtClock(db('rerun'), -TEN_MINUTES, sealerOnly));
    });

    // A database of schema 10 recorded no key id with its files: an old leakcheck may have left it
    // stale as above, and the upgrade must not keep it so.
    it('a database an older leakcheck left stale is healed by the next run after the upgrade', async () => {
      await firstRun(db('rerun'));
      keysImportAtClock(db('rerun'), -TEN_MINUTES, DEMO_KEYS);
      const old = new Database(db('rerun'));
      // (schema 10 as it was: what migrations 11 to 18 add taken out again)
      old.exec(BEFORE_SCHEMA_18);
      old.exec(`ALTER TABLE source_files DROP COLUMN last_key_id; CREATE INDEX keys_added_at ON keys(added_at);
        ALTER TABLE runs DROP COLUMN argv_json; ALTER TABLE runs DROP COLUMN cwd; ALTER TABLE runs DROP COLUMN libraries_json;
        ALTER TABLE file_changes DROP COLUMN detail; DROP INDEX messages_canonical_message_id; ALTER TABLE messages DROP COLUMN canonical_message_id;
        ALTER TABLE messages DROP COLUMN first_stamp_at; ALTER TABLE messages DROP COLUMN date_zone_known; PRAGMA user_version = 10`);
      old.close();
      await verify(db('rerun'));
      await firstRun(db('fresh'), [DEMO_KEYS]);
      expect(records(db('rerun'))).toEqual(records(db('fresh')));
    });
  });
});

// Red team Z, Z-02: a key added to the store while a verify ran (by a `keys import` from before it
// took the run lock, or by a run whose lock looked dead) was recorded as seen by every file the run
// wrote after it, although the run's lookup had answered "absent" for it: those files were never
// read again, --rehash included, while the store held the key.
describe('a key added to the store during a run', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('is not recorded as seen by the files analysed without it: the next run reads them again', async () => {
    const dump = join(tmp.path, 'dump');
    mkdirSync(dump);
    cpSync(join(DEMO_DUMP, 'inbox/2016-10-04 Server migration.eml'), join(dump, 'rotated.eml'));
    const s2016 = join(tmp.path, 's2016.json');
    writeFileSync(s2016, JSON.stringify({ 's2016._domainkey.demo.example': [publicTxt('s2016._domainkey.demo.example.pem')] }));
    const dbPath = join(tmp.path, 'raced.db');
    await runVerify({
      dumpRoot: dump, dbPath, keyFiles: [DEMO_KEYS], offline: false,
      liveLookup: async (name) => {
        // another writer adds the key just after the run asked for it
        const other = openStore(dbPath);
        importKeyFiles(other, [s2016]);
        other.close();
        return { status: 'absent', name, detail: 'simulated NXDOMAIN' };
      },
    });
    expect(rowFor(dbPath, 'rotated.eml').reasons).toEqual(['key-not-found']);
    await runVerify({ dumpRoot: dump, dbPath, keyFiles: [DEMO_KEYS], offline: true });
    expect(rowFor(dbPath, 'rotated.eml').verdict).toBe('verified');
  });

  it('the run\'s own DNS answers are seen by it: a re-run does not read its files again for them', async () => {
    const dump = join(tmp.path, 'dump');
    mkdirSync(dump);
    cpSync(join(DEMO_DUMP, 'inbox/2016-10-04 Server migration.eml'), join(dump, 'rotated.eml'));
    const dbPath = join(tmp.path, 'online.db');
    const live = async (name: string) => ({ status: 'found' as const, name, records: [{ txt: publicTxt('s2016._domainkey.demo.example.pem'), source: 'dns' as const, origin: 'simulated DNS' }] });
    await runVerify({ dumpRoot: dump, dbPath, keyFiles: [DEMO_KEYS], offline: false, liveLookup: live });
    expect(rowFor(dbPath, 'rotated.eml').verdict).toBe('verified');
    const { counts } = await runVerify({ dumpRoot: dump, dbPath, keyFiles: [DEMO_KEYS], offline: true });
    expect(counts.unchanged).toBe(1);
  });

  it('cannot be added by keys import or keys fetch while a verify holds the database: exit 3, one line', () => {
    const dbPath = join(tmp.path, 'held.db');
    expect(runCli(['keys', 'import', '--db', dbPath, DEMO_KEYS]).status).toBe(0);
    const release = acquireRunLock(dbPath);
    try {
      for (const args of [['keys', 'import', '--db', dbPath, DEMO_KEYS], ['keys', 'fetch', '--db', dbPath]]) {
        const out = runCli(args);
        expect(out.status).toBe(3);
        expect(out.stderr).toMatch(/^leakcheck: another leakcheck verify \(pid \d+, since [^)]+\) is writing .*held\.db; wait for it to finish, or use another --db\.\n$/);
      }
    } finally {
      release();
    }
    const keys = new Database(dbPath, { readonly: true });
    expect(keys.prepare('SELECT count(*) FROM keys').pluck().get()).toBeGreaterThan(0);
    keys.close();
  });

  it('a verify started while keys import holds the lock is refused, naming the command; the readers call the last run whole', async () => {
    const dbPath = join(tmp.path, 'importing.db');
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath, keyFiles: [DEMO_KEYS], offline: true });
    const release = acquireRunLock(dbPath, 'keys import');
    try {
      await expect(runVerify({ dumpRoot: DEMO_DUMP, dbPath, keyFiles: [DEMO_KEYS], offline: true })).rejects.toThrow(/another leakcheck keys import \(pid \d+/);
      const manifest = runCli(['manifest', '--db', dbPath]);
      expect(manifest.status, manifest.stderr).toBe(0);
      expect(JSON.parse(manifest.stdout).last_run_state).toBe('completed');
    } finally {
      release();
    }
  });
});
