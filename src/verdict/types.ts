import type { RemovedByClientPart } from '../attachments/removed-by-client.ts';
import type { StoredApartPart } from '../attachments/stored-apart.ts';
import type { Finding } from '../checks/types.ts';
import type { RebuiltMessage } from '../read/rebuilt-by-converter.ts';
import type { ArcVerification } from '../verify/arc.ts';
import type { DkimSignatureResult } from '../verify/dkim.ts';
import type { Verdict } from './reasons.ts';

/**
 * What decideVerdict (decide.ts) is given about a message and what it concludes. The verdict
 * logic is split by what it is about (decide.ts, arc-explanations.ts, body-not-in-file.ts,
 * describe-signature.ts, findings-from-outside.ts); these shapes are what they share.
 */

/** A message's verdict, as decideVerdict reaches it. */
export interface VerdictDecision {
  verdict: Verdict;
  /** reason codes, most important first: catalogue codes (reasons.ts) and red-flag finding codes */
  reasons: string[];
  /** plain-language explanation, naming the signatures and keys involved */
  explanation: string;
  /** the signatures that prove the message, by index */
  provenBy: number[];
  /** findings the decision itself adds (e.g. a failure explained by an intermediary) */
  findings: Finding[];
}

export interface VerdictInput {
  signatures: DkimSignatureResult[];
  arc: ArcVerification;
  findings: Finding[];
  repairs: string[];
  parseError: string | null;
  /**
   * ARC sealers the user vouches for (`verify --trust-arc-sealer`), beside the well-known ones:
   * a newsroom that knows the list server a mailbox was subscribed through can say so.
   */
  trustedArcSealers?: ReadonlySet<string>;
  /**
   * Parts of the body Apple Mail kept outside the message file (a `.partial.emlx`), and the
   * signatures (by index) whose signed body reaches them: for those, a body-hash mismatch is what
   * the missing bytes make, and says nothing about a change.
   */
  storedApart?: { parts: readonly StoredApartPart[]; signatures: ReadonlySet<number> };
  /**
   * Parts Thunderbird rewrote when the mailbox's owner deleted or detached their attachment, in
   * the form Thunderbird gives them, and the signatures (by index) whose signed body reaches them:
   * as for `storedApart`, a body-hash mismatch over them says nothing about a change.
   */
  removedByClient?: { parts: readonly RemovedByClientPart[]; signatures: ReadonlySet<number> };
  /**
   * A converter wrote the message anew from a mailbox store that keeps no original bytes (readpst
   * from an Outlook PST): the body every signature hashed is gone, and so are the header fields
   * the converter rewrote.
   */
  rebuiltBy?: RebuiltMessage | null;
  /**
   * The file holds the header block and no body (pffexport's InternetHeaders.txt, headers saved
   * alone): a body hash that fails over nothing says the body is not here, not that it changed.
   */
  headerBlockOnly?: boolean;
  /**
   * The domain of the From address, as the reader sees it: a proof by a subdomain or a parent of
   * it (relaxed alignment) names both, and never calls the signer the From domain (red team K, K-12).
   */
  fromDomain?: string | null;
  /**
   * The search for the form the message was signed in stopped before it had tried every repair
   * (src/analyze/form-search.ts): a signature that fails under the forms tried may verify under
   * one not tried, so its failure is no evidence of tampering.
   */
  formsNotTried?: boolean;
  /**
   * The DKIM-Signature fields of the message, checked or not: past MAX_SIGNATURES_CHECKED
   * (dkim.ts) `signatures` holds only those checked. Their number when left out.
   */
  signatureFields?: number;
}
