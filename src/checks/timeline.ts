import { parseTags } from '../keys/parse-key.ts';
import type { HeaderField } from '../read/headers.ts';
import { parseMailDate, readMailDate } from '../read/message-meta.ts';
import type { DkimSignatureResult } from '../verify/dkim.ts';
import { HOUR, MINUTE, escapeControls, formatDuration, headerAttested, iso, receivedTime, speaksForAuthor, zoneOffsetMinutes } from './check-support.ts';
import { signatureLabel } from './signed-headers.ts';
import type { Finding, MessageCheck } from './types.ts';

/**
 * Tolerances, in one place (documented in docs/checks.md):
 * - SKEW: clocks of different machines disagree by seconds to minutes; 15 minutes absorbs that
 *   and ordinary queueing, so anything beyond is worth an examiner's look (warning).
 * - ZONE_RANGE: UTC offsets run from -12:00 to +14:00, so a machine whose wall clock is right
 *   but whose time zone is set wrong is off by at most 26 h. Beyond that no time-zone mistake
 *   explains a difference.
 * - ZONE_STEP / ZONE_SLACK: a wrong time-zone setting shifts a time by a multiple of 30 minutes;
 *   a difference within 5 minutes of such a multiple (and within ZONE_RANGE) is treated as one.
 * - SENDER_CLOCK_RANGE: a Date is written by the sender's own computer, whose clock nothing
 *   synchronised: PCs ran fast or slow by tens of minutes, on top of any time-zone error. With
 *   an error of up to 15 minutes either way, every difference lies within 15 minutes of a whole
 *   number of half-hours, so below ZONE_RANGE no difference between a Date and a server's stamp
 *   tells an edit from a wrong clock. Such a clock explains up to ZONE_RANGE plus an hour (27 h).
 */
export const SKEW_TOLERANCE_MS = 15 * MINUTE;
export const ZONE_RANGE_MS = 26 * HOUR;
const ZONE_STEP_MS = 30 * MINUTE;
const ZONE_SLACK_MS = 5 * MINUTE;
export const SENDER_CLOCK_RANGE_MS = ZONE_RANGE_MS + HOUR;
/**
 * A Date earlier than the first delivery by more than this is stated (a warning): servers stop
 * retrying after 5 days (Postfix's and sendmail's default), and a message written on a Friday
 * waits in an outbox over a weekend; longer is rare enough that a reader should be told.
 */
export const LONG_BEFORE_DELIVERY_MS = 7 * 24 * HOUR;
/** Zones run from -12:00 to +14:00: a Date read as UTC for want of a zone is off by at most 14 h. */
export const UNKNOWN_ZONE_SLACK_MS = 14 * HOUR;
const MAX_STAMPS = 200;
/** Stamps before this are clocks that were never set (1970, 1980), not times: they are left out. */
const UNSET_CLOCK_BEFORE = Date.UTC(1995, 0, 1);

/** A time recorded in the header by a server: a Received hop or an ARC seal. */
interface Stamp {
  source: string;
  position: number;
  time: Date;
  by: string | null;
  /** the time as written: what follows the Received field's last ';', or the ARC seal's t= */
  stamp: string;
}

/** Whether a difference looks like a time-zone setting error rather than a changed time. */
export function zoneLike(diffMs: number): boolean {
  const abs = Math.abs(diffMs);
  if (abs > ZONE_RANGE_MS) return false;
  const off = abs % ZONE_STEP_MS;
  return Math.min(off, ZONE_STEP_MS - off) <= ZONE_SLACK_MS;
}

/**
 * The message's times side by side: its Date, every Received hop, ARC seal times and DKIM t=.
 * Received fields are prepended by each server, so read bottom-up their times increase.
 */
