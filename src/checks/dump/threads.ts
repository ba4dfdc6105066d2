import { capitalised, formatDuration } from '../check-support.ts';
import type { Severity } from '../types.ts';
import { SENDER_CLOCK_RANGE_MS, UNKNOWN_ZONE_SLACK_MS } from '../timeline.ts';
import { isPublicMailProvider } from './public-mail-providers.ts';
import { byContentOrder, dateProven, fromDomainOf, fromDomainProofs, messageIdDomain, sameDomainOrSubdomain, witnessesAgainst, witnessRefusedAsSharedProvider, type DumpCheck, type DumpFinding, type DumpMessage, type DumpProof } from './types.ts';

/** Clocks of different senders disagree by minutes; a reply is not flagged for less. */
export const THREAD_TOLERANCE_MS = 15 * 60_000;

/**
 * What a thread's comparison allows on top of its own margins: a Date whose zone could not be read
 * was read as -0000 and may be off by as much as its writer's zone, so a genuine zoneless reply
 * from New York, read 5 h early, must not count as written before its parent (red team R, R-02).
 */
const zoneSlack = (a: DumpMessage, b: DumpMessage): number => (a.dateZoneKnown && b.dateZoneKnown ? 0 : UNKNOWN_ZONE_SLACK_MS);

/** The Message-IDs a message answers (In-Reply-To, then References), each once, never its own. */
export function parentIds(reply: DumpMessage): string[] {
  return [...new Set([reply.inReplyTo, ...reply.references].filter((id): id is string => !!id && id !== reply.messageId))];
}

/**
 * A reply cannot be older than the message it answers. When the parent is in the dump and
 * dated after its reply, one of the two dates is false. A reply makes its parent suspicious only
 * when its Date is signed by the parent's own From domain, and on a public mail provider only
 * when it is from the parent's own address (witnessesAgainst): a forger can write
 * a "reply" from a domain of their own, sign it there, and date it as they please, so a Date
 * signed by any other domain, however well proven, proves nothing about the parent's, and both
 * get a warning. Both Dates proven: a warning on both (a clock was wrong). Neither proven: a
 * warning on both, since nothing tells which Date is false (a forger who plants an unsigned,
 * later-dated "parent" under the Message-ID a genuine reply answers must not make the reply
 * suspicious). Otherwise, the parent's Date alone proven, the reply carries the flag, a red flag
 * unless it is verified, and only when the parent's Message-ID is shown to be its own
 * (ownsItsMessageId) and the proof of its Date is by the reply's own From domain
 * (witnessesAgainst, the other way round); else a warning on both. A correspondent signs their
 * own mail: a copy of it under the same Message-ID, re-dated after a genuine unsigned reply, must
 * not make the reply suspicious (red team 30, M-01). Whichever side would carry a red flag, its own
 * server trace must bear its Date out beyond a sender's clock range, or it is a warning
 * (parentFindings; red team R, R-05).
 */
export const threadOrder: DumpCheck = (messages) => {
  const byMessageId = new Map<string, DumpMessage[]>();
  for (const m of messages) {
    if (!m.messageId) continue;
    const copies = byMessageId.get(m.messageId);
    if (copies) copies.push(m);
    else byMessageId.set(m.messageId, [m]);
  }
  const every = new Map<string, ParentClasses>();
  const kept = new Map<string, ParentClasses>();
  for (const [id, copies] of byMessageId) {
    const bounded = new BoundedParentCopies();
    const classes = new ParentClasses();
    for (const m of copies) {
      bounded.add(m);
      classes.add(m);
    }
    every.set(id, classes);
    kept.set(id, bounded.classes);
  }
  const accused = new AccusedParents();
  const onReplies = messages.flatMap((reply) => {
    const classes = mayAccuseParents(reply) ? every : kept;
    return replyFindings(reply, (id) => classes.get(id)?.representatives ?? [], accused);
  });
  return [...onReplies, ...accused.findings((id) => byMessageId.get(id) ?? [])];
};

