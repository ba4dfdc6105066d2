/**
 * Malformed DKIM-Signature tag lists, written by an attacker rather than by a broken signer.
 * RFC 6376 section 3.2: a tag list with a duplicate tag name is invalid as a whole; section 3.5:
 * l= is 1*76DIGIT. Where leakcheck's own reading of the tags (src/verify/signature-tags.ts)
 * and mailauth's differ, the verdict can describe a signature other than the one that was
 * checked; these tests pin down that no such difference yields "verified" or a record that
 * names a key that did not make the signature.
 *
 * The attacker here owns evil.example and publishes a key for it (in live DNS, which a run
 * without --offline asks; here, a lookup table that also holds the genuine demo keys).
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { offlineFileLookup } from '../../src/keys/key-lookup.ts';
import type { KeyAnswer, KeyLookup } from '../../src/keys/types.ts';
import { DEMO_KEYS } from '../helpers/cli.ts';
import { demoMessage, demoPrivateKey, handSign } from './sign.ts';

const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ATTACKER_PEM = attacker.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const ATTACKER_TXT = `v=DKIM1; k=rsa; p=${attacker.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
const demoKeys = offlineFileLookup(DEMO_KEYS);
const lookup: KeyLookup = async (name): Promise<KeyAnswer> =>
  name.toLowerCase() === 's2048._domainkey.evil.example'
    ? { status: 'found', name, records: [{ txt: ATTACKER_TXT, source: 'dns', origin: 'attacker-controlled DNS' }] }
    : demoKeys(name);

const SIGNED = ['from', 'to', 'subject', 'date', 'message-id'];
const HEAD = 'v=1; a=rsa-sha256; c=relaxed/relaxed';
const analyze = (text: string): Promise<MessageAnalysis> => analyzeMessage({ raw: Buffer.from(text, 'latin1'), format: 'eml' }, lookup);
const summary = (a: MessageAnalysis): string =>
  `${a.verdict.verdict} (${a.verdict.reasons.join(', ')}); signature: ${JSON.stringify(a.signatures.map((s) => ({ outcome: s.outcome, d: s.tags.domain, key: s.keyName, origin: s.key?.origin, signed: s.bodyBytesSigned, total: s.bodyBytesTotal })))}`;

describe('DKIM tag lists built to mislead', () => {
  it('control: the hand signer makes a signature that verifies', async () => {
    const genuine = handSign(demoMessage({ id: 'control' }), { privateKeyPem: demoPrivateKey(), tags: `${HEAD}; d=demo.example; s=s2048; h=${SIGNED.join(':')}`, headers: SIGNED });
    const a = await analyze(genuine);
    expect(a.verdict.verdict, summary(a)).toBe('verified');
  });

  it('control: the attacker\'s own-domain signature is checked with the attacker\'s key and said to be not aligned', async () => {
    const own = handSign(demoMessage({ id: 'own-domain' }), { privateKeyPem: ATTACKER_PEM, tags: `${HEAD}; d=evil.example; s=s2048; h=${SIGNED.join(':')}`, headers: SIGNED });
    const a = await analyze(own);
    // docs/verdicts.md: a passing third-party signature counts, and is recorded as not aligned
    expect(a.signatures[0]).toMatchObject({ outcome: 'pass', aligned: false, keyName: 's2048._domainkey.evil.example' });
    expect(a.signatures[0]?.key?.origin).toBe('attacker-controlled DNS');
  });

  it('a second d= does not make the record name demo.example and its genuine key for a signature made with the attacker\'s key', async () => {
    const forged = handSign(demoMessage({ id: 'dup-d' }), {
      privateKeyPem: ATTACKER_PEM,
      tags: `${HEAD}; d=demo.example; s=s2048; d=evil.example; h=${SIGNED.join(':')}`,
      headers: SIGNED,
    });
    const a = await analyze(forged);
    const sig = a.signatures[0]!;
    // Whatever the verdict, the record must not attribute the signature to a key that did not make it.
    if (sig.outcome === 'pass') expect(sig.key?.origin, `forged message judged ${summary(a)}`).toBe('attacker-controlled DNS');
    // RFC 6376 3.2: the tag list is invalid, so this is no proof at all.
    expect(a.verdict.verdict, `forged message judged ${summary(a)}`).not.toBe('verified');
  });

  it.each([
    ['d=', 'd=demo.example'],
    ['s=', 's=s2048'],
    ['a=', 'a=rsa-sha256'],
  ])('a tag list repeating %s (same value) is invalid, never proof', async (_, repeat) => {
    const text = handSign(demoMessage({ id: `dup-${repeat.slice(0, 1)}` }), {
      privateKeyPem: demoPrivateKey(),
      tags: `${HEAD}; d=demo.example; s=s2048; h=${SIGNED.join(':')}; ${repeat}`,
      headers: SIGNED,
    });
    const a = await analyze(text);
    expect(a.verdict.verdict, summary(a)).not.toBe('verified');
  });

  // Red team P, P-08: the signer wrote c= twice, meant the first, and mailauth hashed with the
  // last. The failure is the tag list's, not evidence that the message was changed: dkimpy
  // rejects the list before hashing, as RFC 6376 section 3.2 says.
  it('a tag list repeating c= with another value is malformed (unverifiable), not tampering', async () => {
    const text = handSign(demoMessage({ id: 'dup-c-other' }), {
      privateKeyPem: demoPrivateKey(),
      tags: `${HEAD}; d=demo.example; s=s2048; h=${SIGNED.join(':')}; c=simple/simple`,
      headers: SIGNED,
    });
    const a = await analyze(text);
    expect(a.signatures[0]?.result, summary(a)).toBe('fail'); // mailauth hashed it as simple/simple
    expect(a.signatures[0]?.outcome, summary(a)).toBe('malformed');
    expect(a.verdict.verdict, summary(a)).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['signature-malformed']);
    expect(a.verdict.explanation).toContain('gives c= more than once, which makes the whole tag list invalid; read anyway, one way of several, it does not verify either');
    expect(a.verdict.explanation).toContain('mailauth: fail (bad signature)');
  });

  // Red team U, U-03: a genuine message whose file was cut inside its DKIM-Signature (a failed
  // copy, a carved file) read as a body-hash failure under the key: "suspicious", the body
  // "changed". A signature without a tag RFC 6376 section 3.5 requires is no signature.
  it('a genuine file cut inside its DKIM-Signature (no b=, half a bh=) is malformed, not tampering', async () => {
    const genuine = handSign(demoMessage({ id: 'cut-inside' }), { privateKeyPem: demoPrivateKey(), tags: `${HEAD}; d=demo.example; s=s2048; h=${SIGNED.join(':')}`, headers: SIGNED });
    expect((await analyze(genuine)).verdict.verdict).toBe('verified');
    const bh = genuine.indexOf('bh=');
    const a = await analyze(genuine.slice(0, bh + 30));
    expect(a.signatures[0]?.outcome, summary(a)).toBe('malformed');
    expect(a.signatures[0]?.comment).toContain('no b=, bh= of');
    expect(a.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['signature-malformed'] });
  });

  it.each([
    ['no bh=', (sig: string) => sig.replace(/bh=[^;]+;\s*/, '')],
    ['bh= cut short', (sig: string) => sig.replace(/bh=([A-Za-z0-9+/]{20})[A-Za-z0-9+/=]+/, 'bh=$1')],
  ])('a signature with %s over an edited body is malformed (unverifiable), not evidence', async (_, damage) => {
    const genuine = handSign(demoMessage({ id: 'no-bh' }), { privateKeyPem: demoPrivateKey(), tags: `${HEAD}; d=demo.example; s=s2048; h=${SIGNED.join(':')}`, headers: SIGNED });
    const a = await analyze(damage(genuine).replace('see you on Friday', 'see you on Monday'));
    expect(a.signatures[0]?.outcome, summary(a)).toBe('malformed');
    expect(a.verdict.verdict, summary(a)).toBe('unverifiable');
  });

  it.each(['0x10', '1e1', '16.0', '+16', '16e0'])('l=%s (not 1*76DIGIT, yet a number to mailauth) with text appended is never verified', async (l) => {
    const body = demoMessage({ id: `l-${l}` });
    const signed = handSign(body, { privateKeyPem: demoPrivateKey(), tags: `${HEAD}; d=demo.example; s=s2048; l=${l}; h=${SIGNED.join(':')}`, headers: SIGNED, bodyLength: Number(l) });
    const a = await analyze(`${signed}PLEASE WIRE THE RETAINER TO ACCOUNT 666 INSTEAD.\r\n`);
    expect(a.verdict.verdict, `appended text judged ${summary(a)}`).not.toBe('verified');
  });

  it('control: l=16 (valid) with text appended is suspicious (content after l=)', async () => {
    const signed = handSign(demoMessage({ id: 'l-valid' }), { privateKeyPem: demoPrivateKey(), tags: `${HEAD}; d=demo.example; s=s2048; l=16; h=${SIGNED.join(':')}`, headers: SIGNED, bodyLength: 16 });
    const a = await analyze(`${signed}PLEASE WIRE THE RETAINER TO ACCOUNT 666 INSTEAD.\r\n`);
    expect(a.verdict.verdict, summary(a)).toBe('suspicious');
  });

  it.each(['99999999999999999999', '9'.repeat(76)])('an absurd l=%s is handled: no throw, and a verified message has its whole body signed', async (l) => {
    const signed = handSign(demoMessage({ id: `l-absurd-${l.length}` }), { privateKeyPem: demoPrivateKey(), tags: `${HEAD}; d=demo.example; s=s2048; l=${l}; h=${SIGNED.join(':')}`, headers: SIGNED });
    const a = await analyze(signed);
    expect(['verified', 'unverifiable', 'suspicious']).toContain(a.verdict.verdict);
    if (a.verdict.verdict === 'verified') {
      for (const index of a.verdict.provenBy) expect(a.signatures[index]!.bodyBytesSigned).toBe(a.signatures[index]!.bodyBytesTotal);
    }
  });
});

