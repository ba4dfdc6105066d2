import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameDomainOrSubdomain, witnessesAgainst, type DumpMessage } from '../../src/checks/dump/types.ts';
import { canonicalDomain } from '../../src/verify/domain-names.ts';
import { tempDir } from '../helpers/cli.ts';
import { verifiedDumpRows, type DumpRow } from '../helpers/dump-rows.ts';
import { rsaKey, signatureFor } from '../unit/support/signing.ts';

/*
 * A From domain written as its U-label (élysée.example, RFC 6532) and the d= that signs for it,
 * which RFC 6376 writes as the A-label (xn--lyse-9oad.example), are one domain. The dump checks
 * compared them as written, so a forged copy of an IDN sender's verified message was no
 * conflicting copy, and the sender's selector habit was never built (red team S, S-01, S-06).
 */

const IDN = 'élysée.example';
const A_LABEL = 'xn--lyse-9oad.example';
const key = rsaKey(2048);
const SIGN_TIME = new Date('2017-06-01T08:00:00Z');

/** The message as the bytes a file holds, UTF-8 encoded, as verifiedDumpRows writes them (latin1). */
function mail(options: { id: string; subject: string; date: string; body: string; fromDomain?: string }): string {
  const text = [`From: Cabinet <cabinet@${options.fromDomain ?? IDN}>`, 'To: Jordan <jordan@harbor.example>', `Subject: ${options.subject}`, `Date: ${options.date}`, `Message-ID: <${options.id}@${A_LABEL}>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', options.body].join('\r\n');
  return Buffer.from(text, 'utf8').toString('latin1');
}
const signedBy = async (message: string, selector = 's1'): Promise<string> =>
  (await signatureFor(message, { key, domain: A_LABEL, selector, signTime: SIGN_TIME, headerList: 'from:to:subject:date:message-id' })) + message;

const tmp = tempDir('leakcheck-idn-domains-');
let rows = new Map<string, DumpRow>();
const row = (path: string) => rows.get(path) ?? expect.fail(`${path} was not stored`);

beforeAll(async () => {
  const files: Record<string, string> = {};
  const communique = { id: 'c1', subject: 'Communique', date: 'Fri, 05 May 2017 20:00:00 +0200', body: 'The meeting is cancelled.\r\n' };
  files['copies/genuine.eml'] = await signedBy(mail(communique));
  files['copies/forged.eml'] = mail({ ...communique, body: 'Wire 2 million EUR today.\r\n' });
  for (let i = 0; i < 12; i++) {
    files[`habits/${String(i).padStart(2, '0')}.eml`] = await signedBy(mail({ id: `n${i}`, subject: `Note ${i}`, date: `Fri, ${String(i + 1).padStart(2, '0')} Jun 2017 10:00:00 +0200`, body: `Note ${i}\r\n`, fromDomain: i % 2 ? A_LABEL : IDN }));
  }
  files['habits/planted.eml'] = await signedBy(mail({ id: 'n20', subject: 'Note 20', date: 'Wed, 21 Jun 2017 10:00:00 +0200', body: 'Planted.\r\n' }), 'other2019');
  rows = await verifiedDumpRows(tmp.path, files, { [`s1._domainkey.${A_LABEL}`]: [key.txt] });
}, 120_000);

afterAll(() => tmp.cleanup());

describe('a From domain written as a U-label, signed by its A-label', () => {
  it('a forged copy of its verified message is a conflicting copy, as for an ASCII domain (S-01)', () => {
    expect(row('copies/genuine.eml').verdict).toBe('verified');
    const forged = row('copies/forged.eml');
    expect(forged.verdict).toBe('suspicious');
    expect(forged.findings.map((f) => `${f.code}:${f.severity}`)).toContain('conflicting-copy:red-flag');
    expect(forged.findings.map((f) => f.text).join('\n')).not.toContain('is not by this copy\'s From domain');
  });

  it('its proven selector makes a habit, whichever form its From is written in, and a message under another selector is an outlier (S-06)', () => {
    expect(row('habits/00.eml').verdict).toBe('verified');
    const outlier = row('habits/planted.eml').findings.find((f) => f.code === 'sender-profile-outlier');
    expect(outlier?.text).toContain(`s1._domainkey.${A_LABEL}`);
  });
});

describe('canonicalDomain and sameDomainOrSubdomain', () => {
  it('read a U-label and its A-label as one domain, in any case, with or without a trailing dot, and a mapped domain as no other', () => {
    expect(canonicalDomain('Élysée.Example.')).toBe(A_LABEL);
    expect(canonicalDomain(A_LABEL.toUpperCase())).toBe(A_LABEL);
    expect(sameDomainOrSubdomain(A_LABEL, IDN)).toBe(true);
    expect(sameDomainOrSubdomain(`mail.${A_LABEL}`, 'ÉLYSÉE.example')).toBe(true);
    expect(sameDomainOrSubdomain('münchen.example', 'xn--mnchen-3ya.example.')).toBe(true);
    // and keep a domain that is never aligned apart from the name IDNA maps it to: fullwidth letters: UTS #46 maps them to example.com, a name the reader is not shown
    expect(canonicalDomain('ｅｘａｍｐｌｅ.com')).not.toBe('example.com');
    expect(sameDomainOrSubdomain('example.com', 'ｅｘａｍｐｌｅ.com')).toBe(false);
    expect(sameDomainOrSubdomain(A_LABEL, 'elysee.example')).toBe(false);
  });

  it('let a proof by the A-label bear witness against a message whose From is the U-label', () => {
    const message = (fromAddress: string, verdict: DumpMessage['verdict']): DumpMessage => ({
      id: 1, where: 'x.eml', sha256: 'x', messageId: `c1@${A_LABEL}`, fromAddress, date: null, firstStampAt: null, dateZoneKnown: true, dateOffsetMinutes: null, mailer: null, bodySha256: null, visibleSha256: null,
      textSha256: null, subject: null, mailingList: null, inReplyTo: null, references: [], verdict, signatures: [],
      proofs: verdict === 'verified' ? [{ domain: A_LABEL, selector: 's1', aligned: true, signedHeaders: ['from', 'date'] }] : [],
    });
    expect(witnessesAgainst(message(`cabinet@${IDN}`, 'verified'), message(`cabinet@${IDN}`, 'unverifiable')).map((p) => p.domain)).toEqual([A_LABEL]);
  });
});
