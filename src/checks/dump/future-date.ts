import { canonicalDomain } from '../../verify/domain-names.ts';
import { byContentOrder, DAY_MS, fromDomainKey, fromDomainProofs, type DumpCheck, type DumpFinding, type DumpMessage } from './types.ts';

export const FUTURE_SLACK_DAYS = 30;

/**
 * A message dated well after everything else in the dump was dated after the mailbox was taken,
 * or carries a false Date. The reference is taken from proven Dates (signed by a proof aligned
 * with the message's From domain), each signing domain counting by its latest: the latest of the
 * domain that proves the most messages (the mailbox's own, as a rule), or of a second domain when
 * two reach later, or of the accused message's own domain when later still. One domain alone,
 * however well proven, does not set the end of the dump unless it is the dump's main one: a
 * forger who signs their own mail with a domain of their own, dated years ahead, would otherwise
 * shield every forgery (red team 30, M-06). A Date signed only by another domain proves nothing
 * of the kind. With no proven Date, the latest date of the other messages. A proven Date far
 * after the reference gets an info: only its own domain vouches for it.
 */
export const dateAfterDump: DumpCheck = (messages) => {
  const reference = new DumpDates();
  for (const m of messages) reference.add(m);
  return messages.flatMap((m) => reference.lateFindings(m));
};

/**
 * One signing domain's proven Dates: how many, the latest, and a message that carries it: of
 * several, the one first by content (sha256), then by name, so that renaming files does not
 * change which one the text names (red team Q, Q-03).
 */
interface DomainDates {
  domain: string;
  proven: number;
  t: number;
  where: string;
  sha256: string;
}

/** (ties broken by name, not by the order messages come in: the dump pass reads them by sender) */
const isLater = (a: DomainDates, b: DomainDates): boolean => a.t > b.t || (a.t === b.t && a.domain < b.domain);
const isBusier = (a: DomainDates, b: DomainDates): boolean => a.proven > b.proven || (a.proven === b.proven && a.domain < b.domain);

/** The domain whose proof by the From domain signs the message's Date, compared as canonicalDomain; null when the Date is not proven. */
const dateSigner = (m: DumpMessage): string | null => {
  const signer = fromDomainProofs(m).find((p) => p.signedHeaders.includes('date'))?.domain;
  return signer === undefined ? null : canonicalDomain(signer);
};

/** The reference proven Date, and the domain set aside, alone in signing later Dates. */
interface Reference {
  dates: DomainDates;
  setAside: DomainDates | null;
}

/**
 * What the check compares each message with, gathered one message at a time (a first pass over
 * the dump): each signing domain's proven Dates (one entry per domain: a dump's domains, not its
 * messages), and the two latest dates of all, so that a message can be compared with the latest
 * other than itself. Then asked about each message (a second pass).
 */
export class DumpDates {
  #dated = 0;
  readonly #byDomain = new Map<string, DomainDates>();
  /** computed once all are added */
  #reference: Reference | null | undefined;
  /** the two largest dates, counted with repeats: top[0] >= top[1] */
  readonly #top: number[] = [];

  add(m: DumpMessage): void {
    if (!m.date) return;
    const t = Date.parse(m.date);
    this.#dated++;
    const domain = dateSigner(m);
    if (domain !== null) {
      const dates = this.#byDomain.get(domain) ?? { domain, proven: 0, t, where: m.where, sha256: m.sha256 };
      dates.proven++;
      if (t > dates.t || (t === dates.t && byContentOrder(m, dates) < 0)) Object.assign(dates, { t, where: m.where, sha256: m.sha256 });
      this.#byDomain.set(domain, dates);
      this.#reference = undefined;
    }
    this.#top.push(t);
    this.#top.sort((a, b) => b - a);
    if (this.#top.length > 2) this.#top.pop();
  }

  /** The busiest domain's latest, or the second latest of all domains when later; null with no proven Date. */
  get #provenReference(): Reference | null {
    if (this.#reference === undefined) {
      let busiest: DomainDates | null = null;
      const latest: DomainDates[] = [];
      for (const dates of this.#byDomain.values()) {
        if (!busiest || isBusier(dates, busiest)) busiest = dates;
        if (!latest[0] || isLater(dates, latest[0])) latest.unshift(dates);
        else if (!latest[1] || isLater(dates, latest[1])) latest[1] = dates;
        latest.length = Math.min(latest.length, 2);
      }
      const chosen = !busiest ? null : latest[1] && isLater(latest[1], busiest) ? latest[1] : busiest;
      this.#reference = chosen && { dates: chosen, setAside: latest[0] !== chosen ? latest[0]! : null };
    }
    return this.#reference;
  }

