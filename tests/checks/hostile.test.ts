import { describe, expect, it } from 'vitest';
import { describeBodyTail } from '../../src/checks/body-tail.ts';
import { auditDateWeekday } from '../../src/checks/date-weekday.ts';
import { auditUnsignedContentType } from '../../src/checks/content-type-unsigned.ts';
import { auditDisplayNameAddress } from '../../src/checks/display-name.ts';
import { auditFromAddressDisguised } from '../../src/checks/from-address-disguised.ts';
import { auditGmailBoundary } from '../../src/checks/gmail-boundary.ts';
import { auditHeaderCharset, auditHeaderRawBytes } from '../../src/checks/header-charset.ts';
import { auditLookalikeDomain } from '../../src/checks/lookalike-domain.ts';
import { auditPartHeaderEnds, auditUnsignedBoundary } from '../../src/checks/part-headers.ts';
import { MESSAGE_CHECKS, runMessageChecks } from '../../src/checks/index.ts';
import { auditProviderFingerprints } from '../../src/checks/provider-fingerprints.ts';
import { auditStructure } from '../../src/checks/structure.ts';
import { auditTimeline } from '../../src/checks/timeline.ts';
import type { MessageCheck } from '../../src/checks/types.ts';
import { auditVisibleHeaders } from '../../src/checks/visible-headers.ts';
import { context, fakeSignature, headersWith, message } from './support.ts';

const NEW_CHECKS: Array<[string, MessageCheck]> = [
  ['visible headers', auditVisibleHeaders],
  ['body tail', describeBodyTail],
  ['timeline', auditTimeline],
  ['date weekday', auditDateWeekday],
  ['structure', auditStructure],
  ['gmail boundary', auditGmailBoundary],
  ['provider fingerprints', auditProviderFingerprints],
  ['part header ends', auditPartHeaderEnds],
  ['unsigned boundary', auditUnsignedBoundary],
  ['unsigned content type', auditUnsignedContentType],
  ['display name address', auditDisplayNameAddress],
  ['from address disguised', auditFromAddressDisguised],
  ['lookalike domain', auditLookalikeDomain],
  ['header charset', auditHeaderCharset],
  ['header raw bytes', auditHeaderRawBytes],
];

const MB = 1024 * 1024;

/** Messages built to make a careless parser throw or take quadratic time. */
const HOSTILE: Array<[string, () => string]> = [
  ['a 1 MB From of spaces', () => message(headersWith({ From: `a${' '.repeat(MB)}b` }))],
  ['a 1 MB display name of letters, then an @', () => message(headersWith({ From: `${'a'.repeat(MB)}@ <x@example.com>` }))],
  ['a 1 MB To of unclosed parentheses', () => message(headersWith({ To: '('.repeat(MB) }))],
  ['a 1 MB To of quotes and backslashes', () => message(headersWith({ To: '"\\'.repeat(MB / 2) }))],
  ['60 KB of mailbox-less commas and spaces', () => message(headersWith({ To: ' , @ . '.repeat(8_000) }))],
  ['a 60 KB addr-spec of spaces and dots', () => message(headersWith({ To: `x${' . '.repeat(20_000)}@y` }))],
  ['garbage dates', () => message(headersWith({ Date: '99 Foo 99999 99:99:99 +9999 (((' }, ['Received: ;;;; 32 Feb 2016 25:61:00 +0000', 'Received: by x; 9999-99-99 99:99:99 +9999']))],
  ['20,000 Received headers', () => message(headersWith({}, Array.from({ length: 20_000 }, (_, i) => `Received: by h${i}; Mon, 14 Mar 2016 ${String(i % 24).padStart(2, '0')}:00:00 +0000`)))],
  ['a 1 MB Received header', () => message(headersWith({}, [`Received: from ${'x'.repeat(MB)}; Mon, 14 Mar 2016 09:00:00 +0000`]))],
  ['a 1 MB boundary parameter', () => message(headersWith({ 'Content-Type': `multipart/mixed; boundary="${'0'.repeat(MB)}"` }))],
  ['a 1 MB Message-ID and X-Mailer', () => message(headersWith({ 'Message-ID': `<${'a'.repeat(MB)}@mail.gmail.com>` }, [`X-Mailer: ${'Apple Mail '.repeat(MB / 11)}`]))],
  ['a From address padded with 1 MB of soft hyphens', () => message(headersWith({ From: `CEO <ceo\u00ad${'\u00ad'.repeat(MB)}@evil.example>` }))],
  ['a From domain of 1 MB of lookalike letters and A-labels', () => message(headersWith({ From: `<x@${'\u0251\u2c9f.xn--bnk-gsb.'.repeat(MB / 16)}example>` }))],
  ['a From of 5,000 mailboxes, each named by its own address', () => message(headersWith({ From: Array.from({ length: 5_000 }, (_, i) => `"u${i}@x.example" <u${i}@x.example>`).join(', ') }))],
  // red team S: a display name read in the order its bidi controls draw it; 8-bit headers in a declared charset
  ['a display name of 200,000 nested overrides and embeddings around an "@"', () =>
    message(headersWith({ From: `=?utf-8?b?${Buffer.from(`${'\u202e\u202b\u2067'.repeat(200_000 / 3)}ceo@bank\u202eelpmaxe.`, 'utf8').toString('base64')}?= <x@evil.example>` }))],
  ['a 1 MB raw 8-bit Subject in a multipart whose first text part is 1 MB further on', () =>
    message(headersWith({ Subject: '\xe9'.repeat(MB), 'Content-Type': 'multipart/mixed; boundary="a"' }), `${'x'.repeat(MB)}\r\n--a\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\nx\r\n--a--\r\n`)],
  ['a 1 MB Subject of encoded words in a character set nobody knows', () => message(headersWith({ Subject: '=?x-none?B?QUJD?= '.repeat(MB / 18) }))],
  ['multipart/alternative with 100,000 parts', () => message(headersWith({ 'Content-Type': 'multipart/alternative; boundary="a"' }), '--a\r\nContent-Type: text/plain\r\n\r\nx\r\n'.repeat(100_000))],
  ['multipart/alternative whose HTML is 2 MB of unclosed script, style and comment openers', () =>
    message(headersWith({ 'Content-Type': 'multipart/alternative; boundary="a"' }), `--a\r\nContent-Type: text/plain\r\n\r\nhello\r\n--a\r\nContent-Type: text/html\r\n\r\n${'<script><style x><!--<b>'.repeat(MB / 12)}\r\n--a--\r\n`)],
  ['multipart/alternative whose HTML is 256 KB of "<"', () =>
    message(headersWith({ 'Content-Type': 'multipart/alternative; boundary="a"' }), `--a\r\nContent-Type: text/plain\r\n\r\nhello\r\n--a\r\nContent-Type: text/html\r\n\r\n${'<'.repeat(256 * 1024)}\r\n--a--\r\n`)],
  ['ARC-Seal with garbage t=', () => message(headersWith({}, ['ARC-Seal: i=1; t=99999999999999999999; d=x', 'ARC-Seal: i=x; t=-5; d=', 'ARC-Seal: ;;;==;']))],
];

