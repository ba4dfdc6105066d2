/**
 * Red team, round 6: a display name encoded in EBCDIC (ibm037), which Windows and Python
 * decode to "CEO ceo@bank.example", is noise to libmime, which falls back to reading the bytes as
 * UTF-8 without a word: the reports showed "���|����K" and no check read the name.
 */
import { describe, expect, it } from 'vitest';
import { auditHeaderCharset } from '../../src/checks/header-charset.ts';
import { runMessageChecks } from '../../src/checks/index.ts';
import { context, headersWith, message } from './support.ts';

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
