import { GATEWAY_SUBJECT_TAG } from '../../analyze/repair-variants.ts';
import { collapseWhitespace } from '../../read/blank-characters.ts';
import type { VisibleField } from '../../read/message-traits.ts';
import { canonicalDomain } from '../../verify/domain-names.ts';
import { byContentOrder, fromDomainKey, fromDomainOf, fromDomainProofs, witnessesAgainst, witnessRefusedAsSharedProvider, type DumpCheck, type DumpCopy, type DumpFinding, type DumpProof, type PartsNotInFile } from './types.ts';

/**
 * Copies of one message (same Message-ID) that a reader would see differently. A forger who
 * edits a leaked message leaves the original's Message-ID on the fake; when the original is also
 * in the dump and proven by its From domain, the fake stands next to its proven twin.
 *
 * Copies of one genuine message differ too, and none of that is evidence:
 * - in bytes a reader never sees: the sender's Sent copy is stored quoted-printable and the
 *   received one 8bit, a Subject is encoded or folded otherwise. Copies are compared as a reader
 *   sees them (decoded text, decoded headers, attachments by decoded content) wherever both were
 *   read so; on raw bytes only where one was not;
 * - by what a mailing list does to the copy it distributes: a tag in the Subject, a footer, From
 *   rewritten to the list's address. A warning then says which copy the list changed, provided
 *   that the list is vouched for by something a forger cannot add (listVouchedFor);
 * - in a header the proven copy's signature does not sign: its value there is proven by nothing.
 * A copy proven only by a domain other than its From domain is no twin at all (fromDomainProofs),
 * and a twin accuses only a copy whose From domain is the one that signed it, and on a public
 * mail provider only a copy from the twin's own address (witnessesAgainst):
 * otherwise anyone could accuse a genuine message with a "copy" of their own, its From changed
 * to a domain they own and signed there. Such differences get a warning.
 */
export const conflictingCopies: DumpCheck<DumpCopy> = (messages) => {
  const findings: DumpFinding[] = [];
  for (const group of groupBy(messages.filter((m) => m.messageId), (m) => m.messageId!)) {
    if (group.length < 2) continue;
    const copies = byContent(group);
    const provenFor = provenContentsFor(copies.filter((c) => fromDomainProofs(c).length > 0));
    const contents = distinctContents(copies);
    for (const copy of copies) {
      if (copy.verdict === 'verified') continue; // verifiedCopiesDiffer compares those
      const proven = provenFor(copy);
      const judged = proven.all.length ? againstProven(copy, proven.all) : unprovenAgainst(copy, contents);
      if (judged) findings.push(judged);
    }
  }
  return findings;
};

/**
 * Verified copies of one message that differ, judged aspect by aspect as an unproven copy is
 * against a proven one (judge): by whether each copy's proof by its From domain signs what
 * differs (red team 29, K-01).
 * - Both sign it: each proof holds for the bytes it signs, so the signers sent both versions, or a
 *   proof is not what it seems (a leaked key, a signer that signs whatever it is given); which
 *   version is the message as sent is not settled by either proof, however strong. A warning on
 *   each (`verified-copies-differ`), naming the other.
 * - Only the other copy's proof signs it, and that proof may bear witness against this copy
 *   (witnessesAgainst, and it signs the Message-ID): what this copy shows there is proven by
 *   nothing and contradicted by what its From domain signed. For an unverified copy that is the
 *   red flag `conflicting-copy`; a verified copy stays verified (what its signature signs is
 *   proven, as a reply-before-parent on a verified message is a warning too), so a warning
 *   (`verified-copy-contradicted`), and on the other copy a note that the difference is unsigned
 *   here (`verified-copy-other-unsigned`, info).
 * - Neither proof settles it (neither signs it, or the one that does cannot bear witness): a
 *   warning on each (`verified-copies-differ`) that says so.
 * When a mailing list accounts for the differences (a list that re-signs what it changed), only
 * the list's copy gets a warning. A copy proven by its From domain whose proof cannot bear witness
 * against this one is another author's message under its Message-ID: an info says so (byAnotherAuthor).
 * Each copy is set against a differing copy whose proof may bear witness against it, if any.
 */
