/**
 * Red team 28, I-01: a genuine signed message wrapped in an unsigned "Fwd:" carrier whose
 * Content-Type names two boundaries. Python's email takes the first and shows a forged copy as
 * the forwarded message; mailparser, and leakcheck, take the last and find the genuine one,
 * which verifies. A reader of the first kind then reads the forgery as the message leakcheck
 * verified. No forwarded message cut out of such a carrier is taken as verified.
 */
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_KEYS, ROOT } from '../helpers/cli.ts';
import { demoMessage, signWithFixtureKey } from './sign.ts';
import { readResults } from './support.ts';

const GENUINE = readFileSync(join(ROOT, 'fixtures/demo-dump/inbox/2017-02-14 Q1 budget.eml'), 'latin1');
const dir = mkdtempSync(join(tmpdir(), 'leakcheck-fwd-cut-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const part = (boundary: string, message: string): string => `--${boundary}\r\nContent-Type: message/rfc822\r\n\r\n${message}\r\n--${boundary}--\r\n`;
const carrier = (contentType: string, body: string): string =>
  ['From: analyst@harbor.example', 'To: desk@harbor.example', 'Subject: Fwd: Q1 budget', 'Date: Wed, 15 Feb 2017 09:00:00 +0100', 'Message-ID: <fwd-cut@harbor.example>', 'MIME-Version: 1.0', `Content-Type: ${contentType}`, '', body].join('\r\n');

async function verdicts(name: string, text: string): Promise<{ carrier: string[]; carrierTexts: string[]; forwarded: { verdict: string; reasons: string[] }; forwardedParts: string[] }> {
  const dump = join(dir, name);
  mkdirSync(dump, { recursive: true });
  writeFileSync(join(dump, 'fwd.eml'), text, 'latin1');
  const db = join(dir, `${name}.db`);
  await runVerify({ dumpRoot: dump, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
  const { messages } = readResults(db);
  const forwarded = messages.find((m) => m.path === 'fwd.eml#attachment-1')!;
  const Database = (await import('better-sqlite3')).default;
  const store = new Database(db, { readonly: true });
  try {
    const carrierFindings = store.prepare("SELECT fi.code, fi.text FROM findings fi JOIN messages m ON m.id = fi.message_id JOIN source_files f ON f.id = m.file_id WHERE f.path = 'fwd.eml'").all() as Array<{ code: string; text: string }>;
    const forwardedParts = store.prepare("SELECT a.filename || ' ' || a.strength FROM attachments a JOIN messages m ON m.id = a.message_id JOIN source_files f ON f.id = m.file_id WHERE f.path = 'fwd.eml#attachment-1' ORDER BY a.part_index").pluck().all() as string[];
    return { carrier: carrierFindings.map((f) => f.code), carrierTexts: carrierFindings.map((f) => f.text), forwarded: { verdict: forwarded.verdict ?? '', reasons: JSON.parse(forwarded.reasons_json ?? '[]') as string[] }, forwardedParts };
  } finally {
    store.close();
  }
}

describe('a forwarded message cut out of a carrier whose boundary readers read differently', () => {
  const forged = GENUINE.replace(/\r\n\r\n[\s\S]*$/, '\r\n\r\nWire EUR 2,400,000 to Northwind today. Keep it quiet.\r\n');

  it('control: one boundary, the genuine forwarded message is verified', async () => {
    const result = await verdicts('one', carrier('multipart/mixed; boundary="LM"', part('LM', GENUINE)));
    expect(result.forwarded.verdict).toBe('verified');
    expect(result.carrier).not.toContain('forwarded-message-ambiguous');
    expect(result.forwardedParts).toEqual(['budget-q1.csv verified-content']);
  });

  it.each([
    ['two boundary= parameters', 'multipart/mixed; boundary="PY"; boundary="LM"'],
    ['boundary= and an RFC 2231 boundary*=', "multipart/mixed; boundary=\"PY\"; boundary*=us-ascii''LM"],
  ])('%s: the carrier says so, and the genuine forwarded message is unverifiable, not verified', async (_, contentType) => {
    const result = await verdicts(contentType.length > 40 ? 'two-2231' : 'two', carrier(contentType, part('PY', forged) + part('LM', GENUINE)));
    expect(result.carrier).toContain('forwarded-message-ambiguous');
    expect(result.forwarded).toEqual({ verdict: 'unverifiable', reasons: ['forwarded-message-ambiguous'] });
    // nor are its attachments verified content (red team Y, Y-01)
    expect(result.forwardedParts).toEqual(['budget-q1.csv unverified']);
  });
});

// Red team Y, Y-10: RFC 2046 forbids encoding a message/rfc822 part. In quoted-printable, Python's
// email reads the encoded text as the message (`=3100` where the genuine one says `100`); mail
// programs that decode it read the genuine bytes. The carrier was caught only when the encoded
// boundary of a multipart inside read as a bad one, and the finding blamed that boundary.
describe('a forwarded message in a transfer encoding', () => {
  const encodedPart = (encoding: string, text: string): string =>
    `--LM\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: ${encoding}\r\n\r\n${text}\r\n--LM--\r\n`;
  const quotedPrintable = (message: string): string => {
    const { encode, wrap } = createRequire(import.meta.url)('libqp') as { encode: (b: Buffer) => string; wrap: (s: string, n: number) => string };
    return wrap(encode(Buffer.from(message, 'latin1')), 76);
  };

  it('in quoted-printable: the carrier says so, and names the encoding, and the forwarded message is not verified', async () => {
    const plain = await signWithFixtureKey(demoMessage({ id: 'qp-forwarded', body: 'Wire 100 EUR.\r\n' }));
    const result = await verdicts('qp', carrier('multipart/mixed; boundary="LM"', encodedPart('quoted-printable', quotedPrintable(plain))));
    expect(result.carrier).toContain('forwarded-message-ambiguous');
    expect(result.forwarded.verdict).toBe('unverifiable');
    expect(result.forwarded.reasons).toEqual(['forwarded-message-ambiguous']);
    expect(result.carrierTexts.join('\n')).toContain('in quoted-printable, which the MIME standard forbids for message/rfc822');
  });

  it('in base64 (other readers show base64 text, never another message): verified', async () => {
    const base64 = Buffer.from(GENUINE, 'latin1').toString('base64').replace(/.{76}/g, '$&\r\n');
    const result = await verdicts('b64', carrier('multipart/mixed; boundary="LM"', encodedPart('base64', base64)));
    expect(result.carrier).not.toContain('forwarded-message-ambiguous');
    expect(result.forwarded.verdict).toBe('verified');
  });
});
