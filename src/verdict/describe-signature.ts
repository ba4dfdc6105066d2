import { capitalised, escapeControls } from '../checks/check-support.ts';
import { signatureLabel as label } from '../checks/signed-headers.ts';
import type { Finding } from '../checks/types.ts';
import { shownKeyOrigin } from '../keys/key-file-name.ts';
import { parseTags } from '../keys/parse-key.ts';
import type { DkimSignatureResult, KeyUsed } from '../verify/dkim.ts';
import { readDomain, readSigningDomain, showDomain, showSigningDomain } from '../verify/domain-names.ts';

/**
 * Signatures and keys in words, as every explanation names them: which signature (domain,
 * selector), which key (type, size, fingerprint, and where its record came from), and why one
 * could not be checked. Text from the message is escaped before it reaches a reader.
 */

export function describeKey(sig: DkimSignatureResult): string {
  return sig.key ? describeKeyUsed(sig.key) : 'no key';
}

export function describeKeyUsed(key: KeyUsed): string {
  // a key file by its name, as the manifest names it: the folders it was given with made the same
  // keys explain the same verdicts differently on two machines, and told a published report's
  // readers the analyst's folders (red team 27, C-05)
  return `${keyKind(key)} key sha256:${key.fingerprint?.slice(0, 16) ?? '?'}… from ${keySource(key)}`;
}

export const keyKind = (key: KeyUsed): string => (key.keyType === 'ed25519' ? 'Ed25519' : key.keyType === 'rsa' ? `RSA ${key.bits ?? '?'}-bit` : 'unreadable');

export function describeProof(sig: DkimSignatureResult, fromDomain: string | null): string {
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
export function proofLeavesOut(findings: readonly Finding[]): string {
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

export const listed = (items: readonly string[]): string => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

/** A signature as texts name it: its domain and selector, as the message wrote them. */
export const signedBy = (sig: DkimSignatureResult): string =>
  `the signature by ${sig.tags.domain ? escapeControls(sig.tags.domain, 255) : 'an unnamed domain'} (selector ${sig.tags.selector ? escapeControls(sig.tags.selector, 100) : 'none'})`;

/** Where a key record came from, a key file by its file name (see describeKey), for DKIM's keys and ARC's alike. */
export const keySource = (key: { source: string; origin: string }): string => `${key.source} ${shownKeyOrigin(key.source, key.origin)}`;

/** Why a signature has no key to be checked with. */
export function keyState(sig: DkimSignatureResult): string {
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
export function describeUnverifiable(sig: DkimSignatureResult, signatures: readonly DkimSignatureResult[]): string {
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
export function notSignerFinding(sig: DkimSignatureResult): Finding {
  return {
    code: 'key-not-signer',
    severity: 'warning',
    text:
      `The key on record for selector ${sig.tags.selector} of ${sig.tags.domain} (${describeKey(sig)}) did not make this signature, so its failure (${sig.outcome}) says nothing about the body or the headers. ` +
      'The selector may have been given a new key since the message was signed, or the signature was made by someone else (forged) or corrupted: nothing is proven either way. The key that made it, from a key archive, may tell.',
    evidence: { signature: label(sig), outcome: sig.outcome, keyFingerprint: sig.key?.fingerprint ?? null },
  };
}

export function describeFailure(sig: DkimSignatureResult): string {
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
