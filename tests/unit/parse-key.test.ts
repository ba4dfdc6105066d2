import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { MIN_RSA_BITS, isStrongKey, parseKeyRecord, parseTags, type ParsedKey } from '../../src/keys/parse-key.ts';
import { ed25519Key, rsaKey, type TestKey } from './support/signing.ts';

let rsa2048: TestKey;
let rsa1024: TestKey;
let rsa512: TestKey;
let ed: TestKey;

beforeAll(() => {
  rsa2048 = rsaKey(2048);
  rsa1024 = rsaKey(1024);
  rsa512 = rsaKey(512);
  ed = ed25519Key();
});

const sha256 = (der: Buffer): string => createHash('sha256').update(der).digest('hex');
const md5 = (der: Buffer): string => createHash('md5').update(der).digest('hex');
const pkcs1Der = (key: TestKey): Buffer => key.publicKey.export({ type: 'pkcs1', format: 'der' });
const rawEd25519 = (key: TestKey): Buffer => key.spki.subarray(key.spki.length - 32);

describe('parseTags', () => {
  it('reads tag=value pairs, lower-cases names, trims values and keeps the first of duplicates', () => {
    const tags = parseTags(' v=DKIM1 ;K=rsa; p = abc ; p=second; novalue; t=y:s ');
    expect([...tags]).toEqual([
      ['v', 'DKIM1'],
      ['k', 'rsa'],
      ['p', 'abc'],
      ['t', 'y:s'],
    ]);
  });

  it('keeps = signs inside a value (base64 padding)', () => {
    expect(parseTags('p=QUJD==; x=1').get('p')).toBe('QUJD==');
  });
});

