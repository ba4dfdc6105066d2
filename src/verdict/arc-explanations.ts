import { capitalised, escapeControls } from '../checks/check-support.ts';
import { signatureLabel as label } from '../checks/signed-headers.ts';
import type { Finding } from '../checks/types.ts';
import { shownKeyOrigin } from '../keys/key-file-name.ts';
import { isTrustedSealer, WELL_KNOWN_ARC_SEALERS } from '../verify/arc-sealers.ts';
import type { ArcInstance, ArcVerification } from '../verify/arc.ts';
import { dkimResultsIn, type SealerSawDkim } from '../verify/auth-results.ts';
import type { DkimSignatureResult, KeyUsed } from '../verify/dkim.ts';
import { REASONS, type ReasonCode } from './reasons.ts';
import type { VerdictInput } from './types.ts';
import { describeKeyUsed, keyKind, keySource, listed } from './describe-signature.ts';

/**
 * What an ARC chain says, and when it is believed: a failed DKIM signature explained by a
 * trusted sealer's record (or by the From domain re-signing), keys that make a chain prove
 * nothing, a chain that no longer validates, a body changed beneath a sealer nobody vouches for,
 * and the words for "only ARC validates". docs/verdicts.md, "Why ARC alone is not verified",
 * gives the same rules in prose.
 */

export const NO_SEALERS: ReadonlySet<string> = new Set();

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
export function explainFailure(
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
export function unfitArcKeysFinding(arc: ArcVerification): Finding | null {
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
export function reasonSentence(reason: string, arc: ArcVerification, userTrusted: ReadonlySet<string>): string {
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
export function arcFailureFinding(arc: ArcVerification, proving: DkimSignatureResult[], input: VerdictInput): Finding | null {
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
export function failureUnderneathFinding(arc: ArcVerification, proving: DkimSignatureResult[], input: VerdictInput): Finding | null {
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

/** An ARC key as texts name it: its record's name, then as describeKey has a DKIM key. */
export const describeArcKey = (key: KeyUsed): string => `the record of ${escapeControls(key.name, 400)} (${describeKeyUsed(key)})`;

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
