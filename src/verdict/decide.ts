import type { RemovedByClientPart } from '../attachments/removed-by-client.ts';
import type { StoredApartPart } from '../attachments/stored-apart.ts';
import { capitalised, escapeControls, speaksForAuthor } from '../checks/check-support.ts';
import { signatureLabel as label } from '../checks/signed-headers.ts';
import type { Finding } from '../checks/types.ts';
import { shownKeyOrigin } from '../keys/key-file-name.ts';
import { parseTags } from '../keys/parse-key.ts';
import { type RebuiltMessage, rewrittenFieldsSigned } from '../read/rebuilt-by-converter.ts';
import { isTrustedSealer, WELL_KNOWN_ARC_SEALERS } from '../verify/arc-sealers.ts';
import type { ArcInstance, ArcVerification } from '../verify/arc.ts';
import { dkimResultsIn, type SealerSawDkim } from '../verify/auth-results.ts';
import type { DkimSignatureResult, KeyUsed, SignatureOutcome } from '../verify/dkim.ts';
import { readDomain, readSigningDomain, showDomain, showSigningDomain } from '../verify/domain-names.ts';
import { REASONS, type ReasonCode, type Verdict } from './reasons.ts';
import { describeRepair } from './repairs.ts';

/**
 * The one place where findings become a verdict. Every rule is named by the reason code it
 * emits, and docs/verdicts.md describes the same rules in prose.
 */
export interface VerdictDecision {
  verdict: Verdict;
  /** reason codes, most important first: catalogue codes (reasons.ts) and red-flag finding codes */
  reasons: string[];
  /** plain-language explanation, naming the signatures and keys involved */
  explanation: string;
  /** the signatures that prove the message, by index */
  provenBy: number[];
  /** findings the decision itself adds (e.g. a failure explained by an intermediary) */
  findings: Finding[];
}

export interface VerdictInput {
  signatures: DkimSignatureResult[];
  arc: ArcVerification;
  findings: Finding[];
  repairs: string[];
  parseError: string | null;
  /**
   * ARC sealers the user vouches for (`verify --trust-arc-sealer`), beside the well-known ones:
   * a newsroom that knows the list server a mailbox was subscribed through can say so.
   */
  trustedArcSealers?: ReadonlySet<string>;
  /**
   * Parts of the body Apple Mail kept outside the message file (a `.partial.emlx`), and the
   * signatures (by index) whose signed body reaches them: for those, a body-hash mismatch is what
   * the missing bytes make, and says nothing about a change.
   */
  storedApart?: { parts: readonly StoredApartPart[]; signatures: ReadonlySet<number> };
  /**
   * Parts Thunderbird rewrote when the mailbox's owner deleted or detached their attachment, in
   * the form Thunderbird gives them, and the signatures (by index) whose signed body reaches them:
   * as for `storedApart`, a body-hash mismatch over them says nothing about a change.
   */
  removedByClient?: { parts: readonly RemovedByClientPart[]; signatures: ReadonlySet<number> };
  /**
   * A converter wrote the message anew from a mailbox store that keeps no original bytes (readpst
   * from an Outlook PST): the body every signature hashed is gone, and so are the header fields
   * the converter rewrote.
   */
  rebuiltBy?: RebuiltMessage | null;
  /**
   * The file holds the header block and no body (pffexport's InternetHeaders.txt, headers saved
   * alone): a body hash that fails over nothing says the body is not here, not that it changed.
   */
  headerBlockOnly?: boolean;
  /**
   * The domain of the From address, as the reader sees it: a proof by a subdomain or a parent of
   * it (relaxed alignment) names both, and never calls the signer the From domain (red team K, K-12).
   */
  fromDomain?: string | null;
  /**
   * The search for the form the message was signed in stopped before it had tried every repair
   * (src/analyze/form-search.ts): a signature that fails under the forms tried may verify under
   * one not tried, so its failure is no evidence of tampering.
   */
  formsNotTried?: boolean;
  /**
   * The DKIM-Signature fields of the message, checked or not: past MAX_SIGNATURES_CHECKED
   * (dkim.ts) `signatures` holds only those checked. Their number when left out.
   */
  signatureFields?: number;
}

const NO_SEALERS: ReadonlySet<string> = new Set();

const FAILED: ReadonlySet<SignatureOutcome> = new Set(['body-modified', 'signature-mismatch']);

/** Outcomes that say nothing either way, and the reason each one gives. */
const UNVERIFIABLE: Partial<Record<SignatureOutcome, ReasonCode>> = {
  'key-not-found': 'key-not-found',
  'key-revoked': 'key-revoked',
  'key-invalid': 'key-invalid',
  'dns-error': 'dns-error',
  'unsupported-algorithm': 'unsupported-algorithm',
  malformed: 'signature-malformed',
  expired: 'signature-expired',
  'from-not-signed': 'signature-not-covering-from',
};

/**
 * A signature that proves the content: it verifies, with a key nobody else can have forged, by
 * the From domain. A third party's signature proves only that the third party sent the bytes:
 * a forger can put any From on a message and sign it with a domain of their own.
 */
const proves = (sig: DkimSignatureResult, findings: Finding[]): boolean =>
  speaksForAuthor(sig) &&
  sig.tags.signedHeaders.includes('from') &&
  !NOT_PROOF_OF_WHAT_IS_SHOWN.some((code) => findingOn(findings, code, sig));

/** The finding of this code that a check made about this signature (its evidence names it). */
const findingOn = (findings: Finding[], code: string, sig: DkimSignatureResult): Finding | undefined =>
  findings.find((f) => f.code === code && f.evidence['signature'] === label(sig));

/** Findings that stop a signature proving the message: it does not cover what the reader sees. */
const NOT_PROOF_OF_WHAT_IS_SHOWN: readonly string[] = ['body-content-after-l', 'content-type-not-signed'];

/**
 * A failure with a key to fail against; without a key a mismatch could be a pasted-on header,
 * and against a key that did not make the signature (signedByKey false: the selector may have
 * been given a new key since) it could be a genuine message. Nor is a failure under a key published with
 * t=y evidence: the domain declared its signing was being tried out, and RFC 6376 section 3.6.1
 * asks that its mail be treated as unsigned "even should the signature fail to verify" (a
 * footer its own gateway adds after signing is what testing finds; red team 28, F-01).
 */
const failsAgainstKey = (sig: DkimSignatureResult, all: readonly DkimSignatureResult[]): boolean =>
  FAILED.has(sig.outcome) && sig.key !== null && !sig.key.revoked && sig.key.keyType !== null && sig.signedByKey !== false && !keyLikelyReplaced(sig, all) && !sig.testing;

/**
 * An Ed25519 signature carries no structure that tells the key that made it from another, so a
 * failure against the key on record is evidence of tampering, unless another signature of the
 * same domain on the message was made with a key that is no longer on record for its selector
 * (keyGoneSince): the domain replaced its keys since, or that signature is not the domain's. Domains that sign with both algorithms rotate both; the genuine
 * message checked against today's keys would otherwise be called forged (red team 6, B-03). The
 * cost: a forger who adds a junk signature of the domain to an altered Ed25519-signed message
 * gets unverifiable, not suspicious (red team 7, 06), which is what stripping the signatures
 * gets them too; the note says the sibling may not be the domain's.
 */
const keyLikelyReplaced = (sig: DkimSignatureResult, all: readonly DkimSignatureResult[]): boolean =>
  sig.signedByKey == null &&
  sig.key?.keyType === 'ed25519' &&
  all.some((other) => other !== sig && keyGoneSince(other) && other.tags.domain?.toLowerCase() === sig.tags.domain?.toLowerCase());

/**
 * The key that made this signature is no longer on record for its selector: an RSA key there
 * did not make it (key-not-signer), or the selector was revoked (an empty p=, the way RFC 6376
 * section 3.6.1 retires a key) or removed since. Domains rotating their keys do each of these
 * (red team 28, F-03); none of them is open to a forger more than the first already was.
 */
const keyGoneSince = (sig: DkimSignatureResult): boolean =>
  sig.signedByKey === false || sig.outcome === 'key-revoked' || sig.outcome === 'key-not-found';