/**
 * Unverified messages compared per parent Message-ID with a reply that cannot accuse them
 * (verified ones are all kept: only they can accuse, and only the domain's key makes them). Real
 * dumps hold a few copies of a message; the bound keeps a planted thousand from making the thread
 * check quadratic. A reply that can accuse (mayAccuseParents) is compared with every class of
 * copies (ParentClasses): decoys planted first in path order must not push a forged parent out of
 * its reach (red team 7).
 */
const MAX_PARENT_COPIES = 16;

/** The copies under one Message-ID, added in path order, that a reply which cannot accuse is compared with. */
export class BoundedParentCopies {
  readonly #verified: DumpMessage[] = [];
  readonly #unverified: DumpMessage[] = [];
  #classes: ParentClasses | null = null;

  /**
   * Of the unverified copies, the latest dated are kept (then the first by content): only a copy
   * dated after a reply gives a finding, and which ones are kept must not depend on the files'
   * names (red team Q, Q-03: the first 16 by path were kept, and a renamed copy decided whether a
   * thread's contradiction was reported at all).
   */
  add(m: DumpMessage): void {
    this.#classes = null;
    if (m.verdict === 'verified') {
      this.#verified.push(m);
      return;
    }
    this.#unverified.push(m);
    if (this.#unverified.length > MAX_PARENT_COPIES) {
      this.#unverified.sort(latestFirst);
      this.#unverified.pop();
    }
  }

