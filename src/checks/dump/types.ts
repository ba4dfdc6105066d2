import type { VisibleFields } from '../../read/message-traits.ts';
import { canonicalDomain } from '../../verify/domain-names.ts';
import type { Verdict } from '../../verdict/reasons.ts';
import type { Finding } from '../types.ts';
import { isPublicMailProvider } from './public-mail-providers.ts';

/** One message as the cross-dump checks see it: a compact projection of its stored analysis. */
export interface DumpMessage {
  /** database id */
  id: number;
  /** `path` or `path#index`, for evidence */
  where: string;
  sha256: string;
  /** the msg-id of its Message-ID (MessageMeta.canonicalMessageId): copies and threads are matched by it */
  messageId: string | null;
  /** the From mailbox as a reader is shown it (MessageMeta.fromAddress) */
  fromAddress: string | null;
  /** its Date as an ISO instant (MessageMeta.date) */
  date: string | null;
  /**
   * false when that Date named no zone leakcheck can read and was read as -0000: it may be 14 h
   * off, and what compares it to minutes allows that (MessageMeta.dateZoneKnown)
   */
  dateZoneKnown: boolean;
  dateOffsetMinutes: number | null;
  mailer: string | null;
  bodySha256: string | null;
  visibleSha256: string | null;
  /** the decoded text parts (MessageTraits.textSha256); null when not read with certainty */
  textSha256: string | null;
  /** the Subject, RFC 2047 decoded */
  subject: string | null;
  /** the mailing list the copy came through (MessageTraits.mailingList) */
  mailingList: string | null;
  inReplyTo: string | null;
  references: string[];
  /**
   * when its own trace says it was first delivered (MessageTraits.firstStampAt), ISO; null when
   * it has no server stamp (a Sent-folder copy, a draft)
   */
  firstStampAt: string | null;
  /** the verdict the message earned on its own, before comparing it with the others */
  verdict: Verdict;
  /** selectors of DKIM signatures, with what became of them */
  signatures: Array<{ domain: string; selector: string; outcome: string }>;
  /**
   * the signatures that prove a verified message (the verdict's `proven_by`; none for any
   * other): signing domain and selector, whether it is aligned with the From domain, and the
   * headers it signs (lower-case)
   */
  proofs: DumpProof[];
}

/**
 * A message as the copies checks see it: with what only they compare, and what costs most to
 * gather (the attachments, from a table of their own). The dump pass reads it only for messages
 * that share their Message-ID with another.
 */
export interface DumpCopy extends DumpMessage {
  /**
   * the attachments as the inventory listed them (type, disposition, name, sha256 of the decoded
   * content, in order), as one sha256; null when the inventory stopped early
   */
  partsSha256: string | null;
  /**
   * the decoded contents of the attachments alone (their sha256s, sorted), as one sha256: what a
   * converter that writes a message anew keeps of them, their types, names and order aside; null
   * when the inventory stopped early
   */
  contentsSha256?: string | null;
  /** each visible header decoded, as sha256 (MessageTraits.visibleFields); null when not stored */
  visibleFields: VisibleFields | null;
  /**
   * why an attachment's content is not in the file, by the reason the copy's own verdict gave it:
   * Apple Mail kept it apart (body-stored-apart), Thunderbird deleted or detached it at its user's
   * request (attachment-removed-by-client); null when all of it is there
   */
  partsNotInFile?: PartsNotInFile | null;
}

export type PartsNotInFile = 'body-stored-apart' | 'attachment-removed-by-client' | 'message-rebuilt-by-converter' | 'body-not-in-file';

export interface DumpProof {
  domain: string;
  selector: string;
  aligned: boolean;
  signedHeaders: string[];
}

/**
 * The proofs that speak for the From domain: those of a verified message that are aligned with
 * it. A signature by another domain proves only that this other domain sent the bytes; a forger
 * can sign whatever they like with a domain of their own, so it never makes a copy the proven
 * twin of another, nor a Date a proven one.
 */
export const fromDomainProofs = (m: DumpMessage): DumpProof[] => (m.verdict === 'verified' ? m.proofs.filter((p) => p.aligned) : []);

/** The message's Date is the From domain's own signed claim: a proof aligned with From signs it. */
export const dateProven = (m: DumpMessage): boolean => fromDomainProofs(m).some((p) => p.signedHeaders.includes('date'));

/**
 * The proofs of `m` that may bear witness against `accused`: those by `m`'s From domain that is
 * also the accused message's From domain. A proof aligned with its own From domain shows what
 * that domain sent; it says nothing of what another domain sent. Without this, anyone could
 * accuse a genuine message with a message of their own, signed by a domain they own and put in
 * its From (a "reply" dated before it, a "copy" under its Message-ID). On a public mail provider
 * (gmail.com, outlook.com, ...) the same domain is not enough: any of its users gets mail
 * genuinely signed by it, and could plant such a message against another user (red team 5,
 * finding 02). There, only a message from the same address bears witness.
 *
 * A message whose From names no domain that can be read is not thereby out of every proof's
 * reach: its From is its author's choice, a forger's on a forged copy (red team 30, M-02). Proofs
 * that sign the From and whose domain is that of the accused message's Message-ID (its part after
 * the @, or a domain above or below it, not a public provider's) bear witness against it: the
 * Message-ID says the message was made in that domain, and the domain's proof says what it made.
 * A genuine message with no readable From whose Message-ID is in another domain stays out of
 * reach, so a domain cannot accuse what it did not name as its own.
 */