export function decideVerdict(input: VerdictInput): VerdictDecision {
  const { signatures, arc } = input;
  const added: Finding[] = [];
  if (input.parseError) {
    return decision('unverifiable', ['message-unparseable'], `The message could not be parsed: ${input.parseError}.`, [], added);
  }

  const findings = input.findings;
  const proving = signatures.filter((s) => proves(s, findings));
  const suspicious: string[] = [];
  const unverifiable: ReasonCode[] = [];
  const notes: string[] = [];
  /** what makes the message suspicious, told before anything else */
  const failureNotes: string[] = [];
  const userTrusted = input.trustedArcSealers ?? NO_SEALERS;

  // A chain that validates only under a key listed as compromised (or revoked, too weak,
  // unreadable) proves nothing, as such a DKIM key proves nothing: it neither explains a failure
  // nor earns arc-only (red team L, L-04).
  const arcKeyUnfit = arc.result === 'pass' ? unfitArcKeysFinding(arc) : null;
  if (arcKeyUnfit) {
    added.push(arcKeyUnfit);
    notes.push(arcKeyUnfit.text);
  }
  const arcSpeaks = arc.result === 'pass' && !arcKeyUnfit;

  for (const sig of signatures) {
    if (failsAgainstKey(sig, signatures)) {
      const explanation = explainFailure(sig, input.signatureFields ?? signatures.length, arc, arcSpeaks, proving, added, userTrusted);
      if (explanation) {
        added.push(explanation);
        continue;
      }
      if (input.formsNotTried) {
        unverifiable.push('repairs-not-all-tried');
        notes.push(`${describeFailure(sig)} Not every repaired form of the message was tried (repairs-not-all-tried), and it may verify under one that was not: this failure is not taken as evidence of tampering.`);
        continue;
      }
      const notInFile = sig.outcome === 'body-modified' ? bodyNotInFile(sig, input) : null;
      if (notInFile) {
        const { finding, reason } = notInFile;
        added.push(finding);
        // The missing bytes account for the body hash, and for nothing else: signed headers that
        // do not verify under the key that made the signature are still evidence of a change.
        if (sig.headerSignatureValid === true) {
          unverifiable.push(reason);
          notes.push(finding.text);
          continue;
        }
        // A converter that rewrote a field the signature covers accounts for its header hash too;
        // a header hash that fails over fields it kept does not.
        if (sig.headerSignatureValid === false && reason === 'message-rebuilt-by-converter' && rewrittenFieldsSigned(input.rebuiltBy!, sig.tags.signedHeaders).length) {
          unverifiable.push(reason);
          notes.push(finding.text);
          continue;
        }
        if (sig.headerSignatureValid === false) {
          suspicious.push('dkim-signature-mismatch');
          failureNotes.push(`${describeFailure({ ...sig, outcome: 'signature-mismatch' })} ${finding.text}`);
          continue;
        }
      }
      suspicious.push(sig.outcome === 'body-modified' ? 'dkim-body-modified' : 'dkim-signature-mismatch');
      failureNotes.push(describeFailure(sig));
      continue;
    }
    if (sig.outcome === 'pass') {
      if (sig.key && !sig.key.strong) {
        unverifiable.push('key-too-weak');
        notes.push(`The signature by ${sig.tags.domain} verifies, but its key is ${describeKey(sig)}: too weak to prove anything.`);
      } else if (sig.key?.compromised) {
        unverifiable.push('key-compromised');
        notes.push(`The signature by ${sig.tags.domain} verifies, but its key (${describeKey(sig)}) is ${sig.key.compromised}: its private half is public.`);
      } else if (!sig.aligned) {
        unverifiable.push('signature-not-aligned');
        const authorUnproven = findingOn(findings, 'author-not-proven', sig);
        if (authorUnproven) {
          notes.push(`The signature by ${sig.tags.domain} (selector ${sig.tags.selector}) verifies with ${describeKey(sig)}. ${authorUnproven.text}`);
          continue;
        }
        notes.push(
          `The signature by ${sig.tags.domain} (selector ${sig.tags.selector}) verifies with ${describeKey(sig)}, but ${sig.tags.domain} is not the From domain: ` +
            `it proves that ${sig.tags.domain} sent these bytes, not that the From domain did.`,
        );
      } else {
        const unshown = findingOn(findings, 'content-type-not-signed', sig);
        if (unshown) {
          unverifiable.push('content-type-not-signed');
          notes.push(`The signature by ${sig.tags.domain} (selector ${sig.tags.selector}) verifies with ${describeKey(sig)}. ${unshown.text}`);
        }
      }
      continue;
    }
    if (sig.outcome === 'body-modified' || sig.outcome === 'signature-mismatch') {
      if (sig.testing && sig.signedByKey !== false && !keyLikelyReplaced(sig, signatures)) {
        unverifiable.push('key-testing-failed');
        notes.push(
          `${describeFailure(sig)} But ${sig.tags.domain} published that key in testing mode (t=y in its record), declaring its signing unreliable: ` +
            'what changed may have been changed by its own servers, and a failure under a key in testing mode is no evidence of tampering.',
        );
        continue;
      }
      if (keyLikelyReplaced(sig, signatures)) {
        unverifiable.push('key-likely-replaced');
        notes.push(
          `The Ed25519 signature by ${sig.tags.domain} does not verify with the key on record for selector ${sig.tags.selector} (${describeKey(sig)}), ` +
            `and another signature of ${sig.tags.domain} on this message was made with a key no longer on record for its selector (replaced, revoked or removed): either the domain has replaced its keys since the message was sent, ` +
            'or that other signature is not the domain\'s (anyone can add one). Either way this key may not be the one that signed, and the failure proves nothing.',
        );
        continue;
      }
      if (sig.signedByKey === false) {
        unverifiable.push('key-not-signer');
        notes.push(
          `The signature by ${sig.tags.domain} was checked against the key on record for selector ${sig.tags.selector} (${describeKey(sig)}), which did not make it.`,
        );
        added.push(notSignerFinding(sig));
        continue;
      }
      unverifiable.push(sig.outcome === 'body-modified' ? 'body-hash-mismatch-key-unknown' : keyReason(sig));
      notes.push(`${sig.outcome === 'body-modified' ? `The body does not match the body hash of ${signedBy(sig)}` : `${capitalised(signedBy(sig))} does not verify`}, and ${keyState(sig)}.`);
      continue;
    }
    if (sig.outcome === 'key-invalid' && sig.laxerRecord) {
      unverifiable.push('key-records-disagree');
      notes.push(
        `Records of the key for selector ${sig.tags.selector} of ${sig.tags.domain} disagree: the one used (${describeKey(sig)}) does not allow this signature (${sig.comment ?? 'rejected'}), ` +
          `while the same key is also on record (${sig.laxerRecord.source} from ${sig.laxerRecord.origin}) with a record that would. Which of them the domain published when the message was sent is not known.`,
      );
      continue;
    }
    const reason = UNVERIFIABLE[sig.outcome];
    if (reason) {
      unverifiable.push(reason);
      // the reason's sentence is the same for every message: this one says which signature, key
      // and tag, which a reader needs to look for an archived key or to check the claim
      notes.push(describeUnverifiable(sig, signatures));
    }
  }

  const arcFailed = arcFailureFinding(arc, proving, input);
  if (arcFailed) {
    added.push(arcFailed);
    if (arcFailed.severity === 'red-flag' && !input.formsNotTried) {
      suspicious.push(arcFailed.code);
      failureNotes.push(arcFailed.text);
    } else notes.push(arcFailed.text);
  }

  const underneath = arc.result === 'pass' ? failureUnderneathFinding(arc, proving, input) : null;
  if (underneath) {
    added.push(underneath);
    notes.push(underneath.text);
  }

  for (const finding of findings) if (finding.severity === 'red-flag') suspicious.push(finding.code);

  const repaired = input.repairs.map(describeRepair).join(', ');
  const repairNote = input.repairs.length ? ` Verified after repairing: ${repaired}.` : '';
  // A verdict other than verified was reached on the repaired bytes too: the reader must be able
  // to rule out "it is only the line endings" (red team K, K-13).
  const heldNote = !input.repairs.length
    ? ''
    : signatures.some((s) => FAILED.has(s.outcome))
      ? ` The failure holds after repairing: ${repaired}.`
      : ` Checked after repairing: ${repaired}.`;
  if (suspicious.length) {
    const redFlags = findings.filter((f) => f.severity === 'red-flag').map((f) => f.text);
    return decision('suspicious', unique(suspicious), [...failureNotes, ...redFlags, ...notes].join(' ') + heldNote, proving.map((s) => s.index), added);
  }
  if (proving.length) {
    // A proof is as strong as the best signature that makes it.
    const onlySha1 = proving.every((s) => s.tags.algorithm === 'rsa-sha1');
    return decision(
      'verified',
      onlySha1 ? ['dkim-verified', 'rsa-sha1'] : ['dkim-verified'],
      proving.map((s) => describeProof(s, input.fromDomain ?? null)).join(' ') + proofLeavesOut(findings) + repairNote,
      proving.map((s) => s.index),
      added,
    );
  }
  if (!signatures.length) {
    const reasons: ReasonCode[] = arcSpeaks ? ['unsigned', 'arc-only'] : ['unsigned'];
    // an ARC chain that validated only once repaired says so, as a signature does
    return decision('unverifiable', reasons, [...notes, ...reasons.map((r) => reasonSentence(r, arc, userTrusted))].join(' ') + heldNote, [], added);
  }
  // Every signature was either unprocessable or a failure explained in transit.
  const explainedOnly = !unverifiable.length && added.length > 0;
  const reasons = unique(unverifiable.length || explainedOnly ? unverifiable : ['signature-malformed' as ReasonCode]);
  // Those past the cap were never verified: they neither prove nor accuse, but the reader is told
  // that a proof may lie among them.
  const notChecked = findings.find((f) => f.code === 'signatures-not-checked');
  if (notChecked) {
    reasons.push('signatures-not-checked');
    notes.push(notChecked.text);
  }
  if (arcSpeaks) reasons.push('arc-only');
  // A failure explained in transit is told first: otherwise the text would not say why a
  // failed signature did not make the message suspicious.
  const explained = added.filter((f) => f.severity === 'info').map((f) => f.text);
  const text = [...explained, ...notes, ...reasons.map((r) => reasonSentence(r, arc, userTrusted))].join(' ');
  return decision('unverifiable', reasons, `${text}${heldNote} Unverifiable is not the same as fake.`, [], added);
}

