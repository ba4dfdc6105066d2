import { DAY_MS, type DumpCheck, type DumpFinding, type DumpMessage } from './types.ts';

/** Selectors live for months to years; only a claim well outside the proven span is worth a look. */
export const SELECTOR_SLACK_DAYS = 180;

/**
 * For each domain and selector, the span of dates of the messages that verify with it. An
 * unverifiable message claiming that selector far outside the span names a selector that, as far
 * as this dump proves, was not in use then.
 */
export const selectorTimeline: DumpCheck = (messages) => {
  const spans = new SelectorSpans();
  for (const m of messages) spans.add(m);
  return messages.flatMap((m) => spans.outliers(m));
};

/**
 * The spans, gathered one message at a time (a first pass over the dump), then asked about each
 * message (a second): memory for one entry per selector, never for the messages.
 */
export class SelectorSpans {
  readonly #spans = new Map<string, { first: number; last: number; count: number }>();

  add(m: DumpMessage): void {
    if (!m.date) return;
    const t = Date.parse(m.date);
    for (const s of m.signatures) {
      if (s.outcome !== 'pass') continue;
      const key = `${s.selector}._domainkey.${s.domain}`;
      const span = this.#spans.get(key);
      if (!span) this.#spans.set(key, { first: t, last: t, count: 1 });
      else {
        span.first = Math.min(span.first, t);
        span.last = Math.max(span.last, t);
        span.count++;
      }
    }
  }

  outliers(m: DumpMessage): DumpFinding[] {
    if (m.verdict !== 'unverifiable' || !m.date) return [];
    const t = Date.parse(m.date);
    const findings: DumpFinding[] = [];
    for (const s of m.signatures) {
      if (s.outcome === 'pass') continue;
      const key = `${s.selector}._domainkey.${s.domain}`;
      const span = this.#spans.get(key);
      if (!span) continue;
      const outside = t < span.first - SELECTOR_SLACK_DAYS * DAY_MS || t > span.last + SELECTOR_SLACK_DAYS * DAY_MS;
      if (!outside) continue;
      findings.push({
        messageId: m.id,
        finding: {
          code: 'selector-outside-timeline',
          severity: 'warning',
          text: `This message claims the selector ${key}, but the ${span.count} message(s) of the dump that verify with it are dated ${iso(span.first)} to ${iso(span.last)}, far from this message's ${iso(t)}.`,
          evidence: { selector: key, date: m.date, verifiedFrom: iso(span.first), verifiedTo: iso(span.last), verifiedCount: span.count, slackDays: SELECTOR_SLACK_DAYS },
        },
      });
    }
    return findings;
  }
}

const iso = (t: number): string => new Date(t).toISOString().slice(0, 10);
