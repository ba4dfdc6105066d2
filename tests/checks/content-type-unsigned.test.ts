/**
 * Red team, round 4 (05): a single-part message whose signature leaves Content-Type out of h=.
 * Changed from text/plain to text/html (or added), "We will <not pay …> pay it on Friday" shows
 * as "We will pay it on Friday": the signed bytes, read otherwise.
 */
import { describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { offlineFileLookup } from '../../src/fuzz/cases.ts';
import { DEMO_KEYS } from '../helpers/cli.ts';
import { demoMessage, demoPrivateKey, handSign } from '../hostile/sign.ts';

const lookup = offlineFileLookup(DEMO_KEYS);
const analyze = (text: string): Promise<MessageAnalysis> => analyzeMessage({ raw: Buffer.from(text, 'latin1'), format: 'eml' }, lookup);
const BODY = 'We will <not pay this invoice. Legal says the contract is void> pay it on Friday as agreed.\r\n';

/** The demo message with `contentType` (or none), signed by demo.example with `signed` in h=. */
function signedWith(contentType: string | null, signed = ['from', 'to', 'subject', 'date', 'message-id']): string {
  const message = demoMessage({ id: 'ct', contentHeaders: contentType === null ? [] : [`Content-Type: ${contentType}`], body: BODY });
  return handSign(message, { privateKeyPem: demoPrivateKey(), tags: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=demo.example; s=s2048; h=${signed.join(':')}`, headers: signed });
}

describe('an unsigned Content-Type of a single-part message', () => {
  it.each([
    ['text/plain; charset=us-ascii'],
    ['text/plain; charset="UTF-8"'],
    ['text/plain; charset=iso-8859-1; format=flowed'],
    [null],
  ])('%s: plain text reads the same whatever the header says, and stays verified', async (contentType) => {
    const a = await analyze(signedWith(contentType));
    expect(a.verdict.verdict).toBe('verified');
    expect(a.findings.map((f) => f.code)).not.toContain('content-type-not-signed');
  });

  it.each([['text/html; charset=us-ascii'], ['text/plain; charset=utf-7'], ['application/octet-stream']])(
    '%s, unsigned: the bytes are genuine, what the reader sees is not proven',
    async (contentType) => {
      const a = await analyze(signedWith(contentType));
      expect(a.signatures[0]!.outcome).toBe('pass');
      expect(a.verdict.verdict).toBe('unverifiable');
      expect(a.verdict.reasons).toEqual(['content-type-not-signed']);
      expect(a.findings.find((f) => f.code === 'content-type-not-signed')).toMatchObject({ severity: 'warning' });
    },
  );

  it('text/html under a signature that covers Content-Type is verified', async () => {
    const a = await analyze(signedWith('text/html; charset=us-ascii', ['from', 'to', 'subject', 'date', 'message-id', 'content-type']));
    expect(a.verdict.verdict).toBe('verified');
  });
});
