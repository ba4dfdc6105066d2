import { keyFlags } from '../keys/parse-key.ts';
import type { DkimSignatureResult } from '../verify/dkim.ts';
import { signatureLabel } from './signed-headers.ts';
import type { Finding } from './types.ts';

/**
 * What mailauth's lenient mode accepted in a signature or its key record that a strict reading of
 * RFC 6376 rejects, in plain words. mailauth names each such acceptance in the result's warnings;
 * leakcheck verifies leniently, as deployed verifiers do, so that old and sloppy but genuine
 * signers still verify, and says so. `tag-syntax` is absent: a signature that needs it is never
 * proof (`malformed`, src/verify/dkim.ts); so is `rsa-sha1`, which has its own finding.
 */
const LENIENT_READINGS: Record<string, string> = {
  'invalid-v': 'its v= is not 1, which RFC 6376 makes a permanent failure',
  'query-method': 'its q= names no dns/txt query method',
  'identity-domain': 'its i= is not an address in the d= domain or one of its subdomains',
  'invalid-expiration': 'its x= is the same second as its t=, where RFC 6376 requires a later one',
  'key-syntax': 'its key record breaks the tag-list syntax of RFC 6376',
  'key-v-syntax': "its key record's v= is not exactly DKIM1 in first place",
  'signature-length': "its b= is not written at the key's length (a leading zero byte left out or added), which a strict reading of RFC 8017 rejects; it was checked as the number it encodes",
  'signature-base64url': 'its b= is written in the URL-safe base64 alphabet (- and _), which RFC 6376 does not allow',
  'key-tag-case': 'its key record writes tag names in upper case, where RFC 6376 section 3.2 makes them case-sensitive (P= is not p=)',
  'key-k-empty': "its key record's k= is empty, which names no key type",
  'key-ed25519-spki': 'its key record publishes the Ed25519 key as a DER SubjectPublicKeyInfo, where RFC 8463 publishes the bare 32 bytes',
  'signature-value-case': 'it writes a=, c= or q= with capitals, where RFC 6376 section 3.2 makes those values case-sensitive',
  'body-length-beyond-body': "its l= counts more bytes than the canonicalized body has, which RFC 6376 section 3.5 forbids; the whole body was hashed, so no byte of it is unsigned",
  'key-type-inferred': 'its key record declares no k= for a key that is not RSA (k= defaults to rsa)',
};
const NOT_REPORTED_HERE = new Set(['tag-syntax', 'rsa-sha1']);

/**
 * mailauth names two different rules `identity-domain`: an i= outside d= and its subdomains
 * (RFC 6376 section 6.1.1), and an i= in a subdomain of d= under a key flagged t=s (section
 * 3.6.1), which allows d= itself only. Which one was broken is read from the i= domain and the
 * t= flags of the key record the signature verified with, so the finding names the rule that
 * was actually broken.
 */
function identityDomainReading(sig: DkimSignatureResult): string {
  const d = (sig.tags.domain ?? '').toLowerCase().replace(/\.$/, '');
  const identity = sig.tags.identity ?? '';
  const at = identity.lastIndexOf('@');
  const iDomain = at >= 0 ? identity.slice(at + 1).trim().toLowerCase().replace(/\.$/, '') : '';
  const flags = keyFlags(sig.key?.txt ?? '');
  if (d && iDomain.endsWith(`.${d}`) && flags.includes('s')) {
    return `its i= is in ${iDomain}, a subdomain of d=, where its key record's flag t=s allows only the d= domain itself`;
  }
  return LENIENT_READINGS['identity-domain']!;
}

export function describeLenientReading(warning: string, sig?: DkimSignatureResult): string {
  if (warning === 'identity-domain' && sig) return identityDomainReading(sig);
  const missing = /^missing-([a-z]+)$/.exec(warning);
  if (missing) return `it has no ${missing[1]}= tag, which RFC 6376 requires`;
  return LENIENT_READINGS[warning] ?? `mailauth noted "${warning}"`;
}

/**
 * A verifying signature whose proof rests on a lenient reading. A warning, not a red flag: the
 * signature is still the key holder's, over the bytes it covers, and nobody else could have
 * made it; but a strict verifier would report it as failed, and the examiner should know before
 * quoting the verification.
 */
export function auditLenientAcceptance(signatures: DkimSignatureResult[]): Finding[] {
  return signatures.flatMap((sig) => {
    const readings = sig.outcome === 'pass' ? sig.warnings.filter((w) => !NOT_REPORTED_HERE.has(w)) : [];
    if (!readings.length) return [];
    return [
      {
        code: 'signature-read-leniently',
        severity: 'warning' as const,
        text: `The signature by ${sig.tags.domain} verifies only under a lenient reading, as many deployed verifiers allow; a strict reading of RFC 6376 rejects it: ${readings.map((w) => describeLenientReading(w, sig)).join('; ')}.`,
        evidence: { signature: signatureLabel(sig), lenientReadings: readings },
      },
    ];
  });
}
