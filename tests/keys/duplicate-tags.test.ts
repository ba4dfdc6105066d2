/**
 * The key leakcheck measures (type, bits, fingerprint, the compromised list) must be the key the
 * signature verified with. A key record that repeats a tag is invalid as a whole (RFC 6376
 * section 3.2); read leniently, it is two keys in one record, and mailauth verifies with the last
 * p= where a reader of the first sees another key. Red-team finding 05.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { createKeyLookup } from '../../src/keys/key-lookup.ts';
import { parseKeyRecord } from '../../src/keys/parse-key.ts';
import type { KeyAnswer, KeyLookup } from '../../src/keys/types.ts';
import { ed25519Key, plainMessage, rsaKey, SIGN_TIME, signed, tableLookup, type TestKey } from '../unit/support/signing.ts';

let strong: TestKey;
let weak: TestKey;
let leaked: TestKey;
let ed: TestKey;

beforeAll(() => {
  strong = rsaKey(2048);
  weak = rsaKey(512);
  leaked = rsaKey(2048);
  ed = ed25519Key();
});

const sha256 = (der: Buffer): string => createHash('sha256').update(der).digest('hex');
const p = (key: TestKey): string => (key.kind === 'ed25519' ? key.spki.subarray(key.spki.length - 32) : key.spki).toString('base64');
const NAME = 'dup._domainkey.example.com';

const analyze = (message: string, lookup: KeyLookup): Promise<MessageAnalysis> =>
  analyzeMessage({ raw: Buffer.from(message, 'latin1'), format: 'eml' }, lookup);
const signedBy = (key: TestKey, selector = 'dup'): Promise<string> =>
  signed(plainMessage(), { key, domain: 'example.com', selector, signTime: SIGN_TIME });

describe('a key record with a repeated tag', () => {
  it('is no usable key: parseKeyRecord names the repeated tag and measures nothing', () => {
    const parsed = parseKeyRecord(`v=DKIM1; k=rsa; p=${p(strong)}; p=${p(weak)}`);
    expect(parsed).toMatchObject({ keyType: null, bits: null, fingerprint: null, fingerprintMd5: null, publicKey: null, revoked: false });
    expect(parsed.error).toBe('p= appears more than once, which makes the record invalid (RFC 6376 section 3.2)');
  });

  it('counts a tag repeated in another case (mailauth folds tag names), and names every repeated tag', () => {
    expect(parseKeyRecord(`v=DKIM1; k=rsa; p=${p(strong)}; P=${p(weak)}`).error).toMatch(/^p= appears more than once/);
    expect(parseKeyRecord(`v=DKIM1; k=rsa; k=rsa; p=${p(strong)}; p=${p(weak)}`).error).toMatch(/^k=, p= appear more than once/);
    expect(parseKeyRecord(`v=DKIM1; k=rsa; p=; p=${p(strong)}`)).toMatchObject({ revoked: false, error: expect.stringMatching(/^p= appears/) });
  });

  it('p=<2048-bit>; p=<512-bit> with a 512-bit signature: key-invalid, never verified, never described as the 2048-bit key', async () => {
    const a = await analyze(await signedBy(weak), tableLookup({ [NAME]: `v=DKIM1; k=rsa; p=${p(strong)}; p=${p(weak)}` }));
    const sig = a.signatures[0]!;
    expect(sig.result).toBe('pass'); // mailauth, lenient, verifies with the last p=
    expect(sig.outcome).toBe('key-invalid');
    expect(sig.comment).toContain('p= appears more than once');
    expect(sig.key).toMatchObject({ keyType: null, bits: null, fingerprint: null, strong: false });
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['key-invalid']);
    expect(a.verdict.explanation).not.toContain(sha256(strong.spki).slice(0, 16));
    expect(a.findings.map((f) => f.code)).not.toContain('signature-read-leniently');
  });

  it('p=<good>; p=<leaked> with a signature by the leaked key listed --compromised: not verified', async () => {
    const record = `v=DKIM1; k=rsa; p=${p(strong)}; p=${p(leaked)}`;
    const lookup = createKeyLookup({
      files: [],
      cached: (name): KeyAnswer | null => (name === NAME ? { status: 'found', name, records: [{ txt: record, source: 'file', origin: 'keys.json' }] } : null),
      offline: true,
      live: () => Promise.reject(new Error('offline')),
      onLiveAnswer: () => undefined,
      compromised: { path: 'leaked.txt', sha256: '0'.repeat(64), fingerprints: new Set([sha256(leaked.spki)]) },
    });
    const a = await analyze(await signedBy(leaked), lookup);
    expect(a.signatures[0]!.outcome).toBe('key-invalid');
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['key-invalid']);
  });

  it('a signature that fails under such a record is key-invalid too: the record is no key to fail against', async () => {
    const message = (await signedBy(strong)).replace('Subject: Quarterly numbers', 'Subject: Quarterly numbers (revised)');
    const a = await analyze(message, tableLookup({ [NAME]: `v=DKIM1; k=rsa; p=${p(strong)}; k=rsa` }));
    expect(a.signatures[0]!.result).toBe('fail');
    expect(a.signatures[0]!.outcome).toBe('key-invalid');
    expect(a.signatures[0]!.comment).toBe('key record rejected: k= appears more than once, which makes the record invalid (RFC 6376 section 3.2); mailauth: bad signature');
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['key-invalid']);
  });
});

describe('an Ed25519 key record without k=', () => {
  it('is measured as the Ed25519 key it is (mailauth infers the type and verifies with it)', () => {
    expect(parseKeyRecord(`v=DKIM1; p=${p(ed)}`)).toMatchObject({ keyType: 'ed25519', bits: 256, fingerprint: sha256(ed.spki), error: null });
    expect(parseKeyRecord(`v=DKIM1; k=; p=${p(ed)}`)).toMatchObject({ keyType: 'ed25519', error: null });
    // a k= that is given still has to match
    expect(parseKeyRecord(`v=DKIM1; k=rsa; p=${p(ed)}`).error).toBe('k=rsa but the key is ed25519');
  });

  it('verifies an ed25519-sha256 signature, described as Ed25519, with the lenient reading noted', async () => {
    const a = await analyze(await signedBy(ed, 'ed'), tableLookup({ 'ed._domainkey.example.com': `v=DKIM1; p=${p(ed)}` }));
    const sig = a.signatures[0]!;
    expect(sig.outcome).toBe('pass');
    expect(sig.key).toMatchObject({ keyType: 'ed25519', bits: 256, strong: true, fingerprint: sha256(ed.spki) });
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.reasons).toEqual(['dkim-verified']);
    expect(a.verdict.explanation).toContain(`Ed25519 key sha256:${sha256(ed.spki).slice(0, 16)}`);
    expect(a.findings).toEqual([expect.objectContaining({ code: 'signature-read-leniently', evidence: expect.objectContaining({ lenientReadings: ['key-type-inferred'] }) })]);
  });
});