export const verifiedCopiesDiffer: DumpCheck<DumpCopy> = (messages) => {
  const findings: DumpFinding[] = [];
  for (const group of groupBy(messages.filter((m) => m.messageId), (m) => m.messageId!)) {
    const verified = byContent(group.filter((c) => c.verdict === 'verified'));
    if (verified.length < 2) continue;
    const provenFor = provenContentsFor(verified.filter((c) => fromDomainProofs(c).length > 0));
    const otherCopy = firstDiffering(verified);
    for (const copy of verified) {
      // a copy whose proof may bear witness against this one is the one to set against it: one
      // planted by another domain, however many and whatever their names, is not (red team M, M-05)
      const other = provenFor(copy).witnesses.find((w) => differs(w, copy)) ?? otherCopy(copy);
      const judged = other && judge(copy, other);
      if (!judged) continue;
      const { list, byList, aspects } = judged;
      if (list && byList.length === aspects.length) {
        if (list === copy) findings.push(changedByList(copy, other, aspects));
        continue;
      }
      if (list === copy && byList.length) findings.push(changedByList(copy, other, byList));
      findings.push(...(byAnotherAuthor(copy, other) ? [otherAuthor(copy, other, aspects)] : verifiedPair(copy, judged)));
    }
  }
  return findings;
};

/**
 * The other copy is proven by its From domain, and that proof cannot bear witness against this
 * copy (another From domain, another address of a public mail provider): it is another author's
 * message under this one's Message-ID, not a version of it, and says nothing about it. Setting
 * the two against each other ("neither proof tells which version is the message as sent") let
 * one message signed by a domain of one's own cast doubt on a genuine one (red team M, M-05).
 */
const byAnotherAuthor = (copy: DumpCopy, other: DumpCopy): boolean => fromDomainProofs(other).length > 0 && witnessesAgainst(other, copy).length === 0;

function otherAuthor(copy: DumpCopy, other: DumpCopy, aspects: Aspect[]): DumpFinding {
  const sharedProvider = witnessRefusedAsSharedProvider(other, copy);
  const why = sharedProvider
    ? `it is from another address (${other.fromAddress}) of ${sharedProvider}, a public mail provider, whose users all get mail signed by it`
    : `it is from ${fromDomainOf(other)}, not this message's From domain (${fromDomainOf(copy) ?? 'none'}), and verified by ${signers(other)}`;
  return {
    messageId: copy.id,
    finding: {
      code: 'verified-copy-other-author',
      severity: 'info',
      text:
        `Another file, ${other.where}, uses this message's Message-ID and is verified too, but ${why}: its signature says nothing about this message, ` +
        `and this message's own proof stands. It differs from this one in its ${describe(aspects)}.`,
      evidence: evidence(copy, other, aspects),
    },
  };
}

/** The findings on one verified copy against another that differs from it in more than a list accounts for. */
function verifiedPair(copy: DumpCopy, { twin: other, aspects, byList, witnesses }: Judgement): DumpFinding[] {
  const mine = fromDomainProofs(copy);
  const theirs = fromDomainProofs(other);
  const open = aspects.filter((a) => !byList.includes(a));
  const both = open.filter((a) => signs(mine, a) && signs(theirs, a));
  const contradicted = open.filter((a) => !signs(mine, a) && signs(witnesses, a));
  const onlyMine = open.filter((a) => signs(mine, a) && !signs(theirs, a));
  const unsettled = open.filter((a) => !signs(mine, a) && !signs(witnesses, a));
  const findings: DumpFinding[] = [];
  const where = `Other copy: ${other.where}.`;
  if (contradicted.length) {
    findings.push({
      messageId: copy.id,
      finding: {
        code: 'verified-copy-contradicted',
        severity: 'warning',
        text:
          `Another copy of this message (same Message-ID) is verified by ${signers(other)}, the From domain of both copies, and differs from this one in its ${describe(contradicted)}, ` +
          `which that copy's signature signs and this copy's (${signers(copy)}) does not: what this copy shows there is proven by nothing, and is not what the From domain signed. ` +
          `This copy's verdict covers only what its signature signs. ${where}`,
        evidence: { ...evidence(copy, other, contradicted), unsignedHere: contradicted },
      },
    });
  }
  const sentences: string[] = [];
  if (both.length) {
    sentences.push(
      `differs from this one in its ${describe(both)}, which both copies' signatures sign. Both proofs hold for the bytes they sign: ${bothSigners(copy, other)}, or one proof is not what it seems. ` +
        'Neither proof, however strong, tells which version is the message as sent.',
    );
  }
  if (unsettled.length) {
    const why = unsettled.some((a) => signs(theirs, a)) ? `and ${unwitnessed(copy, other)}` : "nor does that copy's: what either shows there is proven by nothing";
    sentences.push(`${both.length ? 'It also differs' : 'differs from this one'} in its ${describe(unsettled)}, which this copy's signature does not sign, ${why}; which of the two is genuine cannot be told.`);
  }
  if (sentences.length) {
    findings.push({
      messageId: copy.id,
      finding: {
        code: 'verified-copies-differ',
        severity: 'warning',
        text: `Another copy of this message (same Message-ID) is verified too and ${sentences.join(' ')} ${where}`,
        evidence: evidence(copy, other, [...both, ...unsettled]),
      },
    });
  }
  if (onlyMine.length) {
    findings.push({
      messageId: copy.id,
      finding: {
        code: 'verified-copy-other-unsigned',
        severity: 'info',
        text:
          `Another copy of this message (same Message-ID) is verified too and differs from this one in its ${describe(onlyMine)}, which this copy's signature (${signers(copy)}) signs and that copy's does not: ` +
          `what that copy shows there is proven by nothing. ${where}`,
        evidence: { ...evidence(copy, other, onlyMine), unsignedThere: onlyMine },
      },
    });
  }
  return findings;
}

