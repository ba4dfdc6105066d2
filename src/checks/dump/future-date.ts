import { DAY_MS, dateProven, type DumpCheck, type DumpFinding, type DumpMessage } from './types.ts';

export const FUTURE_SLACK_DAYS = 30;

/**
 * A message dated well after everything else in the dump was dated after the mailbox was taken,
 * or carries a false Date. The reference is the latest proven Date (signed by a proof aligned
 * with the message's From domain: dateProven) when there is one, else the latest date of the
 * other messages. A Date signed only by another domain proves nothing of the kind: a forger
 * signing with a domain of their own could move the reference, or shield a message, at will.
 */
export const dateAfterDump: DumpCheck = (messages) => {
  const reference = new DumpDates();
  for (const m of messages) reference.add(m);
  return messages.flatMap((m) => reference.lateFindings(m));
};

/**
 * What the check compares each message with, gathered one message at a time (a first pass over
 * the dump): the latest verified date, and the two latest dates of all, so that a message can be
 * compared with the latest other than itself. Then asked about each message (a second pass).
 */
export class DumpDates {
  #dated = 0;
  #latestVerified: number | null = null;
  /** the two largest dates, counted with repeats: top[0] >= top[1] */
  readonly #top: number[] = [];

  add(m: DumpMessage): void {
    if (!m.date) return;
    const t = Date.parse(m.date);
    this.#dated++;
    if (dateProven(m)) this.#latestVerified = this.#latestVerified === null ? t : Math.max(this.#latestVerified, t);
    this.#top.push(t);
    this.#top.sort((a, b) => b - a);
    if (this.#top.length > 2) this.#top.pop();
  }

  lateFindings(m: DumpMessage): DumpFinding[] {
    if (this.#dated < 2 || !m.date) return [];
    if (dateProven(m)) return []; // a Date its From domain signed is the sender's own, proven claim
    const t = Date.parse(m.date);
    const latestVerified = this.#latestVerified;
    // the latest other message: the top date, or the runner-up when this message is the top
    const latest = latestVerified ?? (t === this.#top[0] ? this.#top[1]! : this.#top[0]!);
    if (t <= latest + FUTURE_SLACK_DAYS * DAY_MS) return [];
    return [{
      messageId: m.id,
      finding: {
        code: 'date-after-dump',
        severity: 'warning',
        text: `Dated ${m.date.slice(0, 10)}, more than ${FUTURE_SLACK_DAYS} days after the latest ${latestVerified !== null ? 'verified ' : ''}message of the dump (${new Date(latest).toISOString().slice(0, 10)}).`,
        evidence: {
          date: m.date,
          latestReference: new Date(latest).toISOString(),
          reference: latestVerified !== null ? 'latest verified message' : 'latest other message',
          slackDays: FUTURE_SLACK_DAYS,
        },
      },
    }];
  }
}