export const auditTimeline: MessageCheck = ({ headers, signatures }) => {
  const fields = headers.fields;
  if (fields.length === 0) return [];
  const findings: Finding[] = [];
  const stamps = serverStamps(fields);
  const dateField = fields.find((f) => f.name === 'date');
  const dateValue = dateField?.value.slice(0, 300) ?? null;
  const reading = dateField ? readMailDate(dateValue) : null;
  const date = reading?.date ?? null;
  // A Date with no zone leakcheck can read is read as UTC, and is off by at most the zone its
  // writer was in: compared with that much more margin, it still shows a Date years from t= (red
  // team R, R-02), and never makes a genuine message from New York look 5 hours late. The margin
  // is the farthest a zone is from UTC, not the 26 h span: the comparisons' own limits already
  // allow for a wrong zone setting, and twice that let a Date 2 days back pass (red team T, T-04).
  const zoneSlack = reading && !reading.zoneKnown ? UNKNOWN_ZONE_SLACK_MS : 0;

  if (dateField && !date) findings.push(unparseableDate(dateValue!, fields, signatures));
  if (dateField && date) {
    const zone = zoneFinding(dateValue!);
    if (zone) findings.push(zone);
    const proven = dateProven(fields, signatures);
    const delivered = deliveredBeforeWritten(date, dateValue!, stamps, headerAttested(fields, signatures, 'date'), proven, zoneSlack);
    if (delivered) findings.push(delivered);
    const late = deliveredLongAfter(date, dateValue!, stamps, proven, zoneSlack);
    if (late) findings.push(late);
    findings.push(...signatureTimes(date, dateValue!, fields, signatures, proven, zoneSlack));
  }
  // A message its author's domain proves is not made suspect by its trace: the Received fields
  // are unsigned, and a line added after delivery (fetchmail's, stamped by a laptop whose date was
  // wrong) made a verified message suspicious; anyone could discredit a genuine leak so, with one
  // line (red team 27, E-02). The step back is still reported, as a warning.
  const proven = signatures.some((s) => speaksForAuthor(s) && s.tags.signedHeaders.includes('from'));
  const backwards = hopsBackwards(stamps, proven);
  if (backwards) findings.push(backwards);
  return findings;
};

/**
 * A Date nothing here can read. A warning, as before: genuine mail has odd Dates. But under a
 * verifying signature that does not cover the Date, "cannot be compared with anything" hid that
 * the Date a reader is shown was never checked against the signing time: a forger who back-dates
 * the Date and writes it so that leakcheck cannot read it (but the reader's client does) came out
 * verified with nothing but that note (red team R, R-02). The text says so, and gives t=.
 */
function unparseableDate(dateValue: string, fields: HeaderField[], signatures: DkimSignatureResult[]): Finding {
  const timedSignatures = dateProven(fields, signatures) ? [] : signatures.filter((s) => s.outcome === 'pass' && s.tags.timestamp !== null);
  const timed = timedSignatures.find((s) => s.aligned) ?? timedSignatures[0];
  const unchecked = timed
    ? ` The signature by ${timed.tags.domain ?? '?'} verifies and says it was made at ${iso(new Date(timed.tags.timestamp! * 1000))} (t=${timed.tags.timestamp}), but it does not cover the Date: the date a reader's mail program shows for this message could not be checked against that time, and a Date changed after signing would not be seen here.`
    : '';
  return {
    code: 'date-unparseable',
    severity: 'warning',
    text: `The Date header "${escapeControls(dateValue, 80)}" is not a date leakcheck can read (a day, a month, a year and a time), so the time the message claims cannot be compared with anything.${unchecked}`,
    evidence: {
      date: dateValue,
      ...(timed ? { uncheckedAgainstSignature: signatureLabel(timed), t: timed.tags.timestamp, signedAt: iso(new Date(timed.tags.timestamp! * 1000)) } : {}),
    },
  };
}

/**
 * The least difference a Date whose zone is unknown (zoneSlack 14 h) can stand for, with its sign:
 * what the tolerances are compared with.
 */
const leastDifference = (diff: number, zoneSlack: number): number => Math.sign(diff) * Math.max(0, Math.abs(diff) - zoneSlack);