export const witnessesAgainst = (m: DumpMessage, accused: DumpMessage): DumpProof[] => {
  const domain = fromDomainOf(accused);
  if (domain === null) return unreadableFromWitnesses(m, accused);
  if (sharedProviderOfAnotherUser(m, accused)) return [];
  return fromDomainProofs(m).filter((p) => sameDomainOrSubdomain(p.domain, domain));
};

/** The domain of the message's From mailbox (after its last @) as written, for texts, or null when none can be read. */
export const fromDomainOf = (m: DumpMessage): string | null => {
  const at = m.fromAddress?.lastIndexOf('@') ?? -1;
  return at < 0 ? null : m.fromAddress!.slice(at + 1) || null;
};

/**
 * A From mailbox with its domain as domains are compared (canonicalDomain): one sender, whether
 * its domain is written as the U-label or the A-label. Null for null.
 */
export const senderKey = (address: string | null): string | null => {
  const at = address?.lastIndexOf('@') ?? -1;
  return at < 0 || at === address!.length - 1 ? address : `${address!.slice(0, at)}@${canonicalDomain(address!.slice(at + 1))}`;
};

/** The From domain in the form domains are compared in (canonicalDomain), or null when none can be read. */
export const fromDomainKey = (m: DumpMessage): string | null => {
  const domain = fromDomainOf(m);
  return domain === null ? null : canonicalDomain(domain);
};

const unreadableFromWitnesses = (m: DumpMessage, accused: DumpMessage): DumpProof[] => {
  const idDomain = messageIdDomain(accused);
  if (idDomain === null) return [];
  return fromDomainProofs(m).filter(
    (p) => p.signedHeaders.includes('from') && sameDomainOrSubdomain(p.domain, idDomain) && !isPublicMailProvider(p.domain),
  );
};

/** The domain part of the message's Message-ID (after the last @ of its msg-id), lower-cased; null without one. */
export const messageIdDomain = (m: DumpMessage): string | null => {
  const id = m.messageId?.replace(/^<|>$/g, '');
  const at = id?.lastIndexOf('@') ?? -1;
  return at < 0 ? null : id!.slice(at + 1).toLowerCase() || null;
};

/** The accused message's From domain when it is a public mail provider and `m` is from another of its addresses: the rule above. */
const sharedProviderOfAnotherUser = (m: DumpMessage, accused: DumpMessage): string | null => {
  const domain = fromDomainOf(accused);
  return domain && m.fromAddress !== accused.fromAddress && isPublicMailProvider(domain) ? domain : null;
};

/**
 * The shared provider whose signature on `m` would have borne witness against `accused`, from
 * another of its users, had the provider been any other domain; null otherwise. For the texts.
 */
export const witnessRefusedAsSharedProvider = (m: DumpMessage, accused: DumpMessage): string | null => {
  const domain = sharedProviderOfAnotherUser(m, accused);
  return domain && fromDomainProofs(m).some((p) => sameDomainOrSubdomain(p.domain, domain)) ? domain : null;
};

/**
 * The signing domain is the From domain, or one above or below it (d=example.com for
 * mail.example.com, or the reverse): relaxed alignment as far as it can be told without the
 * public suffix list, which would also align two subdomains of one organisation (then a warning
 * is given where a red flag could have been). Compared as A-labels (canonicalDomain): a From
 * domain is often written as its U-label, a d= always as its A-label.
 */
export const sameDomainOrSubdomain = (a: string, b: string): boolean => {
  const x = canonicalDomain(a);
  const y = canonicalDomain(b);
  return x === y || x.endsWith(`.${y}`) || y.endsWith(`.${x}`);
};

export interface DumpFinding {
  messageId: number;
  finding: Finding;
}

export type DumpCheck<M extends DumpMessage = DumpMessage> = (messages: readonly M[]) => DumpFinding[];

export const DAY_MS = 86_400_000;

/**
 * The dump's order by content: sha256, then name (which only byte-identical files share). Which
 * copy a finding names, which copies a bound keeps, and which of equals wins must not be a
 * planter's choice of file names, nor change when a second newsroom re-runs on renamed files
 * (red team M, M-08; red team Q, Q-03).
 */
export const byContentOrder = (a: Pick<DumpMessage, 'sha256' | 'where'>, b: Pick<DumpMessage, 'sha256' | 'where'>): number =>
  a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : a.where < b.where ? -1 : a.where > b.where ? 1 : 0;
