import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.ts';
import { DATE_HEADER, rsaKey, SIGN_TIME, signed, type TestKey } from '../unit/support/signing.ts';
import { verifyOffline } from '../helpers/in-process.ts';

/**
 * Red team Y, Y-03: a file of the dump that is an email is listed among the documents when an
 * email carried its bytes, and its status speaks of the carrier alone. A forged email forwarded
 * inside a verified one and saved loose read "verified-by-email" with nothing saying that, as an
 * email, it is unsigned; a genuine signed one forwarded inside an unsigned email read "seen in
 * unverified email". The documents outputs now give the file's own verdict beside its status.
 */

let key: TestKey;
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const PHISHING = ['From: CEO <ceo@example.com>', 'To: alice@example.com', 'Subject: Approve wire', `Date: ${DATE_HEADER}`, 'Message-ID: <wire@evil.example>', '', 'Approve the wire to account 9999 today.', ''].join('\r\n');

const carrier = (from: string, id: string, forwarded: string): string =>
  [
    `Message-ID: <${id}@example.com>`,
    `Date: ${DATE_HEADER}`,
    `From: ${from}`,
    `Subject: Fwd: ${id}`,
    'To: desk@example.org',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    // the question, then the forwarded message
    ...['--b', 'Content-Type: text/plain', '', 'Is this real?'],
    ...['--b', 'Content-Type: message/rfc822', '', `${forwarded}\r\n--b--`, ''],
  ].join('\r\n');

interface DocumentRow {
  path: string;
  status: string;
  as_email: { messages: number; verdicts: Record<string, number>; reasons?: string[] } | null;
}

let db: string;
let rows: Map<string, DocumentRow>;

beforeAll(async () => {
  key = rsaKey(2048);
  const dump = join(tmp.path, 'dump');
  for (const dir of ['mail', 'saved', 'docs']) mkdirSync(join(dump, dir), { recursive: true });
  const spec = { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, canonicalization: 'simple/simple' };
  // a verified email forwarding an unsigned forgery, which is saved loose too
  writeFileSync(join(dump, 'mail/alice-asks.eml'), await signed(carrier('Alice <alice@example.com>', 'asks', PHISHING), spec), 'latin1');
  writeFileSync(join(dump, 'saved/Approve wire.eml'), PHISHING, 'latin1');
  // an unsigned email forwarding a genuine signed one, which is saved loose too
  const order = await signed(['From: Alice <alice@example.com>', 'To: bob@example.org', 'Subject: Transfer order', `Date: ${DATE_HEADER}`, 'Message-ID: <order@example.com>', '', 'Transfer 500 to the supplier.', ''].join('\r\n'), spec);
  writeFileSync(join(dump, 'mail/fwd-by-bob.eml'), carrier('Bob <bob@harbor.example>', 'bob', order), 'latin1');
  writeFileSync(join(dump, 'saved/Transfer order.eml'), order, 'latin1');
  writeFileSync(join(dump, 'docs/notes.pdf'), '%PDF-1.4\n% notes\n%%EOF\n');
  const keys = join(tmp.path, 'keys.json');
  writeFileSync(keys, JSON.stringify({ 'sel1._domainkey.example.com': [key.txt] }));
  db = join(tmp.path, 'x.db');
  await verifyOffline(dump, db, [keys]);
  const lines = runCli(['documents', '--format', 'jsonl', '--db', db]).stdout.trim().split('\n');
  rows = new Map(lines.map((l) => JSON.parse(l) as DocumentRow).map((r) => [r.path, r]));
});

describe('a document that is an email: its own verdict beside its status (red team Y, Y-03)', () => {
  it('JSON Lines: as_email, null for a file not read as email', () => {
    expect(rows.get('saved/Approve wire.eml')).toMatchObject({ status: 'verified-by-email', as_email: { messages: 1, verdicts: { unverifiable: 1 }, reasons: ['unsigned'] } });
    expect(rows.get('saved/Transfer order.eml')).toMatchObject({ status: 'seen-in-unverified-email', as_email: { messages: 1, verdicts: { verified: 1 }, reasons: ['dkim-verified'] } });
    expect(rows.get('docs/notes.pdf')).toMatchObject({ status: 'no-email-match', as_email: null });
  });

  it('text: a line under the status, saying what the match does not prove', () => {
    const text = runCli(['documents', '--db', db]).stdout;
    expect(text).toMatch(/saved\/Approve wire\.eml {2}verified-by-email\n(?: {2}.*\n)*? {2}as an email itself: unverifiable \(unsigned\): an email that carried these bytes is verified, which proves they existed then, not who wrote this one\n/);
    expect(text).toMatch(/saved\/Transfer order\.eml {2}seen-in-unverified-email\n(?: {2}.*\n)*? {2}as an email itself: verified \(dkim-verified\): its own signature proves it, whatever the emails that carried it\n/);
    expect(text.split('\n\n').find((block) => block.startsWith('docs/notes.pdf'))).not.toContain('as an email itself');
  });

  it('CSV: a column at the end, the others where they were', () => {
    const [header, ...lines] = runCli(['documents', '--format', 'csv', '--db', db]).stdout.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(header).toBe('path,sha256,size,status,matching_messages,name_conflict,as_email');
    expect(lines.find((l) => l.startsWith('saved/Approve wire.eml,'))).toMatch(/,verified-by-email,.*,unverifiable \(unsigned\)$/);
    expect(lines.find((l) => l.startsWith('docs/notes.pdf,'))).toMatch(/,no-email-match,,,$/);
  });
});
