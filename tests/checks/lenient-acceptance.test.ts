import { describe, expect, it } from 'vitest';
import { auditLenientAcceptance, describeLenientReading } from '../../src/checks/lenient-acceptance.ts';
import type { DkimSignatureResult } from '../../src/verify/dkim.ts';
import { fakeSignature } from './support.ts';

const withWarnings = (warnings: string[], outcome: DkimSignatureResult['outcome'] = 'pass'): DkimSignatureResult => ({
  ...fakeSignature({ tags: 'v=1; a=rsa-sha256; d=example.com; s=sel1; h=from', outcome }),
  warnings,
});

describe('signature-read-leniently', () => {
  it('names each lenient reading of a verifying signature in plain words, with mailauth\'s names as evidence', () => {
    const [finding, ...rest] = auditLenientAcceptance([withWarnings(['identity-domain', 'key-v-syntax'])]);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ code: 'signature-read-leniently', severity: 'warning', evidence: { lenientReadings: ['identity-domain', 'key-v-syntax'] } });
    expect(finding!.text).toBe(
      "The signature by example.com verifies only under a lenient reading, as many deployed verifiers allow; a strict reading of RFC 6376 rejects it: its i= is not an address in the d= domain or one of its subdomains; its key record's v= is not exactly DKIM1 in first place.",
    );
  });

  it('tells an i= in a subdomain under a t=s key from an i= outside d=, though mailauth names both identity-domain', () => {
    const under = (identity: string, keyTxt: string): DkimSignatureResult => ({
      ...fakeSignature({ tags: `v=1; a=rsa-sha256; d=bank.example; s=sel1; h=from; i=${identity}` }),
      key: { txt: keyTxt } as DkimSignatureResult['key'],
      warnings: ['identity-domain'],
    });
    const text = (sig: DkimSignatureResult): string => auditLenientAcceptance([sig])[0]!.text;
    const tS = "its i= is in mail.bank.example, a subdomain of d=, where its key record's flag t=s allows only the d= domain itself";
    expect(text(under('@mail.bank.example', 'v=DKIM1; k=rsa; t=s; p=AAAA'))).toContain(tS);
    expect(text(under('cfo@Mail.Bank.Example.', 'v=DKIM1; k=rsa; t = y : S ; p=AAAA'))).toContain(tS);
    // outside d= altogether: the t=s flag is not what is broken
    expect(text(under('@evil.example', 'v=DKIM1; k=rsa; t=s; p=AAAA'))).toContain('its i= is not an address in the d= domain or one of its subdomains');
    // a name that merely ends like d= is not a subdomain of it
    expect(text(under('@notbank.example', 'v=DKIM1; k=rsa; t=s; p=AAAA'))).toContain('its i= is not an address in the d= domain');
  });

  it('says nothing of a signature that does not verify: its leniency proved nothing', () => {
    expect(auditLenientAcceptance([withWarnings(['missing-v'], 'body-modified'), withWarnings(['query-method'], 'key-not-found')])).toEqual([]);
  });

  it('leaves rsa-sha1 and tag-list syntax to the findings and outcomes that already judge them', () => {
    expect(auditLenientAcceptance([withWarnings(['rsa-sha1']), withWarnings(['tag-syntax'])])).toEqual([]);
    expect(auditLenientAcceptance([withWarnings(['rsa-sha1', 'missing-v'])])[0]!.evidence).toEqual({ signature: expect.any(String), lenientReadings: ['missing-v'] });
  });

  it('describes a missing tag by its name, and an unknown warning by mailauth\'s own word', () => {
    expect(describeLenientReading('missing-h')).toBe('it has no h= tag, which RFC 6376 requires');
    expect(describeLenientReading('something-new')).toBe('mailauth noted "something-new"');
  });
});
