import type { DkimSignatureResult } from '../verify/dkim.ts';
import { signatureLabel } from './signed-headers.ts';
import type { Finding } from './types.ts';

/**
 * A signature that verifies with a key record flagged t=y: the domain said it was testing DKIM,
 * and RFC 6376 section 3.6.1 asks receivers to treat its mail as unsigned. The signature is
 * still the key holder's, over these bytes, so the message stays verified; but many domains
 * leave t=y on for years and some test with keys handed around, so the examiner is told.
 */
export function auditKeyTestingMode(signatures: DkimSignatureResult[]): Finding[] {
  return signatures
    .filter((sig) => sig.outcome === 'pass' && sig.testing === true)
    .map((sig) => ({
      code: 'key-testing-mode',
      severity: 'warning' as const,
      text:
        `The signature by ${sig.tags.domain} verifies with a key that ${sig.tags.domain} published in testing mode (t=y in its key record): ` +
        'the domain declared that it was still trying DKIM out, and RFC 6376 asks receivers to treat such mail as unsigned. ' +
        'The signature still proves that the holder of this key signed these bytes; many domains leave t=y set long after testing, ' +
        'but a key under test may have been kept less carefully than a production key.',
      evidence: { signature: signatureLabel(sig), keyName: sig.keyName, fingerprint: sig.key?.fingerprint ?? null },
    }));
}
