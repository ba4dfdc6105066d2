import { describe, expect, it } from 'vitest';
import { auditGmailBoundary, decodeGmailBoundary } from '../../src/checks/gmail-boundary.ts';
import { auditProviderFingerprints, providerOfDomain } from '../../src/checks/provider-fingerprints.ts';
import { context, fakeSignature, headersWith, message } from './support.ts';

/** Gmail boundaries from genuine messages (shared corpus and public list archives), with their Date. */
const GMAIL_SAMPLES: Array<[string, string, boolean]> = [
  ['20cf301cc2ccf2dab204efec82f8', 'Tue, 14 Jan 2014 06:29:55 -0500', true],
  ['089e0141a0b675ccdd0518346db8', 'Wed, 10 Jun 2015 22:05:37 -0400', true],
  ['089e013a23b447d99505223c5401', 'Fri, 16 Oct 2015 13:43:10 -0400', true],
  ['000000000000eb957105992df7ad', 'Sun, 8 Dec 2019 10:33:04 +0100', false],
  ['000000000000334c4f05992e18f8', 'Sun, 8 Dec 2019 10:42:05 +0100', false],
  ['00000000000055fd0e05b36f3bcc', 'Fri, 6 Nov 2020 14:19:43 +0200', false],
  ['000000000000ee8c2305b01136cc', 'Thu, 24 Sep 2020 08:54:14 -0700', false],
  ['00000000000096be6b05ddc34eb0', 'Fri, 29 Apr 2022 12:15:54 +0800', false],
];

const gmailMessage = (overrides: Record<string, string | null>, extra: string[] = []) =>
  message(
    headersWith(
      {
        From: 'Andris Reinman <andris.reinman@gmail.com>',
        Date: 'Fri, 6 Nov 2020 14:19:43 +0200',
        'Message-ID': '<CAPacwgw9P=oxVx+D+N6PUjMPotK+m9t0pncPzY6aK7V4P61_og@mail.gmail.com>',
        'Content-Type': 'multipart/alternative; boundary="00000000000055fd0e05b36f3bcc"',
        ...overrides,
      },
      extra,
    ),
    '--00000000000055fd0e05b36f3bcc\r\nContent-Type: text/plain; charset="UTF-8"\r\n\r\nTere\r\n--00000000000055fd0e05b36f3bcc--\r\n',
  );

describe('Gmail boundary time', () => {
  it.each(GMAIL_SAMPLES)('decodes %s to within a minute of its Date', (boundary, date, old) => {
    const decoded = decodeGmailBoundary(boundary, old);
    expect(decoded).not.toBeNull();
    expect(Math.abs(decoded!.getTime() - Date.parse(date))).toBeLessThan(60_000);
  });

  it('decodes the pre-2017 form only beside a Gmail composer Message-ID, and nothing that is not a boundary of Gmail', () => {
    expect(decodeGmailBoundary('089e0141a0b675ccdd0518346db8', false)).toBeNull();
    expect(decodeGmailBoundary('b1_5a4c7e2d9f0b3a1c6e8d', true)).toBeNull();
    expect(decodeGmailBoundary('----=_NextPart_000_0001_01D2', true)).toBeNull();
    expect(decodeGmailBoundary('000000000000ffffffffffffffff', false)).toBeNull(); // beyond 2100
    expect(decodeGmailBoundary('0000000000000000000000000000', false)).toBeNull(); // 1970
  });

  it('gmail-boundary-time-mismatch: a Gmail message re-dated by a year is a warning', () => {
    const [finding] = auditGmailBoundary(context(gmailMessage({ Date: 'Sat, 6 Nov 2021 14:19:43 +0200' })));
    expect(finding).toMatchObject({
      code: 'gmail-boundary-time-mismatch',
      severity: 'warning',
      evidence: { boundary: '00000000000055fd0e05b36f3bcc', boundaryTime: '2020-11-06T12:20:09.520Z', dateTime: '2021-11-06T12:19:43.000Z', toleranceHours: 24 },
    });
    expect(finding!.text).toContain('before its Date');
  });

  it('says nothing for the genuine message, a day of outbox delay, or no Date', () => {
    expect(auditGmailBoundary(context(gmailMessage({})))).toEqual([]);
    expect(auditGmailBoundary(context(gmailMessage({ Date: 'Fri, 6 Nov 2020 22:00:00 +0200' })))).toEqual([]);
    expect(auditGmailBoundary(context(gmailMessage({ Date: null })))).toEqual([]);
    expect(auditGmailBoundary(context(gmailMessage({ 'Content-Type': 'text/plain' })))).toEqual([]);
  });
});

