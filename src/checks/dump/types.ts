import type { Verdict } from '../../verdict/reasons.ts';
import type { Finding } from '../types.ts';

/** One message as the cross-dump checks see it: a compact projection of its stored analysis. */
export interface DumpMessage {
  /** database id */
  id: number;
  /** `path` or `path#index`, for evidence */
  where: string;
  sha256: string;
  messageId: string | null;
  fromAddress: string | null;
  date: string | null;
  dateOffsetMinutes: number | null;
  mailer: string | null;
  bodySha256: string | null;
  visibleSha256: string | null;
  inReplyTo: string | null;
  references: string[];
  /** the verdict the message earned on its own, before comparing it with the others */
  verdict: Verdict;
  /** selectors of DKIM signatures, with what became of them */
  signatures: Array<{ domain: string; selector: string; outcome: string }>;
}

export interface DumpFinding {
  messageId: number;
  finding: Finding;
}

export type DumpCheck = (messages: readonly DumpMessage[]) => DumpFinding[];

export const DAY_MS = 86_400_000;