/** What a finding on a Date with an unknown zone adds to its text. */
const zoneNote = (zoneSlack: number): string =>
  zoneSlack > 0 ? ` (The Date names no time zone leakcheck can read, so it is read as UTC and only the part of the difference beyond the ${UNKNOWN_ZONE_SLACK_MS / HOUR} h a time zone can be from UTC is counted.)` : '';

/** Received hops and ARC-Seal t=, bottom-most first. */
function serverStamps(fields: HeaderField[]): Stamp[] {
  const stamps: Stamp[] = [];
  let received = 0;
  const total = fields.filter((f) => f.name === 'received').length;
  for (const field of fields) {
    if (stamps.length >= MAX_STAMPS) break;
    if (field.name === 'received') {
      received++;
      const value = field.value.length > 4096 ? field.value.slice(-4096) : field.value;
      const time = receivedTime(value);
      if (!time || time.getTime() < UNSET_CLOCK_BEFORE) continue;
      const hop = total - received + 1;
      const stamp = value.slice(value.lastIndexOf(';') + 1).trim().slice(0, 100);
      stamps.push({ source: `Received hop ${hop} of ${total} (counted from the bottom)`, position: field.position, time, by: byHost(value), stamp });
    } else if (field.name === 'arc-seal') {
      const tags = parseTags(field.value.slice(0, 8192));
      const t = tags.get('t');
      if (!t || !/^\d{1,12}$/.test(t)) continue;
      const time = new Date(Number(t) * 1000);
      if (time.getTime() < UNSET_CLOCK_BEFORE) continue;
      stamps.push({ source: `ARC-Seal i=${tags.get('i') ?? '?'} t=${t}`, position: field.position, time, by: tags.get('d') ?? null, stamp: `t=${t}` });
    }
  }
  return stamps.sort((a, b) => b.position - a.position);
}

/**
 * The message's first recorded delivery: the bottom-most server stamp, as auditTimeline reads the
 * trace. Stored with each message (messages.first_stamp_at), so that the thread check can ask a
 * message's own trace whether it bears out its Date.
 */
export function firstServerStamp(fields: HeaderField[]): Date | null {
  return serverStamps(fields)[0]?.time ?? null;
}

const byHost = (value: string): string | null => /\bby\s+([^\s;()]{1,100})/i.exec(value.slice(0, 1024))?.[1] ?? null;

const stampEvidence = (s: Stamp) => ({ source: s.source, by: s.by, stamp: s.stamp, time: iso(s.time) });

/**
 * The Date later than the first recorded delivery (the bottom-most server stamp) by more than
 * the skew tolerance: the message was delivered before it was written. What a Date moved later
 * after sending looks like; but an unsigned Date is only what the sender's computer's clock said,
 * and such clocks were often tens of minutes fast, or set to the wrong time zone.
 *
 * The rule (docs/checks.md):
 * - a **red flag** only when the author's domain does not prove the Date (a verifying
 *   signature aligned with From, with a strong key, covering every Date field) and the Date is
 *   later than **every** server stamp, the receiving provider's top one included, by more than
 *   SENDER_CLOCK_RANGE (27 h): no wrong clock or time-zone setting on the sender's computer
 *   explains that, nor one relay's wrong clock, since the other stamps would then agree with
 *   the Date. Received fields are unsigned, and anyone can add one; requiring every stamp to
 *   contradict the Date means an added stamp can never make a genuine message suspicious.
 * - otherwise a **warning**: within 27 h a fast clock or a wrong zone gives any difference, and
 *   so does an edited Date, which this check alone cannot tell apart. A Date the author's domain
 *   proves is as the sender's system wrote it (its clock, or the stamps, were wrong); a
 *   signature by another domain proves nothing about the Date (a forger signs with their own).
 */