/**
 * What a reader sees that differs between two copies: the body, a visible header, (`headers`)
 * one of them, unknown which, or (`mime-headers`) how the same body bytes are read (their
 * Content-Type or Content-Transfer-Encoding differ, and so does what a reader makes of them).
 */
export type Aspect = 'body' | VisibleField | 'headers' | 'mime-headers';

const VISIBLE_FIELDS: readonly VisibleField[] = ['from', 'to', 'cc', 'subject', 'date'];
const ALL_ASPECTS: readonly Aspect[] = ['body', 'mime-headers', ...VISIBLE_FIELDS, 'headers'];
const FIELD_NAMES: Record<Aspect, string> = {
  body: 'body',
  from: 'From',
  to: 'To',
  cc: 'Cc',
  subject: 'Subject',
  date: 'Date',
  headers: 'visible headers (From, To, Cc, Subject, Date)',
  'mime-headers': 'MIME headers (the same body bytes, read otherwise)',
};

/**
 * What differs between two copies, as a reader sees them. Decoded where both copies were read
 * so (text parts decoded from transfer encoding and charset, attachments by decoded content,
 * headers RFC 2047 decoded), else on the normalised raw bytes. Two bodies of the same bytes (as
 * relaxed canonicalization reads them, whitespace runs as one space) that read differently
 * differ in their MIME headers, not in their body: a copy planted with the signed body and
 * another charset, transfer encoding or multipart subtype, which a signature that leaves those
 * headers out still verifies, must not make the author's unsigned copy of the same bytes an
 * altered one (red team 28, I-02).
 */
export function differences(a: DumpCopy, b: DumpCopy): Aspect[] {
  const aspects: Aspect[] = [];
  const decoded = a.textSha256 !== null && b.textSha256 !== null && a.partsSha256 !== null && b.partsSha256 !== null;
  const sameBytes = a.bodySha256 === b.bodySha256;
  if (decoded ? a.textSha256 !== b.textSha256 || a.partsSha256 !== b.partsSha256 : !sameBytes) aspects.push(sameBytes ? 'mime-headers' : 'body');
  if (a.visibleFields && b.visibleFields) {
    for (const field of VISIBLE_FIELDS) {
      if (a.visibleFields[field] !== b.visibleFields[field] && !(field === 'subject' && sameButGatewayTag(a.subject, b.subject))) aspects.push(field);
    }
  } else if (a.visibleSha256 !== b.visibleSha256) aspects.push('headers');
  return aspects;
}

/**
 * Two Subjects that read the same once the tag a recipient's mail gateway puts before the Subject
 * of outside mail ("[EXTERNAL] ") is taken away: verification already takes it for the
 * gateway's (the repair gateway-subject-tag), and a copy it was not tried on (one whose signature
 * failed for another reason as well, or a copy with none) must not read as altered for it beside
 * the copy that was not tagged (red team 29, K-03). As for a list's tag (subjectTaggedBy), any
 * other change still differs.
 */
function sameButGatewayTag(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return false;
  const untagged = (s: string): string => collapseWhitespace(s.replace(GATEWAY_SUBJECT_TAG, ''));
  return (GATEWAY_SUBJECT_TAG.test(a) || GATEWAY_SUBJECT_TAG.test(b)) && untagged(a) === untagged(b);
}

const differs = (a: DumpCopy, b: DumpCopy): boolean => differences(a, b).length > 0;

/**
 * Copies compared with each copy: one of each distinct content, at most this many. Only the From
 * domain's key makes a proven copy, so real dumps have one or two proven contents per domain; the
 * bound keeps a domain that signed thousands of versions, or thousands of planted unproven ones,
 * from making the check quadratic.
 */
const MAX_CONTENTS = 16;

