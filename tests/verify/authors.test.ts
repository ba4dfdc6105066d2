import { describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { offlineFileLookup } from '../../src/keys/key-lookup.ts';
import type { HeaderField } from '../../src/read/headers.ts';
import { alignWithAuthors, readAuthors } from '../../src/verify/authors.ts';
import { fakeSignature } from '../checks/support.ts';
import { DEMO_KEYS } from '../helpers/cli.ts';
import { demoMessage, demoPrivateKey, handSign } from '../hostile/sign.ts';

// Red team K, K-05: the From domain's own signature that mailauth never evaluated (an a= it does
// not support) was told "the From field also names , for which demo.example does not speak", and
// labelled a third party's, because its stand-in was never aligned by mailauth.
const SIGNED = ['from', 'to', 'subject', 'date', 'message-id'];
const analyze = (text: string): Promise<MessageAnalysis> => analyzeMessage({ raw: Buffer.from(text, 'latin1'), format: 'eml' }, offlineFileLookup(DEMO_KEYS));
const fromField = (value: string): HeaderField[] => [{ name: 'from', value } as HeaderField];
/** The demo message signed by `domain` with a=rsa-sha512, which mailauth does not evaluate. */
const unsupportedSignature = (id: string, domain: string): string =>
  handSign(demoMessage({ id }), {
    privateKeyPem: demoPrivateKey(),
    tags: `v=1; a=rsa-sha512; c=relaxed/relaxed; d=${domain}; s=s2048; h=${SIGNED.join(':')}`,
    headers: SIGNED,
  });

describe('alignment with the authors', () => {
  it('the From domain\'s signature with an algorithm mailauth leaves out is aligned, with no author-not-proven finding', async () => {
    const a = await analyze(unsupportedSignature('unsupported-a', 'demo.example'));
    expect(a.signatures[0]).toMatchObject({ outcome: 'unsupported-algorithm', aligned: true });
    expect(a.findings.map((f) => f.code)).not.toContain('author-not-proven');
    expect(a.verdict.verdict).toBe('unverifiable');
  });

  it('a third party\'s signature mailauth leaves out stays not aligned', async () => {
    const a = await analyze(unsupportedSignature('unsupported-a-other', 'other.example'));
    expect(a.signatures[0]).toMatchObject({ outcome: 'unsupported-algorithm', aligned: false });
  });

  it('a signature mailauth evaluated and did not align, whose domain is every author\'s, is told so without an empty list of domains', () => {
    const sig = fakeSignature({ tags: 'v=1; a=rsa-sha256; d=demo.example; s=s2048; h=from; bh=x; b=y', aligned: false });
    const { signatures, findings } = alignWithAuthors([sig], readAuthors(fromField('Maria Keller <maria.keller@demo.example>')));
    expect(signatures[0]!.aligned).toBe(false);
    const finding = findings.find((f) => f.code === 'author-not-proven');
    expect(finding?.text).toContain('not as a third one (mailauth) reads it');
    expect(finding?.text).not.toMatch(/names\s*,|names\s*for/);
  });
});