describe('parseKeyRecord', () => {
  it('reads an RSA key published as SubjectPublicKeyInfo', () => {
    const parsed = parseKeyRecord(rsa2048.txt);
    expect(parsed).toMatchObject({ revoked: false, keyType: 'rsa', bits: 2048, error: null });
    expect(parsed.fingerprint).toBe(sha256(rsa2048.spki));
    expect(parsed.fingerprintMd5).toBe(md5(rsa2048.spki));
    expect(parsed.publicKey?.export({ type: 'spki', format: 'der' }).equals(rsa2048.spki)).toBe(true);
  });

  it('reads an RSA key published as a bare PKCS#1 RSAPublicKey, with the same fingerprint as its SPKI form', () => {
    const der = pkcs1Der(rsa2048);
    expect(der.equals(rsa2048.spki)).toBe(false);
    const parsed = parseKeyRecord(`v=DKIM1; k=rsa; p=${der.toString('base64')}`);
    expect(parsed).toMatchObject({ keyType: 'rsa', bits: 2048, error: null, revoked: false });
    expect(parsed.fingerprint).toBe(sha256(rsa2048.spki));
    expect(parsed.fingerprintMd5).toBe(md5(rsa2048.spki));
  });

  it('fingerprints the DER SPKI that node:crypto derives from the private key', () => {
    for (const key of [rsa2048, rsa1024, rsa512, ed]) {
      const der = createPublicKey(key.privatePem).export({ type: 'spki', format: 'der' });
      const parsed = parseKeyRecord(key.txt);
      expect(parsed.fingerprint).toBe(sha256(der));
      expect(parsed.fingerprintMd5).toBe(md5(der));
      expect(parsed.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(parsed.fingerprintMd5).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('reads an Ed25519 key published as the raw 32 bytes (RFC 8463)', () => {
    expect(rawEd25519(ed)).toHaveLength(32);
    const parsed = parseKeyRecord(ed.txt);
    expect(parsed).toMatchObject({ revoked: false, keyType: 'ed25519', bits: 256, error: null });
    expect(parsed.fingerprint).toBe(sha256(ed.spki));
    expect(parsed.fingerprintMd5).toBe(md5(ed.spki));
    expect(parsed.publicKey?.asymmetricKeyType).toBe('ed25519');
  });

  it('tolerates whitespace inside p= (a TXT record split over several strings)', () => {
    const b64 = rsa2048.spki.toString('base64');
    const spaced = `v=DKIM1; k=rsa; p=${b64.slice(0, 100)} ${b64.slice(100, 200)}\t${b64.slice(200)}`;
    expect(parseKeyRecord(spaced).fingerprint).toBe(sha256(rsa2048.spki));
  });

  it('reads tag names case-insensitively and defaults k= to rsa', () => {
    expect(parseKeyRecord(`P=${rsa2048.spki.toString('base64')}`)).toMatchObject({ keyType: 'rsa', bits: 2048, error: null });
  });

  it('an empty p= is a revoked key', () => {
    for (const txt of ['v=DKIM1; k=rsa; p=', 'v=DKIM1; p= ;', 'v=DKIM1; k=ed25519; p=']) {
      const parsed = parseKeyRecord(txt);
      expect(parsed).toMatchObject({ revoked: true, keyType: null, bits: null, fingerprint: null, fingerprintMd5: null, publicKey: null });
      expect(parsed.error).toMatch(/revoked/);
    }
  });

  it('a record without p= is an error, not a revocation', () => {
    const parsed = parseKeyRecord('v=DKIM1; k=rsa');
    expect(parsed).toMatchObject({ revoked: false, keyType: null, publicKey: null, error: 'no p= tag' });
  });

  it('refuses p= that is not base64', () => {
    for (const txt of ['v=DKIM1; p=not*base64!', 'v=DKIM1; p=abc=def', 'v=DKIM1; p=QUJD===']) {
      expect(parseKeyRecord(txt)).toMatchObject({ revoked: false, keyType: null, fingerprint: null, error: 'p= is not base64' });
    }
  });

  it('refuses base64 that holds no public key', () => {
    for (const p of ['AAAA', Buffer.from('this is not a DER structure at all').toString('base64'), Buffer.alloc(31, 7).toString('base64')]) {
      expect(parseKeyRecord(`v=DKIM1; k=rsa; p=${p}`)).toMatchObject({ keyType: null, fingerprint: null, publicKey: null, error: 'p= does not hold a public key' });
    }
  });

  it('refuses a key whose type contradicts k=', () => {
    const raw = rawEd25519(ed).toString('base64');
    expect(parseKeyRecord(`v=DKIM1; k=rsa; p=${raw}`)).toMatchObject({ keyType: null, fingerprint: null, error: 'k=rsa but the key is ed25519' });
    // k= left out: mailauth verifies with the key as what it is, so it is measured as that
    expect(parseKeyRecord(`v=DKIM1; p=${raw}`)).toMatchObject({ keyType: 'ed25519', error: null });
    expect(parseKeyRecord(`v=DKIM1; k=ed25519; p=${rsa2048.spki.toString('base64')}`)).toMatchObject({
      keyType: null,
      error: 'k=ed25519 but the key is rsa',
    });
    expect(parseKeyRecord(`v=DKIM1; k=RSA; p=${rsa2048.spki.toString('base64')}`).error).toBeNull();
  });

  it('refuses key types DKIM does not define', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const der = publicKey.export({ type: 'spki', format: 'der' });
    expect(parseKeyRecord(`v=DKIM1; k=rsa; p=${der.toString('base64')}`)).toMatchObject({ keyType: null, error: 'unsupported key type ec' });
  });
});

describe('isStrongKey', () => {
  it('measures key sizes', () => {
    expect(parseKeyRecord(rsa512.txt).bits).toBe(512);
    expect(parseKeyRecord(rsa1024.txt).bits).toBe(1024);
  });

  it('RSA under 1024 bits is weak; 1024, 2048 and Ed25519 are strong', () => {
    expect(MIN_RSA_BITS).toBe(1024);
    expect(isStrongKey(parseKeyRecord(rsa512.txt))).toBe(false);
    expect(isStrongKey(parseKeyRecord(rsa1024.txt))).toBe(true);
    expect(isStrongKey(parseKeyRecord(rsa2048.txt))).toBe(true);
    expect(isStrongKey(parseKeyRecord(ed.txt))).toBe(true);
  });

  it('the boundary is exactly 1024 bits', () => {
    const rsa = (bits: number | null): ParsedKey => ({ ...parseKeyRecord(rsa1024.txt), bits });
    expect(isStrongKey(rsa(1023))).toBe(false);
    expect(isStrongKey(rsa(1024))).toBe(true);
    expect(isStrongKey(rsa(null))).toBe(false);
  });

  it('a revoked or unreadable key is never strong', () => {
    expect(isStrongKey(parseKeyRecord('v=DKIM1; p='))).toBe(false);
    expect(isStrongKey(parseKeyRecord('v=DKIM1; p=AAAA'))).toBe(false);
  });
});
