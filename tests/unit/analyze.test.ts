import { createHash } from 'node:crypto';
import { createSeal } from 'mailauth';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { FORM_SEARCH_PASSES } from '../../src/analyze/form-search.ts';
import type { ContainerKind } from '../../src/discover/types.ts';
import type { KeyLookup } from '../../src/keys/types.ts';
import { MAX_HEADER_BYTES } from '../../src/read/headers.ts';
import { MAX_SIGNATURES_CHECKED } from '../../src/verify/dkim.ts';
import { handResealed, handSignatureHeader } from '../helpers/hand-sign.ts';
import {
  DATE_HEADER,
  SIGN_TIME,
  ed25519Key,
  handSignature,
  plainMessage,
  rsaKey,
  signatureFor,
  signed,
  tableLookup,
  type TestKey,
} from './support/signing.ts';

let rsa2048: TestKey;
let otherRsa2048: TestKey;
let rsa512: TestKey;
let ed: TestKey;

beforeAll(() => {
  rsa2048 = rsaKey(2048);
  otherRsa2048 = rsaKey(2048);
  rsa512 = rsaKey(512);
  ed = ed25519Key();
});

const NAME = 'sel1._domainkey.example.com';
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

const analyze = (message: string | Buffer, lookup: KeyLookup, format: ContainerKind = 'eml'): Promise<MessageAnalysis> =>
  analyzeMessage({ raw: typeof message === 'string' ? Buffer.from(message, 'latin1') : message, format }, lookup);