function decision(verdict: Verdict, reasons: string[], explanation: string, provenBy: number[], findings: Finding[]): VerdictDecision {
  return { verdict, reasons, explanation: explanation.trim(), provenBy, findings };
}

/**
 * A failed signature is not evidence of tampering when something trustworthy accounts for the
 * change. Two things do, and only these:
 * - an ARC chain that validates under keys that prove something (arcSpeaks) and whose newest
 *   sealer recorded dkim=pass for that signature on arrival (a mailing list changed the message),
 *   when its seal signs all the signature covered (sealLeavesOut), and that sealer is a well-known ARC sealer or
 *   one the user named as trusted. Any other sealer's record explains nothing: a forger can seal
 *   a chain with keys of its own and have it say anything, so the claim is only noted
 *   (`arc-sealer-not-trusted`, pushed to `added`);
 * - a proving signature by the From domain itself that covers everything the failed one did
 *   (the organisation re-signed after changing the message). A third party's signature is not
 *   enough: anyone can alter a genuine message and sign the result with their own domain.
 */
function explainFailure(
  sig: DkimSignatureResult,
  signatureFields: number,
  arc: ArcVerification,
  arcSpeaks: boolean,
  proving: DkimSignatureResult[],
  added: Finding[],
  userTrusted: ReadonlySet<string>,
): Finding | null {
  // What a sealer recorded for this signature. One that also recorded another result for it did
  // not see it pass (red team 27, D-04).
  const sawPass = (recorded: readonly SealerSawDkim[]): boolean => {
    const mine = recorded.filter((d) => recordedFor(d, sig));
    return mine.length > 0 && mine.every((d) => d.result === 'pass');
  };
  const trusted = (domain: string | null): domain is string => isTrustedSealer(domain, userTrusted);
  const chain = arc.instances;
  // The sealer whose record speaks: the newest, or, when the newest recorded the signature failing,
  // an older one that saw it pass, if every sealer after it is trusted. A subscriber's mailbox
  // (Gmail, Microsoft 365) seals list mail on delivery on top of the list's set, recording the
  // failure the list's change made: the list's record, vouched for or well known, was never the
  // newest in a leaked mailbox, and list mail there read as tampered (red team 27, D-03).
  let at = chain.length - 1;
  let saw = sawPass(arc.sealerSawDkim);
  for (let older = chain.length - 2; arcSpeaks && !saw && older >= 0 && trusted(chain[older + 1]!.sealDomain ?? null); older--) {
    if (sawPass(dkimResultsIn(chain[older]!.authResults ?? ''))) {
      at = older;
      saw = true;
    }
  }
  const sealer = chain[at]?.sealDomain ?? null;
  const sealedAfterBy = chain.slice(at + 1).map((i) => i.sealDomain ?? '?');
  if (arcSpeaks && saw) {
    const evidence = { signature: label(sig), outcome: sig.outcome, sealer, ...(sealedAfterBy.length ? { sealedAfterBy } : {}) };
    const wellKnown = sealer !== null && WELL_KNOWN_ARC_SEALERS.has(sealer);
    const uncovered = trusted(sealer) ? sealLeavesOut(chain.at(-1)!, sig, signatureFields) : null;
    if (uncovered !== null) {
      added.push({
        code: 'arc-seal-covers-less',
        severity: 'warning',
        text:
          `The signature by ${sig.tags.domain} no longer matches. The ARC chain sealed by ${sealer} records that it passed on arrival there, but ${sealer}'s ARC-Message-Signature ${uncovered}: ` +
          'a change made there after the seal, to the message as delivered, would break the signature and leave the seal whole, so the seal does not account for the change.',
        evidence: { ...evidence, wellKnownSealer: wellKnown, leftOut: uncovered },
      });
    } else if (trusted(sealer)) {
      const who = sealerStanding(sealer);
      // the seal proves only that the holder of these records' keys made it: a reader must be
      // able to see which records, and whose files they came from (red team L, L-05)
      const sealKey = chain[at]!.sealKey;
      const amsKey = chain.at(-1)!.amsKey;
      // another record of the same name, in another file, that does not validate the chain, is
      // named beside the one that does: the seal rests on whose file holds which (L-05)
      const rejectedBy = new Map<string, KeyUsed[]>();
      const rejecting = (key: KeyUsed | undefined, rejected: KeyUsed[] | undefined): void => {
        if (!key || !rejected?.length) return;
        const described = describeArcKey(key);
        const known = rejectedBy.get(described) ?? [];
        rejectedBy.set(described, [...known, ...rejected.filter((r) => !known.some((k) => k.txt === r.txt && k.origin === r.origin))]);
      };
      rejecting(sealKey, chain[at]!.sealKeysNotValidating);
      rejecting(amsKey, chain.at(-1)!.amsKeysNotValidating);
      const keys = namedArcKeys(
        [
          { what: `the seal of ${sealer}`, key: sealKey },
          { what: 'the newest ARC-Message-Signature', key: amsKey },
        ],
        (described) => {
          const rejected = rejectedBy.get(described) ?? [];
          return rejected.length
            ? `, while ${listed(rejected.map(describeArcKey))}, also on record, ${rejected.length === 1 ? 'does' : 'do'} not validate the chain: the seal shows only that the holder of the key of the record that validates it made it`
            : '';
        },
      );
      return {
        code: 'dkim-broken-by-intermediary',
        severity: 'info',
        text:
          `The signature by ${sig.tags.domain} no longer matches, but the ARC chain sealed by ${sealer}, ${who}, records that it passed on arrival there: an intermediary such as a mailing list changed the message in transit.` +
          (sealedAfterBy.length ? ` ${sealedAfterBy.join(', ')}, trusted too, sealed it after, on its way to this mailbox.` : '') +
          (keys ? ` ${capitalised(keys)}.` : ''),
        evidence: {
          ...evidence,
          explainedBy: 'arc',
          wellKnownSealer: wellKnown,
          ...(wellKnown ? {} : { trustedBy: 'user' }),
          sealKey: sealKey ? arcKeyEvidence(sealKey) : null,
          amsKey: amsKey ? arcKeyEvidence(amsKey) : null,
          ...(rejectedBy.size ? { keysNotValidating: [...rejectedBy.values()].flat().map(arcKeyEvidence) } : {}),
        },
      };
    }
    if (uncovered === null) added.push({
      code: 'arc-sealer-not-trusted',
      severity: 'warning',
      text:
        `The signature by ${sig.tags.domain} no longer matches. An ARC chain sealed by ${sealer ?? 'an unnamed sealer'} claims it passed on arrival there, but ${sealer ?? 'that sealer'} is not a well-known ARC sealer: ` +
        'anyone can seal a chain with keys of their own and have it claim anything, so the claim does not account for the change.' +
        (sealer !== null ? ` If you know ${sealer} relayed this mailbox's mail, name it with --trust-arc-sealer.` : ''),
      evidence: { ...evidence, wellKnownSealer: false },
    });
  }
  const superseded = proving.find((p) => p.aligned && coversAtLeast(p, sig));
  if (superseded) {
    return {
      code: 'dkim-fail-superseded',
      severity: 'warning',
      text: `The signature by ${sig.tags.domain} no longer matches, but a signature by the From domain ${superseded.tags.domain} covers everything it covered and verifies: the message was changed before ${superseded.tags.domain} signed it again.`,
      evidence: { signature: label(sig), outcome: sig.outcome, explainedBy: label(superseded) },
    };
  }
  return null;
}

