import { groupBy } from './conflicting-copies.ts';
import type { DumpCheck, DumpFinding, DumpMessage } from './types.ts';

/** A profile needs enough messages to say what is usual. */
export const PROFILE_MIN_MESSAGES = 10;
/** A value is usual when at least this share of the sender's messages have it (DST gives two). */
const USUAL_SHARE = 0.1;
/** The usual values must cover this share before anything is called unusual. */
const HABIT_SHARE = 0.9;

const ATTRIBUTES: Array<{ name: string; label: string; value: (m: DumpMessage) => string | null }> = [
  { name: 'timezone', label: 'time zone', value: (m) => (m.dateOffsetMinutes === null ? null : formatOffset(m.dateOffsetMinutes)) },
  { name: 'mailer', label: 'mail program', value: (m) => m.mailer?.replace(/[\d.]+/g, '#') ?? null },
  {
    name: 'selector',
    label: 'DKIM selector',
    value: (m) => {
      const domain = m.fromAddress?.split('@')[1];
      const own = m.signatures.find((s) => s.domain === domain);
      return own ? `${own.selector}._domainkey.${own.domain}` : null;
    },
  },
];

/** A sender's strong habit for one attribute: the usual values and how many messages have them. */
interface Habit {
  usual: Array<[string, number]>;
  usualValues: Set<string>;
  usualTotal: number;
  known: number;
}

/**
 * Counts what one sender's messages have, one message at a time, so that the dump pass never
 * holds a sender's messages (a mailbox's own sent mail can be most of a dump), only these counts.
 */
export class SenderTally {
  #messages = 0;
  readonly #counts = ATTRIBUTES.map(() => new Map<string, number>());

  add(m: DumpMessage): void {
    this.#messages++;
    ATTRIBUTES.forEach((attribute, i) => {
      const v = attribute.value(m);
      if (v !== null) this.#counts[i]!.set(v, (this.#counts[i]!.get(v) ?? 0) + 1);
    });
  }

  /** The sender's habits, attribute by attribute (null: no strong habit); null when there are too few messages to say. */
  habits(): Array<Habit | null> | null {
    if (this.#messages < PROFILE_MIN_MESSAGES) return null;
    const habits = this.#counts.map((counts): Habit | null => {
      const known = [...counts.values()].reduce((a, b) => a + b, 0);
      if (known < PROFILE_MIN_MESSAGES) return null;
      const usual = [...counts].filter(([, n]) => n / known >= USUAL_SHARE);
      const usualTotal = usual.reduce((a, [, n]) => a + n, 0);
      if (usualTotal / known < HABIT_SHARE) return null;
      return { usual, usualValues: new Set(usual.map(([v]) => v)), usualTotal, known };
    });
    return habits.some((h) => h !== null) ? habits : null;
  }
}

/** One message against its sender's habits: a warning for each attribute far outside them. */
export function profileOutliers(m: DumpMessage, habits: ReadonlyArray<Habit | null>): DumpFinding[] {
  const findings: DumpFinding[] = [];
  ATTRIBUTES.forEach((attribute, i) => {
    const habit = habits[i];
    if (!habit) return;
    const v = attribute.value(m);
    if (v === null || habit.usualValues.has(v)) return;
    findings.push({
      messageId: m.id,
      finding: {
        code: 'sender-profile-outlier',
        severity: 'warning',
        text: `Unusual ${attribute.label} for ${m.fromAddress}: "${v}", where ${Math.round((habit.usualTotal / habit.known) * 100)}% of their ${habit.known} messages use ${[...habit.usualValues].map((u) => `"${u}"`).join(' or ')}.`,
        evidence: { sender: m.fromAddress, attribute: attribute.name, value: v, usual: Object.fromEntries(habit.usual), messagesWithValue: habit.known },
      },
    });
  });
  return findings;
}

/**
 * For each sender, the usual time zone, mail program (versions folded) and signing selector. A
 * message far outside its sender's habits is worth a look: forgers rarely know them. A warning
 * only: people travel, change phones, and providers rotate selectors.
 */
export const senderProfile: DumpCheck = (messages) => {
  const findings: DumpFinding[] = [];
  for (const sent of groupBy(messages.filter((m) => m.fromAddress), (m) => m.fromAddress!)) {
    const tally = new SenderTally();
    for (const m of sent) tally.add(m);
    const habits = tally.habits();
    if (!habits) continue;
    for (const m of sent) findings.push(...profileOutliers(m, habits));
  }
  return findings;
};

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}
