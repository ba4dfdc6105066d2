import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimSign } from 'mailauth';
import { canonicalMessageId, messageIds } from '../../src/read/message-id.ts';
import { fromMailbox } from '../../src/read/message-meta.ts';
import { openStore } from '../../src/store/open-store.ts';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from '../../src/store/schema.ts';
import { DEMO_KEYS, ROOT, runCli, tempDir } from '../helpers/cli.ts';
import { BEFORE_SCHEMA_18 } from '../helpers/older-schema.ts';
import { demoMessage, signWithFixtureKey } from '../hostile/sign.ts';
import { exportRows, verifyOffline } from '../helpers/in-process.ts';

/*
 * Red team 30, M-04 and M-02: a forged copy of a proven message escaped its proven twin by the
 * way its Message-ID or From was written, in forms every reader takes for the same id and the same
 * mailbox: a comment around the msg-id, no angle brackets, a trailing dot after the domain, an
 * obsolete route, a comment inside the address, a quoted local part. Threads likewise: a parent
 * whose Message-ID carries a comment was "not in the dump", and a bare In-Reply-To named none.
 */

const ALTERED = 'Hello Jordan,\r\n\r\nplease wire the 2 million to the Bahamas account on Friday.\r\n\r\nAlice\r\n';
const ID = '<copies.1487063523@smtp.demo.example>';
const withHeader = (message: string, name: string, value: string): string => message.replace(new RegExp(`^${name}: [^\\r]*`, 'm'), `${name}: ${value}`);
const copy = (over: { messageId?: string; from?: string }): string =>
  withHeader(withHeader(demoMessage({ id: 'copies', body: ALTERED }), 'Message-ID', over.messageId ?? ID), 'From', over.from ?? 'Alice Moreau <alice@demo.example>');

interface Exported {
  path: string;
  verdict: string;
  message_id: string | null;
  from_address: string | null;
  findings: Array<{ code: string; severity: string }>;
}

