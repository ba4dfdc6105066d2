import type { ParsedHeaders } from '../read/headers.ts';
import type { MessageMeta } from '../read/message-meta.ts';
import type { ArcVerification } from '../verify/arc.ts';
import type { DkimSignatureResult } from '../verify/dkim.ts';

/**
 * A finding is one observation about a message, with its evidence. Only a red flag can make a
 * message suspicious; warnings and info are shown to the examiner but never decide a verdict.
 */
export type Severity = 'info' | 'warning' | 'red-flag';

export interface Finding {
  /** stable code, documented in docs/checks.md */
  code: string;
  severity: Severity;
  /** one plain-language sentence about this message */
  text: string;
  /** the values compared: header values, counts, times, signature ids */
  evidence: Record<string, unknown>;
}

/** Everything a per-message check may look at. Checks are pure functions of this. */
export interface MessageCheckContext {
  /** the message bytes as verified (CRLF line endings, repairs applied) */
  bytes: Buffer;
  headers: ParsedHeaders;
  meta: MessageMeta;
  signatures: DkimSignatureResult[];
  arc: ArcVerification;
  /** the earliest signature t=, at which x= expiry is judged, or null */
  judgedAt: Date | null;
}

export type MessageCheck = (context: MessageCheckContext) => Finding[];
