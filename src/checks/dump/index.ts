import { conflictingCopies, verifiedCopiesDiffer } from './conflicting-copies.ts';
import { dateAfterDump } from './future-date.ts';
import { selectorTimeline } from './selector-timeline.ts';
import { senderProfile } from './sender-profile.ts';
import { threadOrder } from './threads.ts';
import type { DumpCheck, DumpCopy, DumpFinding } from './types.ts';

/**
 * The checks that compare messages with each other, over a whole list of messages: what they
 * mean. A run does not hold the whole list: src/store/dump-pass.ts streams the messages through
 * the same checks, in this order, and is tested against runDumpChecks to find exactly this.
 */
export const DUMP_CHECKS: ReadonlyArray<DumpCheck<DumpCopy>> = [conflictingCopies, verifiedCopiesDiffer, threadOrder, senderProfile, selectorTimeline, dateAfterDump];

export function runDumpChecks(messages: readonly DumpCopy[]): DumpFinding[] {
  return DUMP_CHECKS.flatMap((check) => check(messages));
}
