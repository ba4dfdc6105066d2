import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import { canonicalMessageId } from '../../src/read/message-id.ts';
import { APPLICATION_ID, CANONICAL_MESSAGE_ID_FUNCTION, MIGRATIONS, SCHEMA_VERSION } from '../../src/store/schema.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { DATE_HEADER, rsaKey, SIGN_TIME, signed } from '../unit/support/signing.ts';
import { verifyOffline } from '../helpers/in-process.ts';

/*
 * Red team W2, W2-02: every loose copy of a document stored every email that carried it, and
 * every copy of a forgery every verified attachment of its name: D copies × M emails. 1,000 and
 * 1,000 made a 249 MB database from a 5.7 MB dump, and an HTML report of 1.46 GB of memory.
 * Matches are now stored once per content, name conflicts once per content and name (schema
 * 18), and the HTML report names at most 20 carriers and 20 red flags a document. A name that
 * many verified emails sent with other bytes (`image001.png`) against many loose files of it
 * still made every pair: a document keeps its first 100 name conflicts and the count of all.
 */

const CONTRACT = Buffer.from('%PDF-1.4\n% the signed contract\n%%EOF\n');
const FORGED = Buffer.from('%PDF-1.4\n% the forged contract\n%%EOF\n');
const CARRIERS = 120;
const COPIES = 30;

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const db = join(tmp.path, 'x.db');

interface DocumentRow {
  path: string;
  status: string;
  matching_messages: Array<{ message: string; verdict: string }>;
  name_conflicts: Array<{ message: string; filename: string }>;
  name_conflicts_total: number;
}
let rows: DocumentRow[];
let html: string;
let text: string;

beforeAll(async () => {
  const key = rsaKey(2048);
  const dump = join(tmp.path, 'dump');
  mkdirSync(join(dump, 'mail'), { recursive: true });
  for (let i = 0; i < CARRIERS; i++) {
    const message = [
      'From: Alice <alice@example.com>', 'To: bob@example.org', `Subject: contract, copy ${i}`, `Date: ${DATE_HEADER}`, `Message-ID: <contract-${i}@example.com>`,
      'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain', '', 'The contract.', '--b',
      'Content-Type: application/pdf', 'Content-Disposition: attachment; filename="contract.pdf"', 'Content-Transfer-Encoding: base64', '',
      CONTRACT.toString('base64'), '--b--', '',
    ].join('\r\n');
    writeFileSync(join(dump, 'mail', `${String(i).padStart(3, '0')}.eml`), await signed(message, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME }), 'latin1');
  }
  for (let i = 0; i < COPIES; i++) {
    const n = String(i).padStart(2, '0');
    mkdirSync(join(dump, 'copies', n), { recursive: true });
    writeFileSync(join(dump, 'copies', n, 'contract.pdf'), CONTRACT);
    mkdirSync(join(dump, 'forged', n), { recursive: true });
    writeFileSync(join(dump, 'forged', n, 'contract.pdf'), FORGED);
  }
  const keys = join(tmp.path, 'keys.json');
  writeFileSync(keys, JSON.stringify({ 'sel1._domainkey.example.com': [key.txt] }));
  await verifyOffline(dump, db, [keys]);
  rows = runCli(['documents', '--format', 'jsonl', '--db', db]).stdout.trim().split('\n').map((l) => JSON.parse(l) as DocumentRow);
  text = runCli(['documents', '--db', db]).stdout;
  html = runCli(['report', '--format', 'html', '--db', db]).stdout;
});

