import { conflictingCopies } from './conflicting-copies.ts';
import { dateAfterDump } from './future-date.ts';
import { selectorTimeline } from './selector-timeline.ts';
import { senderProfile } from './sender-profile.ts';
import { threadOrder } from './threads.ts';
import type { DumpCheck, DumpFinding, DumpMessage } from './types.ts';

/** The checks that compare messages with each other, run after every message has been read. */
export const DUMP_CHECKS: ReadonlyArray<DumpCheck> = [conflictingCopies, threadOrder, senderProfile, selectorTimeline, dateAfterDump];

export function runDumpChecks(messages: readonly DumpMessage[]): DumpFinding[] {
  return DUMP_CHECKS.flatMap((check) => check(messages));
}