describe('copies and threads matched by the msg-id and the From mailbox a reader is shown', () => {
  const tmp = tempDir('leakcheck-identity-');
  const dump = join(tmp.path, 'dump');
  const db = join(tmp.path, 'identity.db');
  let rows: Map<string, Exported>;
  const forgedIds = { 'comment-after': `${ID} (Sent copy)`, 'comment-before': `(x) ${ID}`, bare: ID.slice(1, -1) };
  const forgedFroms = {
    'trailing-dot': 'Alice Moreau <alice@demo.example.>',
    route: 'Alice Moreau <@mx.demo.example:alice@demo.example>',
    'comment-in-local': 'Alice Moreau <alice(office)@demo.example>',
    'comment-in-domain': 'Alice Moreau <alice@(office)demo.example>',
    'quoted-local': 'Alice Moreau <"alice"@demo.example>',
    unreadable: 'Alice Moreau',
  };

  beforeAll(async () => {
    const files: Record<string, string> = { 'a-genuine.eml': await signWithFixtureKey(demoMessage({ id: 'copies' })) };
    for (const [name, messageId] of Object.entries(forgedIds)) files[`id-${name}.eml`] = copy({ messageId });
    for (const [name, from] of Object.entries(forgedFroms)) files[`from-${name}.eml`] = copy({ from });
    // threads: a proven parent whose Message-ID carries a comment, with an unsigned reply after it,
    // and a back-dated unsigned "reply" that names it by a bare In-Reply-To
    const parentId = '<parent.1487063523@smtp.demo.example>';
    files['t-parent.eml'] = await signWithFixtureKey(withHeader(demoMessage({ id: 'parent' }), 'Message-ID', `${parentId} (generated)`));
    const reply = (id: string, date: string, inReplyTo: string, from: string): string =>
      withHeader(withHeader(demoMessage({ id, extraHeaders: [`In-Reply-To: ${inReplyTo}`] }), 'Date', date), 'From', from);
    files['t-reply.eml'] = reply('reply', 'Wed, 15 Feb 2017 09:00:00 +0100', parentId, 'Jordan Reyes <jordan@harbor.example>');
    // (from the parent's own domain: only that domain's proof of the parent's Date accuses a reply, M-01)
    // (its trace agrees with its Date: a reply none bears out is only warned about, red team R, R-05)
    files['t-backdated-bare.eml'] = 'Received: from smtp.demo.example by mx.demo.example; Fri, 10 Feb 2017 08:00:20 +0000\r\n' + reply('backdated', 'Fri, 10 Feb 2017 09:00:00 +0100', parentId.slice(1, -1), 'Bob Martin <bob@demo.example>');
    // a genuine unsigned message with no readable From address, and a message of another domain,
    // signed there, planted under its Message-ID: the other domain does not own that Message-ID
    const cronId = '<cron.1@host.victim.example>';
    files['u-cron.eml'] = withHeader(withHeader(demoMessage({ id: 'cron' }), 'Message-ID', cronId), 'From', 'Cron Daemon');
    const planted = withHeader(withHeader(demoMessage({ id: 'cron', body: ALTERED }), 'Message-ID', cronId), 'From', 'Esp <news@mailer.example>');
    const privateKey = readFileSync(join(ROOT, 'fixtures/keys/esp._domainkey.mailer.example.pem'), 'utf8');
    const entry = { signingDomain: 'mailer.example', selector: 'esp', privateKey, canonicalization: 'relaxed/relaxed' };
    const signed = await dkimSign(Buffer.from(planted, 'latin1'), { ...entry, signTime: new Date('2017-02-14T09:12:05Z'), signatureData: [entry] });
    files['u-planted.eml'] = signed.signatures + planted;
    mkdirSync(dump);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dump, name), text, 'latin1');
    await verifyOffline(dump, db, [DEMO_KEYS]);
    rows = new Map(exportRows<Exported>(db).map((r) => [r.path, r]));
  }, 60_000);
  afterAll(() => tmp.cleanup());

  const codes = (path: string): string[] => rows.get(path)!.findings.filter((f) => f.severity !== 'info' || f.code.startsWith('thread')).map((f) => `${f.code}:${f.severity}`);

  it('the genuine copy is verified, and keeps its Message-ID as written', () => {
    expect(rows.get('a-genuine.eml')!.verdict).toBe('verified');
    expect(rows.get('id-comment-after.eml')!.message_id).toBe(`${ID} (Sent copy)`);
  });

  it.each(Object.keys(forgedIds))('an altered copy whose Message-ID is written %s is compared with its proven twin: suspicious', (name) => {
    const row = rows.get(`id-${name}.eml`)!;
    expect(row.verdict).toBe('suspicious');
    expect(codes(`id-${name}.eml`)).toContain('conflicting-copy:red-flag');
  });

  it.each(Object.keys(forgedFroms))('an altered copy whose From is written %s is within its proven twin\'s witness: suspicious', (name) => {
    const row = rows.get(`from-${name}.eml`)!;
    expect(row.verdict).toBe('suspicious');
    expect(codes(`from-${name}.eml`)).toContain('conflicting-copy:red-flag');
  });

  it('the From address exported is the mailbox a reader is shown', () => {
    expect(rows.get('from-trailing-dot.eml')!.from_address).toBe('alice@demo.example');
    expect(rows.get('from-quoted-local.eml')!.from_address).toBe('alice@demo.example');
    expect(rows.get('from-unreadable.eml')!.from_address).toBeNull();
  });

  it("a parent whose Message-ID carries a comment is found by its reply's In-Reply-To", () => {
    expect(codes('t-reply.eml')).toEqual([]);
  });

  it('a back-dated reply naming its proven parent by a bare In-Reply-To is compared with it', () => {
    expect(rows.get('t-backdated-bare.eml')!.verdict).toBe('suspicious');
    expect(codes('t-backdated-bare.eml')).toContain('reply-before-parent:red-flag');
  });

  it('a genuine message with no readable From is not accused by a domain that does not own its Message-ID', () => {
    expect(rows.get('u-planted.eml')!.verdict).toBe('verified');
    expect(rows.get('u-cron.eml')!.verdict).toBe('unverifiable');
    expect(codes('u-cron.eml').filter((c) => c.endsWith('red-flag'))).toEqual([]);
  });

  it('show finds every copy by the msg-id, a copy whose field carries a comment too', () => {
    const shown = runCli(['show', '--db', db, ID.slice(1, -1)]);
    expect(shown.stdout).toContain('id-comment-after.eml');
    expect(shown.stdout).toContain('id-comment-before.eml');
  });
});