/**
 * A sealer's record is about this signature: header.d is its d=; the domain of header.i is the
 * domain of its i= (the AUID, which defaults to @d= and may be a subdomain of d=: Gmail and
 * Google Groups record header.i alone, and genuine list mail read as tampered; red team L, L-03);
 * header.s is its selector; header.b begins its b= (RFC 6008), which ties the record to this
 * signature and not to any other of the same domain and selector.
 */
function recordedFor(recorded: SealerSawDkim, sig: DkimSignatureResult): boolean {
  const domain = sig.tags.domain?.toLowerCase() ?? null;
  const identityDomain = /@([^@]*)$/.exec(sig.tags.identity ?? '')?.[1]?.toLowerCase() ?? domain;
  if (recorded.domain === null && recorded.identityDomain === undefined) return false;
  if (recorded.domain !== null && recorded.domain !== domain) return false;
  if (recorded.identityDomain !== undefined && recorded.identityDomain !== identityDomain) return false;
  if (recorded.selector && recorded.selector !== sig.tags.selector?.toLowerCase()) return false;
  return !recorded.b || sig.tags.b.startsWith(recorded.b);
}

/** Why an ARC key is no proof, as for a DKIM key (key-compromised, key-revoked, key-too-weak), or null when it is fit. */
function arcKeyUnfit(key: KeyUsed | undefined): string | null {
  if (!key) return 'not known: no record of it is known to have validated the chain';
  if (key.compromised) return `${escapeControls(key.compromised, 300)}: its private half is public`;
  if (key.revoked) return 'revoked (an empty p=)';
  if (key.keyType === null) return 'unreadable';
  if (!key.strong) return 'too weak to prove anything';
  return null;
}

/**
 * A chain that validates, but only under a seal key or a newest ARC-Message-Signature key that is
 * no proof (arcKeyUnfit): anyone holding a compromised key can seal whatever they like in the
 * sealer's name, so the chain says nothing, neither that a failed signature passed on arrival
 * nor that an intermediary handled the message (red team L, L-04). Null when every key is fit.
 */
function unfitArcKeysFinding(arc: ArcVerification): Finding | null {
  const newest = arc.instances.at(-1);
  const named = (domain: string | null): string => (domain === null ? 'unnamed' : escapeControls(domain, 255));
  const keys = [
    ...arc.instances.map((i) => ({ what: `the seal of set i=${i.i} (${named(i.sealDomain)})`, key: i.sealKey })),
    ...(newest ? [{ what: `the ARC-Message-Signature of set i=${newest.i} (${named(newest.amsDomain)})`, key: newest.amsKey }] : []),
  ];
  const unfit = keys.flatMap(({ what, key }) => {
    const why = arcKeyUnfit(key);
    return why === null ? [] : [{ what, why, key }];
  });
  if (!unfit.length) return null;
  const whys = new Map<string, string>(unfit.map((u) => [u.key ? describeArcKey(u.key) : '', u.why]));
  return {
    code: 'arc-key-compromised',
    severity: 'warning',
    text:
      `The ARC chain validates, but ${namedArcKeys(unfit, (described) => `, which is ${whys.get(described)}`)}. ` +
      'Anyone who holds such a key can seal a message in the sealer\'s name and have the chain claim anything, so the chain proves nothing: it does not account for a failed signature, nor show that an intermediary handled the message.',
    evidence: { keys: unfit.map((u) => ({ part: u.what, ...(u.key ? arcKeyEvidence(u.key) : { name: null }), why: u.why })) },
  };
}

/** Why a trusted sealer is trusted, as every explanation says it (rule 3). */
const sealerStanding = (sealer: string): string =>
  WELL_KNOWN_ARC_SEALERS.has(sealer) ? 'a well-known ARC sealer' : "an ARC sealer trusted on this run's command line (--trust-arc-sealer)";

/**
 * A reason's sentence in an explanation. arc-only is worded by who sealed last: a well-known or
 * vouched-for sealer vouches that it handled the message; any other sealer can be anyone, with
 * a key of their own, and "an intermediary vouches" lent a forger's seal a standing it has not
 * (red team L, L-02).
 */
function reasonSentence(reason: string, arc: ArcVerification, userTrusted: ReadonlySet<string>): string {
  if (reason !== 'arc-only') return REASONS[reason as ReasonCode]?.text ?? reason;
  const last = arc.instances.at(-1)?.sealDomain ?? null;
  const shown = last === null ? 'an unnamed sealer' : escapeControls(last, 255);
  if (isTrustedSealer(last, userTrusted)) {
    const who = sealerStanding(last);
    return `Only an ARC chain validates: ${shown}, ${who}, sealed it last and so vouches that it handled this message, but no DKIM signature proves the content.`;
  }
  return (
    `Only an ARC chain validates, sealed last by ${shown}, which is not a well-known ARC sealer: anyone can seal a message with a key of their own, ` +
    'so the chain shows nothing about who handled it, and no DKIM signature proves the content.'
  );
}

/**
 * A chain that no longer validates, sealed by a sealer trusted as in rule 3 (well known, or named
 * with --trust-arc-sealer) whose key is on record (ArcFailure): told, naming the sealer, the set
 * and what failed, so that "without the key it cannot be told" is never all the reader gets
 * (red team 29, K-04). The same logic as DKIM's: an ARC-Message-Signature whose signed header
 * fields verify under the sealer's key on record and whose body hash fails shows that the body
 * changed after the sealer sealed it, a red flag (`arc-body-modified`), as a DKIM body-hash
 * failure with the key on record is; unless a signature by the From domain proves the message
 * (it covers the whole body: the seal's canonicalization must be stricter than its) or Apple Mail
 * kept part of the body outside the file. Any other failure is a warning (`arc-chain-failed`):
 * a seal that does not validate, or an ARC-Message-Signature that does not verify over its
 * headers, may be a forger's claim to the sealer's name as well as a change.
 */
