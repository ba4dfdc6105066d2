import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headers } from '../attachments/support.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { verifiedDocuments } from '../helpers/documents.ts';
import { rsaKey, SIGN_TIME, signed } from '../unit/support/signing.ts';

/**
 * Red team Y, Y-07: a verified email's base64 part that goes on after its "=" padding decodes to
 * 38 bytes for mailparser and 11 for Python's email. leakcheck called its own decoding verified
 * content and the other reader's copy a red-flagged name conflict.
 */

const FIRST = Buffer.from('%PDF-1.4 A\n');
const SECOND = Buffer.from('%PDF-1.4 B: the real terms\n');
const PLAIN = Buffer.from('%PDF-1.4\n% a well-formed attachment\n%%EOF\n');

interface DocumentRow {
  path: string;
  status: string;
  matching_messages: Array<{ message: string; strength: string }>;
  name_conflicts: unknown[];
}

const message = [
  ...headers('multipart/mixed; boundary="b"'),
  '--b',
  'Content-Type: text/plain',
  '',
  'x',
  '--b',
  'Content-Type: application/pdf',
  'Content-Disposition: attachment; filename="padded.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  FIRST.toString('base64') + SECOND.toString('base64'),
  '--b',
  'Content-Type: application/pdf',
  'Content-Disposition: attachment; filename="plain.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  PLAIN.toString('base64'),
  '--b--',
  '',
].join('\r\n');

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let db: string;
let text: string;
let rows: Map<string, DocumentRow>;

beforeAll(async () => {
  const key = rsaKey(2048);
  const dump = join(tmp.path, 'dump');
  for (const dir of ['mail', 'saved', 'saved2']) mkdirSync(join(dump, dir), { recursive: true });
  writeFileSync(join(dump, 'mail/b64.eml'), await signed(message, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, canonicalization: 'relaxed/relaxed' }), 'latin1');
  // what mailparser decodes, what Python's email decodes, and a well-formed attachment saved
  writeFileSync(join(dump, 'saved/padded.pdf'), Buffer.concat([FIRST, SECOND]));
  writeFileSync(join(dump, 'saved2/padded.pdf'), FIRST);
  writeFileSync(join(dump, 'saved/plain.pdf'), PLAIN);
  const verified = await verifiedDocuments<DocumentRow>(tmp.path, dump, key.txt);
  ({ db, text } = verified);
  rows = new Map(verified.rows.map((r) => [r.path, r]));
});

describe('base64 that decoders read to different bytes (red team Y, Y-07)', () => {
  it('is not verified content, and show says why', () => {
    const shown = runCli(['show', 'mail/b64.eml', '--db', db]).stdout;
    expect(shown).toContain('Verdict: verified');
    expect(shown).toMatch(/#1 padded\.pdf {2}application\/pdf, 38 bytes, base64 {2}covered-ambiguous-decoding\n {5}decoded differently: its base64 goes on after its padding/);
    expect(shown).toMatch(/#2 plain\.pdf .* {2}verified-content\n/);
  });

  it("neither reader's copy is verified by the email, and neither is a red flag", () => {
    expect(rows.get('saved/padded.pdf')).toMatchObject({ status: 'seen-in-unverified-email', matching_messages: [{ message: 'mail/b64.eml', strength: 'covered-ambiguous-decoding' }], name_conflicts: [] });
    expect(rows.get('saved2/padded.pdf')).toMatchObject({ status: 'no-email-match', name_conflicts: [] });
    expect(rows.get('saved/plain.pdf')).toMatchObject({ status: 'verified-by-email' });
    expect(text).toContain('its signature fixes the base64 text of this attachment, which mail programs decode to different bytes');
    expect(text).not.toContain('RED FLAG');
  });
});