/** plainMessage() signed by example.com/sel1 with the 2048-bit key, plus a lookup that knows it. */
async function genuine(overrides: Parameters<typeof plainMessage>[0] = {}): Promise<{ message: string; lookup: ReturnType<typeof tableLookup> }> {
  const message = await signed(plainMessage(overrides), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
  return { message, lookup: tableLookup({ [NAME]: rsa2048.txt }) };
}

describe('analyzeMessage: verified', () => {
  it('verifies a genuine RSA-2048 signature and records where the key came from', async () => {
    const { message, lookup } = await genuine();
    const a = await analyze(message, lookup);
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.reasons).toEqual(['dkim-verified']);
    expect(a.verdict.provenBy).toEqual([0]);
    expect(a.repairs).toEqual([]);
    expect(a.signatures).toHaveLength(1);
    const sig = a.signatures[0]!;
    expect(sig.outcome).toBe('pass');
    expect(sig.result).toBe('pass');
    expect(sig.aligned).toBe(true);
    expect(sig.keyLookup).toBe('found');
    expect(sig.tags).toMatchObject({ domain: 'example.com', selector: 'sel1', algorithm: 'rsa-sha256', timestamp: SIGN_TIME.getTime() / 1000 });
    expect(sig.key).toMatchObject({
      name: NAME,
      txt: rsa2048.txt,
      source: 'file',
      origin: 'test-keys.json',
      keyType: 'rsa',
      bits: 2048,
      fingerprint: sha256(rsa2048.spki),
      fingerprintMd5: createHash('md5').update(rsa2048.spki).digest('hex'),
      revoked: false,
      strong: true,
    });
    expect(a.sha256).toBe(sha256(Buffer.from(message, 'latin1')));
    expect(a.size).toBe(Buffer.byteLength(message, 'latin1'));
    expect(a.meta).toMatchObject({ fromAddress: 'alice@example.com', fromDomain: 'example.com', subject: 'Quarterly numbers' });
    expect(a.judgedAtSource).toBe('signature-t');
    expect(a.judgedAt).toBe(SIGN_TIME.toISOString());
    expect(a.findings).toEqual([]);
    expect(a.arc.result).toBe('none');
    expect(lookup.calls.map((c) => c.toLowerCase())).toContain(NAME);
  });

  it('verifies an Ed25519 signature', async () => {
    const message = await signed(plainMessage(), { key: ed, domain: 'example.com', selector: 'ed', signTime: SIGN_TIME });
    const a = await analyze(message, tableLookup({ 'ed._domainkey.example.com': ed.txt }));
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.reasons).toEqual(['dkim-verified']);
    expect(a.signatures[0]!.tags.algorithm).toBe('ed25519-sha256');
    expect(a.signatures[0]!.key).toMatchObject({ keyType: 'ed25519', bits: 256, strong: true, fingerprint: sha256(ed.spki) });
  });

  // A forger can put any From on a message and sign it with a domain of their own.
  it('a third-party signer (d= not the From domain) proves nothing about the From: unverifiable, signature-not-aligned', async () => {
    const message = await signed(plainMessage(), { key: rsa2048, domain: 'esp.example.net', selector: 'mta', signTime: SIGN_TIME });
    const a = await analyze(message, tableLookup({ 'mta._domainkey.esp.example.net': rsa2048.txt }));
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.signatures[0]!.aligned).toBe(false);
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['signature-not-aligned']);
    expect(a.verdict.provenBy).toEqual([]);
    expect(a.verdict.explanation).toContain('esp.example.net is not the From domain');
  });

  it('a signature by a subdomain of the From domain, or by its parent, is aligned (relaxed alignment) and proves', async () => {
    for (const domain of ['mail.example.com']) {
      const message = await signed(plainMessage(), { key: rsa2048, domain, selector: 'sel1', signTime: SIGN_TIME });
      const a = await analyze(message, tableLookup({ [`sel1._domainkey.${domain}`]: rsa2048.txt }));
      expect(a.signatures[0]!.aligned, domain).toBe(true);
      expect(a.verdict.verdict, domain).toBe('verified');
    }
  });

  it('tries every candidate key of a selector and keeps the one that verifies', async () => {
    const message = await signed(plainMessage(), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const a = await analyze(message, tableLookup({ [NAME]: [otherRsa2048.txt, rsa2048.txt] }));
    expect(a.verdict.verdict).toBe('verified');
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.signatures[0]!.key?.fingerprint).toBe(sha256(rsa2048.spki));
    expect(a.signatures[0]!.key?.txt).toBe(rsa2048.txt);
  });

  // Red team, round 4 (02): selectors are reused, and the key a selector holds today is often
  // not the one that signed years ago. A genuine message was called forged.
  it('with only a key that did not make the signature (a selector given a new key since), the message is unverifiable, not suspicious', async () => {
    const message = await signed(plainMessage(), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const a = await analyze(message, tableLookup({ [NAME]: otherRsa2048.txt }));
    expect(a.signatures[0]).toMatchObject({ outcome: 'signature-mismatch', signedByKey: false });
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['key-not-signer']);
    expect(a.signatures[0]!.key?.fingerprint).toBe(sha256(otherRsa2048.spki));
    // with its Subject changed too: without the signer's key, nothing is proven either way
    const altered = await analyze(message.replace('Quarterly', 'Quarterly revised'), tableLookup({ [NAME]: otherRsa2048.txt }));
    expect(altered.verdict.verdict).toBe('unverifiable');
  });

  // Red team 6 (B-03): signed with RSA and Ed25519, checked against the keys both selectors hold
  // today. The RSA signature shows the rotation (key-not-signer); the Ed25519 one cannot, and
  // was taken for a forgery.
  it('an Ed25519 failure beside an RSA signature of the same domain that a replaced key did not make: unverifiable, not suspicious', async () => {
    const otherEd = ed25519Key();
    const both = async (message: string): Promise<string> =>
      (await signatureFor(message, { key: ed, domain: 'example.com', selector: 'ed1', signTime: SIGN_TIME })) + (await signed(message, { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME }));
    const message = await both(plainMessage());
    const today = tableLookup({ [NAME]: otherRsa2048.txt, 'ed1._domainkey.example.com': otherEd.txt });
    const a = await analyze(message, today);
    expect(a.signatures.map((s) => [s.tags.algorithm, s.outcome, s.signedByKey ?? null])).toEqual([
      ['ed25519-sha256', 'signature-mismatch', null],
      ['rsa-sha256', 'signature-mismatch', false],
    ]);
    expect(a.verdict.verdict).toBe('unverifiable');
    expect([...a.verdict.reasons].sort()).toEqual(['key-likely-replaced', 'key-not-signer']);
    expect(a.verdict.explanation).toMatch(/has replaced its keys since/);
    // the Ed25519 failure alone, or beside an RSA signature its key did make, stays evidence
    const edOnly = await analyze(await signed(plainMessage(), { key: ed, domain: 'example.com', selector: 'ed1', signTime: SIGN_TIME }), today);
    expect(edOnly.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-signature-mismatch'] });
    const altered = await analyze(message.replace('Quarterly', 'Quarterly revised'), tableLookup({ [NAME]: rsa2048.txt, 'ed1._domainkey.example.com': otherEd.txt }));
    expect(altered.verdict.verdict).toBe('suspicious');
  });

  // Red team 28, F-03: a domain rotating both keys may revoke the old RSA selector (an empty
  // p=) or drop it, rather than give it a new key; the Ed25519 failure beside it is no more
  // evidence than beside a replaced one.
  it('an Ed25519 failure beside an RSA signature of the same domain whose selector was revoked or removed since: unverifiable', async () => {
    const otherEd = ed25519Key();
    const message =
      (await signatureFor(plainMessage(), { key: ed, domain: 'example.com', selector: 'ed1', signTime: SIGN_TIME })) +
      (await signed(plainMessage(), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME }));
    for (const [rsaNow, outcome] of [[{ [NAME]: 'v=DKIM1; k=rsa; p=' }, 'key-revoked'], [{}, 'key-not-found']] as const) {
      const a = await analyze(message, tableLookup({ ...rsaNow, 'ed1._domainkey.example.com': otherEd.txt }));
      expect(a.signatures.map((s) => s.outcome)).toEqual(['signature-mismatch', outcome]);
      expect(a.verdict.verdict).toBe('unverifiable');
      expect(a.verdict.reasons).toContain('key-likely-replaced');
      expect(a.verdict.explanation).toContain('was made with a key no longer on record for its selector (replaced, revoked or removed)');
    }
    // beside an RSA signature of another domain, the Ed25519 failure stays evidence
    const foreign = (await signatureFor(plainMessage(), { key: ed, domain: 'example.com', selector: 'ed1', signTime: SIGN_TIME })) +
      (await signed(plainMessage(), { key: rsa2048, domain: 'example.net', selector: 'sel1', signTime: SIGN_TIME }));
    expect((await analyze(foreign, tableLookup({ 'ed1._domainkey.example.com': otherEd.txt }))).verdict.verdict).toBe('suspicious');
  });

  it('with several candidate keys, a failure is judged against the one that made the signature', async () => {
    const message = await signed(plainMessage(), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const changed = message.replace('Subject: Quarterly numbers', 'Subject: Quarterly numbers (revised)');
    const a = await analyze(changed, tableLookup({ [NAME]: [otherRsa2048.txt, rsa2048.txt] }));
    expect(a.signatures[0]).toMatchObject({ outcome: 'signature-mismatch', signedByKey: true });
    expect(a.signatures[0]!.key?.fingerprint).toBe(sha256(rsa2048.spki));
    expect(a.verdict.verdict).toBe('suspicious');
  });

  it('a header changed under the key that made the signature is still evidence of tampering', async () => {
    const message = await signed(plainMessage(), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const a = await analyze(message.replace('Subject: Quarterly numbers', 'Subject: Quarterly numbers (revised)'), tableLookup({ [NAME]: rsa2048.txt }));
    expect(a.signatures[0]).toMatchObject({ outcome: 'signature-mismatch', signedByKey: true });
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-signature-mismatch']);
  });

  // Red team 28, F-02: one RSA signature in 256 starts with a zero byte. A signer that writes
  // the number's minimal bytes leaves it out, and OpenSSL refused the 255-byte b= of a genuine,
  // unaltered message, which then read as forged (or, with the zero written twice, as a key
  // replaced since). The number is the same: it verifies, and the finding says how it was read.
  it('an RSA signature whose b= leaves out (or doubles) a leading zero byte verifies, as a lenient reading; a change under it is still tampering', async () => {
    let message = '';
    let b = Buffer.alloc(0);
    for (let n = 0; n < 4000 && b[0] !== 0; n++) {
      message = await signed(plainMessage({ subject: `Quarterly numbers ${n}` }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
      b = Buffer.from(/\bb=([^;]+)/.exec(message.slice(0, message.indexOf('\r\nFrom:')).replace(/\bbh=[^;]+;/, ''))![1]!.replace(/\s+/g, ''), 'base64');
    }
    expect(b[0]).toBe(0);
    const withB = (bytes: Buffer): string => message.replace(/\bb=[^;]+(?=\r\nFrom:)/, `b=${bytes.toString('base64')}`);
    const lookup = tableLookup({ [NAME]: rsa2048.txt });
    expect((await analyze(withB(b), lookup)).verdict.verdict).toBe('verified');
    for (const bytes of [b.subarray(1), Buffer.concat([Buffer.alloc(1), b])]) {
      const a = await analyze(withB(bytes), lookup);
      expect(a.verdict).toMatchObject({ verdict: 'verified', reasons: ['dkim-verified'] });
      expect(a.signatures[0]).toMatchObject({ outcome: 'pass', warnings: ['signature-length'] });
      expect(a.findings.find((f) => f.code === 'signature-read-leniently')?.text).toContain("its b= is not written at the key's length");
      const subject = await analyze(withB(bytes).replace('Subject: Quarterly', 'Subject: Revised'), lookup);
      expect(subject.signatures[0]).toMatchObject({ outcome: 'signature-mismatch', signedByKey: true });
      expect(subject.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-signature-mismatch'] });
      const body = await analyze(withB(bytes).replace('are attached', 'are fabricated'), lookup);
      expect(body.signatures[0]).toMatchObject({ outcome: 'body-modified', headerSignatureValid: true });
    }
    // two extra bytes that are not zeros are no number under the modulus: a failure, not a reading
    const padded = await analyze(withB(Buffer.concat([Buffer.from([1]), b])), lookup);
    expect(padded.signatures[0]!.outcome).toBe('signature-mismatch');
    expect(padded.signatures[0]!.warnings).not.toContain('signature-length');
  });

  // Red team 28, F-01: RFC 6376 section 3.6.1 asks that mail signed under a key in testing mode
  // be treated as unsigned "even should the signature fail to verify". mailauth looks up no key
  // for a body-hash failure, so the flag is read from the record leakcheck holds.
  it('a signature that fails under a key published with t=y is unverifiable (key-testing-failed), not suspicious; one that verifies still proves', async () => {
    const { message } = await genuine();
    const testingKey = tableLookup({ [NAME]: rsa2048.txt.replace('k=rsa;', 'k=rsa; t=y;') });
    const passing = await analyze(message, testingKey);
    expect(passing.verdict.verdict).toBe('verified');
    expect(passing.findings.map((f) => f.code)).toContain('key-testing-mode');
    for (const altered of [message.replace('are attached', 'are fabricated'), message.replace('Subject: Quarterly', 'Subject: Revised')]) {
      const a = await analyze(altered, testingKey);
      expect(a.signatures[0]!.testing).toBe(true);
      expect(a.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['key-testing-failed'] });
      expect(a.verdict.explanation).toContain('published that key in testing mode (t=y in its record)');
      // the same failure under the same key in production is tampering
      expect((await analyze(altered, tableLookup({ [NAME]: rsa2048.txt }))).verdict.verdict).toBe('suspicious');
    }
  });

  it('gives the same analysis for the same input twice', async () => {
    const { message } = await genuine();
    const first = await analyze(message, tableLookup({ [NAME]: rsa2048.txt }));
    const second = await analyze(message, tableLookup({ [NAME]: rsa2048.txt }));
    expect(second).toEqual(first);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });
});

describe('analyzeMessage: tampering', () => {
  it('a changed body under a genuine signature is suspicious, and the headers still verify', async () => {
    const { message, lookup } = await genuine();
    const tampered = message.replace('The numbers are attached', 'The numbers are fabricated');
    expect(tampered).not.toBe(message);
    const a = await analyze(tampered, lookup);
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
    const sig = a.signatures[0]!;
    expect(sig.outcome).toBe('body-modified');
    expect(sig.headerSignatureValid).toBe(true);
    expect(sig.key?.fingerprint).toBe(sha256(rsa2048.spki));
    expect(sig.keyLookup).toBe('found');
    expect(a.verdict.explanation).toContain('only the body was changed');
  });

  it('a changed body and a changed signed header: the header signature does not verify either', async () => {
    const { message, lookup } = await genuine();
    const tampered = message.replace('The numbers are attached', 'The numbers are fabricated').replace('Subject: Quarterly numbers', 'Subject: Wire transfer');
    const a = await analyze(tampered, lookup);
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
    expect(a.signatures[0]!.headerSignatureValid).toBe(false);
  });

  it('a changed Subject is a signature mismatch', async () => {
    const { message, lookup } = await genuine();
    const a = await analyze(message.replace('Subject: Quarterly numbers', 'Subject: Wire transfer'), lookup);
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-signature-mismatch']);
    expect(a.signatures[0]!.outcome).toBe('signature-mismatch');
    expect(a.signatures[0]!.result).toBe('fail');
    expect(a.meta.subject).toBe('Wire transfer');
  });

  it('a second From above the signed one is a header injection', async () => {
    const { message, lookup } = await genuine();
    const injected = `From: CEO <ceo@example.com>\r\n${message}`;
    const a = await analyze(injected, lookup);
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['header-injected']);
    const finding = a.findings.find((f) => f.code === 'header-injected');
    expect(finding).toMatchObject({ severity: 'red-flag', evidence: { header: 'from', present: 2, signed: 1, unsignedPositions: [0] } });
    expect(finding?.evidence['unsignedValues']).toEqual(['CEO <ceo@example.com>']);
    // what a mail program shows is the injected one
    expect(a.meta.fromAddress).toBe('ceo@example.com');
  });

  it('a second Received above a signed one is normal relaying, not suspicious', async () => {
    const base = plainMessage({ extraHeaders: ['Received: from mx1.example.com by mx2.example.com; Mon, 14 Mar 2016 09:26:51 +0000'] });
    const sigs = await signatureFor(base, {
      key: rsa2048,
      domain: 'example.com',
      selector: 'sel1',
      signTime: SIGN_TIME,
      headerList: 'From:To:Subject:Date:Message-ID:Received',
    });
    const relayed = `Received: from mx2.example.com by mx.example.org; Mon, 14 Mar 2016 09:26:55 +0000\r\n${sigs}${base}`;
    const a = await analyze(relayed, tableLookup({ [NAME]: rsa2048.txt }));
    expect(a.signatures[0]!.tags.signedHeaders).toContain('received');
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.reasons).toEqual(['dkim-verified']);
    expect(a.findings).toEqual([
      expect.objectContaining({ code: 'header-unsigned-instance', severity: 'info', evidence: expect.objectContaining({ header: 'received', present: 2, signed: 1 }) }),
    ]);
  });
});

