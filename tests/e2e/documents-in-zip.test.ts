import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZip } from '../attachments/zip-writer.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { DATE_HEADER, rsaKey, SIGN_TIME, signed, type TestKey } from '../unit/support/signing.ts';

/**
 * Red team Y, Y-06: the entries of a zip of the dump that are no email were no documents, so a
 * forger who zipped a forged contract.pdf escaped the name-conflict red flag the same file loose
 * gets. Journalists unzip a dump and publish what is inside.
 */

let key: TestKey;
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const CONTRACT = Buffer.from('%PDF-1.4\n% contract: the seller delivers 100 units\n%%EOF\n');
const FORGED = Buffer.from('%PDF-1.4\n% contract: the seller delivers 900 units\n%%EOF\n');
/** past the head an entry is judged on (SNIFF_HEAD_BYTES) */
const LARGE = 200_000;
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A signed email from alice@example.com carrying `bytes` as `filename`. */
const withPdf = (filename: string, bytes: Buffer): string =>
  ['From: Alice <alice@example.com>', 'To: bob@example.org', 'Subject: contract', `Date: ${DATE_HEADER}`, 'Message-ID: <contract@example.com>', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain', '', 'attached', '--b', 'Content-Type: application/pdf',
    'Content-Transfer-Encoding: base64', `Content-Disposition: attachment; filename="${filename}"`, '', bytes.toString('base64'), '--b--', ''].join('\r\n');

interface DocumentRow {
  path: string;
  sha256: string;
  size: number;
  status: string;
  name_conflicts: Array<{ filename: string; message: string }>;
}

let dump: string;
let keys: string;
let db: string;
const documents = (): DocumentRow[] =>
  runCli(['documents', '--format', 'jsonl', '--db', db]).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as DocumentRow);
const byPath = (rows: DocumentRow[], path: string): DocumentRow | undefined => rows.find((r) => r.path === path);
const verify = (...extra: string[]): Record<string, unknown> => {
  const run = runCli(['verify', dump, '--keys', keys, '--offline', '--db', db, '--quiet', '--json', ...extra]);
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
};

beforeAll(async () => {
  key = rsaKey(2048);
  dump = join(tmp.path, 'dump');
  mkdirSync(join(dump, 'mail'), { recursive: true });
  const spec = { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, canonicalization: 'relaxed/relaxed' };
  writeFileSync(join(dump, 'mail/contract.eml'), await signed(withPdf('contract.pdf', CONTRACT), spec), 'latin1');
  const note = Buffer.from('From: a@b.example\r\nTo: c@d.example\r\nSubject: scans\r\n\r\nscans\r\n');
  writeFileSync(join(dump, 'scans.zip'), buildZip([{ name: 'contract.pdf', data: FORGED }, { name: 'note.eml', data: note }]));
  writeFileSync(join(dump, 'scans-only-docs.zip'), buildZip([{ name: 'deep/contract.pdf', data: FORGED, method: 0 }, { name: 'empty.txt', data: Buffer.alloc(0) }, { name: 'deep/', data: Buffer.alloc(0) }]));
  writeFileSync(join(dump, 'genuine.zip'), buildZip([{ name: 'contract.pdf', data: CONTRACT }]));
  // red team Y, Y-14 inside a zip: a 7bit CSV went out with CRLF line ends; the sender's own copy has LF
  const csv = ['From: Alice <alice@example.com>', 'To: bob@example.org', 'Subject: Q2', `Date: ${DATE_HEADER}`, 'Message-ID: <q2@example.com>', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="q"', '', '--q', 'Content-Type: text/csv', 'Content-Disposition: attachment; filename="q2.csv"',
    'Content-Transfer-Encoding: 7bit', '', 'item,amount', 'hosting,1400', '--q--', ''].join('\r\n');
  writeFileSync(join(dump, 'mail/q2.eml'), await signed(csv, spec), 'latin1');
  writeFileSync(join(dump, 'sheets.zip'), buildZip([{ name: 'q2.csv', data: Buffer.from('item,amount\nhosting,1400\n') }, { name: 'edited/q2.csv', data: Buffer.from('item,amount\nhosting,9400\n') }]));
  // past its head (which tells it is no message), a document that fails the archive's guards
  const large = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(LARGE, 0x41)]);
  writeFileSync(join(dump, 'damaged.zip'), buildZip([{ name: 'bad-crc.pdf', data: large, crc: 1234 }, { name: 'lying.pdf', data: large, declaredSize: large.length - 1000 }]));
  keys = join(tmp.path, 'keys.json');
  writeFileSync(keys, JSON.stringify({ 'sel1._domainkey.example.com': [key.txt] }));
  db = join(tmp.path, 'x.db');
  expect(verify().verdicts).toMatchObject({ verified: 2 });
});

