/**
 * Whatever makes leakcheck's reading of a key record differ from mailauth's, the key measured
 * (and so described, judged strong or weak, checked against --compromised) must be the key the
 * signature verified with. Here parseKeyRecord is made to measure another key for one record,
 * a stand-in for any divergence still unknown: the signature must not prove.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { plainMessage, rsaKey, SIGN_TIME, signed, tableLookup, type TestKey } from '../unit/support/signing.ts';

const measuredElsewhere = vi.hoisted(() => ({ txt: '' }));
vi.mock('../../src/keys/parse-key.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/keys/parse-key.ts')>();
  return { ...real, parseKeyRecord: (txt: string) => real.parseKeyRecord(txt.includes('n=measured-elsewhere') ? measuredElsewhere.txt : txt) };
});

let used: TestKey;
let decoy: TestKey;
beforeAll(() => {
  used = rsaKey(512);
  decoy = rsaKey(2048);
  measuredElsewhere.txt = decoy.txt;
});

describe('the key measured is the key used', () => {
  it('a signature whose verifying key is not the key measured from its record is key-invalid, not verified', async () => {
    const message = await signed(plainMessage(), { key: used, domain: 'example.com', selector: 'sel', signTime: SIGN_TIME });
    const a = await analyzeMessage(
      { raw: Buffer.from(message, 'latin1'), format: 'eml' },
      tableLookup({ 'sel._domainkey.example.com': `${used.txt}; n=measured-elsewhere` }),
    );
    const sig = a.signatures[0]!;
    expect(sig.result).toBe('pass');
    expect(sig.outcome).toBe('key-invalid');
    // recorded unmeasured, never as the decoy
    expect(sig.key).toMatchObject({ keyType: null, bits: null, fingerprint: null, fingerprintMd5: null, strong: false });
    expect(a.verdict.explanation).not.toContain(createHash('sha256').update(decoy.spki).digest('hex').slice(0, 16));
    expect(sig.comment).toBe('key record rejected: the key mailauth verified with is not the key measured from the record');
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['key-invalid']);
  });
});
