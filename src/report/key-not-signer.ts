import type { MessageRecord, SignatureRecord } from '../store/queries.ts';
import { storedSignatureLabel } from './alignment-label.ts';

/**
 * The signatures of a message whose key on record did not make them, as the verdict's
 * `key-not-signer` finding names them. Their outcome (body-modified, signature-mismatch) is a
 * failure under a key that is not theirs and says nothing about the content, so the reports label
 * it so rather than as a change to the body or headers (red team K, K-02). Found by the finding,
 * as the database keeps no flag for it.
 */
export function keyNotSigner(m: Pick<MessageRecord, 'findings'>): (s: SignatureRecord) => boolean {
  let named: Set<string> | undefined;
  return (s) => {
    // only a failure can be one; the findings are read once, for the first
    if (s.outcome !== 'body-modified' && s.outcome !== 'signature-mismatch') return false;
    named ??= new Set(m.findings.filter((f) => f.code === 'key-not-signer').map((f) => String(f.evidence['signature'])));
    return named.has(storedSignatureLabel(s));
  };
}

/** How the reports say it. */
export const KEY_NOT_SIGNER_NOTE = 'the key on record did not make this signature, so its failure says nothing about the content (key-not-signer)';