describe('documents inside zip archives of the dump (red team Y, Y-06)', () => {
  it('a forged contract.pdf inside a zip is a document with a red flag; the genuine bytes zipped are verified-by-email', () => {
    const rows = documents();
    for (const path of ['scans.zip!contract.pdf', 'scans-only-docs.zip!deep/contract.pdf']) {
      expect(byPath(rows, path), path).toMatchObject({ status: 'no-email-match', sha256: sha256(FORGED), size: FORGED.length });
      expect(byPath(rows, path)!.name_conflicts).toMatchObject([{ filename: 'contract.pdf', message: 'mail/contract.eml' }]);
    }
    expect(byPath(rows, 'genuine.zip!contract.pdf')).toMatchObject({ status: 'verified-by-email', sha256: sha256(CONTRACT), name_conflicts: [] });
    // the email in the archive is read as one, and is no document; a directory gets no row
    expect(byPath(rows, 'scans.zip!note.eml')).toBeUndefined();
    expect(rows.some((r) => r.path.startsWith('scans-only-docs.zip!deep/') && r.path !== 'scans-only-docs.zip!deep/contract.pdf' && r.path !== 'scans-only-docs.zip!empty.txt')).toBe(false);
    const text = runCli(['documents', '--db', db]).stdout;
    expect(text).toContain('scans.zip!contract.pdf');
    expect(runCli(['report', '--format', 'md', '--db', db]).stdout).toMatch(/\| scans\.zip!contract\.pdf \| a document with this name was sent in a verified email \(mail\/contract\.eml\)/);
    expect(runCli(['report', '--format', 'html', '--db', db]).stdout).toContain('scans.zip!contract.pdf');
  });

  it('a zipped copy of a 7bit text attachment that differs only in its line ends is no conflict; one edited is (red team Y, Y-14)', () => {
    const rows = documents();
    expect(byPath(rows, 'sheets.zip!q2.csv')?.name_conflicts).toEqual([]);
    expect(byPath(rows, 'sheets.zip!edited/q2.csv')?.name_conflicts).toMatchObject([{ filename: 'q2.csv', message: 'mail/q2.eml' }]);
  });

  it('the entry has a row of its own: skipped, its inflated size and sha256, its archive as parent', () => {
    const rows = entryRows();
    expect(rows.find((r) => r.path === 'scans-only-docs.zip!deep/contract.pdf')).toMatchObject({
      kind: 'zip-entry', status: 'skipped', reason: 'not-email', size: FORGED.length, sha256: sha256(FORGED), archive: 'scans-only-docs.zip',
    });
    expect(rows.find((r) => r.path === 'scans-only-docs.zip!empty.txt')).toMatchObject({ status: 'skipped', reason: 'empty', size: 0, sha256: sha256(Buffer.alloc(0)) });
    expect(rows.find((r) => r.path === 'scans.zip!note.eml')).toMatchObject({ status: 'ok', reason: null });
    expect(rows.some((r) => r.path.endsWith('deep'))).toBe(false);
    expect(runCli(['documents', '--format', 'csv', '--db', db]).stdout).toContain('scans.zip!contract.pdf');
  });

  it('a document that fails the guards once inflated whole is recorded as that refusal, and is no document', () => {
    const rows = entryRows();
    expect(rows.find((r) => r.path === 'damaged.zip!bad-crc.pdf')).toMatchObject({ status: 'error', reason: 'corrupt-entry', sha256: null });
    expect(rows.find((r) => r.path === 'damaged.zip!lying.pdf')).toMatchObject({ status: 'skipped', reason: 'zip-bomb', sha256: null });
    expect(documents().filter((d) => d.path.startsWith('damaged.zip'))).toEqual([]);
  });

  it('analysed on the main thread (--jobs 0), the same rows', () => {
    const rows = entryRows().map(({ id: _, ...row }) => row);
    const mainThread = join(tmp.path, 'main-thread.db');
    const run = runCli(['verify', dump, '--keys', keys, '--offline', '--db', mainThread, '--quiet', '--jobs', '0']);
    expect(run.status, run.stderr).toBe(0);
    expect(entryRows(mainThread).map(({ id: _, ...row }) => row)).toEqual(rows);
  });

  it('a re-run keeps the rows of an unchanged zip without reading it, and so does --rehash', () => {
    const before = documents();
    expect(before.map((d) => d.path)).toContain('scans.zip!contract.pdf');
    const rows = entryRows();
    verify();
    expect(entryRows()).toEqual(rows);
    expect(documents()).toEqual(before);
    verify('--rehash');
    expect(entryRows()).toEqual(rows);
    expect(documents()).toEqual(before);
  });
});

interface EntryRow {
  id: number;
  path: string;
  kind: string;
  status: string;
  reason: string | null;
  size: number;
  sha256: string | null;
  archive: string;
}

/** The rows of the archives' entries, with their ids: an archive read again gets new ones. */
function entryRows(path = db): EntryRow[] {
  const store = new Database(path, { readonly: true });
  try {
    return store.prepare(`SELECT f.id, f.path, f.kind, f.status, f.reason, f.size, f.sha256, p.path AS archive
      FROM source_files f JOIN source_files p ON p.id = f.parent_file_id ORDER BY f.path`).all() as EntryRow[];
  } finally {
    store.close();
  }
}