  /** The proven Dates of the message's From domain (or a domain above it), if any. */
  #ownDomain(m: DumpMessage): DomainDates | undefined {
    const labels = fromDomainKey(m)?.split('.') ?? [];
    for (let i = 0; i < labels.length - 1; i++) {
      const dates = this.#byDomain.get(labels.slice(i).join('.'));
      if (dates) return dates;
    }
    return undefined;
  }

  lateFindings(m: DumpMessage): DumpFinding[] {
    if (this.#dated < 2 || !m.date) return [];
    const t = Date.parse(m.date);
    const reference = this.#provenReference;
    if (dateSigner(m) !== null) return reference ? unvouched(m, t, reference.dates) : [];
    const own = this.#ownDomain(m);
    const proven = own && reference && own.t > reference.dates.t ? own : reference?.dates;
    const setAside = proven && reference?.setAside && reference.setAside.t > proven.t ? reference.setAside : null;
    // the latest other message: the top date, or the runner-up when this message is the top
    const latest = proven?.t ?? (t === this.#top[0] ? this.#top[1]! : this.#top[0]!);
    if (t <= latest + FUTURE_SLACK_DAYS * DAY_MS) return [];
    return [{
      messageId: m.id,
      finding: {
        code: 'date-after-dump',
        severity: 'warning',
        text: `Dated ${m.date.slice(0, 10)}, more than ${FUTURE_SLACK_DAYS} days after the latest ${proven ? `verified message of the dump (${day(latest)}, ${proven.where})` : `message of the dump (${day(latest)})`}.` +
          (setAside ? ` Only d=${setAside.domain} signs later Dates (to ${day(setAside.t)}, ${setAside.where}); one domain's signer dates its own mail as it pleases, so that is not taken as the end of the dump.` : ''),
        evidence: {
          date: m.date,
          latestReference: new Date(latest).toISOString(),
          reference: proven ? 'latest verified message' : 'latest other message',
          ...(proven ? { referenceFile: proven.where, referenceDomain: proven.domain } : {}),
          ...(setAside ? { setAside: { domain: setAside.domain, latest: new Date(setAside.t).toISOString(), file: setAside.where } } : {}),
          slackDays: FUTURE_SLACK_DAYS,
        },
      },
    }];
  }
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** A proven Date far after the reference: its own domain alone vouches for it. */
function unvouched(m: DumpMessage, t: number, reference: DomainDates): DumpFinding[] {
  if (t <= reference.t + FUTURE_SLACK_DAYS * DAY_MS) return [];
  return [{
    messageId: m.id,
    finding: {
      code: 'date-after-dump',
      severity: 'info',
      text: `Dated ${m.date!.slice(0, 10)}, more than ${FUTURE_SLACK_DAYS} days after the latest verified message of the dump (${day(reference.t)}, ${reference.where}). ` +
        `Only its own domain, d=${dateSigner(m)}, signs Dates that late: its signature proves the domain wrote this Date, not when, and the message may have been sent after the rest of the mailbox was taken.`,
      evidence: {
        date: m.date,
        latestReference: new Date(reference.t).toISOString(),
        reference: 'latest verified message',
        referenceFile: reference.where,
        referenceDomain: reference.domain,
        slackDays: FUTURE_SLACK_DAYS,
      },
    },
  }];
}
