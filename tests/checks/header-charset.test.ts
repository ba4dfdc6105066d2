/**
 * Red team, round 6: a display name encoded in EBCDIC (ibm037), which Windows and Python
 * decode to "CEO ceo@bank.example", is noise to libmime, which falls back to reading the bytes as
 * UTF-8 without a word: the reports showed "���|����K" and no check read the name.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { auditHeaderCharset } from '../../src/checks/header-charset.ts';
import { runMessageChecks } from '../../src/checks/index.ts';
import { context, fakeSignature, headersWith, message } from './support.ts';

/** "CEO ceo@bank.example" in EBCDIC code page 037, as Python's codecs write it. */
const EBCDIC_NAME = Buffer.from('c3c5d6408385967c82819592 4b85a78194979385'.replace(/ /g, ''), 'hex').toString('base64');

describe('header-charset-unknown', () => {
  it('an encoded word in a character set leakcheck cannot decode is a warning naming the header and the set', () => {
    const raw = message(headersWith({ From: `=?ibm037?B?${EBCDIC_NAME}?= <x@evil.example>`, Subject: '=?x-unknown?Q?Hello?= =?IBM037?B?QUJD?=' }));
    const findings = auditHeaderCharset(context(raw));
    expect(findings.map((f) => [f.code, f.severity, f.evidence])).toEqual([
      ['header-charset-unknown', 'warning', { header: 'From', charsets: ['ibm037'] }],
      ['header-charset-unknown', 'warning', { header: 'Subject', charsets: ['x-unknown', 'ibm037'] }],
    ]);
    expect(findings[0]!.text).toMatch(/^The From header has text encoded in the character set ibm037, which leakcheck cannot decode/);
    expect(runMessageChecks(context(raw)).map((f) => f.code)).toContain('header-charset-unknown');
  });

  it('the sets real mail uses are decoded and say nothing', () => {
    for (const charset of ['utf-8', 'ISO-8859-1', 'windows-1252', 'iso-2022-jp', 'koi8-r', 'gb2312', 'big5', 'shift_jis', 'utf-7', 'ks_c_5601-1987']) {
      const raw = message(headersWith({ From: `=?${charset}?B?QUJD?= <a@example.com>`, Subject: `=?${charset}?Q?abc?=` }));
      expect(auditHeaderCharset(context(raw)), charset).toEqual([]);
    }
  });

  it('headers a reader is not shown, and text that only looks like an encoded word, are left alone', () => {
    const raw = message(headersWith({ Subject: 'a =?ibm037 word, and =?ibm037?X?abc?=' }, ['X-Note: =?ibm037?B?QUJD?=', 'Constructor: =?ibm037?B?QUJD?=', '__proto__: =?ibm037?B?QUJD?=']));
    expect(auditHeaderCharset(context(raw))).toEqual([]);
  });
});

/**
 * Red team S, S-07: raw 8-bit KOI8-R or Shift_JIS in From and Subject, as older Russian and
 * Japanese clients wrote them, were shown as Latin-1 mojibake ("é×ÁÎ ðÅÔÒÏ×"), silently.
 */
