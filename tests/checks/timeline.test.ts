import { describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { receivedTime } from '../../src/checks/check-support.ts';
import { auditTimeline, zoneLike } from '../../src/checks/timeline.ts';
import type { Finding } from '../../src/checks/types.ts';
import { handSignature, rsaKey, signatureFor, tableLookup, type TestKey } from '../unit/support/signing.ts';
import { compromisedKey, context, fakeSignature, headersWith, message, unix, weakKey } from './support.ts';

const only = (findings: Finding[], code: string): Finding[] => findings.filter((f) => f.code === code);
const run = (headers: string[], sigs: Parameters<typeof context>[1] = []) => auditTimeline(context(message(headers), sigs));

// A realistic Gmail path: the author's Date, Gmail's HTTP hop, then the receiving server.
const GMAIL_PATH = [
  'Received: from mail-pl1-f178.google.com (mail-pl1-f178.google.com [209.85.214.178]) by mx.example.org (Postfix) with ESMTPS id 446789FF9D for <bob@example.org>; Mon, 14 Mar 2016 10:27:02 +0100 (CET)',
  'Received: by mail-pl1-f178.google.com with SMTP id q16so4527699plr.10 for <bob@example.org>; Mon, 14 Mar 2016 02:26:59 -0700 (PDT)',
  'Received: by 10.204.233.201 with HTTP; Mon, 14 Mar 2016 02:26:50 -0700 (PDT)',
];

describe('timeline: the Date itself', () => {
  it('date-unparseable: a Date that is not a date is a warning', () => {
    const findings = run(headersWith({ Date: 'yesterday afternoon' }));
    expect(findings).toEqual([
      expect.objectContaining({ code: 'date-unparseable', severity: 'warning', evidence: { date: 'yesterday afternoon' } }),
    ]);
  });

  // Red team R, R-02: an unreadable Date under a verifying signature that does not sign it was
  // verified with only "cannot be compared with anything"; the text now says what was not checked.
  it('date-unparseable under a verifying signature that does not sign the Date names t= and says the shown date was not checked', () => {
    const sig = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${unix('2017-02-14T09:12:05Z')}; h=from:subject:to` });
    const [finding] = only(run(headersWith({ Date: 'yesterday afternoon' }), [sig]), 'date-unparseable');
    expect(finding).toMatchObject({ severity: 'warning', evidence: { t: unix('2017-02-14T09:12:05Z'), signedAt: '2017-02-14T09:12:05.000Z' } });
    expect(finding!.text).toContain("the date a reader's mail program shows for this message could not be checked against that time");
    expect(finding!.text).toContain(`t=${unix('2017-02-14T09:12:05Z')}`);
    const signed = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${unix('2017-02-14T09:12:05Z')}; h=from:subject:date` });
    const [covered] = only(run(headersWith({ Date: 'yesterday afternoon' }), [signed]), 'date-unparseable');
    expect(covered!.text).not.toContain('could not be checked');
  });

  // Red team R, R-02: these forms were unreadable here but read by mail programs, and a Date moved
  // two years back under the author's signature came out verified.
  it('a back-dated Date in a form mail programs read is still compared with t= (red flag)', () => {
    const sig = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${unix('2017-02-14T09:12:05Z')}; h=from:subject:to` });
    for (const date of [
      'Sat, 14 Feb 2015 10:12:03 +0100 +0100', 'Sat, 14 Feb 2015 10:12:03 +0100.', 'Sat, 14 Feb 2015 10:12:03 +0100 (CET) 2015',
      'Sat, 14-Feb-2015 10:12:03 +0100', 'Sat, 14 Feb 2015 10:12:03', 'Sat, 14 Feb 2015 10:12:03 CET',
    ]) {
      const findings = run(headersWith({ Date: date }), [sig]);
      expect(only(findings, 'date-unparseable'), date).toEqual([]);
      expect(only(findings, 'signature-time-far-from-date'), date).toMatchObject([{ severity: 'red-flag' }]);
    }
  });

  it('a Date without a readable zone is compared with 26 h more margin: a genuine one from another zone gets nothing', () => {
    // 09:26:50 in New York (-0500), written without its zone: read as UTC, 5 h before t=
    const sig = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${unix('2016-03-14T14:26:53Z')}; h=from:subject:to` });
    expect(run(headersWith({ Date: 'Mon, 14 Mar 2016 09:26:50' }), [sig])).toEqual([]);
    const stamp = 'Received: by mx.example.org; Mon, 14 Mar 2016 14:27:02 +0000';
    expect(run([...headersWith({ Date: 'Mon, 14 Mar 2016 23:26:50 EET' }), stamp])).toEqual([]);
    const [late] = only(run(headersWith({ Date: 'Fri, 11 Mar 2016 09:26:50' }), [sig]), 'signature-time-far-from-date');
    expect(late).toMatchObject({ severity: 'red-flag', evidence: { dateZoneKnown: false } });
    expect(late!.text).toContain('names no time zone leakcheck can read');
  });

  // Red team T, T-04: 26 h of margin for the zone on top of the comparison's own 26 h let a Date
  // moved 40 h back pass as a warning when written with `CET` or no zone.
  it.each(['Sat, 12 Mar 2016 22:26:50 CET', 'Sat, 12 Mar 2016 22:26:50'])('a Date 40 h before t=, written %s, is still a red flag', (date) => {
    const sig = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${unix('2016-03-14T14:26:53Z')}; h=from:subject:to` });
    const [back] = only(run(headersWith({ Date: date }), [sig]), 'signature-time-far-from-date');
    expect(back).toMatchObject({ severity: 'red-flag', evidence: { dateZoneKnown: false } });
    expect(back!.text).toContain('beyond the 14 h a time zone can be from UTC');
  });

  it('date-zone-inconsistent: an offset no place uses, or one its comment contradicts (info)', () => {
    const odd = only(run(headersWith({ Date: 'Mon, 14 Mar 2016 09:26:50 +0137' })), 'date-zone-inconsistent');
    expect(odd).toEqual([expect.objectContaining({ severity: 'info', evidence: expect.objectContaining({ offsetMinutes: 97 }) })]);
    const contradicted = only(run(headersWith({ Date: 'Mon, 14 Mar 2016 05:26:50 -0400 (PST)' })), 'date-zone-inconsistent');
    expect(contradicted).toEqual([
      expect.objectContaining({ severity: 'info', evidence: expect.objectContaining({ zoneComment: 'PST', commentOffsetsMinutes: [-480, 480] }) }),
    ]);
    expect(contradicted[0]!.text).toContain('-0400 but names the zone PST');
    // the name written bare after the offset, as no mail program writes it
    const bare = only(run(headersWith({ Date: 'Tue, 1 Jan 2019 10:00:00 +0100 PST' })), 'date-zone-inconsistent');
    expect(bare).toEqual([expect.objectContaining({ severity: 'info', evidence: expect.objectContaining({ offsetMinutes: 60, zoneComment: 'PST' }) })]);
  });

  it('accepts real zones and comments, ambiguous names included', () => {
    for (const date of ['Fri, 11 Jul 2003 21:00:37 -0700 (PDT)', 'Fri, 11 Jul 2003 21:00:37 -0700 PDT', 'Fri, 29 Apr 2022 12:15:54 +0800 (CST)', 'Sun,  8 Dec 2019 10:42:21 +0100 (CET)', 'Thu, 1 Jan 2015 05:45:00 +0545', 'Mon, 14 Mar 2016 09:26:50 GMT']) {
      expect(run(headersWith({ Date: date })), date).toEqual([]);
    }
  });
});

describe('timeline: delivered-before-written', () => {
  // Red team R, R-05: a PC whose calendar date was set wrong (a month ahead, day and month
  // swapped) writes a genuine Date days after every delivery; an unsigned Date alone is only what
  // that computer said, so this is a warning that says so (it was a red flag).
  it('a Date days after every delivery, not proven by the author\'s domain, is a warning naming a wrong date setting', () => {
    const findings = run(headersWith({ Date: 'Wed, 16 Mar 2016 15:17:00 +0000' }, GMAIL_PATH));
    const [finding] = only(findings, 'delivered-before-written');
    expect(finding).toMatchObject({
      severity: 'warning',
      evidence: {
        date: 'Wed, 16 Mar 2016 15:17:00 +0000',
        dateTime: '2016-03-16T15:17:00.000Z',
        firstDelivery: { source: 'Received hop 1 of 3 (counted from the bottom)', by: '10.204.233.201', stamp: 'Mon, 14 Mar 2016 02:26:50 -0700 (PDT)', time: '2016-03-14T09:26:50.000Z' },
        latestDelivery: { source: 'Received hop 3 of 3 (counted from the bottom)', by: 'mx.example.org', time: '2016-03-14T09:27:02.000Z' },
        differenceSeconds: 2 * 86400 + 5 * 3600 + 50 * 60 + 10,
        toleranceMinutes: 15,
        clockRangeHours: 27,
        dateSigned: false,
        dateProven: false,
        timeZoneLike: false,
      },
    });
    expect(finding!.text).toContain("2 days 5 h later than the message's first recorded delivery");
    expect(finding!.text).toContain('a wrong date set on the sender\'s computer explains it');
    expect(finding!.text).not.toContain('more than a wrong clock');
  });

  it('an unsigned Date days later is not tampering on its own (really analysed: unverifiable, not suspicious)', async () => {
    const raw = message(headersWith({ Date: 'Thu, 17 Mar 2016 11:02:13 +0000' }, GMAIL_PATH));
    const a = await analyzeMessage({ raw: Buffer.from(raw, 'latin1'), format: 'eml' }, tableLookup({}));
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(only(a.findings, 'delivered-before-written')).toMatchObject([{ severity: 'warning' }]);
  });

  // red team 4, finding 08: the sender's PC clock ran fast; the Date is the sender's, the stamp the provider's
  const clockFast = (minutes: number) => [
    'Received: from [192.168.1.20] (dsl-1.isp.example [198.51.100.7])\r\n\tby mail.bank.example (Postfix) with ESMTP id 4F2A1\r\n\tfor <cfo@bank.example>; Mon, 4 Mar 2019 10:00:05 +0000 (UTC)',
    'From: CEO <ceo@bank.example>',
    'To: cfo@bank.example',
    'Subject: Budget',
    `Date: Mon, 4 Mar 2019 10:${String(minutes).padStart(2, '0')}:00 +0000`,
    `Message-ID: <c${minutes}@bank.example>`,
    'User-Agent: Mozilla/5.0 Thunderbird/2.0',
  ];

  it('an unsigned Date 19 or 40 minutes fast (a PC clock) is a warning, and the message stays unverifiable', async () => {
    for (const minutes of [10, 19, 40]) {
      const a = await analyzeMessage({ raw: Buffer.from(message(clockFast(minutes), 'The budget is 100.\r\n'), 'latin1'), format: 'eml' }, tableLookup({}));
      expect(a.verdict.verdict, `${minutes} min`).toBe('unverifiable');
      expect(a.verdict.reasons, `${minutes} min`).toEqual(['unsigned']);
      const found = only(a.findings, 'delivered-before-written');
      if (minutes === 10) expect(found).toEqual([]);
      else {
        expect(found, `${minutes} min`).toEqual([expect.objectContaining({ severity: 'warning', evidence: expect.objectContaining({ timeZoneLike: false, dateProven: false }) })]);
        expect(found[0]!.text).toContain('clock could run tens of minutes fast');
      }
    }
  });

  it('hours fast, not a whole number of half-hours, is still only a warning (a fast clock plus a wrong zone)', () => {
    const [finding] = only(run(headersWith({ Date: 'Mon, 14 Mar 2016 15:17:00 +0000' }, GMAIL_PATH)), 'delivered-before-written');
    expect(finding).toMatchObject({ severity: 'warning', evidence: { timeZoneLike: false, differenceSeconds: 5 * 3600 + 50 * 60 + 10 } });
    const day = only(run(headersWith({ Date: 'Tue, 15 Mar 2016 12:10:00 +0000' }, GMAIL_PATH)), 'delivered-before-written');
    expect(day).toEqual([expect.objectContaining({ severity: 'warning' })]);
  });

  it('a difference of whole hours looks like a wrong time zone: a warning that says both', () => {
    const [finding] = only(run(headersWith({ Date: 'Mon, 14 Mar 2016 14:26:52 +0000' }, GMAIL_PATH)), 'delivered-before-written');
    expect(finding).toMatchObject({ severity: 'warning', evidence: { timeZoneLike: true, differenceSeconds: 5 * 3600 + 2 } });
    expect(finding!.text).toContain('wrong time-zone setting');
    expect(finding!.text).toContain('edited hour');
  });

  it("a Date the author's verifying signature covers is as the sender wrote it: a warning, even days apart", () => {
    const sig = fakeSignature({ tags: 'v=1; d=example.com; s=a; h=from:subject:date' });
    const [finding] = only(run(headersWith({ Date: 'Thu, 17 Mar 2016 15:17:00 +0000' }, GMAIL_PATH), [sig]), 'delivered-before-written');
    expect(finding).toMatchObject({ severity: 'warning', evidence: { dateSigned: true, dateProven: true } });
  });

  // Red team 27, A-03 made this a red flag like an unsigned Date; since R-05 an unsigned Date alone
  // is a warning, and a forger's own signature over it changes nothing: still not proven.
  it("a third party's signature over the Date proves nothing about it: treated as an unsigned Date", () => {
    const sig = fakeSignature({ tags: 'v=1; d=forger.example; s=a; h=from:subject:date', aligned: false });
    const [finding] = only(run(headersWith({ Date: 'Thu, 17 Mar 2016 15:17:00 +0000' }, GMAIL_PATH), [sig]), 'delivered-before-written');
    expect(finding).toMatchObject({ severity: 'warning', evidence: { dateSigned: true, dateProven: false } });
    expect(finding!.text).toContain('not signed by the author\'s domain');
  });

  it('a relay with a wrong clock at the bottom: a later stamp agrees with the Date, so a warning', () => {
    const path = [
      'Received: from relay.corp.example (relay.corp.example [192.0.2.1]) by mx.example.org (Postfix) with ESMTP id 1; Mon, 14 Mar 2016 09:27:02 +0000',
      'Received: from pc.corp.example by relay.corp.example with SMTP id 2; Fri, 11 Mar 2016 09:26:55 +0000',
    ];
    const [finding] = only(run(headersWith({}, path)), 'delivered-before-written');
    expect(finding).toMatchObject({ severity: 'warning', evidence: { firstDelivery: { by: 'relay.corp.example' }, latestDelivery: { by: 'mx.example.org' } } });
    expect(finding!.text).toContain('a relay at the bottom of the chain with a wrong clock');
  });

  it('an ARC seal is a delivery too', () => {
    const headers = headersWith({ Date: 'Wed, 16 Mar 2016 10:00:00 +0000' }, ['ARC-Seal: i=1; a=rsa-sha256; t=1457947610; cv=none; d=google.com; s=arc-20160816; b=xyz']);
    const [finding] = only(run(headers), 'delivered-before-written');
    expect(finding).toMatchObject({ severity: 'warning', evidence: { firstDelivery: { source: 'ARC-Seal i=1 t=1457947610', by: 'google.com' } } });
  });

  it('says nothing within 15 minutes of clock skew, or when the Date is earlier than the delivery', () => {
    expect(run(headersWith({ Date: 'Mon, 14 Mar 2016 09:40:00 +0000' }, GMAIL_PATH))).toEqual([]);
    expect(run(headersWith({}, GMAIL_PATH))).toEqual([]);
    // written on Friday, sent from an outbox on Monday: no finding
    expect(run(headersWith({ Date: 'Fri, 11 Mar 2016 17:02:00 +0000' }, GMAIL_PATH))).toEqual([]);
  });
});

// Red team R, R-01: x= was judged at the signed Date. A Gmail-style signature (x= = t= + 7 days)
// from a device whose clock was 8 days fast came out expired, then stopped proving the Date, and
// the Date the author's own signature covers was called "changed after sending".
// Red team R, R-06: a Date moved back two years under a verifying signature with no t= and no Date
// in h= was shown with only the generic "Date not signed" note, though the trace says two years.
describe('timeline: delivered-long-after-date', () => {
  it('an unproven Date weeks before every server stamp is a warning with the numbers; a week-end, a proven Date or one fast relay is not', () => {
    const sig = fakeSignature({ tags: 'v=1; d=example.com; s=a; h=from:subject:to' });
    const [finding] = only(run(headersWith({ Date: 'Sat, 14 Mar 2015 09:26:00 +0000' }, GMAIL_PATH), [sig]), 'delivered-long-after-date');
    expect(finding).toMatchObject({ severity: 'warning', evidence: { dateTime: '2015-03-14T09:26:00.000Z', earliestStamp: { by: '10.204.233.201' }, warningBeyondDays: 7 } });
    expect(finding!.text).toContain("366 days after the message's Date");
    // compared with the earliest stamp: a bottom relay whose clock ran years ahead is not a late delivery
    const path = [GMAIL_PATH[0]!, GMAIL_PATH[1]!, 'Received: by 10.204.233.201 with HTTP; Thu, 14 Mar 2019 02:26:50 -0700 (PDT)'];
    expect(only(run(headersWith({}, path)), 'delivered-long-after-date')).toEqual([]);
    // nothing for a week-end in an outbox, or for a Date the author's domain proves
    expect(only(run(headersWith({ Date: 'Fri, 11 Mar 2016 17:02:00 +0000' }, GMAIL_PATH)), 'delivered-long-after-date')).toEqual([]);
    const proving = fakeSignature({ tags: 'v=1; d=example.com; s=a; h=from:subject:date' });
    expect(only(run(headersWith({ Date: 'Sat, 14 Mar 2015 09:26:00 +0000' }, GMAIL_PATH), [proving]), 'delivered-long-after-date')).toEqual([]);
  });
});

describe('timeline: a fast clock under a Gmail-style signature', () => {
  it('the signature is judged at its t=, still proves the Date, and the message is verified with a warning', async () => {
    const key: TestKey = rsaKey(2048);
    const signTime = new Date('2023-03-01T12:00:00Z');
    const raw = message(headersWith({ Date: 'Thu, 09 Mar 2023 12:00:00 +0000' }));
    const signature = await signatureFor(raw, { key, domain: 'example.com', selector: 'sel1', signTime, expires: new Date(signTime.getTime() + 7 * 86_400_000) });
    const received = 'Received: from mail-sor-f41.google.com by mx.example.org; Wed, 01 Mar 2023 12:00:20 +0000\r\n';
    const a = await analyzeMessage({ raw: Buffer.from(received + signature + raw, 'latin1'), format: 'eml' }, tableLookup({ 'sel1._domainkey.example.com': key.txt }));
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.signatures[0]!.tags.signedHeaders).toContain('date');
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.reasons).not.toContain('signature-expired');
    expect(only(a.findings, 'delivered-before-written')).toEqual([expect.objectContaining({ severity: 'warning', evidence: expect.objectContaining({ dateProven: true }) })]);
    expect(a.findings.filter((f) => f.severity === 'red-flag')).toEqual([]);
  });
});

describe('timeline: received-hops-backwards', () => {
  const hop = (by: string, date: string) => `Received: from relay.example (relay.example [192.0.2.1]) by ${by} with ESMTP id 1; ${date}`;
  // two stamps agree with each other and days against the two below them: no one wrong clock explains it
  const TWO_AGAINST_TWO = [
    hop('mx.example.org', 'Thu, 10 Mar 2016 07:10:05 +0000'),
    hop('gw.example.org', 'Thu, 10 Mar 2016 07:10:00 +0000'),
    hop('relay.example', 'Mon, 14 Mar 2016 09:27:30 +0000'),
    hop('smtp.example', 'Mon, 14 Mar 2016 09:27:00 +0000'),
  ];

  // Red team R, R-04: one stamp days out of line was a red flag; one machine whose date was wrong
  // does that (a fetcher on a laptop whose clock reset, a first relay years ahead). A red flag
  // needs the trace to run back with any one stamp left out.
  it('a hop earlier than the one below it by hours is a warning; by days a red flag only when no single stamp explains it', () => {
    const hours = run(headersWith({}, [hop('mx.example.org', 'Mon, 14 Mar 2016 07:10:00 +0000'), hop('relay.example', 'Mon, 14 Mar 2016 09:27:00 +0000')]));
    expect(only(hours, 'received-hops-backwards')).toEqual([
      expect.objectContaining({ severity: 'warning', evidence: expect.objectContaining({ stepBackSeconds: 2 * 3600 + 17 * 60, toleranceMinutes: 15, redFlagBeyondHours: 26 }) }),
    ]);
    const one = run(headersWith({}, [hop('mx.example.org', 'Thu, 10 Mar 2016 07:10:00 +0000'), hop('relay.example', 'Mon, 14 Mar 2016 09:27:00 +0000')]));
    expect(only(one, 'received-hops-backwards')).toMatchObject([{ severity: 'warning' }]);
    expect(only(one, 'received-hops-backwards')[0]!.text).toContain('one machine whose date was wrong explains it');
    const [finding] = only(run(headersWith({}, TWO_AGAINST_TWO)), 'received-hops-backwards');
    expect(finding).toMatchObject({
      severity: 'red-flag',
      evidence: { earlierInPath: { by: 'relay.example', time: '2016-03-14T09:27:30.000Z' }, laterInPath: { by: 'gw.example.org', time: '2016-03-10T07:10:00.000Z' } },
    });
  });

  it('a bottom relay years ahead, with the stamps above it agreeing with each other: a warning', () => {
    const path = [hop('mx.example.org', 'Mon, 14 Mar 2016 09:27:10 +0000'), hop('relay.example', 'Mon, 14 Mar 2016 09:27:05 +0000'), hop('office.example', 'Fri, 14 Mar 2019 09:27:00 +0000')];
    expect(only(run(headersWith({}, path)), 'received-hops-backwards')).toMatchObject([{ severity: 'warning', evidence: { earlierInPath: { by: 'office.example' } } }]);
  });

  // Red team 27, E-02: a fetcher's line added after delivery, stamped by a laptop whose date was
  // wrong, made a message its author's domain proves suspicious; anyone could add such a line
  it('by days, on a message a signature by the From domain proves, is a warning about the trace', () => {
    const days = headersWith({}, [hop('laptop.local', 'Thu, 10 Mar 2016 07:10:00 +0000'), hop('relay.example', 'Mon, 14 Mar 2016 09:27:00 +0000')]);
    const author = fakeSignature({ tags: 'v=1; d=example.com; s=a; h=from:subject:date' });
    const [finding] = only(run(days, [author]), 'received-hops-backwards');
    expect(finding).toMatchObject({ severity: 'warning' });
    expect(finding!.text).toContain('not about the content');
    // a signature that does not speak for the author proves nothing of the content: still a red flag
    for (const other of [fakeSignature({ tags: 'v=1; d=esp.example; s=a; h=from', aligned: false }), fakeSignature({ tags: 'v=1; d=example.com; s=a; h=from', key: weakKey() })]) {
      expect(only(run(headersWith({}, TWO_AGAINST_TWO), [other]), 'received-hops-backwards')).toMatchObject([{ severity: 'red-flag' }]);
    }
  });

  it('tolerates a few minutes of skew between servers, and ignores clocks never set', () => {
    const skew = [hop('mx.example.org', 'Mon, 14 Mar 2016 09:25:00 +0000'), hop('relay.example', 'Mon, 14 Mar 2016 09:27:00 +0000')];
    expect(run(headersWith({}, skew))).toEqual([]);
    const unset = [hop('mx.example.org', 'Thu, 01 Jan 1970 00:00:10 +0000'), hop('relay.example', 'Mon, 14 Mar 2016 09:27:00 +0000')];
    expect(run(headersWith({}, unset))).toEqual([]);
  });

  it('reads the ISO-like stamps some MTAs write', () => {
    expect(receivedTime('by filter0103p1las1.sendgrid.net with SMTP id x 2016-11-09 20:10:27.258036245 +0000 UTC')).toBeNull(); // no ';'
    expect(receivedTime('by filter0103p1las1.sendgrid.net with SMTP id x; 2016-11-09 20:10:27.258036245 +0000 UTC')?.toISOString()).toBe('2016-11-09T20:10:27.258Z');
    expect(receivedTime('by tot-qpr-mailcore2 with JS-mailcore (0.1) id BWMj14; 2015-10-29 11:38:32.817089-04:00')?.toISOString()).toBe('2015-10-29T15:38:32.817Z');
    expect(receivedTime('from localhost')).toBeNull();
    expect(receivedTime('by x; 2016-11-09 20:10:27')).toBeNull(); // no zone: not a time
  });
});

describe('timeline: signature-time-far-from-date', () => {
  const DATE = 'Mon, 14 Mar 2016 09:26:50 +0000';
  const t = (iso: string) => unix(iso);

  it("the author's verifying signature, not covering the Date, days away from it: a red flag", () => {
    const sig = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${t('2016-03-20T12:00:00Z')}; h=from:subject:to` });
    const [finding] = only(run(headersWith({ Date: DATE }), [sig]), 'signature-time-far-from-date');
    expect(finding).toMatchObject({
      severity: 'red-flag',
      evidence: {
        signature: '#1 d=example.com s=a',
        signedAt: '2016-03-20T12:00:00.000Z',
        dateTime: '2016-03-14T09:26:50.000Z',
        differenceSeconds: 6 * 86400 + 2 * 3600 + 33 * 60 + 10,
        toleranceMinutes: 15,
        aligned: true,
        outcome: 'pass',
        dateSigned: false,
      },
    });
  });

  it('is really a red flag end to end: a hand-made signature without date, on a re-dated message', async () => {
    const key: TestKey = rsaKey(2048);
    const raw = message(headersWith({ Date: 'Wed, 02 Mar 2016 08:00:00 +0000' }));
    const signature = handSignature(raw, { key, domain: 'example.com', selector: 'sel1', headers: ['from', 'to', 'subject'], signTime: new Date('2016-03-14T09:26:53Z') });
    const a = await analyzeMessage({ raw: Buffer.from(signature + raw, 'latin1'), format: 'eml' }, tableLookup({ 'sel1._domainkey.example.com': key.txt }));
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['signature-time-far-from-date']);
  });

  it('when a verifying signature covers the Date, days apart is a warning (sender-written: outbox, re-sent, or backdated)', () => {
    const sig = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${t('2018-06-10T13:38:29Z')}; h=from:subject:date` });
    const [finding] = only(run(headersWith({ Date: 'Fri, 11 Jul 2003 21:00:37 -0700 (PDT)' }), [sig]), 'signature-time-far-from-date');
    expect(finding).toMatchObject({ severity: 'warning', evidence: { dateSigned: true } });
    expect(finding!.text).toContain('a Date set back by its sender');
  });

  // Red team 27, A-03: a forger back-dates a message whose author did not sign Date, and signs the
  // new Date with a domain of their own (or a weak or published key of the author's): the Date is
  // still unsigned by the author, and the finding must neither soften nor say it was signed.
  it("a Date signed only by another domain, or with a key that proves nothing, is not the author's: the red flag stays", () => {
    const author = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${t('2017-02-14T09:12:05Z')}; h=from:subject:to` });
    const headers = headersWith({ Date: 'Mon, 9 Jan 2017 10:12:03 +0100' });
    const extras = [
      fakeSignature({ tags: `v=1; d=mailer.example; s=m; h=date:from`, aligned: false, index: 1 }),
      fakeSignature({ tags: `v=1; d=example.com; s=old; h=date:from`, key: weakKey(), index: 1 }),
      fakeSignature({ tags: `v=1; d=example.com; s=old; h=date:from`, key: compromisedKey(), index: 1 }),
    ];
    expect(only(run(headers, [author]), 'signature-time-far-from-date')).toMatchObject([{ severity: 'red-flag' }]);
    for (const extra of extras) {
      const findings = only(run(headers, [author, extra]), 'signature-time-far-from-date');
      expect(findings, extra.tags.domain!).toMatchObject([{ severity: 'red-flag', evidence: { dateSigned: false } }]);
      expect(findings[0]!.text).not.toContain('covers the Date');
    }
  });

  it("the author's signature hours away is a warning; without a key it is never a red flag", () => {
    const hours = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${t('2016-03-14T12:00:00Z')}; h=from` });
    expect(only(run(headersWith({ Date: DATE }), [hours]), 'signature-time-far-from-date')).toEqual([expect.objectContaining({ severity: 'warning' })]);
    const noKey = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${t('2016-04-14T12:00:00Z')}; h=from`, outcome: 'key-not-found' });
    expect(only(run(headersWith({ Date: DATE }), [noKey]), 'signature-time-far-from-date')).toEqual([expect.objectContaining({ severity: 'warning' })]);
    const before = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${t('2016-03-14T08:00:00Z')}; h=from:date` });
    expect(only(run(headersWith({ Date: DATE }), [before]), 'signature-time-far-from-date')[0]!.text).toContain('signed before it was written');
  });

  it('a third party may sign a day later (lists, bulk senders); beyond 26 h it is a warning', () => {
    const list = fakeSignature({ tags: `v=1; d=lists.example.org; s=a; t=${t('2016-03-15T08:00:00Z')}; h=from`, aligned: false });
    expect(run(headersWith({ Date: DATE }), [list])).toEqual([]);
    const late = fakeSignature({ tags: `v=1; d=lists.example.org; s=a; t=${t('2016-03-19T08:00:00Z')}; h=from`, aligned: false });
    expect(only(run(headersWith({ Date: DATE }), [late]), 'signature-time-far-from-date')).toEqual([
      expect.objectContaining({ severity: 'warning', evidence: expect.objectContaining({ aligned: false, toleranceMinutes: 26 * 60 }) }),
    ]);
  });

  // Red team R, R-03: the Resent-Date here was unsigned (h=from), and one such line, which anyone
  // can add, silenced the red flag of a back-dated Date; now only a signed one explains t=.
  it('a Resent-Date that matches t= and that the signature covers explains a re-sent message', () => {
    const sig = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${t('2016-05-01T10:00:05Z')}; h=from:resent-date:resent-from` });
    const headers = headersWith({ Date: DATE }, ['Resent-Date: Sun, 1 May 2016 10:00:00 +0000', 'Resent-From: alice@example.com']);
    expect(run(headers, [sig])).toEqual([]);
  });

  it('an unsigned Resent-Date matching t= does not remove the red flag of a back-dated Date', () => {
    const sig = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${t('2016-05-01T10:00:05Z')}; h=from` });
    const headers = headersWith({ Date: DATE }, ['Resent-Date: Sun, 1 May 2016 10:00:00 +0000']);
    const [finding] = only(run(headers, [sig]), 'signature-time-far-from-date');
    expect(finding).toMatchObject({ severity: 'red-flag', evidence: { unsignedResentDateMatches: true } });
    expect(finding!.text).toContain('this signature does not cover it');
  });

  // Red team T, T-01: the forger back-dates a genuine message, adds a Resent-Date near the
  // genuine signature's t= and signs it with a domain of their own. That signature's cover says
  // nothing about the author's t=, which no re-sending changes.
  it("a Resent-Date another domain's signature covers does not explain the author's late t=", () => {
    const author = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${t('2016-05-01T10:00:05Z')}; h=from` });
    const forger = fakeSignature({ index: 1, aligned: false, tags: `v=1; d=evil.example; s=a; t=${t('2016-05-01T10:00:06Z')}; h=from:resent-date` });
    const headers = headersWith({ Date: DATE }, ['Resent-Date: Sun, 1 May 2016 10:00:00 +0000']);
    const found = only(run(headers, [author, forger]), 'signature-time-far-from-date');
    expect(found).toEqual([expect.objectContaining({ severity: 'red-flag', evidence: expect.objectContaining({ unsignedResentDateMatches: true }) })]);
  });

  it("says nothing for the author's signature seconds after the Date", () => {
    const sig = fakeSignature({ tags: `v=1; d=example.com; s=a; t=${t('2016-03-14T09:26:53Z')}; h=from:date` });
    expect(run(headersWith({ Date: DATE }, GMAIL_PATH), [sig])).toEqual([]);
  });
});

describe('timeline: zone-like differences', () => {
  it('recognises whole half-hours within 5 minutes, up to 26 h', () => {
    const min = 60_000;
    expect(zoneLike(60 * min)).toBe(true);
    expect(zoneLike(5 * 60 * min + 4 * min)).toBe(true);
    expect(zoneLike(-(9 * 60 + 30) * min)).toBe(true);
    expect(zoneLike(5 * 60 * min + 12 * min)).toBe(false);
    expect(zoneLike(27 * 60 * min)).toBe(false);
  });
});
