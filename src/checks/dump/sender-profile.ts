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

/**
 * For each sender, the usual time zone, mail program (versions folded) and signing selector. A
 * message far outside its sender's habits is worth a look: forgers rarely know them. A warning
 * only: people travel, change phones, and providers rotate selectors.
 */
export const senderProfile: DumpCheck = (messages) => {
  const findings: DumpFinding[] = [];
  for (const sent of groupBy(messages.filter((m) => m.fromAddress), (m) => m.fromAddress!)) {
    if (sent.length < PROFILE_MIN_MESSAGES) continue;
    for (const attribute of ATTRIBUTES) {
      const counts = new Map<string, number>();
      for (const m of sent) {
        const v = attribute.value(m);
        if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      const known = [...counts.values()].reduce((a, b) => a + b, 0);
      if (known < PROFILE_MIN_MESSAGES) continue;
      const usual = [...counts].filter(([, n]) => n / known >= USUAL_SHARE);
      const usualTotal = usual.reduce((a, [, n]) => a + n, 0);
      if (usualTotal / known < HABIT_SHARE) continue;
      const usualValues = new Set(usual.map(([v]) => v));
      for (const m of sent) {
        const v = attribute.value(m);
        if (v === null || usualValues.has(v)) continue;
        findings.push({
          messageId: m.id,
          finding: {
            code: 'sender-profile-outlier',
            severity: 'warning',
            text: `Unusual ${attribute.label} for ${m.fromAddress}: "${v}", where ${Math.round((usualTotal / known) * 100)}% of their ${known} messages use ${[...usualValues].map((u) => `"${u}"`).join(' or ')}.`,
            evidence: { sender: m.fromAddress, attribute: attribute.name, value: v, usual: Object.fromEntries(usual), messagesWithValue: known },
          },
        });
      }
    }
  }
  return findings;
};

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}
