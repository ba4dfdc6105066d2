import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.ts';
import { verifiedDumpRows, type DumpRow } from '../helpers/dump-rows.ts';
import { rsaKey, signatureFor } from '../unit/support/signing.ts';

/*
 * Messages signed by a domain of the planter's own, put under a genuine message's Message-ID
 * (red team M). Their proofs say nothing about the genuine message: they must neither crowd its
 * proven twin out of the comparison with a forged copy (M-03), nor be set against it as another
 * version of it (M-05).
 */

const keys = { corp: rsaKey(2048), evil: rsaKey(2048) };
const SIGN_TIME = new Date('2017-02-14T09:00:00Z');

function mail(from: string, id: string, subject: string, body: string): string {
  return [`From: ${from}`, 'To: Bob <bob@partner.example>', `Subject: ${subject}`, 'Date: Tue, 14 Feb 2017 10:12:03 +0100', `Message-ID: ${id}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=us-ascii', '', body].join('\r\n');
}
const signedBy = async (message: string, key: typeof keys.corp, domain: string): Promise<string> =>
  (await signatureFor(message, { key, domain, selector: 's1', signTime: SIGN_TIME, headerList: 'from:to:subject:date:message-id' })) + message;

const tmp = tempDir('leakcheck-planted-copies-');
let rows = new Map<string, DumpRow>();
const row = (path: string) => rows.get(path) ?? expect.fail(`${path} was not stored`);

beforeAll(async () => {
  const files: Record<string, string> = {};
  // M-03: a genuine message, a forged copy of it, and sixteen messages of another domain under its
  // Message-ID, named to come first
  const paid = '<paid@corp.example>';
  files['inbox/genuine.eml'] = await signedBy(mail('Ivy <ivy@corp.example>', paid, 'Payment', 'Approved: 10,000 EUR.\r\n'), keys.corp, 'corp.example');
  files['inbox/forged.eml'] = mail('Ivy <ivy@corp.example>', paid, 'Payment', 'Approved: 90,000 EUR, to the Bahamas account.\r\n');
  for (let i = 0; i < 16; i++) {
    files[`0-bulk/${String(i).padStart(2, '0')}.eml`] = await signedBy(mail(`noreply${i}@evil.example`, paid, `Offer ${i}`, `offer ${i}\r\n`), keys.evil, 'evil.example');
  }
  // M-05: one message of another domain under a genuine message's Message-ID
  const terms = '<terms@corp.example>';
  files['terms/genuine.eml'] = await signedBy(mail('Ivy <ivy@corp.example>', terms, 'Terms', 'The terms stand.\r\n'), keys.corp, 'corp.example');
  files['terms/0-planted.eml'] = await signedBy(mail('news@evil.example', terms, 'Terms', 'The terms are void.\r\n'), keys.evil, 'evil.example');

  rows = await verifiedDumpRows(tmp.path, files, { 's1._domainkey.corp.example': [keys.corp.txt], 's1._domainkey.evil.example': [keys.evil.txt] });
}, 120_000);

afterAll(() => tmp.cleanup());

describe('messages of another domain under a genuine message\'s Message-ID', () => {
  it('sixteen of them, named first, do not keep the forged copy from being compared with its proven twin (M-03)', () => {
    expect(['0-bulk/00.eml', 'inbox/genuine.eml', 'inbox/forged.eml'].map((path) => row(path).verdict)).toEqual(['verified', 'verified', 'suspicious']);
    const [finding, ...rest] = row('inbox/forged.eml').findings;
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ code: 'conflicting-copy', severity: 'red-flag' });
    expect(finding!.text).toContain('Verified twin: inbox/genuine.eml.');
  });

  it('one of them is not set against the genuine message as another version of it: an info on each says it is another domain\'s (M-05)', () => {
    for (const [path, other, domain] of [['terms/genuine.eml', 'terms/0-planted.eml', 'evil.example'], ['terms/0-planted.eml', 'terms/genuine.eml', 'corp.example']] as const) {
      expect(row(path).verdict).toBe('verified');
      expect(row(path).findings.map((f) => `${f.code}:${f.severity}`)).toEqual(['verified-copy-other-author:info']);
      const { text } = row(path).findings[0]!;
      expect(text).toContain(`Another file, ${other}, uses this message's Message-ID`);
      expect(text).toContain(`it is from ${domain}, not this message's From domain`);
      expect(text).not.toMatch(/Neither proof|signed one version/);
    }
    // nor among the sixteen: the genuine message is compared with none of them as a version of it
    expect(row('inbox/genuine.eml').findings.map((f) => f.code)).toEqual(['verified-copy-other-author']);
  });
});