// Red team, round 4: mailauth's results were paired with the signature fields by b= alone. A
// decoy copy of the genuine signature (same b=, one tag mailauth skips), put above it together
// with an injected Subject, took the genuine "pass", and the checks read the decoy's h=, which
// claims Subject twice: the injected Subject passed as signed.
describe('a decoy copy of a genuine signature', () => {
  const genuine = (): string =>
    handSign(demoMessage({ id: 'decoy' }), { privateKeyPem: demoPrivateKey(), tags: `${HEAD}; d=demo.example; s=s2048; h=${SIGNED.join(':')}`, headers: SIGNED });
  const INJECTED = 'Subject: URGENT: wire the money today';
  /** the genuine message with the injected Subject on top, and above it the genuine signature changed by `edit`, its b= kept */
  const withDecoy = (edit: (field: string) => string, nameSuffix = ''): string => {
    const message = genuine();
    const signature = message.slice(0, message.indexOf('\r\nFrom:'));
    const decoy = edit(signature.replace(/h=[^;]*/, 'h=from:to:subject:subject:date:message-id')).replace(/^DKIM-Signature:/, `DKIM-Signature${nameSuffix}:`);
    return `X-Mailer: x\r\n${decoy}\r\n${INJECTED}\r\n${message}`;
  };

  it.each([
    ['an algorithm mailauth does not know', (f: string) => f.replace('a=rsa-sha256', 'a=rsa-sha512'), ''],
    ['a canonicalization mailauth does not know', (f: string) => f.replace('c=relaxed/relaxed', 'c=bogus/relaxed'), ''],
    ['no d=', (f: string) => f.replace('d=demo.example; ', ''), ''],
    ['no s=', (f: string) => f.replace('s=s2048; ', ''), ''],
    ['a no-break space after its name, which mailauth does not read as a field', (f: string) => f, '\u00a0'],
  ])('with %s: the genuine signature keeps its result, and the injected Subject is found', async (_, edit, suffix) => {
    const a = await analyze(withDecoy(edit, suffix));
    const passing = a.signatures.filter((s) => s.outcome === 'pass');
    expect(passing, summary(a)).toHaveLength(1);
    expect(passing[0]!.tags.signedHeaders, summary(a)).toEqual(SIGNED);
    expect(a.verdict.verdict, summary(a)).toBe('suspicious');
    expect(a.verdict.reasons).toContain('header-injected');
  });
});