function arcFailureFinding(arc: ArcVerification, proving: DkimSignatureResult[], input: VerdictInput): Finding | null {
  const failure = arc.result === 'fail' ? arc.failure : undefined;
  if (!failure) return null;
  const userTrusted = input.trustedArcSealers ?? NO_SEALERS;
  const trusted = (domain: string | null): domain is string => isTrustedSealer(domain, userTrusted);
  const sealer = failure.sealDomain;
  if (!trusted(sealer) || !trusted(failure.domain)) return null;
  const wellKnown = WELL_KNOWN_ARC_SEALERS.has(sealer);
  const key = failure.key;
  const keyText = `key ${key.name} on record (${keyKind(key)}${key.fingerprint ? ` sha256:${key.fingerprint.slice(0, 16)}…` : ''} from ${keySource(key)})`;
  const who = `${sealer}, ${sealerStanding(sealer)}`;
  const ams = `${failure.domain}'s ARC-Message-Signature of set i=${failure.i}`;
  const evidence = {
    instance: failure.i, failed: failure.part, what: failure.what, headersVerify: failure.headersVerify, sealer, signingDomain: failure.domain, selector: failure.selector,
    key: key.name, fingerprint: key.fingerprint, wellKnownSealer: wellKnown, ...(wellKnown ? {} : { trustedBy: 'user' }), arcReason: arc.reason,
  };
  // a seal that does not validate does not show who made it: the chain only names the sealer
  const opening = failure.part === 'seal' ? `The ARC chain whose seal names ${who}, no longer validates:` : `The ARC chain sealed by ${who}, no longer validates:`;
  if (failure.part === 'message-signature' && failure.what === 'body' && failure.headersVerify === true) {
    const usable = key.strong && !key.revoked && key.compromised === null;
    const provenBody = proving.find((p) => p.tags.bodyLength === null);
    const storedApart = input.storedApart?.parts.length ? input.storedApart.parts : null;
    const removedByClient = input.removedByClient?.parts.length ? input.removedByClient.parts : null;
    const rebuilt = input.rebuiltBy ?? null;
    const head = `${opening} the body no longer matches the body hash of ${ams}, while the header fields it signs still verify with its ${keyText}.`;
    if (usable && !provenBody && !storedApart && !removedByClient && !rebuilt) {
      return {
        code: 'arc-body-modified',
        severity: 'red-flag',
        text: `${head} ${sealer} sealed the message as it passed through: the body was changed after that.`,
        evidence,
      };
    }
    const why = rebuilt
      ? `${capitalised(rebuilt.converter)} wrote the message anew, so the body the seal hashed is not in this file and its body hash cannot be checked.`
      : storedApart
      ? 'Apple Mail kept part of the body outside this file, so the body hash cannot be checked from it.'
      : removedByClient
        ? "Thunderbird's record in the message says its user deleted or detached an attachment, in the form Thunderbird leaves, so the body hash cannot be checked from this file."
        : provenBody
        ? `The signature by the From domain ${provenBody.tags.domain}, which verifies, covers the whole body: what changed is what its canonicalization lets through and the seal's does not (spaces, line ends).`
        : `But that key is ${key.compromised ? `listed as compromised (${key.compromised})` : key.revoked ? 'revoked' : 'too weak to prove anything'}, so this proves nothing.`;
    return { code: 'arc-chain-failed', severity: 'warning', text: `${head} ${why}`, evidence };
  }
  const what =
    failure.part === 'seal'
      ? `its ARC-Seal of set i=${failure.i} does not validate with the ${keyText}: an ARC header field was changed after it was sealed, or the seal is not ${failure.domain}'s.`
      : failure.what === 'headers'
        ? `${ams} does not verify with its ${keyText}: a header field it signs was changed after it was sealed, or the signature is not ${failure.domain}'s.`
        : `the body no longer matches the body hash of ${ams}, and ${failure.headersVerify === false ? 'the header fields it signs do not verify' : 'whether the header fields it signs verify could not be told'} with its ${keyText}: the message was changed after it was sealed, or the signature is not ${failure.domain}'s.`;
  return { code: 'arc-chain-failed', severity: 'warning', text: `${opening} ${what}`, evidence };
}

/**
 * A chain that passes, sealed last by a sealer not trusted, beneath which the ARC-Message-Signature
 * of the newest set a trusted sealer sealed fails over the body while the header fields it signs
 * verify under its key on record (ArcVerification.failureUnderneath): the body changed after that
 * sealer sealed the message (red team L, L-02). A warning, not the red flag `arc-body-modified`:
 * the change may have been made in transit by the sealer after it, as a mailing list changes what
 * it relays, and that sealer's seal can neither tell so nor be believed; nor can it hide the
 * change, so the reader is told. Null when the body is otherwise accounted for (a signature by the
 * From domain proving the whole body, Apple Mail's stored-apart parts, Thunderbird's removed
 * attachments, a converter that wrote the message anew) or the key proves nothing.
 */
function failureUnderneathFinding(arc: ArcVerification, proving: DkimSignatureResult[], input: VerdictInput): Finding | null {
  const failure = arc.failureUnderneath;
  const userTrusted = input.trustedArcSealers ?? NO_SEALERS;
  if (!failure || failure.what !== 'body' || failure.headersVerify !== true) return null;
  const sealer = failure.sealDomain;
  if (!isTrustedSealer(sealer, userTrusted) || !isTrustedSealer(failure.domain, userTrusted) || arcKeyUnfit(failure.key) !== null) return null;
  if (proving.some((p) => p.tags.bodyLength === null) || input.storedApart?.parts.length || input.removedByClient?.parts.length || input.rebuiltBy) return null;
  const sealedAfterBy = arc.instances.filter((i) => i.i > failure.i).map((i) => i.sealDomain ?? '?');
  const wellKnown = WELL_KNOWN_ARC_SEALERS.has(sealer);
  const after = listed(sealedAfterBy.map((d) => escapeControls(d, 255)));
  return {
    code: 'arc-body-modified-untrusted-after',
    severity: 'warning',
    text:
      `The ARC chain validates, sealed last by ${after}, not ${sealedAfterBy.length === 1 ? 'a well-known ARC sealer' : 'well-known ARC sealers'}. ` +
      `Beneath, the body no longer matches the body hash of ${failure.domain}'s ARC-Message-Signature of set i=${failure.i}, which a validator does not check beneath a newer set, ` +
      `while the header fields it signs still verify with ${describeArcKey(failure.key)}: the body was changed after ${sealer}, ${sealerStanding(sealer)}, sealed the message. ` +
      `${after} may have changed it in transit, as a mailing list does, or sealed the changed message to hide the change: anyone can seal with a key of their own, so the later seal accounts for nothing.` +
      (sealedAfterBy.length === 1 && sealedAfterBy[0] !== '?' ? ` If you know ${after} relayed this mailbox's mail, name it with --trust-arc-sealer.` : ''),
    evidence: {
      instance: failure.i, what: failure.what, headersVerify: failure.headersVerify, sealer, signingDomain: failure.domain, selector: failure.selector,
      key: failure.key.name, fingerprint: failure.key.fingerprint, wellKnownSealer: wellKnown, ...(wellKnown ? {} : { trustedBy: 'user' }), sealedAfterBy,
    },
  };
}

/**
 * What the newest ARC-Message-Signature leaves out of what a failed signature covered, or null
 * when it covers all of it: every header field as many times as the signature names it, the whole
 * body, and under a canonicalization no looser than the signature's. The chain validates, so what
 * the seal covers has not changed since it was made; a change to anything it leaves out may have
 * been made after, to the message as delivered. Gmail and Microsoft 365 seal mail on delivery,
 * recording that its signature passed: a Subject added on top of an oversigned one, or spaces
 * added to a body signed with simple canonicalization, broke the author's signature and left
 * Google's seal whole, and the tampering read as a mailing list's change in transit (red team 27,
 * D-01 and D-02).
 */
function sealLeavesOut(seal: ArcInstance, sig: DkimSignatureResult, signatureFields: number): string | null {
  if (!seal.amsHeaders) return 'cannot be read';
  // What the signature covered is read from its own h=, c= and l=: unsigned by the seal, they
  // could have been edited since (a To changed, and taken out of h=), and a Microsoft 365
  // ARC-Message-Signature never signs DKIM-Signature (red team L, L-07). A verifier picks the
  // fields of a name from the bottom up, so the seal signs this one when it names
  // dkim-signature at least as many times as there are DKIM-Signature fields from it down.
  const fromTheBottom = signatureFields - sig.index;
  if (seal.amsHeaders.filter((n) => n === 'dkim-signature').length < fromTheBottom) {
    return 'does not sign the DKIM-Signature field of this signature, so what the signature covered (its h=, c= and l= tags) may have been edited since and cannot be compared with what the seal covers';
  }
  if (seal.amsBodyLength !== null && seal.amsBodyLength !== undefined) return `signs only the first ${seal.amsBodyLength} bytes of the body (l=)`;
  const [sigHeader, sigBody = 'simple'] = sig.tags.canonicalization.split('/');
  // (an ARC-Message-Signature without c= is validated leniently as relaxed/relaxed: see arc.ts)
  const [sealHeader, sealBody = 'simple'] = (seal.amsCanonicalization ?? 'relaxed/relaxed').split('/');
  if (sigBody === 'simple' && sealBody !== 'simple') return 'signs the body under relaxed canonicalization, where the failed signature signed it as it was (simple): spaces changed since would not break the seal';
  if (sigHeader === 'simple' && sealHeader !== 'simple') return 'signs the header fields under relaxed canonicalization, where the failed signature signed them as they were (simple)';
  const count = (names: readonly string[], name: string): number => names.filter((n) => n === name).length;
  for (const name of new Set(sig.tags.signedHeaders)) {
    const wanted = count(sig.tags.signedHeaders, name);
    const sealed = count(seal.amsHeaders, name);
    if (sealed < wanted) return `covers ${name} ${sealed === 0 ? 'not at all' : `${sealed} time${sealed === 1 ? '' : 's'}`}, where the failed signature covers it ${wanted === 1 ? 'once' : `${wanted} times`}`;
  }
  return null;
}

