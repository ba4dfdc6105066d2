import type { MessageRecord, SignatureRecord } from '../store/queries.ts';

/** A stored signature as findings' evidence names it (signatureLabel in checks/signed-headers.ts). */
export const storedSignatureLabel = (sig: SignatureRecord): string => `#${sig.index + 1} d=${sig.domain ?? '?'} s=${sig.selector ?? '?'}`;

/**
 * How a signature stands to the From field. A signature is stored as not aligned both when its
 * domain is another's (a third party) and when it is the domain of the first From address but
 * the From field does not name its authors with certainty (`author-not-proven`: two From fields,
 * another author's domain beside it). Calling the second a third party told readers that someone
 * other than the From domain signed, against the explanation (red team K, K-06).
 */
export function alignmentOf(sig: SignatureRecord, findings: MessageRecord['findings']): 'aligned' | 'third-party' | { authorNotProven: string | null } {
  if (sig.aligned) return 'aligned';
  const label = storedSignatureLabel(sig);
  const unproven = findings.find((f) => f.code === 'author-not-proven' && f.evidence['signature'] === label);
  if (!unproven) return 'third-party';
  const problem = unproven.evidence['problem'];
  return { authorNotProven: typeof problem === 'string' ? problem : null };
}

/** The label the reports give it, plain text: escape it for where it goes (it can quote the From field). */
export function alignmentLabel(sig: SignatureRecord, findings: MessageRecord['findings']): string {
  const alignment = alignmentOf(sig, findings);
  if (alignment === 'aligned') return 'aligned with the From domain';
  if (alignment === 'third-party') return 'third party (not the From domain)';
  return alignment.authorNotProven !== null
    ? `aligned with the first From address, but the author cannot be determined (${alignment.authorNotProven})`
    : 'does not speak for every author the From field names (author-not-proven)';
}