describe('reading a msg-id and a From mailbox', () => {
  it('a Message-ID field gives its msg-id, comments dropped and brackets added; the id keeps its case', () => {
    expect(canonicalMessageId('<A.b@Host.example> (Sent copy)')).toBe('<A.b@Host.example>');
    expect(canonicalMessageId('(a <decoy@x.example> comment) <id@host>')).toBe('<id@host>');
    expect(canonicalMessageId('id@host')).toBe('<id@host>');
    expect(canonicalMessageId('<weird(1)@host>')).toBe('<weird(1)@host>');
    expect(canonicalMessageId('two words')).toBe('two words');
    expect(canonicalMessageId('(only a comment)')).toBeNull();
  });

  it('In-Reply-To and References give their msg-ids, a bare id-left@id-right too, never a phrase', () => {
    expect(messageIds('<a@x> (c <b@x>) <c@x>')).toEqual(['<a@x>', '<c@x>']);
    expect(messageIds('a@x')).toEqual(['<a@x>']);
    expect(messageIds('Your message of Monday')).toEqual([]);
  });

  it('a From field gives the mailbox a reader is shown', () => {
    expect(fromMailbox('Alice <alice@demo.example.>')).toBe('alice@demo.example');
    expect(fromMailbox('<@relay.example,@mx.example:Alice@Demo.example>')).toBe('alice@demo.example');
    expect(fromMailbox('alice(office)@demo.example')).toBe('alice@demo.example');
    expect(fromMailbox('Alice <"alice.m"@demo.example>')).toBe('alice.m@demo.example');
    expect(fromMailbox('Alice <"alice m"@demo.example>')).toBe('"alice m"@demo.example');
    expect(fromMailbox('Alice Moreau')).toBeNull();
  });
});