describe('analyzeMessage: l= body length', () => {
  const body = 'Hi Bob,\r\n\r\nThe numbers are attached as promised.\r\n\r\nAlice\r\n';

  it('text appended after the signed length is suspicious', async () => {
    const message = await signed(plainMessage({ body }), {
      key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, maxBodyLength: Buffer.byteLength(body),
    });
    const appended = `${message}\r\nP.S. Please wire the money to account 12345.\r\n`;
    const a = await analyze(appended, tableLookup({ [NAME]: rsa2048.txt }));
    const sig = a.signatures[0]!;
    expect(sig.outcome).toBe('pass');
    expect(sig.tags.bodyLength).toBe(Buffer.byteLength(body));
    expect(sig.bodyBytesSigned).toBe(Buffer.byteLength(body));
    expect(sig.bodyBytesTotal).toBeGreaterThan(Buffer.byteLength(body));
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['body-content-after-l']);
    expect(a.verdict.provenBy).toEqual([]);
    expect(a.findings.find((f) => f.code === 'body-content-after-l')?.evidence).toMatchObject({
      l: Buffer.byteLength(body),
      signedBytes: Buffer.byteLength(body),
    });
  });

  // An application signs with l=, the outbound server appends its footer and signs the whole
  // body again: the footer is signed, by the From domain.
  it('content past l= that another signature by the From domain covers is not a red flag', async () => {
    const message = await signed(plainMessage({ body }), {
      key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, maxBodyLength: Buffer.byteLength(body),
    });
    const footed = `${message}--\r\nSent from the example.com gateway\r\n`;
    const outbound = await signatureFor(footed, { key: otherRsa2048, domain: 'example.com', selector: 'mta', signTime: SIGN_TIME });
    const keys = { [NAME]: rsa2048.txt, 'mta._domainkey.example.com': otherRsa2048.txt };
    const a = await analyze(outbound + footed, tableLookup(keys));
    expect(a.signatures.map((s) => s.outcome)).toEqual(['pass', 'pass']);
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.provenBy).toEqual([0]);
    expect(a.findings).toContainEqual(
      expect.objectContaining({ code: 'body-content-after-l', severity: 'info', evidence: expect.objectContaining({ coveredBy: '#1 d=example.com s=mta' }) }),
    );
    // a third party's whole-body signature does not cover it: anyone can append and sign
    const relayed = await signatureFor(footed, { key: otherRsa2048, domain: 'relay.example.net', selector: 'r', signTime: SIGN_TIME });
    const b = await analyze(relayed + footed, tableLookup({ ...keys, 'r._domainkey.relay.example.net': otherRsa2048.txt }));
    expect(b.verdict.verdict).toBe('suspicious');
    expect(b.verdict.reasons).toEqual(['body-content-after-l']);
  });

  it('an l= covering the whole body verifies', async () => {
    const message = await signed(plainMessage({ body }), {
      key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, maxBodyLength: Buffer.byteLength(body),
    });
    const a = await analyze(message, tableLookup({ [NAME]: rsa2048.txt }));
    expect(a.signatures[0]!.tags.bodyLength).toBe(Buffer.byteLength(body));
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.reasons).toEqual(['dkim-verified']);
    expect(a.findings).toEqual([]);
  });
});

describe('analyzeMessage: unverifiable', () => {
  it('a 512-bit key verifies but proves nothing', async () => {
    const message = await signed(plainMessage(), { key: rsa512, domain: 'example.com', selector: 'weak', signTime: SIGN_TIME });
    const a = await analyze(message, tableLookup({ 'weak._domainkey.example.com': rsa512.txt }));
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.signatures[0]!.key).toMatchObject({ bits: 512, strong: false, keyType: 'rsa' });
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['key-too-weak']);
    expect(a.verdict.provenBy).toEqual([]);
  });

  it('a revoked key (empty p=)', async () => {
    const { message } = await genuine();
    const a = await analyze(message, tableLookup({ [NAME]: 'v=DKIM1; k=rsa; p=' }));
    expect(a.signatures[0]!.outcome).toBe('key-revoked');
    expect(a.signatures[0]!.key?.revoked).toBe(true);
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['key-revoked']);
  });

  it('a key that cannot be found', async () => {
    const { message } = await genuine();
    const a = await analyze(message, tableLookup({}));
    expect(a.signatures[0]!.outcome).toBe('key-not-found');
    expect(a.signatures[0]!.keyLookup).toBe('absent');
    expect(a.signatures[0]!.key).toBeNull();
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['key-not-found']);
  });

  it('a changed body without the key cannot be judged', async () => {
    const { message } = await genuine();
    const tampered = message.replace('The numbers are attached', 'The numbers are fabricated');
    const a = await analyze(tampered, tableLookup({}));
    expect(a.signatures[0]!.outcome).toBe('body-modified');
    expect(a.signatures[0]!.keyLookup).toBe('absent');
    expect(a.signatures[0]!.headerSignatureValid).toBeNull();
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['body-hash-mismatch-key-unknown']);
  });

  it('a DNS error answer', async () => {
    const { message } = await genuine();
    const a = await analyze(message, tableLookup({ [NAME]: { status: 'error', name: NAME, code: 'ESERVFAIL', detail: 'server failure' } }));
    expect(a.signatures[0]!.outcome).toBe('dns-error');
    expect(a.signatures[0]!.keyLookup).toBe('error');
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['dns-error']);
  });

  it('an unsigned message', async () => {
    const lookup = tableLookup({});
    const a = await analyze(plainMessage(), lookup);
    expect(a.signatures).toEqual([]);
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['unsigned']);
    expect(lookup.calls).toEqual([]);
  });

  it('a signature verified only by a lenient reading of RFC 6376 says which, and stays verified', async () => {
    const base = plainMessage();
    const lookup = tableLookup({ [NAME]: rsa2048.txt });
    const t = Math.floor(SIGN_TIME.getTime() / 1000);
    const headers = ['from', 'to', 'subject', 'date'];
    const sign = (tags: string): string => handSignatureHeader(base, { privateKeyPem: rsa2048.privatePem, tags: `${tags}; h=${headers.join(':')}`, headers });
    const strict = await analyze(sign(`v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel1; t=${t}`) + base, lookup);
    expect(strict.verdict.reasons).toEqual(['dkim-verified']);
    expect(strict.findings.map((f) => f.code)).not.toContain('signature-read-leniently');

    // an i= outside d=, a query method that is not dns/txt, and no v= at all
    const a = await analyze(sign(`a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel1; t=${t}; i=alice@elsewhere.example; q=dns/other`) + base, lookup);
    expect(a.verdict.verdict).toBe('verified');
    const finding = a.findings.find((f) => f.code === 'signature-read-leniently');
    expect(finding).toMatchObject({ severity: 'warning', evidence: { signature: expect.stringContaining('example.com') } });
    expect([...(finding!.evidence['lenientReadings'] as string[])].sort()).toEqual(['identity-domain', 'missing-v', 'query-method']);
    expect(finding!.text).toMatch(/i= is not an address in the d= domain.*/);
    expect(finding!.text).toMatch(/no v= tag/);
    expect(finding!.text).toMatch(/no dns\/txt query method/);
  });

  // Red team 6, B-04: mailauth calls both rules identity-domain, and the t=s case was explained as an i= outside d=.
  it('an i= in a subdomain of d= under a key flagged t=s is explained as the t=s rule, not as an i= outside d=', async () => {
    const base = plainMessage();
    const t = Math.floor(SIGN_TIME.getTime() / 1000);
    const headers = ['from', 'to', 'subject', 'date'];
    const message = handSignatureHeader(base, {
      privateKeyPem: rsa2048.privatePem,
      tags: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel1; t=${t}; i=@mail.example.com; h=${headers.join(':')}`,
      headers,
    }) + base;
    for (const flags of ['s', 'y:s']) {
      const a = await analyze(message, tableLookup({ [NAME]: rsa2048.txt.replace('; p=', `; t=${flags}; p=`) }));
      expect(a.verdict.verdict).toBe('verified');
      const finding = a.findings.find((f) => f.code === 'signature-read-leniently');
      expect(finding!.evidence['lenientReadings']).toEqual(['identity-domain']);
      expect(finding!.text).toContain("its i= is in mail.example.com, a subdomain of d=, where its key record's flag t=s allows only the d= domain itself");
      expect(finding!.text).not.toMatch(/not an address in the d= domain/);
    }
    // the same i= under a key without t=s breaks no rule at all
    const plain = await analyze(message, tableLookup({ [NAME]: rsa2048.txt }));
    expect(plain.findings.map((f) => f.code)).not.toContain('signature-read-leniently');
  });

  it('a signature with no h= is never proof: mailauth verifies it against a header list of its own', async () => {
    const base = plainMessage();
    const lookup = tableLookup({ [NAME]: rsa2048.txt });
    const t = Math.floor(SIGN_TIME.getTime() / 1000);
    // mailauth's default list (tools.js), as far as this message has the fields, bottom-most first
    const defaults = ['from', 'subject', 'date', 'message-id', 'to', 'mime-version', 'content-type'];
    const present = defaults.filter((name) => new RegExp(`^${name}:`, 'im').test(base.slice(0, base.indexOf('\r\n\r\n'))));
    const sig = handSignatureHeader(base, { privateKeyPem: rsa2048.privatePem, tags: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel1; t=${t}`, headers: present });
    // with a From injected above the signed one, which mail programs would show
    // (there, two From fields: no certain author either, see src/verify/authors.ts)
    for (const [message, reasons] of [[sig + base, ['signature-malformed']], [`${sig}From: Mallory <ceo@example.com>\r\n${base}`, ['signature-not-aligned']]] as const) {
      const a = await analyze(message, lookup);
      expect(a.signatures[0]!.result).toBe('pass');
      expect(a.verdict.verdict).toBe('unverifiable');
      expect(a.verdict.reasons).toEqual(reasons);
      expect(a.findings.find((f) => f.code === 'signature-read-leniently')?.evidence['lenientReadings']).toEqual(['missing-h']);
    }
  });

  it('a signature whose h= leaves out From says nothing about the author', async () => {
    const base = plainMessage();
    const lookup = tableLookup({ [NAME]: rsa2048.txt });
    // the same hand-made signature with From in h= verifies, so the one without From is genuine
    const control = handSignature(base, { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, headers: ['from', 'to', 'subject', 'date'] });
    expect((await analyze(control + base, lookup)).verdict.reasons).toEqual(['dkim-verified']);

    const sig = handSignature(base, { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, headers: ['to', 'subject', 'date', 'message-id'] });
    const a = await analyze(sig + base, lookup);
    expect(a.signatures[0]!.tags.signedHeaders).toEqual(['to', 'subject', 'date', 'message-id']);
    expect(a.signatures[0]!.outcome).toBe('from-not-signed');
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['signature-not-covering-from']);
  });

  it('an algorithm DKIM does not define is listed, though mailauth leaves it out', async () => {
    const { message, lookup } = await genuine();
    const a = await analyze(message.replace('a=rsa-sha256', 'a=rsa-sha512'), lookup);
    expect(a.signatures).toHaveLength(1);
    expect(a.signatures[0]).toMatchObject({ outcome: 'unsupported-algorithm', key: null, keyLookup: 'not-needed' });
    expect(a.verdict.reasons).toEqual(['unsupported-algorithm']);
  });

  it('a signature without d= is malformed', async () => {
    const { message, lookup } = await genuine();
    const a = await analyze(message.replace('d=example.com;', ''), lookup);
    expect(a.signatures[0]).toMatchObject({ outcome: 'malformed', keyName: null });
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['signature-malformed']);
  });

  it('a key record that holds no key is invalid', async () => {
    const { message } = await genuine();
    const a = await analyze(message, tableLookup({ [NAME]: 'v=DKIM1; k=rsa; p=AAAA' }));
    expect(a.signatures[0]!.outcome).toBe('key-invalid');
    expect(a.verdict.reasons).toEqual(['key-invalid']);
  });

  it('an Ed25519 key published for an rsa-sha256 signature is invalid, not a mismatch', async () => {
    const { message } = await genuine();
    const a = await analyze(message, tableLookup({ [NAME]: ed.txt }));
    expect(a.signatures[0]!.outcome).toBe('key-invalid');
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['key-invalid']);
  });

  it('a message with no header fields is unparseable', async () => {
    const a = await analyze('\r\njust a body\r\n', tableLookup({}));
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['message-unparseable']);
  });

  // Red team W2, W2-01: every reader of a header makes strings of it, 8-10 bytes of memory a byte.
  it(`a header block of up to ${MAX_HEADER_BYTES} bytes is read; one byte more and the message is unparseable, its parts not read`, async () => {
    const { message, lookup } = await genuine();
    const end = message.indexOf('\r\n\r\n') + 2;
    const padded = (headerBytes: number): string => {
      const pad = headerBytes - (end + 2) - 'X-Pad: \r\n'.length;
      return `${message.slice(0, end)}X-Pad: ${'a'.repeat(pad)}\r\n${message.slice(end)}`;
    };
    const within = await analyze(padded(MAX_HEADER_BYTES), lookup);
    expect(within.verdict.reasons).toEqual(['dkim-verified']);
    const over = await analyze(padded(MAX_HEADER_BYTES + 1), lookup);
    expect(over.verdict.verdict).toBe('unverifiable');
    expect(over.verdict.reasons).toEqual(['message-unparseable']);
    expect(over.verdict.explanation).toContain(`header block is ${(MAX_HEADER_BYTES + 1).toLocaleString('en-US')} bytes, over the limit of ${MAX_HEADER_BYTES.toLocaleString('en-US')}`);
    expect(over.signatures).toEqual([]);
    expect(over.partsError).toContain('parts not read');
    // what the report shows of it is still read, from the part within the limit
    expect(over.meta.subject).toBeTruthy();
    expect(over.meta.subject).toBe(within.meta.subject);
    expect(over.sha256).toBe(sha256(Buffer.from(padded(MAX_HEADER_BYTES + 1), 'latin1')));
  });
});