/** The first copy of each distinct content, in the order given, at most MAX_CONTENTS of them. */
function distinctContents(copies: Iterable<DumpCopy>): DumpCopy[] {
  const distinct: DumpCopy[] = [];
  for (const copy of copies) {
    if (distinct.length >= MAX_CONTENTS) break;
    if (distinct.every((d) => differs(d, copy))) distinct.push(copy);
  }
  return distinct;
}

/**
 * The copies in an order set by their content, not their names (sha256 of the file, then the
 * path for byte-identical files): which copy a finding names, and what it compares, must not be
 * a planter's choice of file name (red team M, M-08).
 */
const byContent = (copies: readonly DumpCopy[]): DumpCopy[] => copies.toSorted(byContentOrder);

interface ProvenContents {
  /** distinct contents of the proven copies whose proofs may bear witness against the copy (witnessesAgainst) */
  witnesses: DumpCopy[];
  /** those, then distinct contents of the other proven copies, at most MAX_CONTENTS in all */
  all: DumpCopy[];
}

/**
 * For each copy, the proven copies to compare it with: those whose proofs may bear witness
 * against it first, then others. A bound taken over all proven copies at once let anyone fill it
 * with messages signed by a domain of their own under a genuine message's Message-ID, so that
 * its proven twin was never compared and a forged copy went from suspicious to unverifiable (red
 * team M, M-03). What witnessesAgainst answers depends on the accused copy only through its From
 * address, so it is asked once per address, and only of proven copies whose signing domain
 * shares the last two labels of that address's domain (any domain the same as it, or above or
 * below it, does; all of them when that domain has one label or none), lazily: thousands of
 * copies planted by another domain cost nothing per copy judged.
 */
function provenContentsFor(proven: readonly DumpCopy[]): (copy: DumpCopy) => ProvenContents {
  const shapes = uniqueWitnessShapes(proven);
  const bySite = new Map<string, DumpCopy[]>();
  for (const twin of shapes) {
    for (const site of new Set(fromDomainProofs(twin).map((p) => siteOf(p.domain)))) {
      const same = bySite.get(site);
      if (same) same.push(twin);
      else bySite.set(site, [twin]);
    }
  }
  const position = new Map(shapes.map((twin, i) => [twin, i]));
  const others = distinctContents(proven);
  const known = new Map<string | null, ProvenContents>();
  return (copy) => {
    let found = known.get(copy.fromAddress);
    if (!found) {
      const domain = siteOf(fromDomainOf(copy) ?? '');
      const [site, above] = [bySite.get(domain) ?? [], bySite.get(domain.slice(domain.lastIndexOf('.') + 1)) ?? []];
      const candidates = !domain.includes('.') ? shapes : above.length ? [...new Set([...site, ...above])].sort((a, b) => position.get(a)! - position.get(b)!) : site;
      // (lazily: the first MAX_CONTENTS distinct witnesses are enough, however many a domain signed)
      const witnesses = distinctContents(filtered(candidates, (twin) => witnessesAgainst(twin, copy).length > 0));
      found = { witnesses, all: distinctContents([...witnesses, ...others]) };
      known.set(copy.fromAddress, found);
    }
    return found;
  };
}

function* filtered<T>(items: Iterable<T>, keep: (item: T) => boolean): Generator<T> {
  for (const item of items) if (keep(item)) yield item;
}

/** A domain's last two labels, lower-case (the domain itself when it has fewer). */
const siteOf = (domain: string): string => canonicalDomain(domain.replace(/\.+$/, '')).split('.').slice(-2).join('.');

/**
 * One proven copy of each content and proofs: thousands of byte-variants of one signed message
 * read and witness alike, and would otherwise all be asked for each address judged.
 */
function uniqueWitnessShapes(proven: readonly DumpCopy[]): DumpCopy[] {
  const shape = (c: DumpCopy): string =>
    JSON.stringify([c.bodySha256, c.textSha256, c.partsSha256, c.visibleSha256, c.visibleFields, c.subject, c.mailingList, c.fromAddress, c.signatures, c.proofs]);
  return [...Map.groupBy(proven, shape).values()].map((same) => same[0]!);
}

/** How an unproven copy stands against one proven copy that differs from it. */
interface Judgement {
  twin: DumpCopy;
  aspects: Aspect[];
  /** differences the twin's proof signs and no mailing list accounts for: this copy was altered */
  evidence: Aspect[];
  /** the copy of the two that came through a mailing list the other did not */
  list: DumpCopy | null;
  /** differences that list accounts for */
  byList: Aspect[];
  /** differences no proof of the twin that speaks for this copy's From domain signs */
  unsigned: Aspect[];
  /** the twin's proofs by this copy's From domain (none: the twin says nothing about this copy) */
  witnesses: DumpProof[];
}

