/**
 * Red team 29, K-04. A genuine message relayed through Gmail, its body edited afterwards: Google's
 * ARC chain no longer validated, and nothing said so. The explanation read "without the key it
 * cannot be told whether the signature was ever genuine", with Google's key on hand, whose
 * ARC-Message-Signature showed the body changed after Google sealed it. A chain sealed by a
 * trusted sealer (well known, or named with --trust-arc-sealer) whose key is on record and that
 * fails is now told (what failed, in which set, under which key), and a body hash that fails under
 * signed headers that still verify is a red flag, as a DKIM body-hash failure with the key is.
 */
import { createSeal } from 'mailauth';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { decideVerdict } from '../../src/verdict/decide.ts';
import type { ArcFailure, ArcVerification } from '../../src/verify/arc.ts';
import { SIGN_TIME, plainMessage, rsaKey, signed, tableLookup, type TestKey } from '../unit/support/signing.ts';

let author: TestKey;
let sealer: TestKey;

beforeAll(() => {
  author = rsaKey(2048);
  sealer = rsaKey(2048);
});

const BODY = 'The numbers are attached as promised.';
const EDITED = 'The numbers are attached; wire the fee to the new account.';

/** The author's message (its key not on record), sealed by `by` on arrival, where its signature passed. */
async function sealedBy(by: string): Promise<string> {
  const message = await signed(plainMessage(), { key: author, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
  const sealed = await createSeal(Buffer.from(message, 'latin1'), {
    seal: { signingDomain: by, selector: 'arc', privateKey: sealer.privatePem, cv: 'none', signTime: new Date(SIGN_TIME.getTime() + 60_000), authResults: `mx.${by}; dkim=pass header.d=example.com header.s=sel1` },
  } as Parameters<typeof createSeal>[1]);
  expect(sealed.errors).toEqual([]);
  return `${sealed.headers.join('\r\n')}\r\n${message}`;
}

const analyze = (message: string, by: string, trusted: string[] = [], sealerKey: string | null = sealer.txt): Promise<MessageAnalysis> =>
  analyzeMessage(
    { raw: Buffer.from(message, 'latin1'), format: 'eml' },
    tableLookup(sealerKey ? { [`arc._domainkey.${by}`]: sealerKey } : {}),
    { trustedArcSealers: trusted },
  );

describe('an ARC chain by a trusted sealer, its key on record, that no longer validates', () => {
  it('as sealed: the chain passes, and nothing is said of a failure', async () => {
    const a = await analyze(await sealedBy('google.com'), 'google.com');
    expect(a.arc.result).toBe('pass');
    expect(a.arc.failure).toBeUndefined();
    expect(a.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['key-not-found', 'arc-only'] });
  });

  it("the body edited after a well-known sealer sealed it: a red flag naming the sealer, the set and the key, never \"cannot be told\"", async () => {
    const a = await analyze((await sealedBy('google.com')).replace(BODY, EDITED), 'google.com');
    expect(a.arc.result).toBe('fail');
    expect(a.arc.failure).toMatchObject({ i: 1, part: 'message-signature', what: 'body', headersVerify: true, domain: 'google.com', sealDomain: 'google.com', key: { name: 'arc._domainkey.google.com', strong: true } });
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['arc-body-modified']);
    const finding = a.findings.find((f) => f.code === 'arc-body-modified')!;
    expect(finding.severity).toBe('red-flag');
    expect(finding.text).toBe(
      'The ARC chain sealed by google.com, a well-known ARC sealer, no longer validates: the body no longer matches the body hash of google.com\'s ARC-Message-Signature of set i=1, ' +
        `while the header fields it signs still verify with its key arc._domainkey.google.com on record (RSA 2048-bit sha256:${a.arc.failure!.key.fingerprint!.slice(0, 16)}… from file test-keys.json). ` +
        'google.com sealed the message as it passed through: the body was changed after that.',
    );
    expect(finding.evidence).toMatchObject({ instance: 1, failed: 'message-signature', what: 'body', headersVerify: true, sealer: 'google.com', wellKnownSealer: true });
    expect(a.verdict.explanation).toContain(finding.text);
    expect(a.verdict.explanation).not.toContain('cannot be told');
  });

  it('the same by a sealer the user trusts (--trust-arc-sealer), saying so; by a sealer nobody trusts, or without its key, nothing', async () => {
    const edited = (await sealedBy('relay.example.net')).replace(BODY, EDITED);
    const trusted = await analyze(edited, 'relay.example.net', ['relay.example.net']);
    expect(trusted.verdict.reasons).toEqual(['arc-body-modified']);
    expect(trusted.verdict.explanation).toContain("relay.example.net, an ARC sealer trusted on this run's command line (--trust-arc-sealer), no longer validates");
    expect(trusted.findings.find((f) => f.code === 'arc-body-modified')!.evidence).toMatchObject({ wellKnownSealer: false, trustedBy: 'user' });
    // anyone can seal with a key of their own and claim any name: an untrusted seal's failure says nothing
    for (const a of [await analyze(edited, 'relay.example.net'), await analyze((await sealedBy('google.com')).replace(BODY, EDITED), 'google.com', [], null)]) {
      expect(a.arc.result).toBe('fail');
      expect(a.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['body-hash-mismatch-key-unknown'] });
      expect(a.findings.map((f) => f.code)).not.toContain('arc-chain-failed');
      expect(a.findings.map((f) => f.code)).not.toContain('arc-body-modified');
    }
  });

  it('a header field it signs edited after sealing, or an ARC header field: a warning, told in the explanation', async () => {
    const sealed = await sealedBy('google.com');
    const subject = await analyze(sealed.replace('Subject: Quarterly numbers', 'Subject: Quarterly numbers (final)'), 'google.com');
    expect(subject.arc.failure).toMatchObject({ part: 'message-signature', what: 'headers' });
    expect(subject.verdict.verdict).toBe('unverifiable');
    const onSubject = subject.findings.find((f) => f.code === 'arc-chain-failed')!;
    expect(onSubject.severity).toBe('warning');
    expect(onSubject.text).toMatch(/^The ARC chain sealed by google\.com, a well-known ARC sealer, no longer validates: google\.com's ARC-Message-Signature of set i=1 does not verify with its key arc\._domainkey\.google\.com on record .*: a header field it signs was changed after it was sealed, or the signature is not google\.com's\.$/);
    expect(subject.verdict.explanation).toContain(onSubject.text);

    const seal = await analyze(sealed.replace('mx.google.com; dkim=pass', 'mx.google.com; dkim=pass (checked)'), 'google.com');
    expect(seal.arc.failure).toMatchObject({ part: 'seal', what: null });
    expect(seal.verdict.verdict).toBe('unverifiable');
    const onSeal = seal.findings.find((f) => f.code === 'arc-chain-failed')!;
    expect(onSeal.text).toMatch(/^The ARC chain whose seal names google\.com, a well-known ARC sealer, no longer validates: its ARC-Seal of set i=1 does not validate with the key arc\._domainkey\.google\.com on record/);
    expect(seal.verdict.explanation).toContain(onSeal.text);
  });
});

