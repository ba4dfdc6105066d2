import type { DkimSignatureResult } from '../verify/dkim.ts';
import { speaksForAuthor } from './check-support.ts';
import { signatureLabel } from './signed-headers.ts';
import type { Finding } from './types.ts';

/**
 * A signature that verifies with a key record flagged t=y: the domain said it was testing DKIM,
 * and RFC 6376 section 3.6.1 asks receivers to treat its mail as unsigned. The signature is
 * still the key holder's, over these bytes, so the message stays verified; but many domains
 * leave t=y on for years and some test with keys handed around, so the examiner is told.
 * A signature that would prove nothing anyway (a key too weak or made public, a domain other
 * than the From's) is not said to prove anything here: beside "too weak to prove anything" in
 * the explanation, "still proves" contradicted it (red team 29, K-08).
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
        (speaksForAuthor(sig)
          ? 'The signature still proves that the holder of this key signed these bytes; many domains leave t=y set long after testing, ' +
            'but a key under test may have been kept less carefully than a production key.'
          : `${whyNoProof(sig)}, so the message is not verified by it in any case (the verdict says why).`),
      evidence: { signature: signatureLabel(sig), keyName: sig.keyName, fingerprint: sig.key?.fingerprint ?? null },
    }));
}

/** Why a passing signature speaks for nobody (speaksForAuthor), in the order the verdict tells it. */
function whyNoProof(sig: DkimSignatureResult): string {
  if (sig.key && !sig.key.strong) return 'Its key is too weak for a signature made with it to count as proof';
  if (sig.key?.compromised) return `Its key is ${sig.key.compromised}: anyone may have made the signature`;
  return `${sig.tags.domain} is not the From domain`;
}
