import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pLimit from 'p-limit';
import { byCodeUnits } from '../store/code-unit-order.ts';
import { parseKeyFile, type KeyFileFormat, type ParsedKeyFile } from '../keys/import/parse-key-file.ts';
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

export type ReadKeyFile = { path: string; sha256: string; file: ParsedKeyFile };

/** The key files read and parsed, before any database is opened: one that cannot be read is a usage error. */
export function readKeyFiles(paths: string[]): ReadKeyFile[] {
  return paths.map((path) => {
    const bytes = readOptionFile('keys import', path, (p) => readFileSync(p));
    return { path, sha256: createHash('sha256').update(bytes).digest('hex'), file: parseKeyFile(bytes, path) };
  });
}

export function storeKeyFiles(db: Db, parsed: ReadKeyFile[]): ImportReport[] {
  const store = new KeyStore(db);
  const reports: ImportReport[] = [];
  db.transaction(() => {
    for (const { path, sha256, file } of parsed) {
      const stored = storeKeyFile(store, file, sha256);
      reports.push({ path, format: file.format, sha256, ...stored, alreadyKnown: file.keys.length - stored.added, ignored: file.ignored });
    }
  })();
  return reports;
}

/**
 * Puts a parsed key file's records into the store, each with its own provenance and origin (the
 * file's path, an archive's name, or what a key-store file recorded), and the compromised
 * fingerprints a key-store file lists. A record's origin file is the file read (`sha256`), unless
 * a key-store file recorded the one it first came from.
 */
export function storeKeyFile(store: KeyStore, file: ParsedKeyFile, sha256: string): { added: number; compromised: number } {
  const at = new Date().toISOString();
  let added = 0;
  for (const key of file.keys) {
    const isNew = key.absent
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
    if (isNew) added++;
  }
  return { added, compromised: store.addCompromised(file.compromised ?? [], at) };
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