function deliveredBeforeWritten(date: Date, dateValue: string, stamps: Stamp[], dateSigned: boolean, proven: boolean, zoneSlack: number): Finding | null {
  const first = stamps[0];
  if (!first) return null;
  const diff = date.getTime() - first.time.getTime();
  const least = leastDifference(diff, zoneSlack);
  if (least <= SKEW_TOLERANCE_MS) return null;
  const latest = stamps.reduce((a, b) => (b.time > a.time ? b : a));
  const diffLatest = date.getTime() - latest.time.getTime();
  const zone = zoneSlack === 0 && zoneLike(diff);
  const beyondClock = leastDifference(diffLatest, zoneSlack) > SENDER_CLOCK_RANGE_MS;
  // An unsigned Date alone never accuses: a wrong calendar date on the sender's computer (a reset
  // CMOS clock, day and month swapped) puts a genuine Date days or years off (red team R, R-05).
  // A Date a signature's own t= contradicts is flagged by signatureTimes.
  const where = (s: Stamp) => `${s.source}${s.by ? `, by ${escapeControls(s.by, 100)}` : ''}, at ${iso(s.time)}`;
  let why: string;
  if (!proven && beyondClock) {
    why = `it was delivered before it was written${latest === first ? '' : `, and every later server stamp is more than ${SENDER_CLOCK_RANGE_MS / HOUR} h before the Date too`}: more than a fast clock or a wrong time-zone setting explains, but a wrong date set on the sender's computer explains it, and so does a Date changed after sending; the Date is not signed by the author's domain, so which cannot be told from it alone`;
  } else if (proven) {
    why = "a verifying signature by the author's domain covers the Date, so it is as the sender's system wrote it: that machine's clock (or a server's) was probably wrong";
  } else if (least > SENDER_CLOCK_RANGE_MS) {
    why = `a server stamp higher in the chain (${where(latest)}) is within ${SENDER_CLOCK_RANGE_MS / HOUR} h of the Date, so a relay at the bottom of the chain with a wrong clock explains it, and so does a Date edited after sending`;
  } else if (zone) {
    why = "it was delivered before it was written; a difference this close to a whole number of half-hours is what a wrong time-zone setting on the sender's computer gives, but it is also what an edited hour gives";
  } else {
    why = `it was delivered before it was written, but the Date is written by the sender's own computer, whose clock could run tens of minutes fast or be set to the wrong time zone (up to ${SENDER_CLOCK_RANGE_MS / HOUR} h together); a Date edited after sending looks the same, so this is for the examiner to weigh, not evidence of tampering`;
  }
  return {
    code: 'delivered-before-written',
    severity: 'warning',
    text: `The Date (${iso(date)}) is ${formatDuration(diff)} later than the message's first recorded delivery (${where(first)}): ${why}.${zoneNote(zoneSlack)}`,
    evidence: {
      date: dateValue,
      dateTime: iso(date),
      firstDelivery: stampEvidence(first),
      latestDelivery: stampEvidence(latest),
      differenceSeconds: Math.round(diff / 1000),
      differenceFromLatestSeconds: Math.round(diffLatest / 1000),
      toleranceMinutes: SKEW_TOLERANCE_MS / MINUTE,
      clockRangeHours: SENDER_CLOCK_RANGE_MS / HOUR,
      dateSigned,
      dateProven: proven,
      timeZoneLike: zone,
      dateZoneKnown: zoneSlack === 0,
    },
  };
}

/**
 * A Date the author's domain does not prove, earlier than the first recorded delivery by more
 * than a sender's clock could be off: the trace says the message left days or years after the
 * date it shows. A warning, never a red flag: queued, bounced and re-sent mail, and a wrong
 * calendar date on the sender's computer, do this too; but a verified message dated years before
 * its delivery was shown with no more than "Date not signed" (red team R, R-06).
 */
