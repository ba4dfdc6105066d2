import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import type { KeyLookup } from '../../src/keys/types.ts';
import { DEMO_KEYS } from '../helpers/cli.ts';
import { offlineFileLookup } from '../../src/keys/key-lookup.ts';
import { demoMessage, demoPrivateKey, handSign } from '../hostile/sign.ts';
import { SIGN_TIME, ed25519Key, plainMessage, rsaKey, signed, tableLookup, type TestKey } from '../unit/support/signing.ts';

// Red team 28, F-06: readings mailauth's lenient mode makes without naming them. Each message
// verifies, as before, and now says how it was read; dkimpy rejects every one.
let rsa: TestKey;
let ed: TestKey;
beforeAll(() => {
  rsa = rsaKey(2048);
  ed = ed25519Key();
});

const NAME = 'sel1._domainkey.example.com';
const analyze = (message: string, lookup: KeyLookup): Promise<MessageAnalysis> => analyzeMessage({ raw: Buffer.from(message, 'latin1'), format: 'eml' }, lookup);
const readings = (a: MessageAnalysis): unknown => a.findings.find((f) => f.code === 'signature-read-leniently')?.evidence['lenientReadings'] ?? [];

describe('lenient readings leakcheck finds itself', () => {
  it('a key record with upper-case tag names, or an empty k=', async () => {
    const message = await signed(plainMessage(), { key: rsa, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const p = rsa.txt.slice(rsa.txt.indexOf('p=') + 2);
    const strict = await analyze(message, tableLookup({ [NAME]: rsa.txt }));
    expect(strict.verdict.verdict).toBe('verified');
    expect(readings(strict)).toEqual([]);
    const upper = await analyze(message, tableLookup({ [NAME]: `v=DKIM1; K=rsa; P=${p}` }));
    expect(upper.verdict.verdict).toBe('verified');
    expect(readings(upper)).toEqual(['key-tag-case']);
    expect(upper.findings.find((f) => f.code === 'signature-read-leniently')!.text).toContain('(P= is not p=)');
    expect(readings(await analyze(message, tableLookup({ [NAME]: `v=DKIM1; k=; p=${p}` })))).toEqual(['key-k-empty']);
  });

  it('an Ed25519 key published as a SubjectPublicKeyInfo rather than its bare 32 bytes', async () => {
    const message = await signed(plainMessage(), { key: ed, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    expect(readings(await analyze(message, tableLookup({ [NAME]: ed.txt })))).toEqual([]);
    const spki = await analyze(message, tableLookup({ [NAME]: `v=DKIM1; k=ed25519; p=${ed.spki.toString('base64')}` }));
    expect(spki.verdict.verdict).toBe('verified');
    expect(readings(spki)).toEqual(['key-ed25519-spki']);
  });

  it('a b= in the URL-safe base64 alphabet', async () => {
    let message = '';
    for (let n = 0; n < 50 && !/\bb=[^;]*[+/]/.test(message.replace(/\bbh=[^;]*;/, '')); n++) {
      message = await signed(plainMessage({ subject: `Quarterly numbers ${n}` }), { key: rsa, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    }
    const urlSafe = message.replace(/\bb=[^;]+(?=\r\nFrom:)/, (b) => b.replace(/\+/g, '-').replace(/\//g, '_'));
    expect(urlSafe).not.toBe(message);
    const a = await analyze(urlSafe, tableLookup({ [NAME]: rsa.txt }));
    expect(a.verdict.verdict).toBe('verified');
    expect(readings(a)).toEqual(['signature-base64url']);
  });

  // Red team P, P-09 and P-06: OpenDKIM and mailauth read both; dkimpy rejects the first, OpenDKIM
  // the second. Only the key holder made either signature, so they verify, and say how.
  const SIGNED = ['from', 'to', 'subject', 'date', 'message-id'];
  const demo = offlineFileLookup(DEMO_KEYS);
  const handSigned = (id: string, tags: string): string =>
    handSign(demoMessage({ id }), { privateKeyPem: demoPrivateKey(), tags: `${tags}; d=demo.example; s=s2048; h=${SIGNED.join(':')}`, headers: SIGNED });

  it.each([
    ['a=RSA-SHA256', 'v=1; a=RSA-SHA256; c=relaxed/relaxed'],
    ['c=Relaxed/Relaxed', 'v=1; a=rsa-sha256; c=Relaxed/Relaxed'],
    ['q=DNS/TXT', 'v=1; a=rsa-sha256; c=relaxed/relaxed; q=DNS/TXT'],
  ])('%s: a value RFC 6376 makes case-sensitive, written with capitals', async (_, tags) => {
    const a = await analyze(handSigned('value-case', tags), demo);
    expect(a.verdict.verdict).toBe('verified');
    expect(readings(a)).toEqual(['signature-value-case']);
    expect(readings(await analyze(handSigned('value-case', 'v=1; a=rsa-sha256; c=relaxed/relaxed; q=dns/txt'), demo))).toEqual([]);
  });

  it('an l= larger than the canonicalized body: the whole body is signed, and the finding says so', async () => {
    const control = await analyze(handSigned('l-beyond', 'v=1; a=rsa-sha256; c=relaxed/relaxed'), demo);
    const total = control.signatures[0]!.bodyBytesTotal!;
    const exact = await analyze(handSigned('l-beyond', `v=1; a=rsa-sha256; c=relaxed/relaxed; l=${total}`), demo);
    expect(exact.verdict.verdict).toBe('verified');
    expect(readings(exact)).toEqual([]);
    const beyond = await analyze(handSigned('l-beyond', `v=1; a=rsa-sha256; c=relaxed/relaxed; l=${total + 10}`), demo);
    expect(beyond.verdict.verdict).toBe('verified');
    expect(beyond.signatures[0]).toMatchObject({ bodyBytesSigned: total, bodyBytesTotal: total });
    expect(readings(beyond)).toEqual(['body-length-beyond-body']);
    expect(beyond.findings.find((f) => f.code === 'signature-read-leniently')!.text).toContain('no byte of it is unsigned');
  });

  it("a record's readings are its own, read again after more records than are kept", async () => {
    const message = await signed(plainMessage(), { key: rsa, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const p = rsa.txt.slice(rsa.txt.indexOf('p=') + 2);
    const upper = tableLookup({ [NAME]: `v=DKIM1; K=rsa; P=${p}` });
    expect(readings(await analyze(message, upper))).toEqual(['key-tag-case']);
    // 1,100 other records seen in between (past the 1,024 kept), each read as itself
    for (let i = 0; i < 1100; i++) {
      // records alike but for their last tag: each is read whole
      const a = await analyze(message, tableLookup({ [NAME]: `v=DKIM1; p=${p}; n=${i}; k=${i % 2 ? '' : 'rsa'}` }));
      if (i % 100 === 0 || i >= 1090) expect(readings(a)).toEqual(i % 2 ? ['key-k-empty'] : []);
    }
    const again = await analyze(message, upper);
    expect(readings(again)).toEqual(['key-tag-case']);
    // what a finding holds is the analysis' own: changing it changes no later reading
    (again.findings.find((f) => f.code === 'signature-read-leniently')!.evidence['lenientReadings'] as string[]).push('changed');
    expect(readings(await analyze(message, upper))).toEqual(['key-tag-case']);
  });
});
