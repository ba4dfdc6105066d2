import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { repeatedMemberName, repeatedNameRefusal } from './import/json-text.ts';
import { normalizeKeyName, type KeyRecord } from './types.ts';

/** A `--keys FILE` as loaded: its records, and its hash for the chain-of-custody record. */
export interface KeysFile {
  path: string;
  sha256: string;
  records: Map<string, KeyRecord[]>;
}

export class KeysFileError extends Error {
  override name = 'KeysFileError';
}

/**
 * Reads our JSON map `{"<selector>._domainkey.<domain>": ["v=DKIM1; k=rsa; p=..."]}`.
 * A value may also be one string; a TXT record split into several strings is expected already
 * joined, which is how the corpus and `leakcheck keys export` write it.
 */
export function loadKeysFile(path: string): KeysFile {
  const bytes = readFileSync(path);
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new KeysFileError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const repeated = repeatedMemberName(bytes.toString('utf8'));
  if (repeated) {
    // JSON.parse keeps the last of the two (red team 10, finding 07; see parseJsonBytes)
    throw new KeysFileError(`${path}: ${repeatedNameRefusal(repeated.name)}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new KeysFileError(`${path}: expected a JSON object mapping "<selector>._domainkey.<domain>" to TXT records`);
  }
  const records = new Map<string, KeyRecord[]>();
  for (const [rawName, value] of Object.entries(data)) {
    const values = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) {
      throw new KeysFileError(`${path}: entry "${rawName}" must be a string or a list of strings`);
    }
    const name = normalizeKeyName(rawName);
    const list = records.get(name) ?? [];
    for (const txt of values as string[]) list.push({ txt, source: 'file', origin: path });
    records.set(name, list);
  }
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), records };
}

/** Answers from the files only: a name they do not list is simply not known here. */
export function keysFileLookup(files: KeysFile[]): (name: string) => KeyRecord[] {
  return (name) => files.flatMap((f) => f.records.get(normalizeKeyName(name)) ?? []);
}
