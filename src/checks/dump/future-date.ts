import { DAY_MS, type DumpCheck } from './types.ts';

export const FUTURE_SLACK_DAYS = 30;

/**
 * A message dated well after everything else in the dump was dated after the mailbox was taken,
 * or carries a false Date. The reference is the latest verified (proven) date when there is one,
 * else the latest date of the other messages.
 */
export const dateAfterDump: DumpCheck = (messages) => {
  const dated = messages.filter((m) => m.date).map((m) => ({ m, t: Date.parse(m.date!) }));
  if (dated.length < 2) return [];
  const verified = dated.filter((d) => d.m.verdict === 'verified');
  const latestVerified = verified.length ? Math.max(...verified.map((d) => d.t)) : null;
  const sorted = dated.map((d) => d.t).sort((a, b) => b - a);
  return dated.flatMap(({ m, t }) => {
    if (m.verdict === 'verified') return []; // a signed Date is the sender's own, proven claim
    // the latest other message: the top date, or the runner-up when this message is the top
    const latest = latestVerified ?? (t === sorted[0] ? sorted[1]! : sorted[0]!);
    if (t <= latest + FUTURE_SLACK_DAYS * DAY_MS) return [];
    return [{
      messageId: m.id,
      finding: {
        code: 'date-after-dump',
        severity: 'warning' as const,
        text: `Dated ${m.date!.slice(0, 10)}, more than ${FUTURE_SLACK_DAYS} days after the latest ${latestVerified !== null ? 'verified ' : ''}message of the dump (${new Date(latest).toISOString().slice(0, 10)}).`,
        evidence: {
          date: m.date,
          latestReference: new Date(latest).toISOString(),
          reference: latestVerified !== null ? 'latest verified message' : 'latest other message',
          slackDays: FUTURE_SLACK_DAYS,
        },
      },
    }];
  });
};
