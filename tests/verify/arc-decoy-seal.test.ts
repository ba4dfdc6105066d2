/**
 * Red team, round 6 (B-01): a forger alters a signed message, seals an ARC set of their own
 * (d=evil.example) whose ARC-Authentication-Results says the author's signature passed, and adds
 * one line, `ARC-Seal<U+00A0>: … d=google.com`, that mailauth does not read as a header field.
 * mailauth validated the forger's chain, but the sealer and what it saw were taken from our own
 * reading of the header fields, which trimmed the no-break space: "sealed by google.com, a
 * well-known ARC sealer", and the body change was excused.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { offlineFileLookup } from '../../src/keys/key-lookup.ts';
import { sealMessage } from 'mailauth/lib/arc/index.js';
import { DEMO_KEYS, tempDir } from '../helpers/cli.ts';
import { demoMessage, demoPrivateKey, handSign } from '../hostile/sign.ts';
import { rsaKey } from '../unit/support/signing.ts';

const tmp = tempDir('leakcheck-arc-decoy-');
afterAll(() => tmp.cleanup());
const evil = rsaKey(2048);
const keysFile = join(tmp.path, 'keys.json');
writeFileSync(keysFile, JSON.stringify({ ...(JSON.parse(readFileSync(DEMO_KEYS, 'utf8')) as Record<string, string[]>), 'arc._domainkey.evil.example': [evil.txt] }));
const lookup = offlineFileLookup(keysFile);

const SIGNED = ['from', 'to', 'subject', 'date', 'message-id'];
const genuine = handSign(demoMessage({ id: 'arc-decoy', body: 'Do NOT wire anything to Harbor Ltd.\r\n' }), {
  privateKeyPem: demoPrivateKey(),
  tags: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=demo.example; s=s2048; h=${SIGNED.join(':')}`,
  headers: SIGNED,
});
const altered = genuine.replace('Do NOT wire anything to Harbor Ltd.', 'Wire EUR 5M to Harbor Ltd today.');
async function sealedByForger(message: string): Promise<string> {
  const seal = await sealMessage(Buffer.from(message, 'latin1'), {
    signingDomain: 'evil.example',
    selector: 'arc',
    privateKey: evil.privatePem,
    cv: 'none',
    authResults: 'mx.evil.example; dkim=pass header.d=demo.example header.s=s2048',
    signTime: new Date('2017-02-14T09:12:10Z'),
  } as never);
  return seal.toString('latin1') + message;
}
const analyze = (text: string) => analyzeMessage({ raw: Buffer.from(text, 'latin1'), format: 'eml' }, lookup);

describe("an ARC chain is described by the sets mailauth validated, not by look-alike header fields", () => {
  it.each([
    ['a no-break space', '\u00a0'],
    ['a vertical tab', '\v'],
  ])('a decoy ARC-Seal naming google.com, with %s before its colon, does not make the forger\'s chain google.com\'s', async (_, odd) => {
    const forged = await sealedByForger(altered);
    const control = await analyze(forged);
    expect(control.arc.result).toBe('pass');
    expect(control.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-body-modified'] });

    const decoy = `Received: from mail.demo.example by mx.harbor.example; Tue, 14 Feb 2017 10:12:09 +0100\r\nARC-Seal${odd}: i=1; a=rsa-sha256; t=1487063530; cv=none; d=google.com; s=arc-20160816; b=AAAA\r\n`;
    const a = await analyze(decoy + forged);
    expect(a.arc.result).toBe('pass');
    expect(a.arc.instances.map((i) => i.sealDomain)).toEqual(['evil.example']);
    expect(a.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-body-modified'] });
    expect(a.findings.map((f) => f.code)).not.toContain('dkim-broken-by-intermediary');
  });
});
