import { jsonText } from '../../report/json-text.ts';
import { isFingerprint, type CompromisedEntry } from '../compromised.ts';
import { keyNameParts, normalizeKeyName, type KeySourceKind } from '../types.ts';
import { normalizeArchiveDate, seenInOrder } from './archive-list.ts';
import { describeJsonType, isPlainObject, KeyCollector } from './common.ts';
import { KeyImportError, type ImportedKey, type ParsedKeyFile } from './types.ts';

/**
 * The key store as one file (`leakcheck keys export`), read back whole by `keys import`, and by
 * `verify --keys` for the key names the dump asks for (`key-store-file-index.ts`): every key record with the provenance, origin and dates the exporting store
 * recorded, and every fingerprint it knows as compromised. A JSON map cannot carry either, and a
 * colleague's offline re-run with a map alone took signatures made with a compromised key for
 * proof, and lost the archive dates behind `key-outside-known-lifetime` (red team 10, finding 06).
 *
 *     {"format": "leakcheck-key-store", "version": 1, "_about": "…",
 *      "keys": [{"domain", "selector", "value", "provenance", "origin", "originSha256",
 *                "firstSeenAt", "lastSeenAt", "fetchedAt", "dnsAnswer"}, …],
 *      "compromised": [{"fingerprint", "list", "listSha256"}, …]}
 *
 * `value` is the TXT record, or null for DNS's definite "no such record" (an `absent` record).
 * Told from our JSON map by its "format" member, which is no key name. Any other member, or a
 * version this reader does not know, refuses the file: what an older reader skipped could be a
 * key's compromised status.
 */
export const KEY_STORE_FORMAT = 'leakcheck-key-store';
export const KEY_STORE_VERSION = 1;
const VERSION = KEY_STORE_VERSION;
const ABOUT =
  'leakcheck key store: every key record with its provenance, origin and dates, and every key fingerprint known as compromised. ' +
  'Read it back with "leakcheck keys import FILE" (every record) or "leakcheck verify --keys FILE" (the records of the key names the dump asks for).';

/** One key record of the file. */
export interface KeyStoreFileRecord {
  domain: string;
  selector: string;
  /** the TXT record; null: DNS said there is no such record */
  value: string | null;
  provenance: KeySourceKind;
  origin: string;
  originSha256: string | null;
  firstSeenAt: string | null;
  lastSeenAt: string | null;
  fetchedAt: string | null;
  /** a live lookup's answer, verbatim */
  dnsAnswer: unknown;
}

/** The file `keys export` writes, from the store's records and compromised fingerprints. */
export function keyStoreFile(keys: KeyStoreFileRecord[], compromised: CompromisedEntry[]): Record<string, unknown> {
  return {
    format: KEY_STORE_FORMAT,
    version: VERSION,
    _about: ABOUT,
    keys,
    compromised: compromised.map((c) => ({ fingerprint: c.fingerprint, list: c.listPath, listSha256: c.listSha256 })),
  };
}

export const isKeyStoreFile = (data: Record<string, unknown>): boolean => data['format'] === KEY_STORE_FORMAT;

const TOP = new Set(['format', 'version', 'keys', 'compromised']);
const RECORD = new Set(['domain', 'selector', 'value', 'provenance', 'origin', 'originSha256', 'firstSeenAt', 'lastSeenAt', 'fetchedAt', 'dnsAnswer']);
const COMPROMISED = new Set(['fingerprint', 'list', 'listSha256']);
const PROVENANCES: readonly KeySourceKind[] = ['file', 'archive', 'dns'];
const SHA256 = /^[0-9a-f]{64}$/;

/** Reads the members of one object of the file; every failure names the place. */
function reader(path: string, where: string | null, object: Record<string, unknown>, allowed: Set<string>) {
  const fail = (detail: string): never => {
    throw new KeyImportError(path, where, detail);
  };
  const unknown = Object.keys(object).find((k) => !allowed.has(k) && !(where === null && k.startsWith('_')));
  if (unknown !== undefined) fail(`unknown member ${jsonText(unknown)} (this leakcheck reads version ${VERSION} of the key-store file)`);
  const text = (field: string, nullable: boolean): string | null => {
    const v = object[field];
    if (v === null && nullable) return null;
    if (v === undefined) return fail(`"${field}" is missing`);
    if (typeof v !== 'string') return fail(`"${field}" must be a string${nullable ? ' or null' : ''}, not ${describeJsonType(v)}`);
    if (v === '' && !nullable) return fail(`"${field}" is empty`);
    return v;
  };
  return {
    fail,
    text: (field: string): string => text(field, false) as string,
    nullableText: (field: string): string | null => text(field, true),
    date: (field: string): string | null => {
      const d = normalizeArchiveDate(object[field]);
      return d !== null && typeof d === 'object' ? fail(`"${field}": ${d.error}`) : d;
    },
    list: (field: string): unknown[] => {
      const v = object[field];
      return Array.isArray(v) ? v : fail(`"${field}" must be a list, not ${v === undefined ? 'missing' : describeJsonType(v)}`);
    },
  };
}