/** p covers at least what s covered: every header field s signed, and the whole body. */
function coversAtLeast(p: DkimSignatureResult, s: DkimSignatureResult): boolean {
  const mine = new Set(p.tags.signedHeaders);
  return p.tags.bodyLength === null && s.tags.signedHeaders.every((h) => mine.has(h));
}

function keyReason(sig: DkimSignatureResult): ReasonCode {
  if (sig.keyLookup === 'error') return 'dns-error';
  if (sig.key?.revoked) return 'key-revoked';
  if (sig.key) return 'key-invalid';
  return 'key-not-found';
}


function describeKey(sig: DkimSignatureResult): string {
  return sig.key ? describeKeyUsed(sig.key) : 'no key';
}

function describeKeyUsed(key: KeyUsed): string {
  // a key file by its name, as the manifest names it: the folders it was given with made the same
  // keys explain the same verdicts differently on two machines, and told a published report's
  // readers the analyst's folders (red team 27, C-05)
  return `${keyKind(key)} key sha256:${key.fingerprint?.slice(0, 16) ?? '?'}… from ${keySource(key)}`;
}

const keyKind = (key: KeyUsed): string => (key.keyType === 'ed25519' ? 'Ed25519' : key.keyType === 'rsa' ? `RSA ${key.bits ?? '?'}-bit` : 'unreadable');

/** An ARC key as texts name it: its record's name, then as describeKey has a DKIM key. */
const describeArcKey = (key: KeyUsed): string => `the record of ${escapeControls(key.name, 400)} (${describeKeyUsed(key)})`;

/**
 * What validates with which ARC key, in words: parts that validate with the same record named
 * together ("X's seal and the newest ARC-Message-Signature validate with the record of …"), a
 * part with no record known as such; `after` adds to each record's name. Empty when none.
 */
function namedArcKeys(parts: ReadonlyArray<{ what: string; key: KeyUsed | undefined }>, after: (described: string) => string = () => ''): string {
  const byKey = new Map<string, string[]>();
  for (const { what, key } of parts) byKey.set(key ? describeArcKey(key) : '', [...(byKey.get(key ? describeArcKey(key) : '') ?? []), what]);
  return [...byKey]
    .map(([described, whats]) =>
      described ? `${listed(whats)} ${whats.length === 1 ? 'validates' : 'validate'} with ${described}${after(described)}` : `${listed(whats)}: no record is known to have validated ${whats.length === 1 ? 'it' : 'them'}${after(described)}`,
    )
    .join('; and ');
}

/** An ARC key as evidence names it. */
const arcKeyEvidence = (key: KeyUsed): Record<string, string | null> => ({ name: key.name, fingerprint: key.fingerprint, source: key.source, origin: shownKeyOrigin(key.source, key.origin) });

function describeProof(sig: DkimSignatureResult, fromDomain: string | null): string {
  // an IDN signer shown as the reader's From shows it, beside the A-label d= names
  const signer = sig.tags.domain ? showSigningDomain(sig.tags.domain) : sig.tags.domain;
  // relaxed alignment: mail.example.com proves mail from example.com, and is not that domain
  const from = fromDomain ? readDomain(fromDomain, true) : null;
  const by =
    from?.aLabel && sig.tags.domain && readSigningDomain(sig.tags.domain).aLabel !== from.aLabel
      ? `${signer}, aligned with the From domain ${showDomain(from)}`
      : `the From domain ${signer}`;
  return `Signature by ${by}, selector ${sig.tags.selector}, ${sig.tags.algorithm}, verifies with ${describeKey(sig)} and covers From and the whole body.`;
}

/**
 * What a reader sees that the proof does not cover, from the findings that say so: the verified
 * explanation is what the CSV and the summaries carry, and "covers From and the whole body" alone
 * let an unsigned Subject, or a display name that reads as another address, pass for proven
 * (red team K, K-07). Empty when nothing is left out.
 */
function proofLeavesOut(findings: readonly Finding[]): string {
  const parts: string[] = [];
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  const unsigned = strings(findings.find((f) => f.code === 'visible-headers-unsigned')?.evidence['headers']);
  if (unsigned.length) {
    parts.push(`the ${listed(unsigned)} shown, which no signature by the From domain signs, so ${unsigned.length === 1 ? 'it' : 'they'} could have been changed without breaking the proof`);
  }
  const named = findings.find((f) => f.code === 'display-name-address');
  const shown = strings(named?.evidence['displayedAddresses']);
  if (named && shown.length) {
    const from = named.evidence['fromAddress'];
    parts.push(
      `the display name of the From field, which reads as ${shown.length === 1 ? 'the address' : 'the addresses'} ${shown.map((a) => escapeControls(a)).join(', ')}, ` +
        `while the message is from ${typeof from === 'string' ? escapeControls(from) : 'another address'}`,
    );
  }
  const disguised = findings.find((f) => f.code === 'from-address-disguised')?.evidence['domain'];
  if (typeof disguised === 'string') {
    parts.push(`the From address as a reader takes it: before its "@" it holds characters a reader does not see, or takes for "@", and the message is from the domain ${escapeControls(disguised, 1000)}`);
  }
  return parts.length ? ` The proof does not cover ${parts.join('; nor ')}.` : '';
}

const listed = (items: readonly string[]): string => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

/** A signature as texts name it: its domain and selector, as the message wrote them. */
const signedBy = (sig: DkimSignatureResult): string =>
  `the signature by ${sig.tags.domain ? escapeControls(sig.tags.domain, 255) : 'an unnamed domain'} (selector ${sig.tags.selector ? escapeControls(sig.tags.selector, 100) : 'none'})`;

/** Where a key record came from, a key file by its file name (see describeKey), for DKIM's keys and ARC's alike. */
const keySource = (key: { source: string; origin: string }): string => `${key.source} ${shownKeyOrigin(key.source, key.origin)}`;

/** Why a signature has no key to be checked with. */
function keyState(sig: DkimSignatureResult): string {
  const name = sig.keyName ? ` under ${escapeControls(sig.keyName, 400)}` : '';
  if (sig.keyLookup === 'error' || sig.outcome === 'dns-error') return `the lookup of its key${name} failed with a DNS error`;
  if (!sig.key) return `no key for it was found${name}; a key archive, or a copy of the domain's DNS from the message's time, may hold it`;
  if (sig.key.revoked) return `the record of its key (${keySource(sig.key)}) is revoked (an empty p=)`;
  return `the record of its key (${keySource(sig.key)}) cannot be used${sig.comment ? ` (${escapeControls(sig.comment, 300)})` : ''}`;
}

/** What a mailauth comment on a key record that forbids a signature says, in words, with the tag that says it. */
function keyRecordForbids(sig: DkimSignatureResult): string | null {
  const tags = sig.key ? parseTags(sig.key.txt) : new Map<string, string>();
  const tag = (name: string): string => escapeControls(tags.get(name) ?? '?', 100);
  const comment = sig.comment ?? '';
  if (comment.includes('inappropriate hash algorithm')) return `its h= tag (h=${tag('h')}) does not allow the hash of this ${sig.tags.algorithm ?? '?'} signature`;
  if (comment.includes('key not for email')) return `its s= tag (s=${tag('s')}) says the key is not for email`;
  if (comment.includes('unknown key version')) return `its v= tag (v=${tag('v')}) is not DKIM1`;
  if (comment.includes('unknown key type') || comment.includes('inappropriate key algorithm')) {
    return `its key type (k=${tags.has('k') ? tag('k') : 'rsa, by default'}) does not fit this ${sig.tags.algorithm ?? '?'} signature`;
  }
  return null;
}

/**
 * A signature that could not be evaluated, named: its domain, selector and key, and what about
 * it stops the check (red team K, K-10; K-09 for the two kinds of expiry).
 */
