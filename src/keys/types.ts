/**
 * Where a key record came from. Recorded with every signature result, so that a reader can
 * tell a key fetched today from one imported from an archive or a colleague's file.
 */
export type KeySourceKind = 'file' | 'dns' | 'archive';

export interface KeyRecord {
  /** the TXT record, its strings joined */
  txt: string;
  source: KeySourceKind;
  /** where exactly: the keys file path, the resolver, or the archive's name */
  origin: string;
  /** when the record was obtained (ISO 8601), when known */
  fetchedAt?: string | null;
  /** the record's known lifetime, when an archive says so (ISO 8601) */
  firstSeen?: string | null;
  lastSeen?: string | null;
  /** set when the key's private half is known to be public: where it is listed */
  compromised?: string | null;
  /**
   * Every record of the store that holds this same key (by fingerprint) with first/last-seen
   * dates, this one included, each with its own origin: the key's known lifetime, which other
   * records of the key (another archive, or one with other tags) may know better than this one.
   */
  seenWithDates?: KeySighting[];
}

/** A source that saw a key in use over a span of time. */
export interface KeySighting {
  source: KeySourceKind;
  origin: string;
  firstSeen: string | null;
  lastSeen: string | null;
}

/**
 * The answer to "what is the key at <selector>._domainkey.<domain>?". `absent` is a definite
 * "there is no such record" (NXDOMAIN, no TXT, not in the offline files); `error` is a failed
 * lookup that might succeed later.
 */
export type KeyAnswer =
  | { status: 'found'; name: string; records: KeyRecord[] }
  | { status: 'absent'; name: string; detail: string }
  | { status: 'error'; name: string; code: string; detail: string };

/** The one thing per-message analysis needs from the outside world. */
export type KeyLookup = (name: string) => Promise<KeyAnswer>;

/** DNS names are case-insensitive and may be written dot-terminated. */
export const normalizeKeyName = (name: string): string => name.trim().toLowerCase().replace(/\.$/, '');

/**
 * The selector and domain of a key name as the key store keeps it (split at the first
 * "._domainkey."), or null when it has none. Lenient: names come from the dump's signatures,
 * and whatever a signature asked for may be on record.
 */
export function keyNameParts(name: string): { domain: string; selector: string } | null {
  const at = name.indexOf('._domainkey.');
  if (at <= 0) return null;
  return { selector: name.slice(0, at), domain: name.slice(at + '._domainkey.'.length) };
}