describe('documents: D copies of a document carried by M emails (red team W2, W2-02)', () => {
  it('every copy still lists every email that carries it, and its red flags, the first 100 and the count of all, in the export', () => {
    expect(rows).toHaveLength(2 * COPIES);
    for (const row of rows.filter((r) => r.path.startsWith('copies/'))) {
      expect(row.status, row.path).toBe('verified-by-email');
      expect(row.matching_messages.map((m) => m.message).sort(), row.path).toEqual(Array.from({ length: CARRIERS }, (_, i) => `mail/${String(i).padStart(3, '0')}.eml`));
      expect(row.name_conflicts, row.path).toEqual([]);
      expect(row.name_conflicts_total, row.path).toBe(0);
    }
    for (const row of rows.filter((r) => r.path.startsWith('forged/'))) {
      expect(row.status, row.path).toBe('no-email-match');
      expect(row.name_conflicts.map((c) => c.message), row.path).toEqual(Array.from({ length: 100 }, (_, i) => `mail/${String(i).padStart(3, '0')}.eml`));
      expect(row.name_conflicts_total, row.path).toBe(CARRIERS);
    }
    expect(text.split('\n')[0]).toBe(`${2 * COPIES} loose document(s): ${COPIES} verified-by-email, 0 seen-in-unverified-email, ${COPIES} no-email-match`);
    expect(text.split('\n').filter((l) => l.startsWith('  = attachment contract.pdf of mail/'))).toHaveLength(COPIES * CARRIERS);
    expect(text.split('\n').filter((l) => l === `  ! …and ${CARRIERS - 100} more name conflicts (name_conflicts_total ${CARRIERS})`)).toHaveLength(COPIES);
  });

  it('stores the matches once per content and the name conflicts once per content and name, not once per copy', () => {
    const store = new Database(db, { readonly: true });
    try {
      expect(store.prepare('SELECT count(*) FROM document_matches').pluck().get()).toBe(2);
      expect(store.prepare('SELECT count(*) FROM document_name_conflicts').pluck().get()).toBe(2);
      expect(store.prepare('SELECT count(DISTINCT conflicts_id) FROM document_files').pluck().get()).toBe(2);
      const stored = store.prepare('SELECT (SELECT sum(length(matches_json)) FROM document_matches) + (SELECT sum(length(name_conflicts_json)) FROM document_name_conflicts)').pluck().get() as number;
      const asRead = store.prepare('SELECT sum(length(matches_json) + length(name_conflicts_json)) FROM documents').pluck().get() as number;
      expect(asRead).toBe(stored * COPIES);
      // the view keeps the columns every query written against the table used
      expect(store.prepare("SELECT status, json_array_length(matches_json) AS m, json_array_length(name_conflicts_json) AS c, name_conflicts_total AS total FROM documents WHERE normalized_name = 'contract.pdf' GROUP BY status ORDER BY status").all()).toEqual([
        { status: 'no-email-match', m: 0, c: 100, total: CARRIERS },
        { status: 'verified-by-email', m: CARRIERS, c: 0, total: 0 },
      ]);
    } finally {
      store.close();
    }
  });

  it('the HTML report names at most 20 carrying emails and 20 red flags a document, and says how many more', () => {
    const row = (path: string): string => html.slice(html.indexOf(`<tr><td>${path}</td>`)).split('</tr>')[0]!;
    const genuine = row('copies/00/contract.pdf');
    expect(genuine.match(/mail\/\d{3}\.eml/g)).toHaveLength(20);
    expect(genuine).toContain(`…and ${CARRIERS - 20} more emails`);
    const forged = row('forged/00/contract.pdf');
    expect(forged.match(/Red flag:/g)).toHaveLength(20);
    expect(forged).toContain(`…and ${CARRIERS - 20} more red flags`);
  });
});

describe('schema 18', () => {
  it('carries the documents of a version 17 database over, as they were', () => {
    const old = tempDir();
    try {
      const path = join(old.path, 'v17.db');
      const v17 = new Database(path);
      v17.function(CANONICAL_MESSAGE_ID_FUNCTION, (value: unknown) => canonicalMessageId(typeof value === 'string' ? value : null));
      for (const migration of MIGRATIONS.slice(0, 17)) v17.exec(migration);
      v17.pragma(`application_id = ${APPLICATION_ID}`);
      v17.pragma('user_version = 17');
      v17.prepare("INSERT INTO runs (started_at, status, dump_root, command_line, tool_version, mailauth_version, node_version, sqlite_version, options_json, key_files_json) VALUES ('t', 'completed', '/d', 'c', 'v', 'v', 'v', 'v', '{}', '[]')").run();
      const file = v17.prepare("INSERT INTO source_files (path, kind, status, reason, run_id, sha256) VALUES (?, 'other', 'skipped', 'not-email', 1, ?)");
      const document = v17.prepare('INSERT INTO documents (file_id, sha256, size, normalized_name, status, matches_json, name_conflicts_json) VALUES (?, ?, 10, ?, ?, ?, ?)');
      const before = [
        [1, 'aa', 'a.pdf', 'verified-by-email', '[{"message":"m.eml"}]', '[]'],
        [2, 'aa', 'a.pdf', 'verified-by-email', '[{"message":"m.eml"}]', '[]'],
        [3, 'bb', 'a.pdf', 'no-email-match', '[]', '[{"message":"m.eml","filename":"a.pdf"}]'],
      ] as const;
      for (const [id, sha256, name, status, matches, conflicts] of before) {
        file.run(`doc-${id}/${name}`, sha256);
        document.run(id, sha256, name, status, matches, conflicts);
      }
      v17.close();
      const store = openStore(path);
      try {
        expect(store.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
        expect(store.prepare('SELECT file_id, sha256, normalized_name, status, matches_json, name_conflicts_json, name_conflicts_total FROM documents ORDER BY file_id').raw().all()).toEqual(
          before.map(([id, sha256, name, status, matches, conflicts]) => [id, sha256, name, status, matches, conflicts, conflicts === '[]' ? 0 : 1]),
        );
        expect(store.prepare('SELECT count(*) FROM document_matches').pluck().get()).toBe(2);
      } finally {
        store.close();
      }
    } finally {
      old.cleanup();
    }
  });
});