function judge(copy: DumpCopy, twin: DumpCopy): Judgement | null {
  const aspects = differences(copy, twin);
  if (!aspects.length) return null;
  const list = vouchedListCopyOf(copy, twin);
  const byList = list ? aspects.filter((a) => listMakes(a, list, list === copy ? twin : copy)) : [];
  // A proof that does not sign the Message-ID does not show that the twin is this message: any
  // verified message of the domain, given this one's Message-ID, would pass for its proven copy
  // and accuse a genuine message (red team 6, C-05).
  const witnesses = witnessesAgainst(twin, copy).filter((p) => p.signedHeaders.includes('message-id'));
  const unsigned = aspects.filter((a) => !byList.includes(a) && !signs(witnesses, a));
  const evidence = aspects.filter((a) => !byList.includes(a) && !unsigned.includes(a));
  return { twin, aspects, evidence, list, byList, unsigned, witnesses };
}

/**
 * The one finding for an unproven copy against the proven ones: none when it reads exactly as
 * one of them (it is then as good as that one; how the proven copies differ among themselves is
 * verifiedCopiesDiffer's to say); else a red flag if any proven copy gives evidence, else the
 * warning that a list accounts for the differences, else the warning that no proof settles them.
 */
function againstProven(copy: DumpCopy, provenContents: readonly DumpCopy[]): DumpFinding | null {
  const judgements: Judgement[] = [];
  for (const twin of provenContents) {
    const judged = judge(copy, twin);
    if (!judged) return null;
    judgements.push(judged);
  }
  const notInFile = judgements.find((j) => explainedByPartsNotInFile(copy, j));
  if (notInFile) return partsNotInFileFinding(copy, notInFile.twin, copy.partsNotInFile!);
  const altered = judgements.find((j) => j.evidence.length);
  if (altered) {
    const { twin, aspects, evidence: proven } = altered;
    return {
      messageId: copy.id,
      finding: {
        code: 'conflicting-copy',
        severity: 'red-flag',
        text:
          `Another copy of this message (same Message-ID) is cryptographically verified by ${signers(twin)}, the From domain of both copies, ` +
          `and differs from this one in its ${describe(proven)}, which that signature signs: this copy was altered. Verified twin: ${twin.where}.`,
        evidence: evidence(copy, twin, aspects),
      },
    };
  }
  const byList = judgements.find((j) => j.list && j.byList.length);
  if (byList) return changedByList(copy, byList.twin, byList.aspects);
  const { twin, aspects, unsigned, witnesses } = judgements[0]!;
  const why = witnesses.length ? `which its signature (${signers(twin)}) does not sign: what that copy shows there is proven by nothing` : `but ${unwitnessed(copy, twin)}`;
  return {
    messageId: copy.id,
    finding: {
      code: 'divergent-copies',
      severity: 'warning',
      text:
        `Another copy of this message (same Message-ID) is verified and differs from this one in its ${describe(unsigned)}, ${why}; ` +
        `which of the two is genuine cannot be told. Other copy: ${twin.where}.`,
      evidence: evidence(copy, twin, aspects),
    },
  };
}

/** Why the proof of `twin` says nothing about `copy`, when witnessesAgainst gives none that signs the Message-ID. */
function unwitnessed(copy: DumpCopy, twin: DumpCopy): string {
  const sharedProvider = witnessRefusedAsSharedProvider(twin, copy);
  return witnessesAgainst(twin, copy).length
    ? `that copy's signature (${signers(twin)}) does not sign the Message-ID, so it does not show that the two are one message: the Message-ID of any message can be put on another message the domain signed`
    : sharedProvider
      ? `that copy's proof (${signers(twin)}) is by ${sharedProvider}, a public mail provider, and the two copies are from different addresses: any of its users gets mail signed by it, so that proof says nothing about this copy`
      : `that copy's proof (${signers(twin)}) is not by this copy's From domain (${fromDomainOf(copy) ?? 'none'}) and says nothing about it`;
}

/**
 * A copy against the others when none is proven by its From domain: every distinct content that
 * differs from it (up to MAX_CONTENTS), the differences of all of them together, and the first by
 * content named, so that neither the text nor the named copy depends on file names (red team M,
 * M-08).
 */