describe('analyzeMessage: expiry is judged at the message time', () => {
  const HOUR = 3600_000;

  // Red team R, R-01: the signed Date is the author's clock, written before signing; a Date past
  // x= shows that clock was a day fast, not that the signature expired.
  it('x= already past at a signed Date, but not at t=, is not expired', async () => {
    const message = await signed(plainMessage({ date: 'Tue, 15 Mar 2016 09:26:50 +0000' }), {
      key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, expires: new Date(SIGN_TIME.getTime() + HOUR),
    });
    const a = await analyze(message, tableLookup({ [NAME]: rsa2048.txt }));
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.verdict.verdict).toBe('verified');
    expect(a.judgedAt).toBe(SIGN_TIME.toISOString());
  });

  // An unsigned Date is anyone's to edit: it must not decide whether a signature had expired.
  it('a Date the signature does not cover is not the time expiry is judged at: the signed t= is', async () => {
    const options = {
      key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, expires: new Date(SIGN_TIME.getTime() + HOUR), headerList: 'From:To:Subject:Message-ID',
    };
    const message = await signed(plainMessage({ date: 'Tue, 15 Mar 2016 09:26:50 +0000' }), options);
    const edited = message.replace('Tue, 15 Mar 2016 09:26:50 +0000', new Date(SIGN_TIME.getTime() + 60_000).toUTCString().replace('GMT', '+0000'));
    expect(edited).not.toBe(message);
    const [a, b] = [await analyze(message, tableLookup({ [NAME]: rsa2048.txt })), await analyze(edited, tableLookup({ [NAME]: rsa2048.txt }))];
    for (const x of [a, b]) {
      expect(x.judgedAtSource).toBe('signature-t');
      expect(x.judgedAt).toBe(SIGN_TIME.toISOString());
    }
    expect(a.signatures[0]!.outcome).toBe(b.signatures[0]!.outcome);
    expect(a.verdict.reasons).toEqual(b.verdict.reasons);
  });

  it('x= after the Date but years before today still verifies', async () => {
    const expires = new Date(SIGN_TIME.getTime() + 7 * 24 * HOUR);
    expect(expires.getTime()).toBeLessThan(Date.now());
    const message = await signed(plainMessage(), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, expires });
    const a = await analyze(message, tableLookup({ [NAME]: rsa2048.txt }));
    expect(a.signatures[0]!.tags.expiration).toBe(expires.getTime() / 1000);
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.verdict.verdict).toBe('verified');
  });

  it('without a Date, expiry is judged at the signature t=', async () => {
    const noDate = plainMessage().replace(`Date: ${DATE_HEADER}\r\n`, '');
    expect(noDate).not.toContain('Date:');
    const message = await signed(noDate, {
      key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, expires: new Date(SIGN_TIME.getTime() + HOUR),
    });
    const a = await analyze(message, tableLookup({ [NAME]: rsa2048.txt }));
    expect(a.judgedAtSource).toBe('signature-t');
    expect(a.judgedAt).toBe(SIGN_TIME.toISOString());
    expect(a.verdict.verdict).toBe('verified');
  });
  it('with neither a Date nor a t=, expiry is not judged, and a finding says so', async () => {
    const noDate = plainMessage().replace(`Date: ${DATE_HEADER}\r\n`, '');
    // a signing time before 1970 cannot be written as t=, so mailauth leaves t= out
    const message = await signed(noDate, {
      key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: new Date(-1000), expires: new Date('2016-03-15T00:00:00Z'),
    });
    const a = await analyze(message, tableLookup({ [NAME]: rsa2048.txt }));
    expect(a.signatures[0]!.tags.timestamp).toBeNull();
    expect(a.signatures[0]!.tags.expiration).toBe(Date.parse('2016-03-15T00:00:00Z') / 1000);
    expect(a.judgedAtSource).toBe('none');
    expect(a.judgedAt).toBeNull();
    expect(a.findings).toContainEqual(expect.objectContaining({ code: 'expiry-not-judged', severity: 'info' }));
    expect(a.verdict.verdict).toBe('verified');
  });
});

