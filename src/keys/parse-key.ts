import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { boundedMemo } from '../bounded-memo.ts';

/** What a DKIM key record (RFC 6376 section 3.6.1) says, measured independently of the verifier. */
export interface ParsedKey {
  /** `p=` present but empty: the domain revoked the key */
  revoked: boolean;
  keyType: 'rsa' | 'ed25519' | null;
  bits: number | null;
  /** sha256 of the DER SubjectPublicKeyInfo, hex: the key's identity across formats */
  fingerprint: string | null;
  /** md5 of the same DER, hex: some operators index published private keys by it */
  fingerprintMd5: string | null;
  /** why the key could not be read, when it could not */
  error: string | null;
  publicKey: KeyObject | null;
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function parseTags(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    if (name && !tags.has(name)) tags.set(name, part.slice(eq + 1).trim());
  }
  return tags;
}

/**
 * The flags of a key record's t= (RFC 6376 section 3.6.1), lower case: `y` (the domain is testing
 * DKIM), `s` (i= must be in d= itself), and any a future RFC adds.
 */
export const keyFlags = (record: string): string[] =>
  (parseTags(record).get('t') ?? '').split(':').map((flag) => flag.trim().toLowerCase()).filter(Boolean);

/**
 * Tag names (lower case) that a tag list gives more than once. RFC 6376 section 3.2 makes such a
 * list invalid as a whole. Compared without case because mailauth's lenient mode folds tag names
 * to lower case and keeps the last of them: `p=…; P=…` is a repeated p= to the verifier.
 */
export function repeatedTagNames(record: string): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const part of record.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    if (!name) continue;
    if (seen.has(name)) repeated.add(name);
    seen.add(name);
  }
  return [...repeated];
}

// The same few keys sign thousands of messages: parsing (DER import, export, two hashes) is done
// once per distinct record. Bounded, so that a hostile dump of unique records cannot grow it.
const parsedKeys = boundedMemo(10_000, (txt: string) => parseKeyRecordUncached(txt));

export function parseKeyRecord(txt: string): ParsedKey {
  return parsedKeys(txt);
}

function parseKeyRecordUncached(txt: string): ParsedKey {
  const tags = parseTags(txt);
  const empty = { revoked: false, keyType: null, bits: null, fingerprint: null, fingerprintMd5: null, publicKey: null };
  // Checked before anything is read: we would measure the first p= and mailauth verifies with the
  // last, so a record with two keys in it could be described as the one and prove with the other.
  const repeated = repeatedTagNames(txt);
  if (repeated.length) {
    const names = repeated.map((name) => `${name}=`).join(', ');
    return { ...empty, error: `${names} ${repeated.length > 1 ? 'appear' : 'appears'} more than once, which makes the record invalid (RFC 6376 section 3.2)` };
  }
  if (!tags.has('p')) return { ...empty, error: 'no p= tag' };
  const p = (tags.get('p') ?? '').replace(/\s+/g, '');
  if (p === '') return { ...empty, revoked: true, error: 'key revoked (empty p=)' };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(p)) return { ...empty, error: 'p= is not base64' };
  const raw = Buffer.from(p, 'base64');
  // k= defaults to rsa (RFC 6376 section 3.6.1), but mailauth's lenient mode verifies with a
  // record that leaves k= out (or empty) whatever type its key is, as it verifies the signature:
  // the key is then measured for what it is. A k= that is given must match the key.
  const declared = (tags.get('k') ?? '').trim().toLowerCase();
  const attempts: Array<() => KeyObject> =
    raw.length === 32
      ? [() => createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' })]
      : [
          () => createPublicKey({ key: raw, format: 'der', type: 'spki' }),
          () => createPublicKey({ key: raw, format: 'der', type: 'pkcs1' }),
        ];
  for (const attempt of attempts) {
    let key: KeyObject;
    try {
      key = attempt();
    } catch {
      continue;
    }
    const type = key.asymmetricKeyType;
    if (type !== 'rsa' && type !== 'ed25519') return { ...empty, error: `unsupported key type ${type ?? 'unknown'}` };
    if (declared && declared !== type) return { ...empty, error: `k=${declared} but the key is ${type}` };
    const der = key.export({ format: 'der', type: 'spki' });
    return {
      revoked: false,
      keyType: type,
      bits: type === 'rsa' ? (key.asymmetricKeyDetails?.modulusLength ?? null) : 256,
      fingerprint: createHash('sha256').update(der).digest('hex'),
      fingerprintMd5: createHash('md5').update(der).digest('hex'),
      error: null,
      publicKey: key,
    };
  }
  return { ...empty, error: 'p= does not hold a public key' };
}

/**
 * Keys that cannot be forged: RSA of at least 1024 bits (RFC 8301 section 3.2) or Ed25519.
 * Anything weaker proves nothing, because a 512-bit RSA key is factored for a few dollars.
 */
export const MIN_RSA_BITS = 1024;
export const isStrongKey = (key: ParsedKey): boolean =>
  key.keyType === 'ed25519' || (key.keyType === 'rsa' && (key.bits ?? 0) >= MIN_RSA_BITS);
