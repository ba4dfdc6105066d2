import type { Finding } from '../checks/types.ts';
import { REASONS, type Verdict } from './reasons.ts';
import type { VerdictDecision } from './types.ts';

/**
 * Findings that reach a message after its own verdict: those of the message that carried it (a
 * forwarded message) and those of the comparisons across the dump. They can take a proof away or
 * add a red flag; they never turn a verified message suspicious (docs/verdicts.md).
 */

/**
 * The verdict of a forwarded message, given the findings of the message that carried it. Cut out
 * of a carrier whose MIME structure mail programs read differently (forwarded-message-ambiguous),
 * the bytes verified here may not be what a reader shows as the forwarded message: a message that
 * verifies is then unverifiable, its proof being of bytes a reader may never see; any other
 * verdict stands. The carrier's finding is added to the message's own, so that it explains itself.
 */
export function applyCarrierFindings(own: VerdictDecision, carrierFindings: readonly Finding[]): { verdict: VerdictDecision; findings: Finding[] } {
  const ambiguous = carrierFindings.find((f) => f.code === 'forwarded-message-ambiguous');
  if (!ambiguous) return { verdict: own, findings: [] };
  const finding: Finding = { ...ambiguous, text: `The message that carried this one: ${ambiguous.text}` };
  if (own.verdict !== 'verified') return { verdict: own, findings: [finding] };
  return {
    verdict: {
      ...own,
      verdict: 'unverifiable',
      reasons: ['forwarded-message-ambiguous'],
      explanation: `${REASONS['forwarded-message-ambiguous'].text} ${own.explanation} Unverifiable is not the same as fake.`,
      provenBy: [],
    },
    findings: [finding],
  };
}

/**
 * The final verdict, once the message has been compared with the rest of the dump: a red flag
 * from a cross-dump check makes an otherwise unsuspicious message suspicious. A verified message
 * stays verified: what is signed is proven, and the cross-dump checks flag its unproven twin; its
 * explanation takes in a verified copy whose proof signs what its own leaves out, and differs.
 * The message's own reasons and explanation are kept after the red flag, unverifiable ones too:
 * a signature that verifies with a 512-bit key, told only "pass" beside a red flag, read as a
 * proof (red team 29, K-08).
 */
export function applyDumpFindings(
  own: { verdict: Verdict; reasons: string[]; explanation: string },
  dumpFindings: Finding[],
): { verdict: Verdict; reasons: string[]; explanation: string } {
  if (own.verdict === 'verified') {
    // What the proof leaves out, another copy's proof contradicts: the explanation (what the CSV
    // and the summaries carry) says "the proof does not cover the Subject shown", and must also
    // say that the From domain signed another one.
    const contradicted = dumpFindings.filter((f) => f.code === CONTRADICTED_BY_COPY).map((f) => f.text);
    return contradicted.length ? { ...own, explanation: [own.explanation, ...contradicted].join(' ') } : own;
  }
  const redFlags = dumpFindings.filter((f) => f.severity === 'red-flag');
  if (!redFlags.length) return own;
  const reasons = [...new Set([...redFlags.map((f) => f.code), ...own.reasons])];
  const alone = own.verdict === 'suspicious' ? own.explanation : ownUnverifiable(own.explanation);
  const explanation = [...redFlags.map((f) => f.text), alone].filter(Boolean).join(' ');
  return { verdict: 'suspicious', reasons, explanation };
}

/** The one warning from the dump that a verified message's explanation carries (src/checks/dump/conflicting-copies.ts). */
export const CONTRADICTED_BY_COPY = 'verified-copy-contradicted';

const NOT_FAKE = /\s*Unverifiable is not the same as fake\.$/;

/** An unverifiable message's own explanation, beside a red flag: what it would be alone, without the reassurance that no longer holds. */
const ownUnverifiable = (explanation: string): string => {
  const text = explanation.replace(NOT_FAKE, '').trim();
  return text ? `Taken alone, the message would be unverifiable: ${text}` : '';
};
