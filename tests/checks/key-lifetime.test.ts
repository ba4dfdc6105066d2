import { describe, expect, it } from 'vitest';
import { runMessageChecks } from '../../src/checks/index.ts';
import type { Finding } from '../../src/checks/types.ts';
import { context, fakeSignature, headersWith, message, strongKey, unix } from './support.ts';

// An archive saw s2048 only from 2021-01-01 to 2022-01-01.
const archived = strongKey({ name: 's2048._domainkey.example.com', source: 'archive', origin: 'archive.example', firstSeen: '2021-01-01T00:00:00Z', lastSeen: '2022-01-01T00:00:00Z' });
const lifetime = (date: string, t: string, h: string): Finding[] =>
  runMessageChecks(
    context(message(headersWith({ Date: date })), [
      fakeSignature({ tags: `v=1; a=rsa-sha256; d=example.com; s=s2048; t=${unix(t)}; h=${h}`, key: archived }),
    ]),
  ).filter((f) => f.code === 'key-outside-known-lifetime');

// the text called t= "the message is dated", and a signed Date outside the window was never compared.
describe('key-outside-known-lifetime names the time it compared', () => {
  it('t= outside the window is named as the signing time, not as the date', () => {
    const [finding] = lifetime('Mon, 14 Jun 2021 09:12:03 +0000', '2019-02-14T09:12:05Z', 'from:date:subject');
    expect(finding!.text).toContain('it was signed (t=) on 2019-02-14, but archive.example saw this key only 2021-01-01 to 2022-01-01');
    expect(finding!.text).not.toContain('dated');
    expect(finding!.evidence).toMatchObject({ signedAt: '2019-02-14T09:12:05.000Z', signedDate: '2021-06-14T09:12:03.000Z' });
  });

  it('a Date the signature covers, outside the window, is told even when t= is inside it', () => {
    const [finding] = lifetime('Thu, 14 Feb 2019 09:12:03 +0000', '2021-06-14T09:12:05Z', 'from:date:subject');
    expect(finding).toMatchObject({ severity: 'warning', evidence: { signedAt: '2021-06-14T09:12:05.000Z', signedDate: '2019-02-14T09:12:03.000Z' } });
    expect(finding!.text).toContain('its Date, which this signature covers, is 2019-02-14, but archive.example saw this key only 2021-01-01 to 2022-01-01');
  });

  it('an unsigned Date is anyone\'s to edit and is not compared', () => {
    expect(lifetime('Thu, 14 Feb 2019 09:12:03 +0000', '2021-06-14T09:12:05Z', 'from:subject')).toEqual([]);
  });
});
