/**
 * Internationalised From domains (red team 5, 05). A From written in UTF-8 (RFC 6532) is read as
 * UTF-8, and its domain is aligned with d= by its A-label (RFC 6376 requires the A-label in d=).
 * A From whose bytes are not UTF-8 is never "repaired" into alignment, and a domain that IDNA
 * maps to another name (fullwidth letters, `。`) is not aligned with that name: mail programs
 * show the domain as written (src/verify/domain-names.ts).
 */
import { generateKeyPairSync } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import type { KeyAnswer, KeyLookup } from '../../src/keys/types.ts';
import { readDomain } from '../../src/verify/domain-names.ts';
import { handSign } from './sign.ts';

const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const TXT = `v=DKIM1; k=rsa; p=${pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
// every s1 selector publishes the test key: what is tested is alignment, not whose key it is
const lookup: KeyLookup = async (name): Promise<KeyAnswer> =>
  name.toLowerCase().startsWith('s1._domainkey.') ? { status: 'found', name, records: [{ txt: TXT, source: 'dns', origin: 'test DNS' }] } : { status: 'absent', name, detail: 'no such key in this test' };

const SIGNED = ['from', 'to', 'subject', 'date', 'message-id'];
/** A message whose From field is the given bytes (a latin1 string of them), signed by d=`d`. */
function signed(fromBytes: string, d: string, id: string): string {
  const message = [
    `From: ${fromBytes}`,
    'To: bob@news.example',
    'Subject: Stadtrat',
    'Date: Tue, 08 Jan 2019 10:00:00 +0000',
    `Message-ID: <${id}@xn--mnchen-3ya.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Sitzung am Freitag.',
    '',
  ].join('\r\n');
  return handSign(message, { privateKeyPem: PEM, tags: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=${d}; s=s1; h=${SIGNED.join(':')}`, headers: SIGNED });
}
const utf8From = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
const analyze = (text: string): Promise<MessageAnalysis> => analyzeMessage({ raw: Buffer.from(text, 'latin1'), format: 'eml' }, lookup);
const summary = (a: MessageAnalysis): string =>
  `${a.verdict.verdict} (${a.verdict.reasons.join(', ')}); ${JSON.stringify(a.signatures.map((s) => ({ outcome: s.outcome, d: s.tags.domain, aligned: s.aligned })))}; findings ${a.findings.map((f) => f.code).join(', ')}`;

describe('internationalised From domains', () => {
  it('control: the A-label written in From is verified', async () => {
    const a = await analyze(signed('Amt <amt@xn--mnchen-3ya.example>', 'xn--mnchen-3ya.example', 'a-label'));
    expect(a.verdict.verdict, summary(a)).toBe('verified');
  });

  it('a UTF-8 From at münchen.example signed by d=xn--mnchen-3ya.example is verified, and shown decoded beside its A-label', async () => {
    const a = await analyze(signed(utf8From('Amt <amt@münchen.example>'), 'xn--mnchen-3ya.example', 'u-label'));
    expect(a.signatures[0], summary(a)).toMatchObject({ outcome: 'pass', aligned: true });
    expect(a.verdict.verdict, summary(a)).toBe('verified');
    expect(a.verdict.explanation).toContain('münchen.example (xn--mnchen-3ya.example)');
    expect(a.verdict.explanation).not.toContain('mã¼nchen');
    expect(a.meta.fromAddress).toBe('amt@münchen.example');
    expect(a.findings.map((f) => f.code)).not.toContain('author-not-proven');
    expect(a.findings.map((f) => f.code)).not.toContain('author-domain-not-shown-name');
  });

  it('a UTF-8 From in capitals, or its U-label in decomposed form (NFD), is the same domain', async () => {
    for (const [from, id] of [
      ['Amt <AMT@MÜNCHEN.EXAMPLE>', 'caps'],
      ['Amt <amt@mu\u0308nchen.example>', 'nfd'],
    ]) {
      const a = await analyze(signed(utf8From(from!), 'xn--mnchen-3ya.example', id!));
      expect(a.verdict.verdict, `${from}: ${summary(a)}`).toBe('verified');
    }
  });

  it('8-bit bytes that are not UTF-8 are never read into alignment, not even with d= the A-label of their latin1 reading', async () => {
    for (const [from, d, id] of [
      ['Amt <amt@m\xfcnchen.example>', 'xn--mnchen-3ya.example', 'latin1-u'], // ü as one latin1 byte
      ['Amt <amt@m\xe9nchen.example>', domainToASCII('ménchen.example'), 'latin1-e'], // d= made to match the latin1 reading
      ['Amt <amt@m\xc3\xbc\xffnchen.example>', domainToASCII('müÿnchen.example'), 'broken'], // UTF-8 ü then a stray byte
    ]) {
      const a = await analyze(signed(from!, d!, id!));
      expect(a.signatures[0], `${id}: ${summary(a)}`).toMatchObject({ outcome: 'pass', aligned: false });
      expect(a.verdict.verdict, `${id}: ${summary(a)}`).toBe('unverifiable');
      expect(a.verdict.reasons).toContain('signature-not-aligned');
      expect(a.findings.find((f) => f.code === 'author-domain-not-shown-name'), summary(a)).toMatchObject({ severity: 'warning' });
    }
  });

  it('a UTF-8 From domain with another A-label is not aligned', async () => {
    const a = await analyze(signed(utf8From('Amt <amt@mùnchen.example>'), 'xn--mnchen-3ya.example', 'other'));
    expect(domainToASCII('mùnchen.example')).not.toBe('xn--mnchen-3ya.example');
    expect(a.signatures[0], summary(a)).toMatchObject({ outcome: 'pass', aligned: false });
    expect(a.verdict.verdict, summary(a)).toBe('unverifiable');
    expect(a.verdict.reasons).toContain('signature-not-aligned');
  });

  it('a second UTF-8 author another d= does not speak for is named decoded, with its A-label', async () => {
    const a = await analyze(signed(utf8From('Amt <amt@xn--mnchen-3ya.example>, Bank <ceo@bänk.example>'), 'xn--mnchen-3ya.example', 'two'));
    expect(a.verdict.verdict, summary(a)).toBe('unverifiable');
    const finding = a.findings.find((f) => f.code === 'author-not-proven');
    expect(finding?.text, summary(a)).toContain(`bänk.example (${domainToASCII('bänk.example')})`);
  });

  // Decision (src/verify/domain-names.ts): IDNA maps ｅｘａｍｐｌｅ.com to example.com, but mail
  // programs show ｅｘａｍｐｌｅ.com; a signature by example.com does not prove the name shown.
  it.each([
    ['fullwidth letters', 'Amt <amt@ｅｘａｍｐｌｅ.com>', 'example.com'],
    ['an ideographic full stop', 'Amt <amt@münchen。example>', 'xn--mnchen-3ya.example'],
    ['a soft hyphen', 'Amt <amt@exam\u00adple.com>', 'example.com'],
  ])('a From domain IDNA maps to d= (%s) is not aligned, and a finding says why', async (_, from, d) => {
    const a = await analyze(signed(utf8From(from), d, `mapped-${d}`));
    expect(a.signatures[0], summary(a)).toMatchObject({ outcome: 'pass', aligned: false });
    expect(a.verdict.verdict, summary(a)).toBe('unverifiable');
    expect(a.verdict.reasons).toContain('signature-not-aligned');
    expect(a.findings.find((f) => f.code === 'author-domain-not-shown-name'), summary(a)).toMatchObject({ severity: 'warning' });
    const unproven = a.findings.find((f) => f.code === 'author-not-proven');
    expect(unproven?.text, summary(a)).toContain(`IDNA maps to ${d}`);
    expect(a.verdict.explanation).toContain(unproven!.text);
  });
});

describe('readDomain', () => {
  it.each([
    ['münchen.example', true, 'xn--mnchen-3ya.example', null],
    ['xn--mnchen-3ya.example', true, 'xn--mnchen-3ya.example', null],
    ['xn--mnchen-3ya.münchen.example', true, 'xn--mnchen-3ya.xn--mnchen-3ya.example', null],
    ['faß.de', true, 'xn--fa-hia.de', null], // IDNA2008: ß is its own letter, not "ss"
    ['example.com.', true, 'example.com', null],
    ['ｅｘａｍｐｌｅ.com', true, 'example.com', 'mapped'],
    ['ⅹ.com', true, 'x.com', 'mapped'],
    ['a%b.com', true, null, 'invalid'],
    ['0x7f.1', true, '127.0.0.1', 'mapped'], // the URL host parser reads it as an IPv4 address
    ['exa\u200dmple.com', true, null, 'invalid'],
    ['mã¼nchen.example', false, null, 'not-utf8'],
    // no punycode: Node 22 gives "" for it, Node 24 the label unchanged; invalid on both
    ['xn--zz.com', true, null, 'invalid'],
    ['mail.xn--zz.example', true, null, 'invalid'],
  ])('%s (UTF-8: %s)', (domain, utf8, aLabel, problem) => {
    expect(readDomain(domain, utf8)).toMatchObject({ aLabel, problem });
  });
});