describe('hostile input', () => {
  it.each(HOSTILE)('%s: every check finishes quickly and never throws', (_, build) => {
    const raw = build();
    const sig = fakeSignature({ tags: 'v=1; d=example.com; s=a; l=3; t=99999999999; h=from:to:subject', bodyBytesSigned: 3, bodyBytesTotal: 30 });
    const ctx = context(raw, [sig]);
    for (const [name, check] of NEW_CHECKS) {
      const started = performance.now();
      expect(() => check(ctx), name).not.toThrow();
      expect(performance.now() - started, name).toBeLessThan(1500);
    }
  });

  it('a body tail of 10 MB with boundary look-alikes is described from a bounded scan', () => {
    const tail = '--b1x\r\n'.repeat(1_500_000);
    const raw = message(headersWith({ 'Content-Type': 'multipart/mixed; boundary="b1"' }), `--b1\r\n\r\nok\r\n--b1--\r\n${tail}`);
    const sig = fakeSignature({ tags: 'v=1; d=example.com; s=a; l=20; h=from', bodyBytesSigned: 20, bodyBytesTotal: 20 + tail.length });
    const started = performance.now();
    const [finding] = describeBodyTail(context(raw, [sig]));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(finding?.evidence).toMatchObject({ unsignedLines: 1_500_000, scannedBytes: 64 * 1024, addsMimeParts: false });
  });

  it('10 MB of delimiters, part headers and lines of spaces are scanned within bounds', () => {
    const body = '--b\r\nContent-Type: text/plain\r\n \r\n'.repeat(300_000);
    const raw = message(headersWith({ 'Content-Type': 'multipart/mixed; boundary="a"' }), body);
    const ctx = context(raw, [fakeSignature({ tags: 'v=1; d=example.com; s=a; c=relaxed/relaxed; h=from' })]);
    const started = performance.now();
    const [ends] = auditPartHeaderEnds(ctx);
    const [boundary] = auditUnsignedBoundary(ctx);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(ends).toMatchObject({ code: 'part-header-end-ambiguous', severity: 'red-flag' });
    expect((ends!.evidence['byteOffsets'] as number[]).length).toBe(10);
    expect(boundary).toMatchObject({ code: 'boundary-not-the-body', evidence: { declaredBoundary: 'a', delimiterFound: '--b' } });
  });

  it('a message with no header fields gets no finding from the new checks', () => {
    const ctx = context(Buffer.from('\r\n\r\njust a body\r\n'));
    for (const [, check] of NEW_CHECKS) expect(check(ctx)).toEqual([]);
  });

  it('the registry runs every check, including the new ones', () => {
    expect(MESSAGE_CHECKS.length).toBe(21);
    for (const [, check] of NEW_CHECKS) expect(MESSAGE_CHECKS).toContain(check);
    const raw = message(headersWith({ Date: 'not a date' }, ['Subject: twice']));
    expect(runMessageChecks(context(raw)).map((f) => f.code).sort()).toEqual(['date-unparseable', 'duplicate-singleton-header']);
  });
});