function deliveredLongAfter(date: Date, dateValue: string, stamps: Stamp[], proven: boolean, zoneSlack: number): Finding | null {
  // the earliest stamp, not the bottom one: a bottom relay whose clock ran years ahead is not a delivery years late
  const first = stamps.reduce<Stamp | null>((a, b) => (!a || b.time < a.time ? b : a), null);
  if (!first || proven) return null;
  const diff = first.time.getTime() - date.getTime();
  if (leastDifference(diff, zoneSlack) <= LONG_BEFORE_DELIVERY_MS) return null;
  return {
    code: 'delivered-long-after-date',
    severity: 'warning',
    text: `The earliest server stamp (${first.source}${first.by ? `, by ${escapeControls(first.by, 100)}` : ''}, at ${iso(first.time)}) is ${formatDuration(diff)} after the message's Date (${iso(date)}), and no signature by the author's domain covers the Date: mail held in a queue or re-sent, or a wrong date on the sender's computer, explains it, and so does a Date set back after sending.${zoneNote(zoneSlack)}`,
    evidence: { date: dateValue, dateTime: iso(date), earliestStamp: stampEvidence(first), differenceSeconds: Math.round(diff / 1000), warningBeyondDays: LONG_BEFORE_DELIVERY_MS / (24 * HOUR) },
  };
}

/**
 * The author's domain proves the Date: a signature that speaks for it (aligned with From, a
 * strong key not known to be compromised) signs every Date field (an unsigned copy above a signed
 * one is not proven). A third party's signature proves nothing about the Date.
 */
function dateProven(fields: HeaderField[], signatures: DkimSignatureResult[]): boolean {
  return headerAttested(fields, signatures.filter(speaksForAuthor), 'date');
}

/**
 * Server stamps that run backwards, read bottom-up. Servers keep their clocks synchronised;
 * a step back beyond the skew tolerance is a warning, and beyond any time-zone mistake
 * (26 h) a red flag: the Received fields were not written in the order they claim.
 */
function hopsBackwards(stamps: Stamp[], proven: boolean): Finding | null {
  const worst = worstStepBack(stamps);
  if (!worst || worst.step <= SKEW_TOLERANCE_MS) return null;
  const beyondClocks = worst.step > ZONE_RANGE_MS;
  // One machine whose date was wrong (a fetcher on a laptop whose clock reset, a first relay years
  // ahead) puts a single stamp out of line with all the others: a broken clock, not a rewritten
  // trace (red team R, R-04). Only when the trace still runs back beyond any clock error with any
  // one stamp left out do two or more stamps stand against the rest.
  const oneClockExplains = stamps.some((_, i) => (worstStepBack(stamps.filter((__, j) => j !== i))?.step ?? 0) <= ZONE_RANGE_MS);
  const red = beyondClocks && !proven && !oneClockExplains;
  return {
    code: 'received-hops-backwards',
    severity: red ? 'red-flag' : 'warning',
    text: `The message's server time stamps run backwards: ${worst.later.source} (${iso(worst.later.time)}) is ${formatDuration(worst.step)} earlier than ${worst.earlier.source} below it (${iso(worst.earlier.time)}), ${
      beyondClocks && red
        ? 'and leaving out any one stamp does not explain it: more than one machine\'s clock or time-zone error explains, so these Received fields were not written in the order they claim'
        : beyondClocks ? 'more than a time-zone error explains, but one machine whose date was wrong explains it (all the other stamps agree), and so does a line added or changed after delivery'
        : 'more than clock skew between servers explains'
    }${beyondClocks && proven ? ': a fact about the unsigned trace, not about the content, which a signature by the From domain proves (a line added after delivery, such as a mail fetcher\'s stamped by a computer whose date was wrong, does this)' : ''}.`,
    evidence: {
      earlierInPath: stampEvidence(worst.earlier),
      laterInPath: stampEvidence(worst.later),
      stepBackSeconds: Math.round(worst.step / 1000),
      toleranceMinutes: SKEW_TOLERANCE_MS / MINUTE,
      redFlagBeyondHours: ZONE_RANGE_MS / HOUR,
      stamps: stamps.slice(0, 30).map(stampEvidence),
    },
  };
}