function unprovenAgainst(copy: DumpCopy, contents: readonly DumpCopy[]): DumpFinding | null {
  const differing = contents.flatMap((other) => {
    // among unproven copies too, a converter's rebuilt or absent body says nothing of a change:
    // one message converted from several mailboxes' PSTs was told "at least one of them was
    // changed" (red team X, X-05)
    const aspects = differences(copy, other).filter((a) => a !== 'body' || !convertersMakeTheBodyDiffer(copy, other));
    return aspects.length ? [{ other, aspects }] : [];
  });
  const unexplained = differing.filter(({ other, aspects }) => {
    const list = vouchedListCopyOf(copy, other);
    return !list || !aspects.every((a) => listMakes(a, list, list === copy ? other : copy));
  });
  if (!unexplained.length) return differing.length ? changedByList(copy, differing[0]!.other, differing[0]!.aspects) : null;
  const [{ other }] = unexplained as [(typeof unexplained)[number]];
  const aspects = ALL_ASPECTS.filter((a) => unexplained.some((d) => d.aspects.includes(a)));
  const more = unexplained.length === 1 ? null : contents.length < MAX_CONTENTS ? `${unexplained.length}` : `at least ${unexplained.length}`;
  return {
    messageId: copy.id,
    finding: {
      code: 'divergent-copies',
      severity: 'warning',
      text: more
        ? `${more} other versions of this message (same Message-ID) differ from this one, together in their ${describe(aspects)}, and none of the copies can be verified: at least one of them was changed. ` +
          `Other copies: ${unexplained.map((d) => d.other.where).join(', ')}.`
        : `Another copy of this message (same Message-ID) differs in its ${describe(aspects)}, and neither copy can be verified: at least one of them was changed. Other copy: ${other.where}.`,
      evidence: { ...evidence(copy, other, aspects), otherVersions: unexplained.map((d) => ({ where: d.other.where, sha256: d.other.sha256, differsIn: d.aspects })) },
    },
  };
}

/**
 * A mail client took an attachment's content out of this copy, and its verdict says so
 * (partsNotInFile): Apple Mail keeps it outside a .partial.emlx (body-stored-apart), Thunderbird
 * rewrites the part when its user deletes or detaches the attachment (attachment-removed-by-client,
 * red team N). Such a copy's body differs from any whole copy's. When the visible headers read
 * exactly as the proven twin's and only the body differs, that is no evidence of an alteration: a
 * warning says what could not be compared. Where the copy's text could be read (textSha256) and
 * differs from the twin's, the text was changed, and that is judged as usual. (An emptied part
 * followed at once by its delimiter is a shape the MIME walk is not sure of, so a partial copy's
 * text is often unread: then the body as a whole could not be compared.) A converter that wrote
 * the copy anew (readpst, from an Outlook PST) built its text from what Outlook stored, in a MIME
 * structure of its own, so its text is never the twin's to the byte, and a copy that holds its
 * header fields and no body (pffexport) has no text: neither is compared.
 */
const explainedByPartsNotInFile = (copy: DumpCopy, judgement: Judgement): boolean =>
  !!copy.partsNotInFile &&
  judgement.aspects.length === 1 &&
  judgement.aspects[0] === 'body' &&
  (TEXT_NOT_COMPARED.has(copy.partsNotInFile)
    ? convertersMakeTheBodyDiffer(copy, judgement.twin)
    : copy.textSha256 === null || judgement.twin.textSha256 === null || copy.textSha256 === judgement.twin.textSha256);

/**
 * Whether a converter accounts for how the bodies of two copies differ: one of them holds its
 * header fields and no body (pffexport), or one was written anew by readpst, whose text is
 * Outlook's in a structure of readpst's own but whose attachments are the bytes Outlook stored:
 * their decoded contents must be the other copy's (a readpst-shaped copy carrying another
 * document was told the converter explained the difference; red team X, X-01).
 */
function convertersMakeTheBodyDiffer(a: DumpCopy, b: DumpCopy): boolean {
  const kinds = [a.partsNotInFile, b.partsNotInFile];
  if (kinds.includes('body-not-in-file')) return true;
  return kinds.includes('message-rebuilt-by-converter') && a.contentsSha256 != null && a.contentsSha256 === b.contentsSha256;
}

/** A copy whose text is not the sender's to compare: rebuilt in a structure of the converter's own, or absent. */
const TEXT_NOT_COMPARED: ReadonlySet<PartsNotInFile> = new Set(['message-rebuilt-by-converter', 'body-not-in-file']);

