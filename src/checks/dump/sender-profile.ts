import { groupBy } from './conflicting-copies.ts';
import { canonicalDomain } from '../../verify/domain-names.ts';
import { fromDomainKey, fromDomainProofs, senderKey, type DumpCheck, type DumpFinding, type DumpMessage } from './types.ts';

/** A profile needs enough messages to say what is usual. */
export const PROFILE_MIN_MESSAGES = 10;
/** A value is usual when at least this share of the sender's messages have it (DST gives two). */
const USUAL_SHARE = 0.1;
/** The usual values must cover this share before anything is called unusual. */
const HABIT_SHARE = 0.9;

/** The selector of the message's signature by its From domain; `passing`: only one that verified. */
function ownSelector(m: DumpMessage, passing: boolean): string | null {
  const domain = fromDomainKey(m);
  // d= is an A-label, and an IDN From domain is most often written as its U-label (red team S, S-06)
  const own = m.signatures.find((s) => canonicalDomain(s.domain) === domain && (!passing || s.outcome === 'pass'));
  return own ? `${own.selector}._domainkey.${own.domain}` : null;
}

/**
 * `value` is what a message is judged on; `counted`, what it adds to its sender's habits: a
 * selector only from a signature that verified (anyone can write any selector into a signature
 * that fails, and so make a habit of it: red team 30, M-07).
 */
const ATTRIBUTES: Array<{ name: string; label: string; value: (m: DumpMessage) => string | null; counted: (m: DumpMessage) => string | null }> = [
  { name: 'timezone', label: 'time zone', value: timezoneOf, counted: timezoneOf },
  { name: 'mailer', label: 'mail program', value: mailerOf, counted: mailerOf },
  { name: 'selector', label: 'DKIM selector', value: (m) => ownSelector(m, false), counted: (m) => ownSelector(m, true) },
];

function timezoneOf(m: DumpMessage): string | null {
  return m.dateOffsetMinutes === null ? null : formatOffset(m.dateOffsetMinutes);
}

function mailerOf(m: DumpMessage): string | null {
  return m.mailer?.replace(/[\d.]+/g, '#') ?? null;
}

/**
 * A sender's strong habit for one attribute: the usual values, how many messages have them, and
 * how many of those counted are proven by the From domain. `fromProven`: drawn from proven
 * messages alone, which may then judge any message of the sender; else from all, which may
 * judge only unproven ones.
 */
interface Habit {
  usual: Array<[string, number]>;
  usualValues: Set<string>;
  usualTotal: number;
  known: number;
  provenKnown: number;
  fromProven: boolean;
}

/** The message is proven by its From domain: what the habits are drawn from when there are enough. */
const provenByFromDomain = (m: DumpMessage): boolean => fromDomainProofs(m).length > 0;

/**
 * Counts what one sender's messages have, one message at a time, so that the dump pass never
 * holds a sender's messages (a mailbox's own sent mail can be most of a dump), only these counts:
 * of all the messages, and of those proven by the From domain. Anyone can put an address in an
 * unsigned From: planted messages must not decide what is usual for a sender, and so make the
 * sender's genuine, proven messages look unusual (red team 30, M-07).
 */
export class SenderTally {
  #messages = 0;
  readonly #counts = ATTRIBUTES.map(() => new Map<string, number>());
  readonly #provenCounts = ATTRIBUTES.map(() => new Map<string, number>());

  add(m: DumpMessage): void {
    this.#messages++;
    const proven = provenByFromDomain(m);
    ATTRIBUTES.forEach((attribute, i) => {
      const v = attribute.counted(m);
      if (v === null) return;
      this.#counts[i]!.set(v, (this.#counts[i]!.get(v) ?? 0) + 1);
      if (proven) this.#provenCounts[i]!.set(v, (this.#provenCounts[i]!.get(v) ?? 0) + 1);
    });
  }

  /** The sender's habits, attribute by attribute (null: no strong habit); null when there are too few messages to say. */
  habits(): Array<Habit | null> | null {
    if (this.#messages < PROFILE_MIN_MESSAGES) return null;
    const habits = this.#counts.map((all, i): Habit | null => {
      const provenKnown = total(this.#provenCounts[i]!);
      const fromProven = provenKnown >= PROFILE_MIN_MESSAGES;
      const counts = fromProven ? this.#provenCounts[i]! : all;
      const known = total(counts);
      if (known < PROFILE_MIN_MESSAGES) return null;
      // Most frequent first, then by code unit: never in the order the files were read, so that
      // the same messages under other names give the same text (red team Q, Q-01).
      const usual = [...counts].filter(([, n]) => n / known >= USUAL_SHARE).sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0));
      const usualTotal = usual.reduce((a, [, n]) => a + n, 0);
      if (usualTotal / known < HABIT_SHARE) return null;
      return { usual, usualValues: new Set(usual.map(([v]) => v)), usualTotal, known, provenKnown, fromProven };
    });
    return habits.some((h) => h !== null) ? habits : null;
  }
}

const total = (counts: ReadonlyMap<string, number>): number => [...counts.values()].reduce((a, b) => a + b, 0);

/** One message against its sender's habits: a warning for each attribute far outside them. */
export function profileOutliers(m: DumpMessage, habits: ReadonlyArray<Habit | null>): DumpFinding[] {
  const findings: DumpFinding[] = [];
  ATTRIBUTES.forEach((attribute, i) => {
    const habit = habits[i];
    // habits anyone could have planted say nothing against a message its From domain proves
    if (!habit || (!habit.fromProven && provenByFromDomain(m))) return;
    const v = attribute.value(m);
    if (v === null || habit.usualValues.has(v)) return;
    const counted = habit.fromProven
      ? `their ${habit.known} messages verified by their From domain`
      : `their ${habit.known} messages (${habit.provenKnown ? `only ${habit.provenKnown}` : 'none'} of them verified by their From domain: the others may be anyone's)`;
    findings.push({
      messageId: m.id,
      finding: {
        code: 'sender-profile-outlier',
        severity: 'warning',
        text: `Unusual ${attribute.label} for ${m.fromAddress}: "${v}", where ${Math.round((habit.usualTotal / habit.known) * 100)}% of ${counted} use ${[...habit.usualValues].map((u) => `"${u}"`).join(' or ')}.`,
        evidence: {
          sender: m.fromAddress, attribute: attribute.name, value: v, usual: Object.fromEntries(habit.usual), messagesWithValue: habit.known,
          verifiedMessagesWithValue: habit.fromProven ? habit.known : habit.provenKnown, habitsFrom: habit.fromProven ? 'verified messages' : 'all messages',
        },
      },
    });
  });
  return findings;
}

/**
 * For each sender, the usual time zone, mail program (versions folded) and signing selector. A
 * message far outside its sender's habits is worth a look: forgers rarely know them. A warning
 * only: people travel, change phones, and providers rotate selectors. The habits are drawn from
 * the messages proven by the From domain when there are enough of them (SenderTally); drawn from
 * all, they judge only unproven messages.
 */
export const senderProfile: DumpCheck = (messages) => {
  const findings: DumpFinding[] = [];
  for (const sent of groupBy(messages.filter((m) => m.fromAddress), (m) => senderKey(m.fromAddress)!)) {
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