describe('provider-fingerprint-mismatch', () => {
  it('knows the consumer providers by From domain', () => {
    expect(['gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.co.uk', 'live.nl', 'msn.com', 'hotmail.com.br', 'icloud.com', 'me.com', 'mac.com', 'example.com', 'gmail.com.evil.example'].map(providerOfDomain)).toEqual([
      'gmail', 'gmail', 'outlook', 'outlook', 'outlook', 'outlook', 'outlook', 'icloud', 'icloud', 'icloud', null, null,
    ]);
  });

  it('an outlook.com address in a message Gmail built is a warning', () => {
    const [finding] = auditProviderFingerprints(context(gmailMessage({ From: 'Devops <devopsix@outlook.com>' })));
    expect(finding).toMatchObject({
      code: 'provider-fingerprint-mismatch',
      severity: 'warning',
      evidence: {
        fromDomain: 'outlook.com',
        claimedProvider: 'Outlook.com',
        builtBy: 'Gmail',
        fingerprints: [
          { field: 'Message-ID', madeBy: 'gmail' },
          { field: 'boundary', value: '00000000000055fd0e05b36f3bcc', madeBy: 'gmail' },
        ],
      },
    });
    expect(finding!.text).toContain('send mail as');
  });

  it('a gmail.com address in a message Microsoft built, or iCloud web mail wrote, is a warning', () => {
    const outlookBuilt = message(
      headersWith({
        From: 'Pozharskyi <v.pozharskyi.ukraine@gmail.com>',
        'Message-ID': '<HE1PR0401MB24279B86E7353F5886A73526D6590@HE1PR0401MB2427.eurprd04.prod.outlook.com>',
        'Content-Type': 'multipart/alternative; boundary="_000_HE1PR0401MB24279B86E7353F5886A73526D6590HE1PR0401MB2427_"',
      }),
    );
    expect(auditProviderFingerprints(context(outlookBuilt))[0]).toMatchObject({ code: 'provider-fingerprint-mismatch', evidence: { builtBy: 'Outlook.com' } });
    const icloudWeb = message(headersWith({ From: 'a@gmail.com' }, ['X-Mailer: iCloud MailClient17A26 MailServer17A26.20050']));
    expect(auditProviderFingerprints(context(icloudWeb))[0]).toMatchObject({ code: 'provider-fingerprint-mismatch', evidence: { builtBy: 'iCloud Mail' } });
  });

  it("is not reported when the From domain's own signature verifies (send-as through that provider)", () => {
    const sig = fakeSignature({ tags: 'v=1; d=outlook.com; s=selector1; h=from:date', aligned: true });
    expect(auditProviderFingerprints(context(gmailMessage({ From: 'devopsix@outlook.com' }), [sig]))).toEqual([]);
  });

  // Header sets of genuine messages in the shared corpus: each is consistent.
  const GENUINE: Array<[string, Record<string, string | null>, string[]]> = [
    ['Gmail web (hamcrest-mail)', { From: 'devopsix <devopsix@gmail.com>', 'Message-ID': '<CAHGZRyXM9M63fD=WQxoQM8qUvQS4ZYqJ3YmVOKpHFu5JhFB-ug@mail.gmail.com>', 'Content-Type': 'multipart/alternative; boundary="000000000000eb957105992df7ad"' }, []],
    ['iPhone Mail with a Gmail account (hunter-dkim)', { From: 'Vadym Pozharskyi <v.pozharskyi.ukraine@gmail.com>', 'Message-ID': '<308AB1BA-9F61-4A92-9422-83578528A508@gmail.com>' }, ['X-Mailer: iPhone Mail (12B440)']],
    ['iOS Mail with iCloud (zk-email)', { From: 'runnier.leagues.0j@icloud.com', 'Message-ID': '<8F819D32-B6AC-489D-977F-438BBC4CAB27@me.com>' }, []],
    ['Outlook.com (hamcrest-mail)', { From: 'devopsix devopsix <devopsix@outlook.com>', 'Message-ID': '<HE1PR0401MB24279B86E7353F5886A73526D6590@HE1PR0401MB2427.eurprd04.prod.outlook.com>', 'Content-Type': 'multipart/alternative; boundary="_000_HE1PR0401MB24279B86E7353F5886A73526D6590HE1PR0401MB2427_"' }, []],
    ['Google Workspace (ocaml-dkim)', { From: 'Thomas Braibant <tbraibant@janestreet.com>', 'Message-ID': '<CABhmBUFWvxg5nhmh244xz40PnyWV3pQvzHd60mu+jScA+kZH3w@mail.gmail.com>' }, []],
    ['Gmail SMTP without a Message-ID (mimekit)', { From: '"mimekit.test@gmail.com" <mimekit.test@gmail.com>', 'Message-ID': '<5693cb4f.a85fc20a.99e77.ffff8ac8@mx.google.com>' }, []],
    ['Apple Mail (mailauth zbimi)', { From: 'Andris Reinman <andris@zone.ee>', 'Message-ID': '<C6877778-B292-40DC-A93A-4DE108441876@zone.ee>', 'Content-Type': 'multipart/alternative; boundary="Apple-Mail=_F1CA573B-BCF5-4EF8-9669-10092D971828"' }, ['X-Mailer: Apple Mail (2.3731.300.101.1.3)']],
    ['Thunderbird on Microsoft 365 (ocaml-arc)', { From: 'Metin Kaya <metin.kaya@arm.com>', 'Message-ID': '<315f8c55-9368-4f2a-81ee-2d7dcb05bc14@arm.com>' }, ['User-Agent: Mozilla Thunderbird']],
  ];

  it.each(GENUINE)('says nothing for %s', (_, overrides, extra) => {
    expect(auditProviderFingerprints(context(message(headersWith(overrides, extra))))).toEqual([]);
  });
});

