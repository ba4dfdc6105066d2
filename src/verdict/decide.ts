import { capitalised, speaksForAuthor } from '../checks/check-support.ts';
import { signatureLabel as label } from '../checks/signed-headers.ts';
import type { Finding } from '../checks/types.ts';
import { rewrittenFieldsSigned } from '../read/rebuilt-by-converter.ts';
import type { DkimSignatureResult, SignatureOutcome } from '../verify/dkim.ts';
import type { ReasonCode, Verdict } from './reasons.ts';
import { describeRepair } from './repairs.ts';
import type { VerdictDecision, VerdictInput } from './types.ts';
import { describeKey, describeProof, proofLeavesOut, signedBy, keyState, describeUnverifiable, notSignerFinding, describeFailure } from './describe-signature.ts';
import { bodyNotInFile } from './body-not-in-file.ts';
import { NO_SEALERS, explainFailure, unfitArcKeysFinding, reasonSentence, arcFailureFinding, failureUnderneathFinding } from './arc-explanations.ts';

/**
 * The one place where findings become a verdict. Every rule is named by the reason code it
 * emits, and docs/verdicts.md describes the same rules in prose. What ARC says about a failure
 * is weighed in arc-explanations.ts, a body hash that cannot be checked from the file in
 * body-not-in-file.ts, and the words for signatures and keys are in describe-signature.ts; the
 * findings that arrive after the message's own analysis (its carrier's, the dump's) are applied
 * by findings-from-outside.ts.
 */

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
    return decision('suspicious', unique(suspicious), [...toldOnce(failureNotes), ...redFlags, ...toldOnce(notes)].join(' ') + heldNote, proving.map((s) => s.index), added);
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
    return decision('unverifiable', reasons, [...toldOnce(notes), ...reasons.map((r) => reasonSentence(r, arc, userTrusted))].join(' ') + heldNote, [], added);
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
  const text = [...toldOnce(explained), ...toldOnce(notes), ...reasons.map((r) => reasonSentence(r, arc, userTrusted))].join(' ');
  return decision('unverifiable', reasons, `${text}${heldNote} Unverifiable is not the same as fake.`, [], added);
}

/**
 * Notes about signatures, each told once: a message can carry up to MAX_SIGNATURES_CHECKED
 * signatures (dkim.ts) that fail alike, and the explanation (what the CSV and the reports carry)
 * then read as the same sentence fifty times, 10 KB of it. The findings still name every
 * signature; the explanation says how many a sentence is true of.
 */
function toldOnce(notes: readonly string[]): string[] {
  const times = new Map<string, number>();
  for (const note of notes) times.set(note, (times.get(note) ?? 0) + 1);
  return [...times].map(([note, n]) => (n === 1 ? note : `${note} The same holds for ${n - 1} more signature${n === 2 ? '' : 's'} on this message.`));
}

function decision(verdict: Verdict, reasons: string[], explanation: string, provenBy: number[], findings: Finding[]): VerdictDecision {
  return { verdict, reasons, explanation: explanation.trim(), provenBy, findings };
}

function keyReason(sig: DkimSignatureResult): ReasonCode {
  if (sig.keyLookup === 'error') return 'dns-error';
  if (sig.key?.revoked) return 'key-revoked';
  if (sig.key) return 'key-invalid';
  return 'key-not-found';
}

const unique = <T>(values: T[]): T[] => [...new Set(values)];