/**
 * Refuses the file's own members as `parseKeyStoreFile` does: one this reader does not know, or
 * another version.
 */
export function checkKeyStoreTop(data: Record<string, unknown>, path: string): void {
  const top = reader(path, null, data, TOP);
  if (data['version'] !== VERSION) {
    top.fail(`version ${jsonText(data['version'] ?? null)} of the key-store file: this leakcheck reads version ${VERSION} (a newer leakcheck wrote it?)`);
  }
}

/** A top-level member a key-store file may have: the format's own, or a note ("_about"). */
export const isKeyStoreMember = (name: string): boolean => TOP.has(name) || name.startsWith('_');

export function parseKeyStoreFile(data: Record<string, unknown>, path: string): ParsedKeyFile {
  checkKeyStoreTop(data, path);
  const top = reader(path, null, data, TOP);
  const out = new KeyCollector();
  top.list('keys').forEach((entry, index) => out.add(keyStoreRecord(entry, index, path)));
  const compromised = top.list('compromised').map((entry, index) => compromisedEntry(entry, index, path));
  return { format: 'key-store', keys: out.keys, ignored: out.ignored, compromised };
}

/** The `index`th (0-based) record of the "keys" list, checked; throws KeyImportError naming it. */
export function keyStoreRecord(entry: unknown, index: number, path: string): ImportedKey {
  const where = `keys entry ${index + 1}`;
  if (!isPlainObject(entry)) throw new KeyImportError(path, where, `expected an object {domain, selector, value, provenance, …}, not ${describeJsonType(entry)}`);
  const r = reader(path, where, entry, RECORD);
  const domain = r.text('domain');
  const selector = r.text('selector');
  const name = normalizeKeyName(`${selector}._domainkey.${domain}`);
  // as lenient as the store: whatever name a signature asked for may be on record
  const parts = keyNameParts(name);
  if (parts === null || parts.selector !== selector.toLowerCase()) r.fail(`${jsonText(name)} is not a DKIM key name`);
  const provenance = r.text('provenance') as KeySourceKind;
  if (!PROVENANCES.includes(provenance)) r.fail(`"provenance" must be one of ${PROVENANCES.join(', ')}, not ${jsonText(provenance)}`);
  const value = r.nullableText('value');
  if (value === null && provenance !== 'dns') r.fail('"value" is null (no such record), which only DNS can say: "provenance" must be dns');
  const originSha256 = r.nullableText('originSha256');
  if (originSha256 !== null && !SHA256.test(originSha256)) r.fail('"originSha256" must be 64 lower-case hex digits or null');
  const dnsAnswer = entry['dnsAnswer'];
  const [firstSeen, lastSeen] = [r.date('firstSeenAt'), r.date('lastSeenAt')];
  const order = seenInOrder(firstSeen, lastSeen);
  if (order) r.fail(order);
  return {
    name,
    domain: parts!.domain,
    selector: parts!.selector,
    txt: value ?? '',
    provenance,
    origin: r.text('origin'),
    originSha256,
    firstSeen,
    lastSeen,
    fetchedAt: r.date('fetchedAt'),
    ...(dnsAnswer === undefined || dnsAnswer === null ? {} : { dnsAnswer }),
    ...(value === null ? { absent: true } : {}),
    where,
  };
}

/** The `index`th (0-based) entry of the "compromised" list, checked; throws KeyImportError naming it. */
export function compromisedEntry(entry: unknown, index: number, path: string): CompromisedEntry {
  const where = `compromised entry ${index + 1}`;
  if (!isPlainObject(entry)) throw new KeyImportError(path, where, `expected an object {fingerprint, list, listSha256}, not ${describeJsonType(entry)}`);
  const r = reader(path, where, entry, COMPROMISED);
  const fingerprint = r.text('fingerprint');
  if (!isFingerprint(fingerprint)) r.fail('"fingerprint" must be a sha256 (64 hex) or md5 (32 hex) key fingerprint, in lower case');
  const listSha256 = r.text('listSha256');
  if (!SHA256.test(listSha256)) r.fail('"listSha256" must be 64 lower-case hex digits');
  return { fingerprint, listPath: r.text('list'), listSha256 };
}