describe('fingerprint-conflict', () => {
  it("a Gmail boundary with Apple Mail's X-Mailer is a warning", () => {
    const [finding] = auditProviderFingerprints(context(gmailMessage({}, ['X-Mailer: Apple Mail (2.3731.300.101.1.3)'])));
    expect(finding).toMatchObject({
      code: 'fingerprint-conflict',
      severity: 'warning',
      evidence: { pairs: [[{ field: 'boundary', madeBy: 'gmail' }, { field: 'X-Mailer', madeBy: 'apple-mail' }]] },
    });
  });

  it("a Gmail composer Message-ID with Thunderbird's boundary is a warning", () => {
    const raw = message(
      headersWith({
        From: 'a@example.com',
        'Message-ID': '<CAPacwgw9P=oxVx+D+N6PUjMPotK+m9t0pncPzY6aK7V4P61_og@mail.gmail.com>',
        'Content-Type': 'multipart/mixed; boundary="------------Ts8qg0B0hUv9hE2ng6qgQyPd"',
      }),
    );
    expect(auditProviderFingerprints(context(raw)).map((f) => f.code)).toEqual(['fingerprint-conflict']);
  });

  it('says nothing when the traces agree', () => {
    const apple = message(headersWith({ 'Content-Type': 'multipart/alternative; boundary="Apple-Mail=_F1CA573B-BCF5-4EF8-9669-10092D971828"' }, ['X-Mailer: Apple Mail (2.3731.300.101.1.3)']));
    expect(auditProviderFingerprints(context(apple))).toEqual([]);
    expect(auditProviderFingerprints(context(gmailMessage({})))).toEqual([]);
  });
});