describe('schema 15', () => {
  it('a database of version 14 gets the msg-id of each stored Message-ID, and every file is read again on the next run', () => {
    const tmp = tempDir('leakcheck-v14-');
    try {
      const path = join(tmp.path, 'v14.db');
      const v14 = new Database(path);
      for (const migration of MIGRATIONS.slice(0, 14)) v14.exec(migration);
      v14.pragma(`application_id = ${APPLICATION_ID}`);
      v14.pragma('user_version = 14');
      v14.prepare("INSERT INTO runs (started_at, status, dump_root, command_line, tool_version, mailauth_version, node_version, sqlite_version, options_json, key_files_json) VALUES ('t', 'completed', '/d', 'c', 'v', 'v', 'v', 'v', '{}', '[]')").run();
      v14.prepare("INSERT INTO source_files (path, kind, status, run_id, analyzed_at, analysis_context) VALUES ('a.eml', 'eml', 'ok', 1, 't', 'context-of-version-14')").run();
      const insert = v14.prepare("INSERT INTO messages (file_id, idx, byte_offset, size, sha256, format, message_id, judged_at_source, repairs_json, run_id) VALUES (1, ?, 0, 1, 's', 'eml', ?, 'none', '[]', 1)");
      insert.run(0, '<id@host> (Sent copy)');
      insert.run(1, 'id@host');
      insert.run(2, null);
      v14.close();
      const db = openStore(path);
      try {
        expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
        expect(db.prepare('SELECT message_id, canonical_message_id FROM messages ORDER BY idx').all()).toEqual([
          { message_id: '<id@host> (Sent copy)', canonical_message_id: '<id@host>' },
          { message_id: 'id@host', canonical_message_id: '<id@host>' },
          { message_id: null, canonical_message_id: null },
        ]);
        expect(db.prepare("SELECT analysis_context FROM source_files WHERE path = 'a.eml'").get()).toEqual({ analysis_context: null });
      } finally {
        db.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});

/**
 * A database the tool's last run filled from `files`, then taken back to an older schema by
 * `downgrade` (SQL): what the migration finds, and what the next run makes of it. `read(columns)`
 * gives the schema version and, per message, its file's path, those columns and whether the
 * file's analysis was forgotten (to be read again).
 */
function olderDatabase(files: Record<string, string>, downgrade: string) {
  const tmp = tempDir('leakcheck-older-');
  const dump = join(tmp.path, 'dump');
  mkdirSync(dump);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dump, name), text, 'latin1');
  const path = join(tmp.path, 'older.db');
  const verify = () => runCli(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', path]);
  verify();
  const older = new Database(path);
  older.exec(BEFORE_SCHEMA_18);
  older.exec(downgrade);
  older.close();
  const read = (columns: string) => {
    const db = openStore(path);
    try {
      return {
        version: db.pragma('user_version', { simple: true }),
        rows: db.prepare(`SELECT f.path, ${columns}, f.analysis_context IS NULL AS forgotten FROM messages m JOIN source_files f ON f.id = m.file_id ORDER BY f.path`).all(),
      };
    } finally {
      db.close();
    }
  };
  return { path, verify, read, cleanup: () => tmp.cleanup() };
}

describe('schema 16', () => {
  // Red team R, R-05: the thread check asks a message's own trace whether it bears out its Date.
  it('a database of version 15 gets first_stamp_at, null until the next run reads every file again and fills it in', () => {
    const older = olderDatabase(
      {
        'a.eml': `Received: from smtp.demo.example by mx.demo.example; Tue, 14 Feb 2017 09:12:25 +0000\r\n${demoMessage({ id: 'stamped' })}`,
        'sent.eml': demoMessage({ id: 'unstamped' }),
      },
      'ALTER TABLE messages DROP COLUMN first_stamp_at; ALTER TABLE messages DROP COLUMN date_zone_known; PRAGMA user_version = 15',
    );
    try {
      expect(older.read('m.first_stamp_at')).toEqual({
        version: SCHEMA_VERSION,
        rows: [{ path: 'a.eml', first_stamp_at: null, forgotten: 1 }, { path: 'sent.eml', first_stamp_at: null, forgotten: 1 }],
      });
      older.verify();
      expect(older.read('m.first_stamp_at').rows).toEqual([{ path: 'a.eml', first_stamp_at: '2017-02-14T09:12:25.000Z', forgotten: 0 }, { path: 'sent.eml', first_stamp_at: null, forgotten: 0 }]);
    } finally {
      older.cleanup();
    }
  });
});

describe('schema 17', () => {
  // Red team R, R-02: a Date with no readable zone is stored too, flagged, for the checks across the dump.
  it('a database of version 16 gets date_zone_known, 1 for every Date it held, and the next run stores the zoneless ones', () => {
    const older = olderDatabase(
      { 'a.eml': demoMessage({ id: 'zoned' }), 'b.eml': withHeader(demoMessage({ id: 'zoneless' }), 'Date', 'Tue, 14 Feb 2017 10:12:03') },
      // what version 16 stored: no Date for a zoneless one
      "ALTER TABLE messages DROP COLUMN date_zone_known; UPDATE messages SET date = NULL WHERE message_id LIKE '<zoneless.%'; PRAGMA user_version = 16",
    );
    try {
      expect(older.read('m.date, m.date_zone_known')).toEqual({
        version: SCHEMA_VERSION,
        rows: [
          { path: 'a.eml', date: '2017-02-14T09:12:03.000Z', date_zone_known: 1, forgotten: 1 },
          { path: 'b.eml', date: null, date_zone_known: null, forgotten: 1 },
        ],
      });
      older.verify();
      expect(older.read('m.date, m.date_zone_known').rows).toEqual([
        { path: 'a.eml', date: '2017-02-14T09:12:03.000Z', date_zone_known: 1, forgotten: 0 },
        { path: 'b.eml', date: '2017-02-14T10:12:03.000Z', date_zone_known: 0, forgotten: 0 },
      ]);
      expect(runCli(['show', '--db', older.path, 'b.eml']).stdout).toContain('(2017-02-14T10:12:03.000Z, no readable zone: read as UTC, may be up to 14 h off)');
    } finally {
      older.cleanup();
    }
  });
});