// Red team, round 4 (01, 04): mailauth aligns a signature with the first mailbox of the first
// From field, as its parser reads it. A forger signing with a domain of their own named the CEO
// as well, or wrote a From that parsers read differently: verified, "by the From domain".
describe('a From field that names more than the signer', () => {
  const fromVariants: Array<[string, string[]]> = [
    ['two mailboxes', ['From: Assistant <assistant@evil.example>, CEO <ceo@demo.example>']],
    ['two From fields, both signed', ['From: Assistant <assistant@evil.example>', 'From: CEO <ceo@demo.example>']],
    ['a group', ['From: Board: assistant@evil.example, CEO <ceo@demo.example>;']],
    ['nested angle brackets', ['From: <ceo@demo.example <assistant@evil.example>>']],
    ['two addresses joined by a colon', ['From: ceo@demo.example:assistant@evil.example']],
    ['an unclosed angle bracket', ['From: CEO ceo@demo.example <assistant@evil.example']],
  ];
  const forged = (fromFields: string[]): string => {
    const body = demoMessage({ id: 'authors' }).replace(/^From: [^\r]*\r\n/, `${fromFields.join('\r\n')}\r\n`);
    const signed = [...fromFields.map(() => 'from'), ...SIGNED.filter((h) => h !== 'from')];
    return handSign(body, { privateKeyPem: ATTACKER_PEM, tags: `${HEAD}; d=evil.example; s=s2048; h=${signed.join(':')}`, headers: signed });
  };

  it('control: the forger signing for its own address alone is aligned, and verified', async () => {
    const a = await analyze(forged(['From: Assistant <assistant@evil.example>']));
    expect(a.verdict.verdict, summary(a)).toBe('verified');
  });

  it.each(fromVariants)('%s: the signature speaks for no certain author, and the message is not verified', async (_, fromFields) => {
    const a = await analyze(forged(fromFields));
    expect(a.signatures[0]).toMatchObject({ outcome: 'pass', aligned: false });
    expect(a.verdict.verdict, summary(a)).toBe('unverifiable');
    expect(a.verdict.reasons).toContain('signature-not-aligned');
    const finding = a.findings.find((f) => f.code === 'author-not-proven');
    expect(finding, summary(a)).toMatchObject({ severity: 'warning' });
    expect(a.verdict.explanation).toContain(finding!.text);
  });

  it('a From with two addresses of the signing organisation stays verified', async () => {
    const own = handSign(demoMessage({ id: 'two-own' }).replace(/^From: [^\r]*/, 'From: Alice <alice@demo.example>, Bob <bob@mail.demo.example>'), {
      privateKeyPem: demoPrivateKey(),
      tags: `${HEAD}; d=demo.example; s=s2048; h=${SIGNED.join(':')}`,
      headers: SIGNED,
    });
    const a = await analyze(own);
    expect(a.verdict.verdict, summary(a)).toBe('verified');
  });
});

