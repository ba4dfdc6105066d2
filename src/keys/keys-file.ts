import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jsonText } from '../report/json-text.ts';
import { parseJsonBytes } from './import/json-text.ts';
import { KeyImportError } from './import/types.ts';
import { indexKeysMap, isStorableKeyName, readIndexedValue, type KeysMapIndex } from './keys-file-index.ts';
import { isKeyStoreFile, parseKeyStoreFile } from './import/key-store-file.ts';
import type { ImportedKey, ParsedKeyFile } from './import/types.ts';
import type { CompromisedEntry } from './compromised.ts';
import { readIndexedRecords, scanKeyStoreFile } from './key-store-file-index.ts';
import { normalizeKeyName, type KeyRecord } from './types.ts';

/** A `--keys FILE` as loaded: its records, and its hash for the chain-of-custody record. */
export interface KeysFile {
  path: string;
  sha256: string;
  /**
   * Its records by normalized name. A JSON map's are read from the file when a name is asked for
   * (`IndexedRecords`); only the index of where each name's values are is held.
   */
  records: ReadonlyMap<string, KeyRecord[]>;
  /**
   * A key-store file (`keys export`): its records keep their own provenance, origin and dates,
   * and its compromised fingerprints go into the key store.
   */
  keyStore?: KeyStoreRecords;
}

/** A key-store file's records by name (as the whole reading names them), and its compromised fingerprints. */
export interface KeyStoreRecords {
  compromised: CompromisedEntry[];
  /** its records of `name`, absent ones included, in file order */
  recordsOf(name: string): ImportedKey[];
}

export class KeysFileError extends Error {
  override name = 'KeysFileError';
}

/**
 * Reads our JSON map `{"<selector>._domainkey.<domain>": ["v=DKIM1; k=rsa; p=..."]}`, or the
 * key-store file `keys export` writes (told by its "format" member). Neither is held: each is
 * indexed in one pass, and a name's records are read from the file when they are asked for.
 * A value may also be one string; a TXT record split into several strings is expected already
 * joined, which is how the corpus and `leakcheck keys export` write it.
 */
export function loadKeysFile(path: string): KeysFile {
  // A JSON map or a key-store file is indexed in one pass; anything else, or anything the passes
  // cannot vouch for, is read whole below, by the code that words every refusal.
  const index = indexKeysMap(path);
  if (index) return { path, sha256: index.sha256, records: new IndexedRecords(index.names, (name) => mapRecords(path, index, name)) };
  const scan = scanKeyStoreFile(path, { index: true });
  if (scan?.index) {
    const keyStore: KeyStoreRecords = { compromised: scan.compromised, recordsOf: (name) => readIndexedRecords(path, scan.index!, name) };
    return { path, sha256: scan.sha256, records: new IndexedRecords(scan.index.names, (name) => keyRecords(keyStore.recordsOf(name))), keyStore };
  }
  return loadWholeKeysFile(path);
}