function describeUnverifiable(sig: DkimSignatureResult, signatures: readonly DkimSignatureResult[]): string {
  const who = signedBy(sig);
  const at = (seconds: number): string => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
  const { timestamp: t, expiration: x } = sig.tags;
  switch (sig.outcome) {
    case 'dns-error':
    case 'key-not-found':
    case 'key-revoked':
      return `${capitalised(who)} cannot be checked: ${keyState(sig)}.`;
    case 'key-invalid': {
      const why = keyRecordForbids(sig);
      const record = sig.key ? `the record of its key (${keySource(sig.key)})` : 'the record of its key';
      return `${capitalised(who)} cannot be checked with ${record}: ${why ?? (sig.comment ? `the verifier says "${escapeControls(sig.comment, 300)}"` : 'the record cannot be used')}.`;
    }
    case 'expired': {
      if (x !== null && t !== null && x < t) return `${capitalised(who)} is invalid: its expiry (x=, ${at(x)}) is before its own signing time (t=, ${at(t)}).`;
      // judged where analyze-message's messageTime judges it: the earliest t= of the message's signatures
      const signed = signatures.map((s) => s.tags.timestamp).filter((s): s is number => s !== null);
      const judged = signed.length ? `the earliest signing time (t=) among the message's signatures, ${at(Math.min(...signed))}, the earliest it can have been received` : 'the time the message was signed';
      return `${capitalised(who)} expired at ${x !== null ? `${at(x)} (x=)` : 'the time its x= tag gives'}, before ${judged}.`;
    }
    case 'unsupported-algorithm':
      return `${capitalised(who)} uses a=${escapeControls(sig.tags.algorithm ?? '(none)', 60)} and c=${escapeControls(sig.tags.canonicalization, 60)}, which DKIM does not define.`;
    case 'malformed': {
      const missing = [!sig.tags.domain ? 'd= (the signing domain)' : '', !sig.tags.selector ? 's= (the selector)' : '', !sig.tags.b ? 'b= (the signature)' : ''].filter(Boolean);
      const why = missing.length
        ? `it has no ${missing.join(', no ')}`
        : sig.tags.duplicateTags.length
          ? `it gives ${sig.tags.duplicateTags.map((d) => `${escapeControls(d, 20)}=`).join(', ')} more than once, which makes the whole tag list invalid` +
            // read anyway, a failure is still worth knowing, though it proves no change (red team T, T-05)
            (sig.result !== 'pass' && sig.comment ? `; read anyway, one way of several, it does not verify either (the verifier says "${escapeControls(sig.comment, 300)}")` : '')
          : `the verifier says "${escapeControls(sig.comment ?? 'it could not be processed', 300)}"`;
      return `The DKIM-Signature #${sig.index + 1}${sig.tags.domain ? `, by ${escapeControls(sig.tags.domain, 255)},` : ''} cannot be read as a signature: ${why}.`;
    }
    case 'from-not-signed':
      return `${capitalised(who)} signs ${sig.tags.signedHeaders.length ? escapeControls(sig.tags.signedHeaders.join(':'), 300) : 'no header field'} (h=), not From.`;
    default:
      return `${capitalised(who)} cannot be checked.`;
  }
}

/**
 * The finding that marks a signature whose failure says nothing, because the key on record did
 * not make it: the reports label its outcome by it (its outcome code, body-modified or
 * signature-mismatch, would read as a statement about the content). It claims neither that the
 * key was replaced nor that the signature is forged (red team K, K-02).
 */
function notSignerFinding(sig: DkimSignatureResult): Finding {
  return {
    code: 'key-not-signer',
    severity: 'warning',
    text:
      `The key on record for selector ${sig.tags.selector} of ${sig.tags.domain} (${describeKey(sig)}) did not make this signature, so its failure (${sig.outcome}) says nothing about the body or the headers. ` +
      'The selector may have been given a new key since the message was signed, or the signature was made by someone else (forged) or corrupted: nothing is proven either way. The key that made it, from a key archive, may tell.',
    evidence: { signature: label(sig), outcome: sig.outcome, keyFingerprint: sig.key?.fingerprint ?? null },
  };
}

function describeFailure(sig: DkimSignatureResult): string {
  if (sig.outcome === 'body-modified') {
    const headers =
      sig.headerSignatureValid === true
        ? ' The signed headers still verify, so only the body was changed.'
        : sig.headerSignatureValid === false
          ? ' The signed headers do not verify either.'
          : '';
    return `The body no longer matches the body hash signed by ${sig.tags.domain} (${describeKey(sig)}).${headers}${simpleCanonicalizationNote(sig)}`;
  }
  return `The signature by ${sig.tags.domain} does not verify against its key (${describeKey(sig)}): the signed headers were changed or the signature is forged.${simpleCanonicalizationNote(sig)}`;
}

/**
 * Under c=simple a failure is also what ordinary software makes of genuine mail: re-folded or
 * re-indented headers, lower-cased header names, stripped trailing spaces, tabs turned into
 * spaces. The failure still shows the signed bytes changed (no repair can restore the original
 * whitespace), but not that anyone meant to change them (red team N, N-05). Said only for the
 * parts that failed under simple canonicalization.
 */
function simpleCanonicalizationNote(sig: DkimSignatureResult): string {
  const [headerCanon, bodyCanon] = sig.tags.canonicalization.split('/');
  const headersFailed = sig.outcome === 'signature-mismatch' || sig.headerSignatureValid === false;
  const parts = [
    headersFailed && headerCanon !== 'relaxed' ? 'headers' : null,
    sig.outcome === 'body-modified' && bodyCanon !== 'relaxed' ? 'body' : null,
  ].filter((p): p is string => p !== null);
  if (!parts.length) return '';
  const breakers = [
    parts.includes('headers') ? 're-folds or re-indents headers or changes the case of their names' : null,
    parts.includes('body') ? 'strips trailing spaces or turns tabs into spaces' : null,
  ].filter(Boolean);
  return (
    ` The signature uses simple canonicalization for the ${parts.join(' and ')} (c=${escapeControls(sig.tags.canonicalization, 40)}), which counts every space and letter case: ` +
    `software that ${breakers.join(', or ')} breaks it too, so the failure shows that the signed bytes changed, not that anyone meant to change them.`
  );
}

/**
 * Why a failed body hash says nothing about a change: the body it hashed is not all in the file,
 * kept apart by Apple Mail or removed by Thunderbird at its user's request, or not in it at all,
 * the message having been written anew by a converter. Null otherwise.
 */
function bodyNotInFile(sig: DkimSignatureResult, input: VerdictInput): { finding: Finding; reason: ReasonCode } | null {
  if (input.rebuiltBy) return { finding: rebuiltFinding(sig, input.rebuiltBy), reason: 'message-rebuilt-by-converter' };
  if (input.headerBlockOnly) return { finding: headerBlockOnlyFinding(sig), reason: 'body-not-in-file' };
  if (input.storedApart?.signatures.has(sig.index)) return { finding: storedApartFinding(sig, input.storedApart.parts), reason: 'body-stored-apart' };
  if (input.removedByClient?.signatures.has(sig.index)) return { finding: removedByClientFinding(sig, input.removedByClient.parts), reason: 'attachment-removed-by-client' };
  return null;
}

/** Why a body hash cannot be checked: the file holds no body at all. */
function headerBlockOnlyFinding(sig: DkimSignatureResult): Finding {
  const headers =
    sig.headerSignatureValid === true
      ? `The signed headers verify with ${describeKey(sig)}: the header fields it covers are as ${sig.tags.domain} signed them.`
      : sig.headerSignatureValid === false
        ? `The signed headers do not verify either (${describeKey(sig)}): a header field it covers was changed.`
        : '';
  return {
    code: 'body-not-in-file',
    severity: 'warning',
    text:
      `This file holds the message's header fields and no body, so the body hash signed by ${sig.tags.domain} cannot be checked: ` +
      "pffexport writes an Outlook PST's messages so (the header fields as received in InternetHeaders.txt, the text apart in Message.txt), and so does saving a message's header alone. " +
      `${headers} The body is not proven, and nothing here shows it changed; a copy of the whole message can be checked.`,
    evidence: { signature: label(sig), headerSignatureValid: sig.headerSignatureValid },
  };
}

/**
 * Why a body hash cannot be checked: a converter wrote the message anew (rebuilt-by-converter.ts),
 * and whether its signed headers still can be: they verify, or they cover a field the converter
 * rewrote, or they fail over fields it kept, which it does not account for.
 */