  /** (asked once per reply: classed once) */
  get classes(): ParentClasses {
    if (!this.#classes) {
      this.#classes = new ParentClasses();
      for (const m of [...this.#verified, ...this.#unverified]) this.#classes.add(m);
    }
    return this.#classes;
  }
}

/**
 * All that parentFindings reads of a parent copy but its name: copies alike in all of it give
 * every reply a finding of the same severity, the same text but for the name. Planted or
 * genuine, the copies of one message fall into few such classes (a thousand copies of a parent
 * under one Date and no proof are one), so a reply is compared with one copy of each class, not
 * with each copy: N accusing replies against M copies made N x M comparisons and findings
 * (red team BB, BB-06).
 */
const comparedOn = (m: DumpMessage): string =>
  JSON.stringify([m.messageId, m.date, m.dateZoneKnown, m.verdict, m.firstStampAt, m.fromAddress, m.proofs]);

/** The copies under one Message-ID by class (comparedOn), each class named by its copy first by content. */
export class ParentClasses {
  readonly #first = new Map<string, DumpMessage>();

  add(m: DumpMessage): void {
    const key = comparedOn(m);
    const first = this.#first.get(key);
    // the reply's finding names the copy first by content among equally grave ones, as it did when each copy was compared
    if (!first || byContentOrder(m, first) < 0) this.#first.set(key, m);
  }

  get representatives(): Iterable<DumpMessage> {
    return this.#first.values();
  }
}

/** How many of the others a thread finding names in its evidence (all are counted): other replies on a parent's, other parents on a reply's. */
const NAMED_OTHERS = 10;

const SEVERITY_RANK = { info: 0, warning: 1, 'red-flag': 2 } as const;

/** Whether a finding of `severity` about `about` is kept before another: the graver, then the one about the message first by content, whatever the files are called. */
const goesFirst = (severity: Severity, about: DumpMessage, otherSeverity: Severity, otherAbout: DumpMessage): boolean => {
  const rank = SEVERITY_RANK[severity] - SEVERITY_RANK[otherSeverity];
  return rank > 0 || (rank === 0 && byContentOrder(about, otherAbout) < 0);
};

/** The finding kept of those offered (goesFirst), and how many others there were, the first of them by content named. */
class Gravest<T> {
  #kept: { value: T; severity: Severity; about: DumpMessage } | null = null;
  others = 0;
  readonly named: Array<Pick<DumpMessage, 'sha256' | 'where'>> = [];

  offer(value: T, severity: Severity, about: DumpMessage): void {
    const kept = this.#kept;
    if (!kept) {
      this.#kept = { value, severity, about };
      return;
    }
    this.others++;
    let other = about;
    if (goesFirst(severity, about, kept.severity, kept.about)) {
      other = kept.about;
      this.#kept = { value, severity, about };
    }
    // (offered once per reply and parent: most come after the ten named, and are only counted)
    if (this.named.length === NAMED_OTHERS && byContentOrder(other, this.named[NAMED_OTHERS - 1]!) > 0) return;
    this.named.push({ sha256: other.sha256, where: other.where });
    this.named.sort(byContentOrder);
    if (this.named.length > NAMED_OTHERS) this.named.pop();
  }

  get kept(): T | null {
    return this.#kept?.value ?? null;
  }
}

/**
 * What the replies say of each class of parent copies, gathered while the replies are read: each
 * copy then carries one finding, from the gravest reply (which its verdict needs), with the
 * number of the other replies that are dated before it and the first of them by content. One
 * finding per reply and copy grew as their product: a thousand signed replies against a thousand
 * unsigned copies wrote a million findings, 843 MB (red team BB, BB-06).
 */
export class AccusedParents {
  readonly #byClass = new Map<string, { parentId: string; replies: Gravest<DumpMessage> }>();

  add(parentId: string, parent: DumpMessage, reply: DumpMessage, severity: Severity): void {
    const key = comparedOn(parent);
    let accusation = this.#byClass.get(key);
    if (!accusation) this.#byClass.set(key, (accusation = { parentId, replies: new Gravest() }));
    accusation.replies.offer(reply, severity, reply);
  }

  /** The finding of each accused copy, given every copy under each Message-ID. */
  *findings(copiesOf: (messageId: string) => Iterable<DumpMessage>): Generator<DumpFinding> {
    for (const parentId of new Set([...this.#byClass.values()].map((a) => a.parentId))) {
      for (const copy of copiesOf(parentId)) {
        const replies = this.#byClass.get(comparedOn(copy))?.replies;
        if (!replies) continue;
        const found = parentFindings(replies.kept!, copy, parentId).find((f) => f.messageId === copy.id);
        if (found) yield withOthers(found.made(), replies, OTHER_REPLIES);
      }
    }
  }
}

/** How a thread finding speaks of the others its message has (withOthers). */
interface OthersSaid {
  field: 'otherReplies' | 'otherParents';
  counted: (others: number) => string;
}

const OTHER_REPLIES: OthersSaid = {
  field: 'otherReplies',
  counted: (others) => `${others} other ${others === 1 ? 'reply' : 'replies'} in the dump answer it and are dated before it as well`,
};

const OTHER_PARENTS: OthersSaid = {
  field: 'otherParents',
  counted: (others) =>
    `${others} other ${others === 1 ? 'message' : 'messages'} of the dump that it answers (named in its In-Reply-To or References) ${others === 1 ? 'is' : 'are'} dated after it as well, none with a graver finding`,
};

function withOthers(found: DumpFinding, { others, named }: Gravest<unknown>, said: OthersSaid): DumpFinding {
  if (!others) return found;
  const text = ` ${said.counted(others)}; the evidence (${said.field}) names ${named.length < others ? `the first ${named.length} by content` : others === 1 ? 'it' : 'them'}.`;
  return {
    ...found,
    finding: { ...found.finding, text: found.finding.text + text, evidence: { ...found.finding.evidence, [said.field]: { count: others, where: named.map((m) => m.where) } } },
  };
}

const dateOf = (m: DumpMessage): number => (m.date ? Date.parse(m.date) : Number.NEGATIVE_INFINITY);
const latestFirst = (a: DumpMessage, b: DumpMessage): number => dateOf(b) - dateOf(a) || byContentOrder(a, b);

/** A reply whose proof by its From domain signs its Date and a header that names parents: it may accuse a parent dated after it. */
export const mayAccuseParents = (reply: DumpMessage): boolean =>
  fromDomainProofs(reply).some((p) => p.signedHeaders.includes('date') && (p.signedHeaders.includes('in-reply-to') || p.signedHeaders.includes('references')));

/** (a for-of left early closes what it reads, a database query among them) */
function isEmpty(items: Iterable<unknown>): boolean {
  for (const _ of items) return false;
  return true;
}

/**
 * What one message says about its thread, given one copy of each class (ParentClasses) under
 * each Message-ID it answers: findings for the reply, returned, and for each class of a parent
 * dated after it, gathered in `accused` (each copy's is made once every reply is read). Every
 * class counts, not the first copy: a forger who plants an unsigned message under the parent's
 * Message-ID, in a path that sorts first, must not hide the proven parent from its forged reply
 * (red team 6, C-01). The reply carries one finding, the gravest of those its parent Message-IDs
 * give (one each, the gravest of its copies), with the number of the others and the first of
 * their parents by content: one per parent Message-ID grew as messages x References, a thousand
 * messages each naming the thousand others writing 98,943 findings (a reply's verdict needs only
 * the gravest). The dump pass calls it reply by reply, looking the parents up in the database, so
 * that no map of the whole dump is held in memory.
 */
export function replyFindings(reply: DumpMessage, withId: (messageId: string) => Iterable<DumpMessage>, accused: AccusedParents): DumpFinding[] {
  const parents = parentIds(reply);
  if (!parents.length) return [];
  const findings: DumpFinding[] = [];
  if (reply.inReplyTo && isEmpty(withId(reply.inReplyTo))) {
    findings.push({
      messageId: reply.id,
      finding: {
        code: 'thread-parent-missing',
        severity: 'info',
        text: 'This message replies to a message that is not in the dump.',
        evidence: { inReplyTo: reply.inReplyTo },
      },
    });
  }
  if (!reply.date) return findings;
  const gravest = new Gravest<ThreadFinding>();
  for (const parentId of parents) {
    const onReply: Array<{ found: ThreadFinding; parent: DumpMessage; parentDateSigners: string[] }> = [];
    // domains that proved a copy of the parent dated no later than the reply
    const datedBeforeBy = new Set<string>();
    for (const parent of withId(parentId)) {
      if (parent.id === reply.id) continue;
      if (parent.date && Date.parse(parent.date) - Date.parse(reply.date) <= THREAD_TOLERANCE_MS + zoneSlack(reply, parent)) for (const d of dateSigners(parent)) datedBeforeBy.add(d);
      for (const found of parentFindings(reply, parent, parentId)) {
        if (found.messageId !== reply.id) accused.add(parentId, parent, reply, found.severity);
        else onReply.push({ found, parent, parentDateSigners: dateSigners(parent) });
      }
    }
    // A domain that dated one copy of the parent before the reply and another after it contradicts
    // itself: its later Date says nothing against the reply (red team 30, M-01).
    let kept: { found: ThreadFinding; parent: DumpMessage } | null = null;
    for (const { found, parent, parentDateSigners } of onReply) {
      if (parentDateSigners.some((d) => someDomain(datedBeforeBy, (e) => sameDomainOrSubdomain(d, e)))) continue;
      if (!kept || goesFirst(found.severity, parent, kept.found.severity, kept.parent)) kept = { found, parent };
    }
    if (kept) gravest.offer(kept.found, kept.found.severity, kept.parent);
  }
  if (gravest.kept) findings.push(withOthers(gravest.kept.made(), gravest, OTHER_PARENTS));
  return findings;
}

/** (the domains of a Set, without copying it for each test) */
function someDomain(domains: Iterable<string>, test: (domain: string) => boolean): boolean {
  for (const d of domains) if (test(d)) return true;
  return false;
}

/** The domains whose proof by the message's From domain signs its Date. */
const dateSigners = (m: DumpMessage): string[] => fromDomainProofs(m).filter((p) => p.signedHeaders.includes('date')).map((p) => p.domain);

/**
 * The findings for a reply and one message under the Message-ID it answers, when that message is
 * dated after it.
 *
 * The side whose Date is unproven is accused (a red flag) only when its own trace agrees with its
 * Date: its first recorded delivery (the bottom-most server stamp, MessageTraits.firstStampAt) is
 * on the wrong side of the proven Date by more than a sender's clock range too (a reply's before
 * its parent's Date, a parent's after its reply's), so that no single wrong computer clock
 * explains it. An unproven Date is only what the sender's computer said, and a wrong calendar date
 * on it (a reset CMOS clock, day and month swapped) puts a genuine Date days or years off: a
 * reply whose Received stamps put it an hour after its parent was called fabricated (red team R,
 * R-05). When the trace puts the message on the right side, it contradicts its own Date: a
 * warning, naming the stamp. When the message has no server stamp (a Sent-folder copy, a draft),
 * nothing confirms or refutes its Date: a warning too.
 */
function parentFindings(reply: DumpMessage, parent: DumpMessage, parentId: string): ThreadFinding[] {
  if (!parent.date || !reply.date) return [];
  const lead = Date.parse(parent.date) - Date.parse(reply.date);
  const slack = zoneSlack(reply, parent);
  if (lead <= THREAD_TOLERANCE_MS + slack) return [];
  const replyProven = dateProven(reply);
  const parentProven = dateProven(parent);
  // The reply accuses only if its proof signs its Date and the header that names the parent:
  // any verified message of the domain, with an unsigned In-Reply-To added, would otherwise
  // "answer" a genuine message dated after it (red team 6, C-04).
  const replyWitness = witnessesAgainst(reply, parent).find((p) => p.signedHeaders.includes('date') && namesParentSigned(reply, parentId, p));
  const parentOwnsId = ownsItsMessageId(parent);
  // The parent accuses the reply only with a Date proven by the reply's own From domain: the
  // parent's sender, if another domain, can sign a copy of their own message under any Date
  // (red team 30, M-01).
  const parentWitness = witnessesAgainst(parent, reply).find((p) => p.signedHeaders.includes('date'));
  const described = (): { text: string; evidence: Record<string, unknown> } => {
    const threadUnsigned = !replyWitness && witnessesAgainst(reply, parent).some((p) => p.signedHeaders.includes('date'));
    const sharedProvider = witnessRefusedAsSharedProvider(reply, parent);
    const evidence = {
      reply: { where: reply.where, date: reply.date, verdict: reply.verdict, dateSignedByFromDomain: replyProven, firstStampAt: reply.firstStampAt },
      parent: { where: parent.where, messageIdHeader: parent.messageId, date: parent.date, verdict: parent.verdict, dateSignedByFromDomain: parentProven, dateSignedBy: dateSigners(parent), firstStampAt: parent.firstStampAt },
      leadMinutes: Math.round(lead / 60_000),
      toleranceMinutes: (THREAD_TOLERANCE_MS + slack) / 60_000,
      ...(slack ? { unknownZoneSlackHours: slack / 3_600_000 } : {}),
    };
    const unread = [reply.dateZoneKnown ? null : "the reply's", parent.dateZoneKnown ? null : "the parent's"].filter((w): w is string => w !== null);
    const zoneNote = slack
      ? ` ${capitalised(unread.join(' and '))} Date ${unread.length > 1 ? 'name' : 'names'} no time zone leakcheck can read, so it is read as UTC and may be off by as much as its writer's zone: ${slack / 3_600_000} h more than otherwise is allowed.`
      : '';
    const text =
      `${reply.where} replies to ${parent.where}, which is dated ${formatDuration(lead)} after it: a reply cannot come before its parent. ` +
      (replyProven && parentProven
        ? "Both Dates are signed by their From domains: a sender's clock was wrong."
        : replyWitness
          ? `The reply's Date is signed by d=${replyWitness.domain}, the parent's own domain, and so is the header that names the parent; the parent's Date is not signed by it.`
          : threadUnsigned
            ? `The reply's Date is signed by the parent's own domain, but the In-Reply-To or References header that makes it a reply to this message is not: it may have been added to another message of the domain, so which of the two is false cannot be told.`
          : replyProven && sharedProvider
            ? `The reply's Date is signed by ${sharedProvider}, the parent's domain too, but ${sharedProvider} is a public mail provider and the two are from different addresses: any of its users gets mail signed by it, so that proves nothing about the parent's Date, and which of the two is false cannot be told.`
          : replyProven
            ? `The reply's Date is signed by its From domain (${fromDomainProofDomains(reply)}), which is not the parent's: that proves nothing about the parent's Date, and which of the two is false cannot be told.`
            : parentProven && parentOwnsId && parentWitness
              ? `The parent's Date is signed by d=${parentWitness.domain}, its From domain and the reply's; the reply's Date is not signed.`
            : parentProven && parentOwnsId
              ? `The parent's Date is signed by its From domain (${dateSigners(parent).map((d) => `d=${d}`).join(', ')}), not by the reply's${fromDomainOf(reply) ? ` (${fromDomainOf(reply)})` : ''}, and the reply's is not signed: a domain's signature proves what that domain sent, not another domain's message, and the parent's sender can sign a copy of their own message under any Date, so which of the two is false cannot be told.`
              : parentProven
                ? "The parent's Date is signed by its From domain, but its Message-ID is not shown to be its own (signed by that domain, in that domain, not a public mail provider's): anyone can send a message of their own under the Message-ID a genuine reply answers, dated later, so which of the two is false cannot be told."
              : 'Neither Date is signed by its From domain: which of the two is false cannot be told.') +
      zoneNote;
    return { text, evidence };
  };
  // who carries it, and whether it may be a red flag (never on a verified message)
  const flagged: Array<[DumpMessage, boolean]> =
    replyProven && parentProven ? [[reply, false], [parent, false]]
    : replyWitness ? [[parent, true]]
    : replyProven || !parentProven || !parentOwnsId || !parentWitness ? [[reply, false], [parent, false]]
    : [[reply, true]];
  // Within the range a sender's computer clock may be off (timeline.ts), an unproven Date before a
  // proven one is as likely a wrong clock or zone setting as an edit: warned, never accused. A reply
  // from a PC whose clock ran 25 minutes slow was called fabricated (red team 27, E-01).
  const clockRange = SENDER_CLOCK_RANGE_MS + slack;
  const beyondClocks = lead > clockRange;
  // Beyond it, a wrong calendar date on the unsigned sender's computer still explains it (red team R, R-05): said.
  const accused = flagged.find(([, mayBeRed]) => mayBeRed)?.[0] ?? null;
  const clockNote = !accused ? ''
    : !beyondClocks
      ? ` Within ${clockRange / 3_600_000} hours a wrong clock or time-zone setting on the sender's computer explains it as well as an edited Date.`
      : ` Beyond ${clockRange / 3_600_000} hours no fast clock or wrong time zone explains it, but a wrong date set on the computer that wrote the unsigned Date does, as well as an edited Date.`;
  const trace = accused && beyondClocks ? ownTrace(accused, accused === reply ? parent : reply, accused === reply) : null;
  return flagged.map(([m, mayBeRed]) => {
    const severity: Severity = mayBeRed && beyondClocks && trace?.agrees && m.verdict !== 'verified' ? 'red-flag' : 'warning';
    return {
      messageId: m.id,
      severity,
      made: () => {
        const { text, evidence } = described();
        return {
          messageId: m.id,
          finding: {
            code: 'reply-before-parent',
            severity,
            text: text + clockNote + (trace?.text ?? ''),
            evidence: { ...evidence, redFlagBeyondHours: clockRange / 3_600_000, ...(trace ? { ownTrace: trace.evidence } : {}) },
          },
        };
      },
    };
  });
}

/**
 * A thread finding before it is written out: who carries it and how grave it is, which is all a
 * comparison needs; its text and evidence are made only for the one kept (of a reply and a thousand
 * copies each under its own Date, a thousand were made and dropped).
 */
interface ThreadFinding {
  messageId: number;
  severity: Severity;
  made: () => DumpFinding;
}

/**
 * What the accused message's own trace says of its Date, against the other message's proven one
 * (see parentFindings): whether its first recorded delivery agrees, and the sentence that says so.
 */
function ownTrace(accused: DumpMessage, other: DumpMessage, accusedIsReply: boolean): { agrees: boolean; text: string; evidence: Record<string, unknown> } {
  const role = accusedIsReply ? 'reply' : 'parent';
  const otherRole = accusedIsReply ? 'parent' : 'reply';
  const [wrongSide, rightSide] = accusedIsReply ? ['before', 'after'] : ['after', 'before'];
  if (!accused.firstStampAt) {
    return {
      agrees: false,
      text: ` The ${role} has no server stamp in its trace (a Sent-folder copy or a draft has none), so no trace confirms or refutes its Date.`,
      evidence: { message: role, firstStampAt: null, agrees: false },
    };
  }
  const stamp = Date.parse(accused.firstStampAt);
  // how far the trace puts the reply before the parent, as `lead` measures it by the Dates
  const traceLead = accusedIsReply ? Date.parse(other.date!) - stamp : stamp - Date.parse(other.date!);
  // (the stamp names its zone; the other's Date, if it does not, may be 14 h off)
  const agrees = traceLead > SENDER_CLOCK_RANGE_MS + (other.dateZoneKnown ? 0 : UNKNOWN_ZONE_SLACK_MS);
  const named = `the bottom-most server stamp of its trace (its first recorded delivery, at ${accused.firstStampAt})`;
  const text = agrees
    ? ` The ${role}'s own trace agrees with its Date: ${named} is ${formatDuration(traceLead)} ${wrongSide} the ${otherRole}'s Date too, so no single wrong computer clock explains it.`
    : traceLead <= 0
      ? ` The ${role}'s own trace contradicts its Date: ${named} is ${formatDuration(-traceLead)} ${rightSide} the ${otherRole}'s Date, as when the computer that wrote that Date had the wrong date set; but that stamp is as unsigned as the Date, and whoever set the Date could have written it too.`
      : ` The ${role}'s own trace does not bear out its Date: ${named} is only ${formatDuration(traceLead)} ${wrongSide} the ${otherRole}'s Date, which a wrong clock or time-zone setting explains, as a wrong date set on the computer that wrote the ${role}'s Date would; but that stamp is as unsigned as the Date.`;
  return { agrees, text, evidence: { message: role, firstStampAt: accused.firstStampAt, traceLeadMinutes: Math.round(traceLead / 60_000), agrees } };
}

/** The proof signs a header of the reply that names `parentId`: In-Reply-To, or References. */
const namesParentSigned = (reply: DumpMessage, parentId: string, proof: DumpProof): boolean =>
  (reply.inReplyTo === parentId && proof.signedHeaders.includes('in-reply-to')) || (reply.references.includes(parentId) && proof.signedHeaders.includes('references'));

/**
 * Whether a message's Message-ID is shown to be its own: a proof by its From domain signs the
 * Message-ID, whose domain part (after the @) is that signing domain or one above or below it,
 * and the domain is not a public mail provider's. Only then does the message, as a parent, bear
 * witness against an unproven reply dated before it: a forger with a domain of their own (or an
 * account at a provider) can send a message under the Message-ID a genuine reply answers, dated
 * later, and would otherwise make the reply suspicious. A forger cannot sign a Message-ID in
 * another organisation's domain with their own key and have it pass as that domain's.
 */
function ownsItsMessageId(m: DumpMessage): boolean {
  const idDomain = messageIdDomain(m);
  if (idDomain === null) return false;
  return fromDomainProofs(m).some(
    (p) => p.signedHeaders.includes('message-id') && sameDomainOrSubdomain(p.domain, idDomain) && !isPublicMailProvider(p.domain),
  );
}

const fromDomainProofDomains = (m: DumpMessage): string =>
  [...new Set(m.proofs.filter((p) => p.aligned).map((p) => `d=${p.domain}`))].join(', ');
