import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jsonText } from '../report/json-text.ts';
import { parseJsonBytes } from './import/json-text.ts';
import { KeyImportError } from './import/types.ts';
import { isKeyStoreFile, parseKeyStoreFile } from './import/key-store-file.ts';
import type { ParsedKeyFile } from './import/types.ts';
import { normalizeKeyName, type KeyRecord } from './types.ts';

/** A `--keys FILE` as loaded: its records, and its hash for the chain-of-custody record. */
export interface KeysFile {
  path: string;
  sha256: string;
  records: Map<string, KeyRecord[]>;
  /**
   * A key-store file (`keys export`), as parsed: its records keep their own provenance, origin
   * and dates, and its compromised fingerprints go into the key store with them.
   */
  parsed?: ParsedKeyFile;
}

export class KeysFileError extends Error {
  override name = 'KeysFileError';
}

/**
 * Reads our JSON map `{"<selector>._domainkey.<domain>": ["v=DKIM1; k=rsa; p=..."]}`, or the
 * key-store file `keys export` writes (told by its "format" member).
 * A value may also be one string; a TXT record split into several strings is expected already
 * joined, which is how the corpus and `leakcheck keys export` write it.
 */
export function loadKeysFile(path: string): KeysFile {
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
    const name = normalizeKeyName(rawName);
    const list = records.get(name) ?? [];
    for (const txt of values as string[]) list.push({ txt, source: 'file', origin: path });
    records.set(name, list);
  }
  return { path, sha256, records };
}

/** A key-store file (`keys export`) given to --keys: read whole, as `keys import` reads it. */
function keyStoreKeysFile(path: string, sha256: string, parsed: ParsedKeyFile): KeysFile {
  const records = new Map<string, KeyRecord[]>();
  for (const key of parsed.keys) {
    if (key.absent) continue;
    const list = records.get(key.name) ?? [];
    list.push({ txt: key.txt, source: key.provenance, origin: key.origin, fetchedAt: key.fetchedAt ?? null, firstSeen: key.firstSeen, lastSeen: key.lastSeen });
    records.set(key.name, list);
  }
  return { path, sha256, records, parsed };
}

/** Answers from the files only: a name they do not list is simply not known here. */
export function keysFileLookup(files: KeysFile[]): (name: string) => KeyRecord[] {
  return (name) => files.flatMap((f) => f.records.get(normalizeKeyName(name)) ?? []);
}
