import { describe, expect, it } from 'vitest';
import { readAddressList } from '../../src/checks/address-syntax.ts';
import { auditStructure } from '../../src/checks/structure.ts';
import type { Finding } from '../../src/checks/types.ts';
import { context, fakeSignature, headersWith, message } from './support.ts';

const only = (findings: Finding[], code: string): Finding[] => findings.filter((f) => f.code === code);
const run = (headers: string[], sigs: Parameters<typeof context>[1] = []) => auditStructure(context(message(headers), sigs));

describe('duplicate-singleton-header', () => {
  it('a second Subject in an unsigned message is a warning, with both values', () => {
    const findings = run(headersWith({}, ['Subject: URGENT: new bank details']));
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'duplicate-singleton-header',
        severity: 'warning',
        evidence: { header: 'Subject', count: 2, values: ['URGENT: new bank details', 'Quarterly numbers'], positions: [0, 3] },
      }),
    ]);
  });

  it('is left to header-injected (the red flag) when a verifying signature signs the header fewer times', () => {
    const sig = fakeSignature({ tags: 'v=1; d=example.com; s=a; h=from:subject:date' });
    expect(run(headersWith({}, ['From: CEO <ceo@example.com>']), [sig])).toEqual([]);
  });

  it('still reports a duplicate the signature says nothing about', () => {
    const sig = fakeSignature({ tags: 'v=1; d=example.com; s=a; h=from:date' });
    expect(only(run(headersWith({}, ['Subject: other']), [sig]), 'duplicate-singleton-header')).toHaveLength(1);
  });

  it('says nothing for repeated fields that may repeat (Received, Comments, Keywords)', () => {
    expect(run(headersWith({}, ['Received: by a; Mon, 14 Mar 2016 09:26:55 +0000', 'Received: by b; Mon, 14 Mar 2016 09:26:52 +0000', 'Comments: one', 'Comments: two']))).toEqual([]);
  });
});

describe('required-header-missing', () => {
  it('a message without From or Date is a warning that names them', () => {
    expect(run(headersWith({ From: null, Date: null }))).toEqual([
      expect.objectContaining({ code: 'required-header-missing', severity: 'warning', evidence: { missing: ['From', 'Date'] } }),
    ]);
    expect(run(headersWith({ Date: null }))[0]!.text).toContain('no Date header');
  });

  it('says nothing for a complete message', () => {
    expect(run(headersWith())).toEqual([]);
  });
});