describe('what an ARC body failure is weighed against (decideVerdict)', () => {
  const failure = (over: Partial<ArcFailure> = {}): ArcVerification => ({
    result: 'fail',
    reason: 'i=1 no valid signature',
    instances: [],
    sealerSawDkim: [],
    failure: {
      i: 1, part: 'message-signature', domain: 'google.com', selector: 'arc', sealDomain: 'google.com', what: 'body', headersVerify: true,
      key: { name: 'arc._domainkey.google.com', txt: '', source: 'file', origin: 'keys.json', fetchedAt: null, firstSeen: null, lastSeen: null, keyType: 'rsa', bits: 2048, fingerprint: 'ab'.repeat(32), fingerprintMd5: null, revoked: false, strong: true, compromised: null },
      ...over,
    },
  });
  const decide = (arc: ArcVerification, storedApart?: Parameters<typeof decideVerdict>[0]['storedApart']) =>
    decideVerdict({ signatures: [], arc, findings: [], repairs: [], parseError: null, ...(storedApart ? { storedApart } : {}) });

  it('an unsigned message whose trusted chain fails over the body: suspicious', () => {
    expect(decide(failure())).toMatchObject({ verdict: 'suspicious', reasons: ['arc-body-modified'] });
  });

  it('a body Apple Mail kept apart in part, a weak key, or headers that do not verify: a warning in the explanation, the verdict as before', () => {
    const part = { partId: '2', contentType: 'application/pdf', filename: 'q1.pdf', appleContentLength: 5000, contentStart: 0 };
    const cases: Array<[ReturnType<typeof decide>, RegExp]> = [
      [decide(failure(), { parts: [part], signatures: new Set() }), /Apple Mail kept part of the body outside this file/],
      [decide(failure({ key: { ...failure().failure!.key, bits: 512, strong: false } })), /But that key is too weak to prove anything, so this proves nothing\./],
      [decide(failure({ headersVerify: false })), /and the header fields it signs do not verify with its key arc\._domainkey\.google\.com on record .*: the message was changed after it was sealed, or the signature is not google\.com's\./],
    ];
    for (const [decided, text] of cases) {
      expect(decided).toMatchObject({ verdict: 'unverifiable', reasons: ['unsigned'] });
      expect(decided.findings.map((f) => `${f.code}:${f.severity}`)).toEqual(['arc-chain-failed:warning']);
      expect(decided.explanation).toMatch(text);
      expect(decided.explanation).toContain(decided.findings[0]!.text);
    }
  });
});