/** The largest step back in time, reading the stamps bottom-up. */
function worstStepBack(stamps: Stamp[]): { earlier: Stamp; later: Stamp; step: number } | null {
  let latest: Stamp | null = null;
  let worst: { earlier: Stamp; later: Stamp; step: number } | null = null;
  for (const stamp of stamps) {
    if (latest && latest.time.getTime() - stamp.time.getTime() > (worst?.step ?? 0)) {
      worst = { earlier: latest, later: stamp, step: latest.time.getTime() - stamp.time.getTime() };
    }
    if (!latest || stamp.time > latest.time) latest = stamp;
  }
  return worst;
}

/**
 * DKIM t= against the Date. The author's domain (aligned d=) signs when the message leaves
 * the author's system, seconds after the Date; a third party (a list, a forwarder, an ESP)
 * may legitimately sign much later. A Resent-Date that matches t= explains a re-sent message.
 */
function signatureTimes(date: Date, dateValue: string, fields: HeaderField[], signatures: DkimSignatureResult[], dateSigned: boolean, zoneSlack: number): Finding[] {
  const findings: Finding[] = [];
  // (dateSigned: only a signature that speaks for the author vouches for the Date, dateProven; a
  // forger who back-dates a message can sign the new Date with a domain of their own: red team 27, A-03)
  // Anyone can add a Resent-Date: only one the late signature itself covers, as a re-sending
  // signer writes it, explains its t= (red team R, R-03). Another signature's cover explains
  // nothing about this one's t=: a forger who back-dates a genuine message can add a Resent-Date
  // and sign it with a domain of their own (red team T, T-01).
  const resentFields = fields.filter((f) => f.name === 'resent-date').length;
  const signsEveryResentDate = (sig: DkimSignatureResult): boolean =>
    resentFields > 0 && sig.outcome === 'pass' && sig.tags.signedHeaders.filter((h) => h === 'resent-date').length >= resentFields;
  const resent = fields
    .filter((f) => f.name === 'resent-date')
    .slice(0, 20)
    .map((f) => parseMailDate(f.value.slice(0, 300)))
    .filter((d): d is Date => d !== null);
  for (const sig of signatures) {
    if (sig.tags.timestamp === null || sig.outcome === 'malformed') continue;
    const signedAt = new Date(sig.tags.timestamp * 1000);
    const diff = signedAt.getTime() - date.getTime();
    const limit = sig.aligned ? SKEW_TOLERANCE_MS : ZONE_RANGE_MS;
    const least = leastDifference(diff, zoneSlack);
    if (Math.abs(least) <= limit) continue;
    const resentMatches = resent.some((r) => Math.abs(signedAt.getTime() - r.getTime()) <= ZONE_RANGE_MS);
    const resentSigned = signsEveryResentDate(sig);
    if (resentMatches && resentSigned) continue;
    const red = sig.aligned && sig.outcome === 'pass' && !dateSigned && Math.abs(least) > ZONE_RANGE_MS;
    const later = diff > 0;
    const direction = `${formatDuration(diff)} ${later ? 'after' : 'before'}`;
    let why: string;
    if (red) {
      why = `the signature verifies but does not cover the Date, so the Date shown is unsigned and contradicts the signing time, as when a Date is changed after signing${resentMatches ? '; a Resent-Date near the signing time is present, but this signature does not cover it, and anyone can add one' : ''}`;
    } else if (!sig.aligned) {
      why = later
        ? `${sig.tags.domain ?? 'the signer'} is not the author's domain, and intermediaries such as lists and bulk senders can sign long after a message is written`
        : `${sig.tags.domain ?? 'the signer'} signed it before the time the message says it was written: a wrong clock on the author's machine, or an edited Date, explains it`;
    } else {
      const attested = sig.outcome === 'pass' && dateSigned;
      why = later
        ? `it was signed when it left the author's system, so it left long after it was written: a message held in an outbox or re-sent explains it, and so does ${attested ? 'a Date set back by its sender (a signature by the From domain covers the Date, so it was not changed afterwards)' : 'a Date edited after signing'}`
        : `it was signed before it was written: a wrong clock on the author's machine explains it, and so does ${attested ? 'a Date set forward by its sender (a signature by the From domain covers the Date, so it was not changed afterwards)' : 'a Date edited after signing'}`;
    }
    findings.push({
      code: 'signature-time-far-from-date',
      severity: red ? 'red-flag' : 'warning',
      text: `The signature by ${sig.tags.domain ?? '?'} was made at ${iso(signedAt)}, ${direction} the message's Date (${iso(date)}): ${why}.${zoneNote(zoneSlack)}`,
      evidence: {
        signature: signatureLabel(sig),
        t: sig.tags.timestamp,
        signedAt: iso(signedAt),
        date: dateValue,
        dateTime: iso(date),
        differenceSeconds: Math.round(diff / 1000),
        toleranceMinutes: limit / MINUTE,
        redFlagBeyondHours: ZONE_RANGE_MS / HOUR,
        aligned: sig.aligned,
        outcome: sig.outcome,
        dateSigned,
        unsignedResentDateMatches: resentMatches && !resentSigned,
        dateZoneKnown: zoneSlack === 0,
      },
    });
  }
  return findings;
}