describe('analyzeMessage: repairs', () => {
  it('a copy stored with bare LF verifies after restoring CRLF, and keeps the sha256 of the bytes as found', async () => {
    const { message, lookup } = await genuine();
    const lf = Buffer.from(message.replace(/\r\n/g, '\n'), 'latin1');
    const a = await analyze(lf, lookup);
    expect(a.repairs).toEqual(['crlf']);
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.explanation).toContain('line endings restored to CRLF');
    expect(a.sha256).toBe(sha256(lf));
    expect(a.size).toBe(lf.length);
  });

  it('makes its CRLF copy of a bare-LF message in memory reused from message to message, and returns nothing of it', async () => {
    const forwarding = async (n: number): Promise<{ lf: Buffer; inner: string }> => {
      const inner = `From: Carol <carol@example.net>\r\nSubject: original ${n}\r\n\r\nSee figures ${n}.\r\n`;
      const filler = `Quarterly numbers ${n}, line after line of them, as a long message has.\r\n`.repeat(40_000);
      const body = ['--fwd', 'Content-Type: text/plain', '', filler, '--fwd', 'Content-Type: message/rfc822', '', inner, '--fwd--', ''].join('\r\n');
      const multipart = plainMessage({ body }).replace('Content-Type: text/plain; charset=us-ascii', 'Content-Type: multipart/mixed; boundary="fwd"');
      const message = await signed(multipart, { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
      return { lf: Buffer.from(message.replace(/\r\n/g, '\n'), 'latin1'), inner };
    };
    const lookup = tableLookup({ [NAME]: rsa2048.txt });
    const first = await forwarding(1);
    const second = await forwarding(2);
    expect(first.lf.length).toBeGreaterThan(2_000_000);
    const a = await analyze(first.lf, lookup);
    // the second copy goes where the first was: no new memory of its size
    const before = process.memoryUsage().arrayBuffers;
    const b = await analyze(second.lf, lookup);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(first.lf.length / 4);
    for (const [analysis, { inner }] of [[a, first], [b, second]] as const) {
      expect(analysis.repairs).toEqual(['crlf']);
      expect(analysis.verdict.verdict).toBe('verified');
      // the forwarded message was copied out of the repaired form, which the next message then overwrote
      expect(analysis.embedded.map((e) => e.raw?.toString('latin1'))).toEqual([inner]);
    }
  });

  it('a copy stored with classic Mac line ends (CR alone) verifies after restoring CRLF', async () => {
    const { message, lookup } = await genuine();
    const cr = Buffer.from(message.replace(/\r\n/g, '\r'), 'latin1');
    const a = await analyze(cr, lookup);
    expect(a.repairs).toEqual(['crlf']);
    expect(a.verdict.verdict).toBe('verified');
    expect(a.sha256).toBe(sha256(cr));
  });

  it('an mbox message whose signed body had a From line verifies after undoing >From quoting', async () => {
    const body = 'Hi Bob,\r\n\r\nFrom the desk of Alice: the numbers are attached.\r\n';
    const message = await signed(plainMessage({ body }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const stored = message.replace('\r\nFrom the desk', '\r\n>From the desk');
    expect(stored).not.toBe(message);
    const a = await analyze(stored, tableLookup({ [NAME]: rsa2048.txt }), 'mbox');
    expect(a.repairs).toEqual(['mboxrd-unquote']);
    expect(a.verdict.verdict).toBe('verified');
  });

  it('in an LF mbox both repairs are recorded', async () => {
    const body = 'Hi Bob,\r\n\r\nFrom the desk of Alice: the numbers are attached.\r\n';
    const message = await signed(plainMessage({ body }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const stored = message.replace('\r\nFrom the desk', '\r\n>From the desk').replace(/\r\n/g, '\n');
    const a = await analyze(stored, tableLookup({ [NAME]: rsa2048.txt }), 'mbox');
    expect(a.repairs).toEqual(['mboxrd-unquote', 'crlf']);
    expect(a.verdict.verdict).toBe('verified');
  });

  it('an original >From line (mboxo) still verifies, through the unrepaired form', async () => {
    const body = 'Hi Bob,\r\n\r\n>From the archive: the numbers are attached.\r\n';
    const message = await signed(plainMessage({ body }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const a = await analyze(message, tableLookup({ [NAME]: rsa2048.txt }), 'mbox');
    expect(a.repairs).toEqual([]);
    expect(a.verdict.verdict).toBe('verified');
  });

  it('a single .eml file cut from an mbox with its >From quoting left in is verified, and says so', async () => {
    const body = 'Hi Bob,\r\n\r\nFrom the desk of Alice: the numbers are attached.\r\n';
    const message = await signed(plainMessage({ body }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const stored = message.replace('\r\nFrom the desk', '\r\n>From the desk');
    const a = await analyze(stored, tableLookup({ [NAME]: rsa2048.txt }), 'eml');
    expect(a.repairs).toEqual(['mboxrd-unquote']);
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.explanation).toContain('mbox ">From " quoting undone');
  });

  it('a single .eml file with a >From line of its own is verified as found, with no repair', async () => {
    const body = 'Hi Bob,\r\n\r\n>From the archive: the numbers are attached.\r\n';
    const message = await signed(plainMessage({ body }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const a = await analyze(message, tableLookup({ [NAME]: rsa2048.txt }), 'eml');
    expect(a.repairs).toEqual([]);
    expect(a.verdict.verdict).toBe('verified');
  });

  it('an .eml whose >From line was added after signing is still body-modified: neither reading matches', async () => {
    const body = 'Hi Bob,\r\n\r\nThe numbers are attached.\r\n';
    const message = await signed(plainMessage({ body }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const stored = message.replace('The numbers are attached.', 'The numbers are attached.\r\n>From now on, wire the money to the new account.');
    const a = await analyze(stored, tableLookup({ [NAME]: rsa2048.txt }), 'eml');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
    expect(a.repairs).toEqual([]);
  });

  // An mboxo writer quotes "From " lines and leaves the author's own ">From " lines alone, so
  // neither "unquote every line" nor "unquote none" gives back what was signed.
  it('an mboxo message with both a quoted From line and a >From line of its own verifies, naming the lines', async () => {
    const body = 'Hi Bob,\r\n\r\n>From the archive: the numbers.\r\nFrom the desk of Alice.\r\n>From the archive again.\r\n';
    const message = await signed(plainMessage({ body }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const stored = message.replace('\r\nFrom the desk', '\r\n>From the desk');
    const storedLines = stored.split('\r\n');
    const deskLine = storedLines.findIndex((l) => l.startsWith('>From the desk')) + 1;
    const archiveLines = storedLines.flatMap((l, i) => (l.startsWith('>From the archive') ? [i + 1] : []));
    for (const format of ['mbox', 'eml'] as const) {
      const a = await analyze(stored, tableLookup({ [NAME]: rsa2048.txt }), format);
      expect(a.verdict.verdict, format).toBe('verified');
      expect(a.repairs).toEqual(['mbox-unquote-some']);
      expect(a.verdict.explanation).toContain('quoting undone on some lines only');
      const finding = a.findings.find((f) => f.code === 'mbox-quoting-mixed');
      expect(finding?.severity).toBe('info');
      expect(finding?.evidence).toEqual({ unquotedLines: [deskLine], keptLines: archiveLines });
      expect(finding?.text).toContain(`line ${deskLine} of the message as found`);
    }
  });

  it('no mix of the quoted lines excuses a changed body', async () => {
    const body = 'Hi Bob,\r\n\r\n>From the archive: the numbers.\r\nFrom the desk of Alice.\r\nTotal: 1,200.\r\n';
    const message = await signed(plainMessage({ body }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const stored = message.replace('\r\nFrom the desk', '\r\n>From the desk').replace('1,200', '9,200');
    const a = await analyze(stored, tableLookup({ [NAME]: rsa2048.txt }), 'mbox');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
    expect(a.findings.map((f) => f.code)).not.toContain('mbox-quoting-mixed');
  });

  it('past four quoted lines, the mixes are not tried', async () => {
    const own = '>From the archive.\r\n'.repeat(4);
    const body = `Hi Bob,\r\n\r\n${own}From the desk of Alice.\r\n`;
    const message = await signed(plainMessage({ body }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const stored = message.replace('\r\nFrom the desk', '\r\n>From the desk');
    const a = await analyze(stored, tableLookup({ [NAME]: rsa2048.txt }), 'mbox');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
    // one fewer of its own, and the mix is found
    const fewer = await signed(plainMessage({ body: body.replace('>From the archive.\r\n', '') }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const b = await analyze(fewer.replace('\r\nFrom the desk', '\r\n>From the desk'), tableLookup({ [NAME]: rsa2048.txt }), 'mbox');
    expect(b.verdict.verdict).toBe('verified');
    expect(b.repairs).toEqual(['mbox-unquote-some']);
  });

  it('an unsigned message records no repair', async () => {
    const a = await analyze(plainMessage().replace(/\r\n/g, '\n'), tableLookup({}));
    expect(a.repairs).toEqual([]);
  });

  // Red team BB, BB-05: every form is verified under every signature. Signatures anyone can add,
  // each failing under every form, took a genuine message past the analysis' time limit.
  describe('the search for a form is bounded by the work it takes (signatures x forms)', () => {
    /** `n` DKIM-Signature fields of example.com whose body hash fails, each over its own length (a body hash of its own) */
    const junkSignatures = (n: number, longest = 2 * 1024 * 1024): string =>
      Array.from({ length: n }, (_, i) => `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel1; t=${SIGN_TIME.getTime() / 1000}; l=${longest - i}; h=from; bh=${'A'.repeat(43)}=; b=${'A'.repeat(342)}==\r\n`).join('');
    const MB_OF_TEXT = `${'x'.repeat(76)}\r\n`.repeat(1024 * 1024 / 78);
    // as many as are checked with the genuine one (the rest would not be: MAX_SIGNATURES_CHECKED),
    // over a message large enough that they exceed the budget (64 passes, or 256 MB at least)
    const MANY = MAX_SIGNATURES_CHECKED - 1;
    const LARGE_TEXT = MB_OF_TEXT.repeat(6);
    const mixedQuoting = async (text = MB_OF_TEXT): Promise<string> => {
      const body = `Hi Bob,\r\n\r\n>From the archive: the numbers.\r\nFrom the desk of Alice.\r\n>From the archive again.\r\n${text}`;
      const message = await signed(plainMessage({ body }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
      return message.replace('\r\nFrom the desk', '\r\n>From the desk');
    };

    it('a genuine signature that verifies as found still proves the message, whatever was added on top', async () => {
      const body = `Hi Bob,\r\n\r\n>From the archive: the numbers.\r\n>From the archive again.\r\n${LARGE_TEXT}`;
      const message = await signed(plainMessage({ body }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
      const a = await analyze(junkSignatures(MANY, 8 * 1024 * 1024) + message, tableLookup({ [NAME]: rsa2048.txt }), 'eml');
      expect(a.verdict.verdict).toBe('verified');
      expect(a.signatures.filter((s) => s.outcome === 'pass')).toHaveLength(1);
      expect(a.findings.map((f) => f.code)).toContain('repairs-not-all-tried');
    });

    it('cut short before the form that verifies, a failing signature is no evidence: unverifiable, never suspicious', async () => {
      const stored = await mixedQuoting(LARGE_TEXT);
      // control: every form tried, the mix of quoted lines is found
      expect((await analyze(stored, tableLookup({ [NAME]: rsa2048.txt }), 'eml')).verdict.verdict).toBe('verified');
      const a = await analyze(junkSignatures(MANY, 8 * 1024 * 1024) + stored, tableLookup({ [NAME]: rsa2048.txt }), 'eml');
      expect(a.verdict.verdict).toBe('unverifiable');
      // (the junk signatures were not made by the key on record: key-not-signer)
      expect(a.verdict.reasons).toEqual(['key-not-signer', 'repairs-not-all-tried']);
      expect(a.findings.find((f) => f.code === 'repairs-not-all-tried')?.evidence).toEqual({ signatures: MANY + 1, passes: FORM_SEARCH_PASSES });
    });

    it('a few signatures still get every form, and many over a small message too', async () => {
      const a = await analyze(junkSignatures(2) + (await mixedQuoting()), tableLookup({ [NAME]: rsa2048.txt }), 'eml');
      expect(a.verdict.verdict).toBe('verified');
      expect(a.repairs).toEqual(['mbox-unquote-some']);
      expect(a.findings.map((f) => f.code)).not.toContain('repairs-not-all-tried');
      const small = await mixedQuoting('');
      expect(small.length).toBeLessThan(2000);
      const b = await analyze(junkSignatures(300) + small, tableLookup({ [NAME]: rsa2048.txt }), 'eml');
      expect(b.verdict.verdict).toBe('verified');
      expect(b.repairs).toEqual(['mbox-unquote-some']);
      expect(b.findings.map((f) => f.code)).not.toContain('repairs-not-all-tried');
    });
  });
});

describe('analyzeMessage: several signatures', () => {
  it("a third party's signature does not excuse a failed author signature: anyone can alter and re-sign", async () => {
    const original = await signed(plainMessage(), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    // the list rewrites the Subject, adds a footer and its own headers, then signs
    const [head, ...rest] = original.split('\r\n\r\n');
    const listed =
      `List-Id: <numbers.lists.example.net>\r\n${head!.replace('Subject: Quarterly numbers', 'Subject: [numbers] Quarterly numbers')}\r\n\r\n` +
      `${rest.join('\r\n\r\n')}--\r\nnumbers mailing list\r\n`;
    const listSig = await signatureFor(listed, {
      key: otherRsa2048, domain: 'lists.example.net', selector: 'list', signTime: new Date(SIGN_TIME.getTime() + 60_000),
    });
    const a = await analyze(
      listSig + listed,
      tableLookup({ [NAME]: rsa2048.txt, 'list._domainkey.lists.example.net': otherRsa2048.txt }),
    );
    expect(a.signatures.map((s) => [s.index, s.tags.domain, s.outcome])).toEqual([
      [0, 'lists.example.net', 'pass'],
      [1, 'example.com', 'body-modified'],
    ]);
    expect(a.signatures[0]!.aligned).toBe(false);
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
    expect(a.findings.map((f) => f.code)).not.toContain('dkim-fail-superseded');
  });

  it('the From domain re-signing after a change supersedes its own failed signature', async () => {
    const original = await signed(plainMessage(), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const [head, ...rest] = original.split('\r\n\r\n');
    const changed = `${head}\r\n\r\n${rest.join('\r\n\r\n')}--\r\nSent through the example.com gateway\r\n`;
    const gatewaySig = await signatureFor(changed, {
      key: otherRsa2048, domain: 'example.com', selector: 'gw', signTime: new Date(SIGN_TIME.getTime() + 60_000),
    });
    const a = await analyze(gatewaySig + changed, tableLookup({ [NAME]: rsa2048.txt, 'gw._domainkey.example.com': otherRsa2048.txt }));
    expect(a.signatures.map((s) => [s.index, s.tags.selector, s.outcome])).toEqual([
      [0, 'gw', 'pass'],
      [1, 'sel1', 'body-modified'],
    ]);
    expect(a.signatures[0]!.aligned).toBe(true);
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.reasons).toEqual(['dkim-verified']);
    expect(a.verdict.provenBy).toEqual([0]);
    expect(a.findings).toContainEqual(
      expect.objectContaining({ code: 'dkim-fail-superseded', severity: 'warning', evidence: expect.objectContaining({ explainedBy: '#1 d=example.com s=gw' }) }),
    );
  });

  it('a later signature that covers fewer headers does not excuse a failed one', async () => {
    const original = await signed(plainMessage(), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const changed = original.replace('The numbers are attached', 'The numbers are fabricated');
    const narrowSig = await signatureFor(changed, {
      key: otherRsa2048, domain: 'relay.example.net', selector: 'r', signTime: SIGN_TIME, headerList: 'From:Date',
    });
    const a = await analyze(narrowSig + changed, tableLookup({ [NAME]: rsa2048.txt, 'r._domainkey.relay.example.net': otherRsa2048.txt }));
    expect(a.signatures.map((s) => s.outcome)).toEqual(['pass', 'body-modified']);
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
    // the relay's signature passes, but it is not the From domain's: it proves nothing here
    expect(a.verdict.provenBy).toEqual([]);
  });
});

describe('analyzeMessage: ARC', () => {
  const LIST_SEALER = 'lists.example.net';
  /** on mailauth's trust list; the tests hold its key, as they hold every key */
  const WELL_KNOWN_SEALER = 'googlegroups.com';
  /** The author's message, changed by a list (Subject tag, footer) and ARC-sealed by it. */
  async function listCopy(
    sealerSaw: string,
    sealer = LIST_SEALER,
    { extraHeaders, ...author }: Pick<Parameters<typeof signed>[1], 'canonicalization' | 'headerList'> & { extraHeaders?: string[] } = {},
  ): Promise<string> {
    const original = await signed(plainMessage({ extraHeaders }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, ...author });
    const [head, ...rest] = original.split('\r\n\r\n');
    const listed =
      `List-Id: <numbers.lists.example.net>\r\n${head!.replace('Subject: Quarterly numbers', 'Subject: [numbers] Quarterly numbers')}\r\n\r\n` +
      `${rest.join('\r\n\r\n')}--\r\nnumbers mailing list\r\n`;
    const seal = await createSeal(Buffer.from(listed, 'latin1'), {
      seal: {
        signingDomain: sealer,
        selector: 'arc',
        privateKey: otherRsa2048.privatePem,
        cv: 'none',
        signTime: new Date(SIGN_TIME.getTime() + 60_000),
        authResults: `mx.lists.example.net; ${sealerSaw}`,
      },
    } as Parameters<typeof createSeal>[1]);
    expect(seal.errors).toEqual([]);
    return `${seal.headers.join('\r\n')}\r\n${listed}`;
  }
  const keys = (): ReturnType<typeof tableLookup> =>
    tableLookup({ [NAME]: rsa2048.txt, 'arc._domainkey.lists.example.net': otherRsa2048.txt, 'arc._domainkey.googlegroups.com': otherRsa2048.txt });

  it('a failure a well-known ARC sealer saw pass on arrival is explained, not suspicious; ARC alone does not verify', async () => {
    const a = await analyze(await listCopy('dkim=pass header.d=example.com header.s=sel1', WELL_KNOWN_SEALER), keys());
    expect(a.signatures[0]!.outcome).toBe('body-modified');
    expect(a.arc).toMatchObject({ result: 'pass', sealerSawDkim: [{ result: 'pass', domain: 'example.com' }] });
    expect(a.arc.instances).toEqual([expect.objectContaining({ i: 1, sealDomain: WELL_KNOWN_SEALER, cv: 'none', amsDomain: WELL_KNOWN_SEALER })]);
    expect(a.findings).toContainEqual(expect.objectContaining({ code: 'dkim-broken-by-intermediary', severity: 'info' }));
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toContain('arc-only');
  });

  // Red team 27, D-01 and D-02: Gmail and Microsoft 365 seal mail on delivery, recording that its
  // signature passed. What their seal leaves out may have changed after it: a Subject added on top
  // of one the author oversigned, a field the author signed and the seal does not (here an
  // X-Campaign), spaces added to a body signed as it was (simple).
  it("a failure a well-known sealer saw pass is not explained when its seal covers less than the signature", async () => {
    for (const author of [{ canonicalization: 'simple/simple' as const }, { headerList: 'from:to:subject:date:message-id:x-campaign', extraHeaders: ['X-Campaign: q1-numbers'] }]) {
      const a = await analyze(await listCopy('dkim=pass header.d=example.com header.s=sel1', WELL_KNOWN_SEALER, author), keys());
      expect(a.arc).toMatchObject({ result: 'pass', sealerSawDkim: [{ result: 'pass', domain: 'example.com' }] });
      expect(a.findings.map((f) => f.code), JSON.stringify(author)).not.toContain('dkim-broken-by-intermediary');
      expect(a.findings).toContainEqual(expect.objectContaining({ code: 'arc-seal-covers-less', severity: 'warning', evidence: expect.objectContaining({ sealer: WELL_KNOWN_SEALER }) }));
      expect(a.verdict.verdict).toBe('suspicious');
    }
  });

  // Red team 27, D-04: a well-known sealer that recorded the failure, and echoed a quoted envelope
  // sender that reads like a pass, did not see the signature pass
  it('a failure a well-known sealer recorded as failed is not explained by a pass it also seems to record', async () => {
    const recorded = 'dkim=fail header.d=example.com header.s=sel1; spf=pass smtp.mailfrom="x;dkim=pass header.d=example.com;"@attacker.example';
    const a = await analyze(await listCopy(recorded, WELL_KNOWN_SEALER), keys());
    expect(a.arc.result).toBe('pass');
    expect(a.arc.sealerSawDkim).toEqual([{ result: 'fail', domain: 'example.com', selector: 'sel1' }]);
    expect(a.findings.map((f) => f.code)).not.toContain('dkim-broken-by-intermediary');
    expect(a.verdict.verdict).toBe('suspicious');
    // a pass recorded for another selector of the domain does not explain this signature's failure either
    const other = await analyze(await listCopy('dkim=pass header.d=example.com header.s=other; dkim=fail header.d=example.com header.s=sel1', WELL_KNOWN_SEALER), keys());
    expect(other.verdict.verdict).toBe('suspicious');
  });

  // Anyone can seal a chain with keys of their own and have it say the signature passed: a
  // forger's own seal must not turn evidence of tampering into "no proof either way".
  it('a failure that a sealer outside the well-known list claims passed on arrival stays suspicious, and the claim is noted', async () => {
    const a = await analyze(await listCopy('dkim=pass header.d=example.com header.s=sel1'), keys());
    expect(a.arc).toMatchObject({ result: 'pass', sealerSawDkim: [{ result: 'pass', domain: 'example.com' }] });
    expect(a.findings.map((f) => f.code)).not.toContain('dkim-broken-by-intermediary');
    expect(a.findings).toContainEqual(
      expect.objectContaining({ code: 'arc-sealer-not-trusted', severity: 'warning', text: expect.stringMatching(/lists\.example\.net is not a well-known ARC sealer/) }),
    );
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
  });

  it('a forger who seals an altered message and signs it with a domain of their own gets suspicious, not verified', async () => {
    const listed = await listCopy('dkim=pass header.d=example.com header.s=sel1');
    const own = await signatureFor(listed, { key: otherRsa2048, domain: 'lists.example.net', selector: 'own', signTime: SIGN_TIME });
    const a = await analyze(own + listed, tableLookup({ [NAME]: rsa2048.txt, 'arc._domainkey.lists.example.net': otherRsa2048.txt, 'own._domainkey.lists.example.net': otherRsa2048.txt }));
    expect(a.signatures.map((s) => s.outcome)).toEqual(['pass', 'body-modified']);
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
  });

  // A newsroom that knows the list server a mailbox was subscribed through can vouch for it.
  const trusting = (sealers: string[]) => (message: string) =>
    analyzeMessage({ raw: Buffer.from(message, 'latin1'), format: 'eml' }, keys(), { trustedArcSealers: sealers });

  it('a sealer the user trusts (--trust-arc-sealer) explains a failure it saw pass, and the explanation says who vouched', async () => {
    const a = await trusting(['lists.example.net'])(await listCopy('dkim=pass header.d=example.com header.s=sel1'));
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.findings.map((f) => f.code)).not.toContain('arc-sealer-not-trusted');
    const explained = a.findings.find((f) => f.code === 'dkim-broken-by-intermediary');
    expect(explained).toMatchObject({ severity: 'info', evidence: { sealer: 'lists.example.net', wellKnownSealer: false, trustedBy: 'user' } });
    expect(explained!.text).toMatch(/trusted on this run's command line \(--trust-arc-sealer\)/);
    expect(a.verdict.explanation.startsWith(explained!.text)).toBe(true);
  });

  // Red team 27, D-03: the subscriber's mailbox provider seals list mail on delivery, on top of the
  // list's set, recording the failure the list's change made. The list's record still speaks, when
  // it is trusted and so is every sealer after it.
  it("a trusted list's record explains the failure under a trusted mailbox provider's seal on top, and only then", async () => {
    const sealedAgain = async (listed: string, by: string): Promise<string> => {
      const seal = await createSeal(Buffer.from(listed, 'latin1'), {
        seal: {
          signingDomain: by,
          selector: 'arc',
          privateKey: otherRsa2048.privatePem,
          cv: 'pass',
          signTime: new Date(SIGN_TIME.getTime() + 120_000),
          authResults: 'mx.google.com; dkim=neutral (body hash did not verify) header.d=example.com header.s=sel1; arc=pass (i=1 dkim=pass dkdomain=example.com)',
        },
      } as Parameters<typeof createSeal>[1]);
      expect(seal.errors).toEqual([]);
      return `${seal.headers.join('\r\n')}\r\n${listed}`;
    };
    const delivered = await sealedAgain(await listCopy('dkim=pass header.d=example.com header.s=sel1'), WELL_KNOWN_SEALER);
    const vouched = await trusting(['lists.example.net'])(delivered);
    expect(vouched.arc.instances.map((i) => i.sealDomain)).toEqual([LIST_SEALER, WELL_KNOWN_SEALER]);
    expect(vouched.verdict.verdict).toBe('unverifiable');
    expect(vouched.findings.find((f) => f.code === 'dkim-broken-by-intermediary')).toMatchObject({
      evidence: { sealer: LIST_SEALER, sealedAfterBy: [WELL_KNOWN_SEALER], trustedBy: 'user' },
    });
    // the list not vouched for: its record does not speak
    expect((await analyze(delivered, keys())).verdict.verdict).toBe('suspicious');
    // a sealer on top that is not trusted: nothing after it is taken on trust
    const overUntrusted = await sealedAgain(await listCopy('dkim=pass header.d=example.com header.s=sel1', WELL_KNOWN_SEALER), LIST_SEALER);
    expect((await analyze(overUntrusted, keys())).verdict.verdict).toBe('suspicious');
  });

  it('trusting a sealer changes nothing for a failure it did not see pass, or for another sealer', async () => {
    const sawFail = await trusting(['lists.example.net'])(await listCopy('dkim=fail header.d=example.com header.s=sel1'));
    expect(sawFail.verdict.verdict).toBe('suspicious');
    const other = await trusting(['other.example.org'])(await listCopy('dkim=pass header.d=example.com header.s=sel1'));
    expect(other.verdict.verdict).toBe('suspicious');
    expect(other.findings.find((f) => f.code === 'arc-sealer-not-trusted')!.text).toMatch(/name it with --trust-arc-sealer/);
  });

  it('a failure the ARC sealer did not see pass stays suspicious', async () => {
    const a = await analyze(await listCopy('dkim=fail header.d=example.com header.s=sel1'), keys());
    expect(a.arc.result).toBe('pass');
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
  });

  // Regression: a failure explained by ARC used to fall back to `signature-malformed` (decide.ts).
  it('a failure explained by ARC is not called a malformed signature', async () => {
    const a = await analyze(await listCopy('dkim=pass header.d=example.com header.s=sel1', WELL_KNOWN_SEALER), keys());
    expect(a.verdict.reasons).not.toContain('signature-malformed');
  });

  /** The list copy with its ARC-Seal replaced by a hand-signed one whose tag list is `tags`. */
  const resealed = async (tags: string): Promise<string> =>
    handResealed(await listCopy('dkim=pass header.d=example.com header.s=sel1', WELL_KNOWN_SEALER), { privateKeyPem: otherRsa2048.privatePem, tags });
  const sealTime = Math.floor(SIGN_TIME.getTime() / 1000) + 60;

  it('a hand-made seal with a valid tag list passes (the control for the cases below)', async () => {
    const a = await analyze(await resealed(`i=1; a=rsa-sha256; t=${sealTime}; cv=none; d=${WELL_KNOWN_SEALER}; s=arc`), keys());
    expect(a.arc.result).toBe('pass');
    expect(a.findings.map((f) => f.code)).toContain('dkim-broken-by-intermediary');
    expect(a.verdict.verdict).toBe('unverifiable');
  });

  it('a chain whose ARC-Message-Signature has no c= passes only as relaxed/relaxed, and says so', async () => {
    const original = await signed(plainMessage(), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const aar = 'ARC-Authentication-Results: i=1; mx.lists.example.net; dkim=pass header.d=example.com header.s=sel1\r\n';
    const headers = ['from', 'to', 'subject', 'date'];
    const setWith = (c: string): string => {
      const ams = handSignatureHeader(original, {
        privateKeyPem: otherRsa2048.privatePem, headers, fieldName: 'ARC-Message-Signature',
        tags: `i=1; a=rsa-sha256; ${c}d=lists.example.net; s=arc; t=${sealTime}; h=${headers.join(':')}`,
      });
      return handResealed(aar + ams + original, { privateKeyPem: otherRsa2048.privatePem, tags: `i=1; a=rsa-sha256; t=${sealTime}; cv=none; d=lists.example.net; s=arc` });
    };
    const declared = await analyze(setWith('c=relaxed/relaxed; '), keys());
    expect(declared.arc.result).toBe('pass');
    expect(declared.arc.reason).not.toMatch(/ams-c-default/);
    const implied = await analyze(setWith(''), keys());
    expect(implied.arc.result).toBe('pass');
    expect(implied.arc.reason).toMatch(/no c= and verifies only as relaxed\/relaxed.*\(ams-c-default\)/);
  });

  // mailauth's lenient mode validates these chains; RFC 6376 section 3.2 makes each tag list
  // invalid, and an invalid chain must not explain away a failed signature.
  it.each([
    ['a repeated tag', `i=1; a=rsa-sha256; t=${sealTime}; cv=none; d=${WELL_KNOWN_SEALER}; s=arc; s=arc`],
    ['a tag name in upper case', `i=1; a=rsa-sha256; t=${sealTime}; cv=none; d=${WELL_KNOWN_SEALER}; S=arc`],
    ['an empty tag', `i=1; a=rsa-sha256; t=${sealTime}; cv=none; d=${WELL_KNOWN_SEALER}; s=arc;; x=1`],
    ['a tag name that is not a name', `i=1; a=rsa-sha256; t=${sealTime}; cv=none; d=${WELL_KNOWN_SEALER}; s=arc; _=`],
  ])('a seal with %s fails the chain, and the failed signature stays suspicious', async (_what, tags) => {
    const a = await analyze(await resealed(tags), keys());
    expect(a.arc.result).toBe('fail');
    expect(a.arc.reason).toMatch(/arc-tag-syntax.*RFC 8617 rejects/);
    expect(a.arc.instances).toEqual([expect.objectContaining({ i: 1, sealDomain: WELL_KNOWN_SEALER })]);
    expect(a.findings.map((f) => f.code)).not.toContain('dkim-broken-by-intermediary');
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
  });
});

/**
 * Messages a mail program shows with a sender or text the signature does not cover, found by
 * trying to forge a verified message (docs/checks.md, "How header fields are counted"). Each
 * came out verified before. The signature is checked to still verify, so that each test shows
 * the checks, not a broken signature, catching the change.
 */
describe('analyzeMessage: what the reader sees', () => {
  const lookup = (): ReturnType<typeof tableLookup> => tableLookup({ [NAME]: rsa2048.txt });
  const insertAbove = (message: string, field: string, lines: string): string => message.replace(`\r\n${field}:`, `\r\n${lines}${field}:`);

  it.each([
    ['a From folded between its name and the colon', 'From\r\n : Mallory <ceo@evil.example>\r\n'],
    // below an unsigned header: right under the DKIM-Signature, mailauth reads the line as part of it
    ['a From with a vertical tab before the colon', 'X-Mailer: x\r\nFrom\x0b: Mallory <ceo@evil.example>\r\n'],
  ])('%s, added above the signed From, is an injected From', async (_what, injected) => {
    const { message } = await genuine();
    const a = await analyze(insertAbove(message, 'From', injected), lookup());
    expect(a.signatures[0]!.result).toBe('pass');
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toContain('header-injected');
    expect(a.meta.fromAddress).toBe('ceo@evil.example');
  });

  it('a first header line indented with a space is a field, and an injected From', async () => {
    const { message } = await genuine();
    const a = await analyze(` From: Mallory <ceo@evil.example>\r\n${message}`, lookup());
    expect(a.signatures[0]!.result).toBe('pass');
    expect(a.verdict.reasons).toContain('header-injected');
  });

  it('a bare CR in an unsigned header is a red flag (Python reads the From after it)', async () => {
    const { message } = await genuine();
    const a = await analyze(`X-Note: a\rFrom: Mallory <ceo@evil.example>\r\n${message}`, lookup());
    expect(a.signatures[0]!.result).toBe('pass');
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(expect.arrayContaining(['header-bare-cr', 'header-injected']));
  });

  it('a second Content-Type, where no signature covers Content-Type, is a red flag; one is not', async () => {
    const inner = 'Content-Type: text/plain\r\n\r\nBob, wire the money to Mallory.\r\n';
    const body = `--FWD\r\nContent-Type: text/plain\r\n\r\nForwarding this.\r\n--FWD\r\nContent-Type: message/rfc822\r\n\r\nFrom: m@evil.example\r\nContent-Type: multipart/mixed; boundary="EVIL"\r\n\r\n--EVIL\r\n${inner}--EVIL--\r\n--FWD--\r\n`;
    const base = plainMessage({ body }).replace('Content-Type: text/plain; charset=us-ascii', 'Content-Type: multipart/mixed; boundary="FWD"');
    // signed as Gmail signs: no Content-Type in h=
    const sig = handSignature(base, { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, headers: ['mime-version', 'from', 'date', 'message-id', 'subject', 'to'] });
    expect((await analyze(sig + base, lookup())).verdict.verdict).toBe('verified');
    const a = await analyze(insertAbove(sig + base, 'From', 'Content-Type: multipart/mixed; boundary="EVIL"\r\n'), lookup());
    expect(a.signatures[0]!.result).toBe('pass');
    expect(a.verdict.verdict).toBe('suspicious');
    // the first Content-Type, the one added, also names a boundary the body does not start with
    expect(a.verdict.reasons).toEqual(['content-header-ambiguous', 'boundary-not-the-body']);
  });

  it('a Content-Type replaced, where no signature covers it, with one naming an inner boundary is a red flag', async () => {
    const inner = 'Content-Type: text/plain\r\n\r\nBob, wire the money to Mallory.\r\n';
    const body = `This is a multi-part message in MIME format.\r\n--FWD\r\nContent-Type: text/plain\r\n\r\nForwarding this.\r\n--FWD\r\nContent-Type: message/rfc822\r\n\r\nFrom: m@evil.example\r\nContent-Type: multipart/mixed; boundary="EVIL"\r\n\r\n--EVIL\r\n${inner}--EVIL--\r\n--FWD--\r\n`;
    const base = plainMessage({ body }).replace('Content-Type: text/plain; charset=us-ascii', 'Content-Type: multipart/mixed; boundary="FWD"');
    const sig = handSignature(base, { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, headers: ['mime-version', 'from', 'date', 'message-id', 'subject', 'to'] });
    // the genuine message, with a preamble and a multipart nested in a part, raises nothing
    const genuineCopy = await analyze(sig + base, lookup());
    expect(genuineCopy.verdict.verdict).toBe('verified');
    expect(genuineCopy.findings.map((f) => f.code)).not.toContain('boundary-not-the-body');
    for (const replaced of ['multipart/mixed; boundary="EVIL"', 'multipart/mixed; boundary=NOWHERE']) {
      const a = await analyze(sig + base.replace('multipart/mixed; boundary="FWD"', replaced), lookup());
      expect(a.signatures[0]!.result, replaced).toBe('pass');
      expect(a.verdict.reasons, replaced).toEqual(['boundary-not-the-body']);
      expect(a.findings.find((f) => f.code === 'boundary-not-the-body')?.evidence, replaced).toMatchObject({ delimiterFound: '--FWD' });
    }
  });

  it("a blank line ending a part's headers turned into a space hides signed text: a red flag under a relaxed signature", async () => {
    const body = '--OUTER\r\nContent-Type: text/plain\r\n\r\nI approve the transfer.\r\n--OUTER\r\nContent-Type: text/plain\r\n\r\nCONDITION: only after the audit clears.\r\n--OUTER--\r\n';
    const base = plainMessage({ body }).replace('Content-Type: text/plain; charset=us-ascii', 'Content-Type: multipart/mixed; boundary="OUTER"');
    const message = await signed(base, { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    expect((await analyze(message, lookup())).verdict.verdict).toBe('verified');
    const hidden = message.replace('text/plain\r\n\r\nCONDITION', 'text/plain\r\n \r\nCONDITION');
    const a = await analyze(hidden, lookup());
    expect(a.signatures[0]!.result).toBe('pass');
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['part-header-end-ambiguous']);
  });

  it('an unsigned Sender is named among the visible headers no signature covers', async () => {
    const { message } = await genuine();
    const a = await analyze(`Sender: Mallory <m@evil.example>\r\n${message}`, lookup());
    expect(a.verdict.verdict).toBe('verified');
    expect(a.findings.find((f) => f.code === 'visible-headers-unsigned')?.evidence['headers']).toContain('Sender');
  });
});

describe('analyzeMessage: regressions', () => {
  // Regression: when no repaired form verified, the first one tried was kept even if it manufactured a mismatch.
  it('an mboxo message with an original >From line and an expired signature is not suspicious', async () => {
    const body = 'Hi Bob,\r\n\r\n>From the archive: the numbers are attached.\r\n';
    // x= before t=: expired whatever the time
    const message = await signed(plainMessage({ body }), {
      key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, expires: new Date(SIGN_TIME.getTime() - 1000),
    });
    // as a single file, the signature is simply expired
    expect((await analyze(message, tableLookup({ [NAME]: rsa2048.txt }), 'eml')).verdict.reasons).toEqual(['signature-expired']);
    const a = await analyze(message, tableLookup({ [NAME]: rsa2048.txt }), 'mbox');
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['signature-expired']);
    expect(a.repairs).toEqual([]);
  });

  // Same cause: with the key gone, the reason given is a body-hash mismatch that only the
  // repair created, instead of key-not-found.
  it('an mboxo message with an original >From line and no key is key-not-found', async () => {
    const body = 'Hi Bob,\r\n\r\n>From the archive: the numbers are attached.\r\n';
    const message = await signed(plainMessage({ body }), { key: rsa2048, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const a = await analyze(message, tableLookup({}), 'mbox');
    expect(a.verdict.reasons).toEqual(['key-not-found']);
    expect(a.repairs).toEqual([]);
  });

  // Regression: for a changed body, only the first candidate key was used to check the header signature.
  it('for a changed body, the header signature is checked against every candidate key', async () => {
    const { message } = await genuine();
    const tampered = message.replace('The numbers are attached', 'The numbers are fabricated');
    const a = await analyze(tampered, tableLookup({ [NAME]: [otherRsa2048.txt, rsa2048.txt] }));
    expect(a.signatures[0]!.outcome).toBe('body-modified');
    expect(a.signatures[0]!.headerSignatureValid).toBe(true);
    expect(a.signatures[0]!.key?.fingerprint).toBe(sha256(rsa2048.spki));
  });
});