describe('malformed-address', () => {
  const BAD: Array<[string, string, RegExp]> = [
    ['From', 'Alice Example', /no address/],
    ['From', '"Alice Example <alice@example.com>', /quotation mark/],
    ['To', 'Bob <bob@example.org', /never closed by ">"/],
    ['To', 'bob@example.org>', /no matching "<"/],
    ['Cc', 'Carol (assistant <carol@example.net>', /parenthesis/],
    ['Reply-To', 'Alice <alice@example.com> <attacker@example.net>', /2 <addresses>/],
    ['From', 'Alice <>', /empty <>/],
    ['To', 'bob smith@example.org', /before "@"/],
    ['To', 'bob@exa mple.org', /domain/],
    ['From', 'alice@', /no domain/],
    ['From', 'alice@evil.example@example.com', /more than one "@"/],
    ['Sender', 'a@example.com, b@example.com', /Sender must name one mailbox/],
    ['From', '   ', /empty/],
  ];

  it.each(BAD)('%s: %s', (name, value, problem) => {
    const [finding] = only(run(headersWith({ [name]: value })), 'malformed-address');
    expect(finding?.severity).toBe('warning');
    expect(finding?.evidence).toMatchObject({ header: name, value: value.trim() });
    expect(String(finding?.evidence['problem'])).toMatch(problem);
  });

  // Red team 6: read as latin1, the UTF-8 of "à" (C3 A0) ends in a no-break space, which split
  // the local part, and a genuine RFC 6532 address got a warning with mojibake in it.
  it('a UTF-8 address (RFC 6532) is read as UTF-8', () => {
    const utf8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
    expect(only(run(headersWith({ From: utf8('Jean Làmbert <jean.làmbert@exemple.example>'), To: utf8('Voilà Dupré <voilàdupré@exemple.example>') })), 'malformed-address')).toEqual([]);
  });

  it('From with two mailboxes needs a Sender', () => {
    const two = 'Alice <alice@example.com>, Mallory <mallory@example.net>';
    expect(only(run(headersWith({ From: two })), 'malformed-address')[0]?.evidence['problem']).toMatch(/only with a Sender/);
    expect(run(headersWith({ From: two }, ['Sender: alice@example.com']))).toEqual([]);
  });

  // Values taken from genuine mail in the shared corpus and common mail programs.
  const GOOD: Array<[string, string]> = [
    ['To', 'undisclosed-recipients:;'],
    ['To', 'Undisclosed recipients: ;'],
    ['From', '"Test, User" <test@example.com>'],
    ['From', 'andris@zone.ee'],
    ['From', '=?UTF-8?B?WWFubiBSw6lnaXMgR2lhbmFz?= <notifications@github.com>'],
    ['To', 'mirage/irmin <irmin@noreply.github.com>'],
    ['Reply-To', 'mirage/irmin <reply+0004e976450d3015e434a818b602473d45afa079962ab62292cf00000001143b44b392a169ce0b37f3a2@reply.github.com>'],
    ['To', '"test-ymfs1@mail-tester.com" <test-ymfs1@mail-tester.com>'],
    ['Cc', '"mingo@redhat.com" <mingo@redhat.com>, "acme@kernel.org" <acme@kernel.org>, Mark Rutland <Mark.Rutland@arm.com>'],
    ['To', 'John Podesta <john.podesta@gmail.com>, John Podesta <jpodesta@americanprogress.org>, Eryn Sepp <eryn.sepp@gmail.com>'],
    ['From', 'John Q. Public <jqp@example.com>'],
    ['From', 'jqp@example.com <jqp@example.com>'],
    ['From', 'jqp@example.com (John Q. Public)'],
    ['To', '"john doe"@example.com'],
    ['To', 'admin@[192.0.2.1]'],
    ['To', 'Bob <bob@example.org>,, Carol <carol@example.net>,'],
    ['To', 'Team: Bob <bob@example.org>, carol@example.net;, dave@example.com'],
    ['From', 'Jos\xe9 M\xfcller <jose@example.de>'],
    ['To', '<@relay.example:bob@example.org>'],
    ['To', 'bob @ example . org'],
    ['Cc', ''],
  ];

  it.each(GOOD)('accepts %s: %s', (name, value) => {
    expect(only(run(headersWith({ [name]: value })), 'malformed-address')).toEqual([]);
  });
});

describe('readAddressList', () => {
  it('returns the addresses it read', () => {
    expect(readAddressList('"Test, User" <Test@Example.com>, bob@example.org (Bob), Team: carol@example.net;')).toEqual({
      addresses: ['test@example.com', 'bob@example.org', 'carol@example.net'],
      problem: null,
    });
  });
});

// Red team K, K-10: the finding said only "The header holds a NUL byte", and its evidence a byte
// offset; a reader checking it had to count bytes to find the field.
describe('header-nul and header-bare-cr name the line and the field', () => {
  const sig = fakeSignature({ tags: 'v=1; d=example.com; s=a; h=from:subject:date' });

  it('a NUL byte in a field, and a bare CR in the continuation of one', () => {
    const nul = only(run(headersWith({ Subject: 'Quarterly\0 numbers' }), [sig]), 'header-nul')[0]!;
    expect(nul).toMatchObject({ severity: 'red-flag', evidence: { line: 3, field: 'Subject' } });
    expect(nul.text).toMatch(/^Line 3 of the header, in the Subject field, holds a NUL byte\./);
    const cr = only(run(headersWith({}, ['X-Note: first\r\n second\rFrom: Mallory <m@evil.example>'])), 'header-bare-cr')[0]!;
    expect(cr).toMatchObject({ severity: 'warning', evidence: { line: 2, field: 'X-Note' } });
    expect(cr.text).toMatch(/^Line 2 of the header, in the X-Note field, holds a carriage return/);
  });

  it('a byte in a field name belongs to no field: the line alone is named', () => {
    const nul = only(run(headersWith({}, ['X-Ma\0iler: Outlook'])), 'header-nul')[0]!;
    expect(nul.evidence).toMatchObject({ line: 1, field: null });
    expect(nul.text).toMatch(/^Line 1 of the header holds a NUL byte\./);
  });
});