describe('header-charset-assumed', () => {
  const iconv = createRequire(createRequire(import.meta.url).resolve('libmime'))('iconv-lite') as { encode: (text: string, charset: string) => Buffer };
  /** A message whose From and Subject are written raw in `charset`, with the given Content-Type and body. */
  const legacy = (charset: string, name: string, subject: string, contentType: string, body = 'x\r\n'): Buffer =>
    Buffer.concat([
      Buffer.from('From: '), iconv.encode(name, charset), Buffer.from(' <sender@demo.example>\r\nTo: Bob <bob@example.org>\r\nSubject: '),
      iconv.encode(subject, charset),
      Buffer.from(`\r\nDate: Mon, 14 Mar 2016 09:26:50 +0000\r\nMessage-ID: <legacy@demo.example>\r\nMIME-Version: 1.0\r\nContent-Type: ${contentType}\r\n\r\n${body}`),
    ]);
  const infoOf = (raw: Buffer) => runMessageChecks(context(raw)).filter((f) => f.code === 'header-charset-assumed');

  it('reads raw KOI8-R headers in the charset the message declares, and says so', () => {
    const raw = legacy('koi8-r', 'Иван Петров', 'Совещание', 'text/plain; charset=koi8-r');
    const { meta } = context(raw);
    expect(meta.from).toBe('Иван Петров <sender@demo.example>');
    expect(meta.subject).toBe('Совещание');
    expect(meta.fromAddress).toBe('sender@demo.example');
    const [finding, ...rest] = infoOf(raw);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ severity: 'info', evidence: { headers: ['From', 'Subject'], charset: 'koi8-r', declared: true } });
    expect(finding!.text).toContain('in koi8-r, the character set the message declares for its text');
  });

  it("reads raw Shift_JIS headers in a multipart's first text part's charset", () => {
    const body = '--b\r\nContent-Type: text/plain; charset="Shift_JIS"\r\nContent-Transfer-Encoding: base64\r\n\r\nie+LYw==\r\n--b--\r\n';
    const raw = legacy('shift_jis', '山田太郎', '会議', 'multipart/mixed; boundary="b"', body);
    expect(context(raw).meta).toMatchObject({ from: '山田太郎 <sender@demo.example>', subject: '会議' });
    expect(infoOf(raw)[0]?.evidence).toEqual({ headers: ['From', 'Subject'], charset: 'shift_jis', declared: true });
  });

  // Red team T, T-03: the signature covers the bytes, not the charset= they are read by. With an
  // unsigned Content-Type, iso-8859-1 changed to iso-8859-2 turns "£ 5000" into "Ł 5000", and the
  // message stays verified: the finding becomes a warning that says so.
  it("is a warning when the author's signature verifies but does not sign the charset declaration", () => {
    const raw = legacy('latin1', 'Bob', '£ 5000', 'text/plain; charset=iso-8859-2');
    expect(context(raw).meta.subject).toBe('Ł 5000');
    const author = (h: string) => fakeSignature({ tags: `v=1; a=rsa-sha256; d=demo.example; s=s1; h=${h}` });
    const unsigned = runMessageChecks(context(raw, [author('from:subject:date')])).filter((f) => f.code === 'header-charset-assumed');
    expect(unsigned).toEqual([expect.objectContaining({ severity: 'warning', evidence: expect.objectContaining({ declarationSigned: false }) })]);
    expect(unsigned[0]!.text).toContain('whoever changes that character set changes the characters shown');
    const signed = runMessageChecks(context(raw, [author('from:subject:date:content-type')])).filter((f) => f.code === 'header-charset-assumed');
    expect(signed).toEqual([expect.objectContaining({ severity: 'info' })]);
    // another domain's signature over it vouches for nothing of the author's: nothing to undermine
    const thirdParty = fakeSignature({ aligned: false, tags: 'v=1; a=rsa-sha256; d=esp.example; s=s1; h=from:subject' });
    expect(runMessageChecks(context(raw, [thirdParty])).filter((f) => f.code === 'header-charset-assumed')).toEqual([expect.objectContaining({ severity: 'info' })]);
  });

  it('without a usable declared charset the bytes are Latin-1 as before, and the finding says that', () => {
    for (const contentType of ['text/plain', 'text/plain; charset=utf-8', 'text/plain; charset=utf-16', 'text/plain; charset=ibm037']) {
      const raw = legacy('latin1', 'Émilie Lefèvre', 'Réunion', contentType);
      expect(context(raw).meta.subject, contentType).toBe('Réunion');
      expect(infoOf(raw)[0]?.evidence, contentType).toEqual({ headers: ['From', 'Subject'], charset: 'iso-8859-1', declared: false });
      expect(infoOf(raw)[0]?.text).toContain('shown as Latin-1 (ISO-8859-1)');
    }
  });

  it('UTF-8 headers, and 8-bit bytes in a header no reader is shown, say nothing', () => {
    expect(infoOf(legacy('utf8', 'Иван Петров', 'Совещание', 'text/plain; charset=koi8-r'))).toEqual([]);
    const unshown = Buffer.from(message(headersWith({}, ['X-Note: caf\xe9'])), 'latin1');
    expect(infoOf(unshown)).toEqual([]);
  });

  it('a copy with raw KOI8-R headers reads as one with the same text in encoded words', async () => {
    const { readMessageTraits } = await import('../../src/read/message-traits.ts');
    const { parseHeaders } = await import('../../src/read/headers.ts');
    const visible = (raw: Buffer) => readMessageTraits(raw, parseHeaders(raw)).visibleFields;
    const raw = legacy('koi8-r', 'Иван Петров', 'Совещание', 'text/plain; charset=koi8-r');
    const encoded = Buffer.from(
      raw.toString('latin1')
        .replace(/^From: [^<]*/m, `From: =?koi8-r?B?${iconv.encode('Иван Петров', 'koi8-r').toString('base64')}?= `)
        .replace(/^Subject: .*$/m, `Subject: =?koi8-r?B?${iconv.encode('Совещание', 'koi8-r').toString('base64')}?=`),
      'latin1',
    );
    expect(visible(encoded)).toEqual(visible(raw));
  });
});
