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