/** Common zone names in Date comments and the offsets they stand for (some are ambiguous). */
const ZONE_NAMES: Record<string, number[]> = {
  UT: [0], UTC: [0], GMT: [0], Z: [0], WET: [0], WEST: [60], BST: [60, 360],
  CET: [60], CEST: [120], MET: [60], MEST: [120], EET: [120], EEST: [180],
  EST: [-300, 600, 660], EDT: [-240, 660], CST: [-360, 480, -300], CDT: [-300, -240],
  MST: [-420], MDT: [-360], PST: [-480, 480], PDT: [-420], AKST: [-540], AKDT: [-480], HST: [-600],
  JST: [540], KST: [540], HKT: [480], SGT: [480], AWST: [480], ACST: [570], ACDT: [630],
  AEST: [600], AEDT: [660], NZST: [720], NZDT: [780],
};

/**
 * A Date whose numeric zone no place uses, or whose zone comment names another zone than its
 * offset ("-0400 (PST)"): hand-edited dates often change one and not the other. Info only:
 * software has written odd zones too. The Date's zone is not compared with the servers'
 * zones: providers stamp their own zone (Gmail Pacific time, Microsoft UTC), whatever the
 * sender's, and travellers' devices change zone.
 */
function zoneFinding(dateValue: string): Finding | null {
  const offset = zoneOffsetMinutes(dateValue);
  if (offset === null) return null;
  const impossible = Math.abs(offset) > 14 * 60 || offset % 15 !== 0;
  // The zone's name, in a comment as mail programs write it ("-0700 (PDT)"), or bare after the
  // offset ("+0100 PST"), which no program writes but a hand-edited Date can hold.
  const named = /\(\s*([A-Za-z]{1,5})\s*\)\s*$/.exec(dateValue) ?? /[+-]\d{4}\s+([A-Za-z]{1,5})\s*$/.exec(dateValue);
  const comment = named?.[1]?.toUpperCase() ?? null;
  const expected = comment ? ZONE_NAMES[comment] : undefined;
  const contradicts = expected !== undefined && !expected.includes(offset);
  if (!impossible && !contradicts) return null;
  const shown = `${offset < 0 ? '-' : '+'}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}${String(Math.abs(offset) % 60).padStart(2, '0')}`;
  return {
    code: 'date-zone-inconsistent',
    severity: 'info',
    text: impossible
      ? `The Date's time zone ${shown} is not one any place uses, which suggests the Date was typed by hand.`
      : `The Date gives the offset ${shown} but names the zone ${comment}, which is a different offset: one of the two was changed, or the sending software was misconfigured.`,
    evidence: { date: dateValue, offsetMinutes: offset, zoneComment: comment, commentOffsetsMinutes: expected ?? null },
  };
}

