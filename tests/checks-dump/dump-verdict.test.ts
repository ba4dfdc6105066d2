import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/checks/types.ts';
import { applyDumpFindings } from '../../src/verdict/findings-from-outside.ts';

/*
 * The final verdict once the cross-dump checks have run (applyDumpFindings): what a red flag from
 * them does to the verdict the message earned on its own, and what of that verdict is kept.
 */

const redFlag: Finding = { code: 'conflicting-copy', severity: 'red-flag', text: 'Another copy of this message … this copy was altered.', evidence: {} };
const weakKey = {
  verdict: 'unverifiable' as const,
  reasons: ['key-too-weak'],
  explanation: 'The signature by messiah.edu verifies, but its key is RSA 512-bit key sha256:2140…: too weak to prove anything. The signing key is an RSA key under 1024 bits. Unverifiable is not the same as fake.',
};

describe('a red flag from the dump on a message that was unverifiable on its own', () => {
  // Red team 29, K-08: the key-too-weak reason and its sentence went, and "pass" beside the red
  // flag was all that was left to say of the signature
  it('makes it suspicious, the red flag first, keeping its own reasons and explanation, without "not the same as fake"', () => {
    const final = applyDumpFindings(weakKey, [redFlag]);
    expect(final.verdict).toBe('suspicious');
    expect(final.reasons).toEqual(['conflicting-copy', 'key-too-weak']);
    expect(final.explanation).toBe(
      'Another copy of this message … this copy was altered. Taken alone, the message would be unverifiable: ' +
        'The signature by messiah.edu verifies, but its key is RSA 512-bit key sha256:2140…: too weak to prove anything. The signing key is an RSA key under 1024 bits.',
    );
  });

  it('keeps a suspicious message\'s own reasons after the red flag, and leaves a verified one, or one without a red flag, as it was', () => {
    const own = { verdict: 'suspicious' as const, reasons: ['dkim-body-modified'], explanation: 'The body no longer matches.' };
    expect(applyDumpFindings(own, [redFlag])).toEqual({ verdict: 'suspicious', reasons: ['conflicting-copy', 'dkim-body-modified'], explanation: `${redFlag.text} The body no longer matches.` });
    const verified = { verdict: 'verified' as const, reasons: ['dkim-verified'], explanation: 'Signature by the From domain …' };
    expect(applyDumpFindings(verified, [redFlag])).toBe(verified);
    expect(applyDumpFindings(weakKey, [{ ...redFlag, severity: 'warning' }])).toBe(weakKey);
  });
});

describe('a verified message', () => {
  const verified = { verdict: 'verified' as const, reasons: ['dkim-verified'], explanation: 'Signature by the From domain … The proof does not cover the Subject shown, which no signature by the From domain signs.' };
  const contradicted: Finding = { code: 'verified-copy-contradicted', severity: 'warning', text: 'Another copy of this message … is not what the From domain signed. Other copy: sent.eml.', evidence: {} };

  // Red team K, K-01: its explanation said only that its own proof leaves the Subject out
  it('stays verified, and takes in the text of a verified copy that contradicts what its proof leaves out', () => {
    expect(applyDumpFindings(verified, [contradicted])).toEqual({ ...verified, explanation: `${verified.explanation} ${contradicted.text}` });
  });

  it('is left as it was by any other finding from the dump, a red flag too', () => {
    const differ: Finding = { ...contradicted, code: 'verified-copies-differ' };
    expect(applyDumpFindings(verified, [differ, redFlag])).toBe(verified);
  });
});