/** The finding for each way a client takes content out of a copy, and what the client did, as a reader is told it. */
const NOT_IN_FILE: Record<PartsNotInFile, { code: string; attachments: string; body: string; tail?: string }> = {
  'body-stored-apart': {
    code: 'copy-parts-stored-apart',
    attachments: 'its attachments differ because Apple Mail kept their content outside this file',
    body: "its body differs because Apple Mail kept an attachment's content outside this file",
  },
  'message-rebuilt-by-converter': {
    code: 'copy-rebuilt-by-converter',
    attachments: "its attachments hold the same contents as that copy's, written anew by a converter (readpst, from an Outlook PST or OST file) with types and names of its own",
    body: "its body was written anew by a converter (readpst, from an Outlook PST or OST file) from the text and attachments Outlook kept; its attachments hold the same contents as that copy's",
    tail: 'so only the texts cannot be compared',
  },
  'body-not-in-file': {
    code: 'copy-body-not-in-file',
    attachments: 'this file holds its header fields and no body',
    body: 'this file holds its header fields and no body (as pffexport writes an Outlook PST\'s messages)',
  },
  'attachment-removed-by-client': {
    code: 'copy-attachment-removed-by-client',
    attachments: "its attachments differ, and Thunderbird's record in this copy (X-Mozilla-Altered) says its user deleted or detached one of them",
    body: "its body differs, and Thunderbird's record in this copy (X-Mozilla-Altered) says its user deleted or detached an attachment",
  },
};

function partsNotInFileFinding(copy: DumpCopy, twin: DumpCopy, why: PartsNotInFile): DumpFinding {
  const client = NOT_IN_FILE[why];
  return {
    messageId: copy.id,
    finding: {
      code: client.code,
      severity: 'warning',
      text:
        `Another copy of this message (same Message-ID) is verified by ${signers(twin)}. This copy's visible headers read exactly as that one's; ` +
        (copy.textSha256 !== null && copy.textSha256 === twin.textSha256
          ? `so does its text, and ${client.attachments}, so they cannot be compared. `
          : `${client.body}, ${client.tail ?? 'so the two bodies cannot be compared'}. `) +
        `Verified copy: ${twin.where}.`,
      evidence: evidence(copy, twin, ['body']),
    },
  };
}

/** The warning, on `copy`, that a mailing list changed one of the two copies, naming which. */
function changedByList(copy: DumpCopy, other: DumpCopy, aspects: Aspect[]): DumpFinding {
  const list = vouchedListCopyOf(copy, other)!;
  const shown = describe(aspects);
  const text =
    list === copy
      ? `This copy came through the mailing list ${list.mailingList} and differs in its ${shown} from another copy of the message (same Message-ID) that did not: ` +
        `the list changed this copy, as lists do (a tag in the Subject, a footer, From rewritten to the list's address). Other copy: ${other.where}.`
      : `Another copy of this message (same Message-ID) came through the mailing list ${list.mailingList} and differs from this one in its ${shown}: ` +
        `the list changed that copy, as lists do (a tag in the Subject, a footer, From rewritten to the list's address), and nothing shows that this one was altered. Other copy: ${other.where}.`;
  return {
    messageId: copy.id,
    finding: { code: 'copy-changed-by-list', severity: 'warning', text, evidence: { ...evidence(copy, other, aspects), changedByList: list.mailingList, listCopy: list.where } },
  };
}

/**
 * The copy of the two that came through a mailing list the other did not (not two lists: each
 * then changed its own), when that list is vouched for (listVouchedFor).
 */
function vouchedListCopyOf(a: DumpCopy, b: DumpCopy): DumpCopy | null {
  const aByList = a.mailingList !== null && a.mailingList !== b.mailingList;
  const bByList = b.mailingList !== null && b.mailingList !== a.mailingList;
  if (aByList === bByList) return null;
  const [list, other] = aByList ? [a, b] : [b, a];
  return listVouchedFor(list, other) ? list : null;
}

/**
 * Whether the List-Id of `listCopy` can be believed, so that its differences from `other` may
 * be put down to the list. Anyone can add a List-Id to a copy they altered, or to a proven copy
 * (an unsigned header leaves it verified), to have its differences excused; so:
 * - a copy proven by its From domain: that proof signs List-Id (the domain itself sent it
 *   through the list);
 * - a copy not proven, beside a proven one: it still carries the proven copy's own signature
 *   (same domain and selector), broken, as lists leave it, and is not suspicious for that. With
 *   the key at hand, a broken signature is evidence of tampering unless a well-known ARC sealer
 *   records that it passed on arrival (docs/verdicts.md, rule 3): the list is vouched for by
 *   someone a forger cannot be;
 * - neither proven: only a choice between two warnings is at stake, and the List-Id is taken as
 *   it is.
 */
function listVouchedFor(listCopy: DumpCopy, other: DumpCopy): boolean {
  if (fromDomainProofs(listCopy).length) return fromDomainProofs(listCopy).some((p) => p.signedHeaders.includes('list-id'));
  const proofs = fromDomainProofs(other);
  if (!proofs.length) return true;
  return (
    listCopy.verdict !== 'suspicious' &&
    listCopy.signatures.some(
      (s) =>
        (s.outcome === 'body-modified' || s.outcome === 'signature-mismatch') &&
        proofs.some((p) => p.domain.toLowerCase() === s.domain.toLowerCase() && p.selector === s.selector),
    )
  );
}

