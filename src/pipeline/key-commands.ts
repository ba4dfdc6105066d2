import { createHash, hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pLimit from 'p-limit';
import { byCodeUnits } from '../store/code-unit-order.ts';
import { keyIdentity } from '../keys/import/common.ts';
import { parseKeyFile, type ImportedKey, type KeyFileFormat, type ParsedKeyFile } from '../keys/import/parse-key-file.ts';
import { scanKeyStoreFile, type KeyStoreFileScan } from '../keys/key-store-file-index.ts';
import { changedUnderfoot } from '../keys/keys-file-index.ts';
import { lookupKeyInDns } from '../keys/dns-lookup.ts';
import type { KeyAnswer } from '../keys/types.ts';
import { KeyStore } from '../store/key-store.ts';
import type { Db } from '../store/open-store.ts';
import { readOptionFile } from './usage-error.ts';

export interface ImportReport {
  path: string;
  format: KeyFileFormat;
  sha256: string;
  added: number;
  alreadyKnown: number;
  /** compromised fingerprints a key-store file added */
  compromised: number;
  ignored: Array<{ where: string; why: string }>;
}

/**
 * `leakcheck keys import`: every key with its provenance. A whole file is imported in one
 * transaction, so a malformed file adds nothing; importing the same file twice adds nothing.
 */
export function importKeyFiles(db: Db, paths: string[]): ImportReport[] {
  return storeKeyFiles(db, readKeyFiles(paths));
}

/** A key file read and parsed, or a key-store file checked in one pass, its records read again as they are stored. */
export type ReadKeyFile = { path: string; sha256: string; file: ParsedKeyFile } | { path: string; sha256: string; scan: KeyStoreFileScan };

/**
 * The key files read and checked, before any database is opened: one that cannot be read is a
 * usage error. A key-store file is checked in one pass and not held (it can hold every record of
 * an archive); any other file, or one the pass cannot vouch for, is read and parsed whole.
 */
export function readKeyFiles(paths: string[]): ReadKeyFile[] {
  return paths.map((path): ReadKeyFile => {
    const scan = readOptionFile('keys import', path, (p) => scanKeyStoreFile(p, { index: false }));
    if (scan) return { path, sha256: scan.sha256, scan };
    const bytes = readOptionFile('keys import', path, (p) => readFileSync(p));
    return { path, sha256: createHash('sha256').update(bytes).digest('hex'), file: parseKeyFile(bytes, path) };
  });
}

export function storeKeyFiles(db: Db, parsed: ReadKeyFile[]): ImportReport[] {
  const store = new KeyStore(db);
  const reports: ImportReport[] = [];
  db.transaction(() => {
    for (const read of parsed) {
      if ('scan' in read) {
        reports.push(streamKeyStoreFile(store, read.path, read.scan));
        continue;
      }
      const { path, sha256, file } = read;
      const stored = storeKeyFile(store, file, sha256);
      reports.push({ path, format: file.format, sha256, ...stored, alreadyKnown: file.keys.length - stored.added, ignored: file.ignored });
    }
  })();
  return reports;
}

/**
 * A key-store file's records put into the store as a second pass over it reads them, one by one
 * (inside the caller's transaction: a file that changed since it was checked adds nothing). What
 * the report says of records repeated in the file is what the whole reading said (KeyCollector):
 * only a digest of each record's identity is held, not the record.
 */
function streamKeyStoreFile(store: KeyStore, path: string, checked: KeyStoreFileScan): ImportReport {
  const at = new Date().toISOString();
  const firstOf = new Map<string, number>();
  const ignored: ImportReport['ignored'] = [];
  let [keys, added, entry] = [0, 0, 0];
  const again = scanKeyStoreFile(path, {
    index: false,
    onRecord: (key) => {
      const identity = hash('sha256', keyIdentity(key), 'base64');
      const first = firstOf.get(identity);
      if (first !== undefined) ignored.push({ where: key.where, why: `same key as keys entry ${first + 1}` });
      else {
        firstOf.set(identity, entry);
        keys++;
        if (storeImportedKey(store, key, checked.sha256, at)) added++;
      }
      entry++;
    },
  });
  if (again?.sha256 !== checked.sha256) changedUnderfoot(path);
  const compromised = store.addCompromised(checked.compromised, at);
  return { path, format: 'key-store', sha256: checked.sha256, added, compromised, alreadyKnown: keys - added, ignored };
}

/**
 * Puts a parsed key file's records into the store, each with its own provenance and origin (the
 * file's path, an archive's name, or what a key-store file recorded), and the compromised
 * fingerprints a key-store file lists. A record's origin file is the file read (`sha256`), unless
 * a key-store file recorded the one it first came from.
 */
export function storeKeyFile(store: KeyStore, file: ParsedKeyFile, sha256: string): { added: number; compromised: number } {
  const at = new Date().toISOString();
  const added = file.keys.filter((key) => storeImportedKey(store, key, sha256, at)).length;
  return { added, compromised: store.addCompromised(file.compromised ?? [], at) };
}

/** One record of a key file (read from the file whose sha256 is `sha256`) into the store; false when it was there already. */
export function storeImportedKey(store: KeyStore, key: ImportedKey, sha256: string, at: string): boolean {
  return key.absent
    ? store.addAbsent({ name: key.name, origin: key.origin, fetchedAt: key.fetchedAt ?? null, dnsAnswer: key.dnsAnswer }, at)
    : store.addKey({
        name: key.name,
        txt: key.txt,
        source: key.provenance,
        origin: key.origin,
        originSha256: key.originSha256 === undefined ? sha256 : key.originSha256,
        firstSeen: key.firstSeen,
        lastSeen: key.lastSeen,
        fetchedAt: key.fetchedAt ?? null,
        dnsAnswer: key.dnsAnswer,
      }, at);
}

export interface FetchReport {
  asked: number;
  found: number;
  absent: number;
  errors: Array<{ name: string; code: string; detail: string }>;
}

/**
 * `leakcheck keys fetch`: live DNS for every key name a signature in the database asked for and
 * no key record answers. Bounded concurrency and a timeout per query; every answer, failures
 * included, is stored and logged.
 */
export async function fetchMissingKeys(
  db: Db,
  options: { concurrency?: number; timeoutMs?: number; lookup?: (name: string) => Promise<KeyAnswer> } = {},
): Promise<FetchReport> {
  const store = new KeyStore(db);
  const names = store.namesWithoutKey();
  const limit = pLimit(options.concurrency ?? 8);
  const lookup = options.lookup ?? ((name: string) => lookupKeyInDns(name, options.timeoutMs ?? 5000));
  const report: FetchReport = { asked: names.length, found: 0, absent: 0, errors: [] };
  await Promise.all(
    names.map((name) =>
      limit(async () => {
        const answer = await lookup(name);
        store.recordLookup(answer, new Date().toISOString());
        if (answer.status === 'found') report.found++;
        else if (answer.status === 'absent') report.absent++;
        else report.errors.push({ name, code: answer.code, detail: answer.detail });
      }),
    ),
  );
  report.errors.sort((a, b) => byCodeUnits(a.name, b.name));
  return report;
}
