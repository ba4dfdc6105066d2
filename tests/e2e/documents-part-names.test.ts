import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headers } from '../attachments/support.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { verifiedDocuments } from '../helpers/documents.ts';
import { rsaKey, SIGN_TIME, signed, type TestKey } from '../unit/support/signing.ts';

/**
 * Red team Y, Y-16: a part may declare its file name more than once (`filename=` beside
 * `filename*=`, Content-Type `name=` beside Content-Disposition `filename=`, two
 * Content-Disposition fields), and readers save it under different ones. A forged file under the
 * name leakcheck did not list had no red flag. A genuine mailer's ASCII fallback beside a UTF-8
 * `filename*=` (RFC 6266 style) must fare no worse than before.
 */

let key: TestKey;
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const pdf = (comment: string): Buffer => Buffer.from(`%PDF-1.4\n% ${comment}\n%%EOF\n`);
const [SCAN, NAMED, TWICE, RESUME, FORGED] = ['contract 2: 100 units', 'contract 1: paid in 30 days', 'contract 5: May', 'curriculum vitae', 'forged: 900 units'].map(pdf) as [Buffer, Buffer, Buffer, Buffer, Buffer];

interface Conflict {
  filename: string;
  message: string;
  otherName?: string;
}
interface DocumentRow {
  path: string;
  status: string;
  name_conflicts: Conflict[];
}

const part = (headers: string[], bytes: Buffer): string[] => ['--b', ...headers, 'Content-Transfer-Encoding: base64', '', bytes.toString('base64')];
const message = [
  ...headers('multipart/mixed; boundary="b"'),
  '--b',
  'Content-Type: text/plain',
  '',
  'Attached.',
  ...part(['Content-Type: application/pdf', "Content-Disposition: attachment; filename=\"scan2.pdf\"; filename*=utf-8''contract2.pdf"], SCAN),
  ...part(['Content-Type: application/pdf; name="contract1.pdf"', 'Content-Disposition: attachment; filename="scan1.pdf"'], NAMED),
  ...part(['Content-Type: application/pdf', 'Content-Disposition: attachment; filename="scan5.pdf"', 'Content-Disposition: attachment; filename="contract5.pdf"'], TWICE),
  ...part(['Content-Type: application/pdf', "Content-Disposition: attachment; filename=\"resume.pdf\"; filename*=utf-8''r%C3%A9sum%C3%A9.pdf"], RESUME),
  '--b--',
  '',
].join('\r\n');

let db: string;
let rows: Map<string, DocumentRow>;
let text: string;

beforeAll(async () => {
  const dump = join(tmp.path, 'dump');
  for (const dir of ['mail', 'docs', 'forged']) mkdirSync(join(dump, dir), { recursive: true });
  key = rsaKey(2048);
  writeFileSync(join(dump, 'mail/names.eml'), await signed(message, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, canonicalization: 'relaxed/relaxed' }), 'latin1');
  for (const name of ['scan2.pdf', 'contract1.pdf', 'contract5.pdf', 'résumé.pdf']) writeFileSync(join(dump, 'forged', name), FORGED);
  // the genuine résumé, saved by a reader that takes the ASCII fallback
  writeFileSync(join(dump, 'docs/resume.pdf'), RESUME);
  const verified = await verifiedDocuments<DocumentRow>(tmp.path, dump, key.txt);
  db = verified.db;
  text = verified.text;
  rows = new Map(verified.rows.map((r) => [r.path, r]));
});

describe('a part that declares more than one file name (red team Y, Y-16)', () => {
  it('a forged document under any of the names is a red flag that says which name it matched', () => {
    expect(rows.get('forged/scan2.pdf')).toMatchObject({ status: 'no-email-match', name_conflicts: [{ message: 'mail/names.eml', filename: 'contract2.pdf', otherName: 'scan2.pdf' }] });
    expect(rows.get('forged/contract1.pdf')!.name_conflicts).toEqual([expect.objectContaining({ filename: 'scan1.pdf', otherName: 'contract1.pdf' })]);
    expect(rows.get('forged/contract5.pdf')!.name_conflicts).toEqual([expect.objectContaining({ filename: 'scan5.pdf', otherName: 'contract5.pdf' })]);
    // the name leakcheck lists it by is compared as before, without an otherName
    expect(rows.get('forged/résumé.pdf')!.name_conflicts).toEqual([expect.not.objectContaining({ otherName: expect.anything() })]);
    expect(text).toContain('! a document with this name (one of the names the attachment declares, which some mail programs save it under; others name it contract2.pdf)');
    expect(text).toContain('contract2.pdf (also named scan2.pdf) in mail/names.eml');
    expect(runCli(['documents', '--format', 'csv', '--db', db]).stdout).toContain('mail/names.eml: contract2.pdf (also named scan2.pdf, the name it matched)');
  });

  it('a genuine copy saved under the ASCII fallback name is verified by the email, with no red flag', () => {
    expect(rows.get('docs/resume.pdf')).toMatchObject({ status: 'verified-by-email', name_conflicts: [] });
  });

  it('show lists the other names of each part, and only of those that have some', () => {
    const shown = runCli(['show', 'mail/names.eml', '--db', db]).stdout;
    expect(shown).toMatch(/#1 contract2\.pdf {2}application\/pdf, \d+ bytes, base64 {2}verified-content\n {5}also named scan2\.pdf: /);
    expect(shown).toMatch(/#2 scan1\.pdf .*\n {5}also named contract1\.pdf: /);
    expect(shown).toMatch(/#3 scan5\.pdf .*\n {5}also named contract5\.pdf: /);
    expect(shown).toMatch(/#4 résumé\.pdf .*verified-content\n {5}also named resume\.pdf: /);
    const json = JSON.parse(runCli(['show', 'mail/names.eml', '--json', '--db', db]).stdout) as { attachments: Array<{ otherNames: string[]; strength: string }> };
    expect(json.attachments.map((a) => a.otherNames)).toEqual([['scan2.pdf'], ['contract1.pdf'], ['contract5.pdf'], ['resume.pdf']]);
    expect(json.attachments.every((a) => a.strength === 'verified-content')).toBe(true);
  });
});
