import type { DkimSignatureResult } from '../verify/dkim.ts';
import { signatureLabel } from './signed-headers.ts';
import type { Finding } from './types.ts';

/**
 * rsa-sha1 still verifies (old mail used it widely), but RFC 8301 forbids it: a SHA-1
 * chosen-prefix collision costs tens of thousands of dollars, so such a proof is weaker.
 */
export function auditWeakHash(signatures: DkimSignatureResult[]): Finding[] {
  return signatures
    .filter((sig) => sig.outcome === 'pass' && sig.tags.algorithm === 'rsa-sha1')
    .map((sig) => ({
      code: 'rsa-sha1',
      severity: 'warning' as const,
      text: `The signature by ${sig.tags.domain} uses rsa-sha1, retired by RFC 8301 because SHA-1 collisions are within a well-funded forger's reach.`,
      evidence: { signature: signatureLabel(sig), algorithm: sig.tags.algorithm },
    }));
}