/** The file parsed whole: a key-store file, or a file to refuse (the index stops at the first doubt). */
function loadWholeKeysFile(path: string): KeysFile {
  const bytes = readFileSync(path);
  let data: unknown;
  try {
    // The reader keys import uses: a byte-order mark is skipped, invalid UTF-8 and repeated names
    // refused, errors say the line, so that one file never means two things (red team 11, 08).
    data = parseJsonBytes(bytes, path);
  } catch (err) {
    if (err instanceof KeyImportError) throw new KeysFileError(err.message);
    throw err;
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new KeysFileError(`${path}: expected a JSON object mapping "<selector>._domainkey.<domain>" to TXT records`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (isKeyStoreFile(data as Record<string, unknown>)) return keyStoreKeysFile(path, sha256, parseKeyStoreFile(data as Record<string, unknown>, path));
  const records = new Map<string, KeyRecord[]>();
  for (const [rawName, value] of Object.entries(data)) {
    const values = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) {
      throw new KeysFileError(`${path}: entry ${jsonText(rawName)} must be a string or a list of strings`);
    }
    // (refused here, before the run: the key store would refuse the name in the middle of it)
    if (!isStorableKeyName(rawName)) throw new KeysFileError(`${path}: entry ${jsonText(rawName)} is not a DKIM key name (<selector>._domainkey.<domain>)`);
    const name = normalizeKeyName(rawName);
    const list = records.get(name) ?? [];
    for (const txt of values as string[]) list.push({ txt, source: 'file', origin: path });
    records.set(name, list);
  }
  return { path, sha256, records };
}

/**
 * A key-store file the pass could not vouch for but the whole reading took (none is known): its
 * records by name, held, and read as the index's are.
 */
function keyStoreKeysFile(path: string, sha256: string, parsed: ParsedKeyFile): KeysFile {
  const byName = new Map<string, ImportedKey[]>();
  for (const key of parsed.keys) {
    const list = byName.get(key.name) ?? [];
    list.push(key);
    byName.set(key.name, list);
  }
  const keyStore: KeyStoreRecords = { compromised: parsed.compromised ?? [], recordsOf: (name) => byName.get(name) ?? [] };
  return { path, sha256, records: new IndexedRecords(byName, (name) => keyRecords(keyStore.recordsOf(name))), keyStore };
}

/** A map's records of a name, read from the file. */
const mapRecords = (path: string, index: KeysMapIndex, name: string): KeyRecord[] =>
  index.valuesOf(name).flatMap((at) => readIndexedValue(path, index, at).map((txt): KeyRecord => ({ txt, source: 'file', origin: path })));

/** A key-store file's records as a lookup answers with them: its "no such record" answers are no records. */
function keyRecords(keys: ImportedKey[]): KeyRecord[] | undefined {
  const records = keys.flatMap((key): KeyRecord[] =>
    key.absent ? [] : [{ txt: key.txt, source: key.provenance, origin: key.origin, fetchedAt: key.fetchedAt ?? null, firstSeen: key.firstSeen, lastSeen: key.lastSeen }]);
  return records.length ? records : undefined;
}

/**
 * A file's records, read from it name by name as they are asked for: the index holds where each
 * name's records are (a few numbers a name), and every read is checked against the sha256 of the
 * bytes indexed.
 */
class IndexedRecords implements ReadonlyMap<string, KeyRecord[]> {
  private readonly names: ReadonlyMap<string, unknown>;
  /** undefined: the name has no record a lookup answers with (a key-store file's "no such record") */
  private readonly read: (name: string) => KeyRecord[] | undefined;

  constructor(names: ReadonlyMap<string, unknown>, read: (name: string) => KeyRecord[] | undefined) {
    this.names = names;
    this.read = read;
  }

  get size(): number {
    return this.names.size;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  get(name: string): KeyRecord[] | undefined {
    return this.names.has(name) ? this.read(name) : undefined;
  }

  keys(): MapIterator<string> {
    return this.names.keys();
  }

  *entries(): MapIterator<[string, KeyRecord[]]> {
    for (const name of this.names.keys()) {
      const records = this.get(name);
      if (records) yield [name, records];
    }
  }

  *values(): MapIterator<KeyRecord[]> {
    for (const [, records] of this.entries()) yield records;
  }

  [Symbol.iterator](): MapIterator<[string, KeyRecord[]]> {
    return this.entries();
  }

  forEach(callback: (value: KeyRecord[], key: string, map: ReadonlyMap<string, KeyRecord[]>) => void): void {
    for (const [name, records] of this.entries()) callback(records, name, this);
  }
}

/**
 * The file's records the key store keeps under `storeName`. The store normalizes a name once more
 * as it adds it, so a file's name that ends in a second dot (or a space before its dot) is kept
 * under another name than the file's records are: rare, so only those are listed apart.
 */
export function recordsStoredAs(file: KeysFile, storeName: string): KeyRecord[] {
  return namesStoredAs(file, storeName).flatMap((name) => file.records.get(name) ?? []);
}

/** The file's names whose records the key store keeps under `storeName`. */
export function namesStoredAs(file: KeysFile, storeName: string): string[] {
  const own = normalizeKeyName(storeName) === storeName && file.records.has(storeName) ? [storeName] : [];
  return [...own, ...(renamedInStore(file).get(storeName) ?? [])];
}

const renamed = new WeakMap<KeysFile, Map<string, string[]>>();

function renamedInStore(file: KeysFile): Map<string, string[]> {
  let names = renamed.get(file);
  if (!names) {
    names = new Map();
    for (const name of file.records.keys()) {
      const stored = normalizeKeyName(name);
      if (stored !== name) names.set(stored, [...(names.get(stored) ?? []), name]);
    }
    renamed.set(file, names);
  }
  return names;
}

/** Answers from the files only: a name they do not list is simply not known here. */
export function keysFileLookup(files: KeysFile[]): (name: string) => KeyRecord[] {
  return (name) => files.flatMap((f) => f.records.get(normalizeKeyName(name)) ?? []);
}