function rebuiltFinding(sig: DkimSignatureResult, rebuilt: RebuiltMessage): Finding {
  const rewritten = rewrittenFieldsSigned(rebuilt, sig.tags.signedHeaders);
  const headers =
    sig.headerSignatureValid === true
      ? `The signed headers still verify with ${describeKey(sig)}: the header fields it covers are as ${sig.tags.domain} signed them.`
      : sig.headerSignatureValid === false && rewritten.length
        ? `The signed headers do not verify either, and they cannot: the signature covers ${listed(rewritten)}, which the converter writes anew, so whether any other header it covers changed cannot be told from this file.`
        : sig.headerSignatureValid === false
          ? `The signed headers do not verify either (${describeKey(sig)}), and they cover none of the fields the converter writes anew: a header field it keeps was changed.`
          : '';
  return {
    code: 'message-rebuilt-by-converter',
    severity: 'warning',
    text:
      `This message was written anew by ${rebuilt.converter} (its MIME boundary is ${escapeControls(rebuilt.boundary, 80)}): ` +
      `the converter keeps the stored header fields, and builds the body again from the text and attachments Outlook kept, so the body ${sig.tags.domain} signed is not in this file and its body hash cannot be checked. ` +
      `${headers} Anyone can write such a message; a copy of the message as sent (the sender's, another recipient's, the server's) can be checked.`,
    evidence: {
      signature: label(sig),
      converter: rebuilt.converter,
      boundary: rebuilt.boundary,
      headerSignatureValid: sig.headerSignatureValid,
      rewrittenFieldsSigned: rewritten,
    },
  };
}

/**
 * Why a body hash cannot be checked: Thunderbird rewrote these parts when the mailbox's owner
 * deleted or detached their attachment, and dated its record of it (red team N, N-04).
 */
function removedByClientFinding(sig: DkimSignatureResult, parts: readonly RemovedByClientPart[]): Finding {
  const named = parts.map((p) => {
    const what = [p.filename, p.contentType].filter((x): x is string => x !== null).map((x) => escapeControls(x, 200));
    const when = p.date !== null ? ` on ${escapeControls(p.date, 100)}` : '';
    const where = p.url !== null ? `, saving it to ${escapeControls(p.url, 300)}` : '';
    return `part ${p.partId}${what.length ? ` (${what.join(', ')})` : ''}: attachment ${p.removal}${when}${where}`;
  });
  const headers = sig.headerSignatureValid === true ? `The signed headers verify with ${describeKey(sig)}, but the` : 'The';
  return {
    code: 'attachment-removed-by-client',
    severity: 'warning',
    text:
      `Thunderbird's record in the message (X-Mozilla-Altered) says its user deleted or detached an attachment, and the part is in the form Thunderbird leaves: ${named.join('; ')}. ` +
      `${headers} body hash signed by ${sig.tags.domain} covers the attachment as it was, so it cannot be checked from this file. ` +
      'Anyone can write that record into a message, so it does not show that nothing else in the body changed; a copy of the message from before the removal can be checked.',
    evidence: {
      signature: label(sig),
      headerSignatureValid: sig.headerSignatureValid,
      parts: parts.map((p) => ({ partId: p.partId, removal: p.removal, date: p.date, url: p.url, filename: p.filename, contentType: p.contentType })),
    },
  };
}

/**
 * Why a body hash cannot be checked: Apple Mail took the content of these parts out of the file.
 * The text names the parts and where Mail files their content; the evidence lists them.
 */
function storedApartFinding(sig: DkimSignatureResult, parts: readonly StoredApartPart[]): Finding {
  const named = parts.map((p) => {
    const what = [p.filename, p.contentType, `X-Apple-Content-Length ${p.appleContentLength}`].filter((x): x is string => x !== null).join(', ');
    return `part ${p.partId} (${what})`;
  });
  const places = parts.map((p) => `Attachments/N/${p.partId}/${p.filename ?? '…'} or N.${p.partId}.emlxpart`);
  const headers = sig.headerSignatureValid === true ? `The signed headers verify with ${describeKey(sig)}, but the` : 'The';
  return {
    code: 'body-stored-apart',
    severity: 'warning',
    text:
      `Apple Mail kept the content of ${named.join('; ')} outside this file, as it does in a .partial.emlx: the part is empty here. ` +
      `${headers} body hash signed by ${sig.tags.domain} covers that content, so it cannot be checked from this file. ` +
      `Mail keeps such content beside the message, in the mailbox's ${places.join('; ')} (N being the number in the file's name); leakcheck does not put it back.`,
    evidence: {
      signature: label(sig),
      headerSignatureValid: sig.headerSignatureValid,
      parts: parts.map((p) => ({ partId: p.partId, filename: p.filename, contentType: p.contentType, appleContentLength: p.appleContentLength })),
    },
  };
}

const unique = <T>(values: T[]): T[] => [...new Set(values)];

/**
 * The verdict of a forwarded message, given the findings of the message that carried it. Cut out
 * of a carrier whose MIME structure mail programs read differently (forwarded-message-ambiguous),
 * the bytes verified here may not be what a reader shows as the forwarded message: a message that
 * verifies is then unverifiable, its proof being of bytes a reader may never see; any other
 * verdict stands. The carrier's finding is added to the message's own, so that it explains itself.
 */
export function applyCarrierFindings(own: VerdictDecision, carrierFindings: readonly Finding[]): { verdict: VerdictDecision; findings: Finding[] } {
  const ambiguous = carrierFindings.find((f) => f.code === 'forwarded-message-ambiguous');
  if (!ambiguous) return { verdict: own, findings: [] };
  const finding: Finding = { ...ambiguous, text: `The message that carried this one: ${ambiguous.text}` };
  if (own.verdict !== 'verified') return { verdict: own, findings: [finding] };
  return {
    verdict: {
      ...own,
      verdict: 'unverifiable',
      reasons: ['forwarded-message-ambiguous'],
      explanation: `${REASONS['forwarded-message-ambiguous'].text} ${own.explanation} Unverifiable is not the same as fake.`,
      provenBy: [],
    },
    findings: [finding],
  };
}

/**
 * The final verdict, once the message has been compared with the rest of the dump: a red flag
 * from a cross-dump check makes an otherwise unsuspicious message suspicious. A verified message
 * stays verified: what is signed is proven, and the cross-dump checks flag its unproven twin; its
 * explanation takes in a verified copy whose proof signs what its own leaves out, and differs.
 * The message's own reasons and explanation are kept after the red flag, unverifiable ones too:
 * a signature that verifies with a 512-bit key, told only "pass" beside a red flag, read as a
 * proof (red team 29, K-08).
 */
export function applyDumpFindings(
  own: { verdict: Verdict; reasons: string[]; explanation: string },
  dumpFindings: Finding[],
): { verdict: Verdict; reasons: string[]; explanation: string } {
  if (own.verdict === 'verified') {
    // What the proof leaves out, another copy's proof contradicts: the explanation (what the CSV
    // and the summaries carry) says "the proof does not cover the Subject shown", and must also
    // say that the From domain signed another one.
    const contradicted = dumpFindings.filter((f) => f.code === CONTRADICTED_BY_COPY).map((f) => f.text);
    return contradicted.length ? { ...own, explanation: [own.explanation, ...contradicted].join(' ') } : own;
  }
  const redFlags = dumpFindings.filter((f) => f.severity === 'red-flag');
  if (!redFlags.length) return own;
  const reasons = unique([...redFlags.map((f) => f.code), ...own.reasons]);
  const alone = own.verdict === 'suspicious' ? own.explanation : ownUnverifiable(own.explanation);
  const explanation = [...redFlags.map((f) => f.text), alone].filter(Boolean).join(' ');
  return { verdict: 'suspicious', reasons, explanation };
}

/** The one warning from the dump that a verified message's explanation carries (src/checks/dump/conflicting-copies.ts). */
export const CONTRADICTED_BY_COPY = 'verified-copy-contradicted';

const NOT_FAKE = /\s*Unverifiable is not the same as fake\.$/;

/** An unverifiable message's own explanation, beside a red flag: what it would be alone, without the reassurance that no longer holds. */
const ownUnverifiable = (explanation: string): string => {
  const text = explanation.replace(NOT_FAKE, '').trim();
  return text ? `Taken alone, the message would be unverifiable: ${text}` : '';
};
