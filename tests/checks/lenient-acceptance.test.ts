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