/**
 * Whether a list that distributed `listCopy` makes the difference from `other`: it adds to the
 * body (a footer, a header, a part), tags the Subject ("[team] …"), and rewrites From to an
 * address of its own (DMARC mitigation). It changes no To, Cc or Date, and no Subject but by a
 * tag: a difference there is still evidence.
 */
function listMakes(aspect: Aspect, listCopy: DumpCopy, other: DumpCopy): boolean {
  switch (aspect) {
    case 'body':
      return true;
    case 'subject':
      return listCopy.subject !== null && other.subject !== null && subjectTaggedBy(listCopy.subject, other.subject);
    case 'from': {
      const domain = fromDomainKey(listCopy);
      return domain !== null && domain !== fromDomainKey(other) && listIsAt(canonicalDomain(listCopy.mailingList!), domain);
    }
    default:
      return false;
  }
}

/** `tagged` is `plain` with bracketed tags added ("[team] Budget", "Re: [team] Budget"), and nothing else changed. */
function subjectTaggedBy(tagged: string, plain: string): boolean {
  const added = tagged.replace(/\[[^[\]]{1,100}\]/g, (tag) => (plain.includes(tag) ? tag : ' '));
  return added !== tagged && collapseWhitespace(added) === collapseWhitespace(plain);
}

/** A list id (RFC 2919: team.lists.example) under `domain`. */
const listIsAt = (list: string, domain: string): boolean => list === domain || list.endsWith(`.${domain}`);

/**
 * Whether proofs sign the aspect: the whole body (a proof covers all of it), a header when an h=
 * names it, headers not known one by one (a copy stored before they were) as a whole, and how
 * the body is read when an h= names both Content-Type and Content-Transfer-Encoding.
 */
function signs(proofs: readonly DumpProof[], aspect: Aspect): boolean {
  if (aspect === 'body' || aspect === 'headers') return proofs.length > 0;
  if (aspect === 'mime-headers') return proofs.some((p) => p.signedHeaders.includes('content-type') && p.signedHeaders.includes('content-transfer-encoding'));
  return proofs.some((p) => p.signedHeaders.includes(aspect));
}

/**
 * For a list of copies, the first one that differs from a given copy, found without walking the
 * list for each copy: a search per copy made the check quadratic in the copies of one message
 * (2.6 s for 30,000 identical unverified copies, minutes for a few hundred thousand). A copy
 * that does not differ from the list's first differs from exactly the copies that differ from
 * that first one, so the first of those, found once, is its answer. (Not quite when some copies
 * were read decoded and others only raw, so the caller checks the answer.)
 */
function firstDiffering(list: readonly DumpCopy[]): (copy: DumpCopy) => DumpCopy | undefined {
  const head = list[0];
  if (!head) return () => undefined;
  const otherThanHead = list.find((c) => differs(c, head));
  return (copy) => (differs(head, copy) ? head : otherThanHead);
}

const describe = (aspects: readonly Aspect[]): string => {
  const names = aspects.map((a) => FIELD_NAMES[a]);
  return names.length < 2 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
};

/** The domains whose proofs speak for the message's From, as `d=` tags; a verified copy's other proofs when it has none. */
function signers(m: DumpCopy): string {
  const own = fromDomainProofs(m);
  const proofs = own.length ? own : m.proofs;
  return [...new Set(proofs.map((p) => `d=${p.domain}${p.aligned ? '' : ' (not the From domain)'}`))].join(', ') || 'no signature';
}

function bothSigners(a: DumpCopy, b: DumpCopy): string {
  const [x, y] = [signers(a), signers(b)];
  return x === y ? `${x} signed both versions` : `${x} signed one version and ${y} the other`;
}

const evidence = (copy: DumpCopy, other: DumpCopy, aspects: readonly Aspect[]): Record<string, unknown> => ({
  messageIdHeader: copy.messageId,
  differsIn: aspects,
  thisCopy: describeCopy(copy),
  otherCopy: { ...describeCopy(other), verdict: other.verdict },
});

const describeCopy = (m: DumpCopy): Record<string, unknown> => ({
  where: m.where,
  sha256: m.sha256,
  bodySha256: m.bodySha256,
  visibleSha256: m.visibleSha256,
  textSha256: m.textSha256,
  partsSha256: m.partsSha256,
  mailingList: m.mailingList,
  proofs: m.proofs.map((p) => ({ domain: p.domain, alignedWithFrom: p.aligned })),
});

export function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  return [...Map.groupBy(items, key).values()];
}
