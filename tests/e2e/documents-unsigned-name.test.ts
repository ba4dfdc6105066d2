import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.ts';
import { DATE_HEADER, rsaKey, SIGN_TIME, signed, type TestKey } from '../unit/support/signing.ts';

/**
 * Red team Y, Y-02: a message that is one PDF takes its file name from a top-level
 * Content-Disposition, which h= may leave out. The forger renames the genuine attachment (one
 * unsigned header) and the forged contract.pdf of the dump loses its name-conflict red flag; show
 * listed the new name as verified content.
 */

let key: TestKey;
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const CONTRACT = Buffer.from('%PDF-1.4\n% contract: the seller delivers 100 units\n%%EOF\n');
const FORGED = Buffer.from('%PDF-1.4\n% contract: the seller delivers 900 units\n%%EOF\n');
const ANNEX = Buffer.from('%PDF-1.4\n% annex: delivery schedule\n%%EOF\n');

interface Conflict {
  filename: string;
  message: string;
  nameUnsigned?: true;
}
interface DocumentRow {
  path: string;
  status: string;
  name_conflicts: Conflict[];
}

const onePdf = (id: string, filename: string, bytes: Buffer): string =>
  [
    'From: Alice <alice@example.com>',
    'To: bob@example.org',
    `Subject: ${id}`,
    `Date: ${DATE_HEADER}`,
    `Message-ID: <${id}@example.com>`,
    'MIME-Version: 1.0',
    'Content-Type: application/pdf',
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="${filename}"`,
    '',
    bytes.toString('base64'),
    '',
  ].join('\r\n');

let db: string;
let rows: DocumentRow[];

beforeAll(async () => {
  key = rsaKey(2048);
  const dump = join(tmp.path, 'dump');
  for (const dir of ['mail', 'docs', 'forged']) mkdirSync(join(dump, dir), { recursive: true });
  const spec = { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, canonicalization: 'relaxed/relaxed' };
  // signed as contract.pdf, Content-Type and Content-Transfer-Encoding in h= but not Content-Disposition
  const genuine = await signed(onePdf('contract', 'contract.pdf', CONTRACT), { ...spec, headerList: 'from:to:subject:date:message-id:mime-version:content-type:content-transfer-encoding' });
  writeFileSync(join(dump, 'mail/contract.eml'), genuine.replace('filename="contract.pdf"', 'filename="contract-superseded-draft.pdf"'), 'latin1');
  // control: a name the signature fixes
  const annex = await signed(onePdf('annex', 'annex.pdf', ANNEX), { ...spec, headerList: 'from:to:subject:date:message-id:mime-version:content-type:content-transfer-encoding:content-disposition' });
  writeFileSync(join(dump, 'mail/annex.eml'), annex, 'latin1');
  writeFileSync(join(dump, 'docs/contract-superseded-draft.pdf'), CONTRACT);
  writeFileSync(join(dump, 'forged/contract.pdf'), FORGED);
  writeFileSync(join(dump, 'forged/contract-superseded-draft.pdf'), FORGED);
  const keys = join(tmp.path, 'keys.json');
  writeFileSync(keys, JSON.stringify({ 'sel1._domainkey.example.com': [key.txt] }));
  db = join(tmp.path, 'x.db');
  const verify = runCli(['verify', dump, '--keys', keys, '--offline', '--db', db, '--quiet', '--json']);
  expect(verify.status, verify.stderr).toBe(0);
  expect(JSON.parse(verify.stdout).verdicts).toMatchObject({ verified: 2 });
  rows = runCli(['documents', '--format', 'jsonl', '--db', db]).stdout.trim().split('\n').map((l) => JSON.parse(l) as DocumentRow);
});

describe('a single-part message whose file name its signature does not fix (red team Y, Y-02)', () => {
  it('show says the name is not signed, and only where it is not', () => {
    const shown = runCli(['show', 'mail/contract.eml', '--db', db]).stdout;
    expect(shown).toMatch(/#1 contract-superseded-draft\.pdf {2}application\/pdf, \d+ bytes, base64 {2}verified-content\n {5}name not signed: /);
    expect(runCli(['show', 'mail/annex.eml', '--db', db]).stdout).not.toContain('name not signed');
    const json = JSON.parse(runCli(['show', 'mail/contract.eml', '--json', '--db', db]).stdout) as { attachments: Array<{ nameUnsigned: boolean }> };
    expect(json.attachments.map((a) => a.nameUnsigned)).toEqual([true]);
  });

  it('a conflict against an attachment whose name nobody signed says so; a document of another name is none', () => {
    const byPath = new Map(rows.map((r) => [r.path, r]));
    expect(byPath.get('docs/contract-superseded-draft.pdf')).toMatchObject({ status: 'verified-by-email', name_conflicts: [] });
    const sameName = byPath.get('forged/contract-superseded-draft.pdf')!;
    expect(sameName.name_conflicts).toEqual([expect.objectContaining({ message: 'mail/contract.eml', nameUnsigned: true })]);
    // (documented, not defended: the renamed attachment's first name is unknown; docs/documents.md)
    expect(byPath.get('forged/contract.pdf')).toMatchObject({ status: 'no-email-match', name_conflicts: [] });
    const text = runCli(['documents', '--db', db]).stdout;
    expect(text).toContain('! a document with this name was sent in a verified email whose signature does not fix the name, with different content');
    const csv = runCli(['documents', '--format', 'csv', '--db', db]).stdout;
    expect(csv).toContain('mail/contract.eml: contract-superseded-draft.pdf (a name the signature does not fix)');
  });
});
