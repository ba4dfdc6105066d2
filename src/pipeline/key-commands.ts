import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pLimit from 'p-limit';
import { parseKeyFile, type KeyFileFormat } from '../keys/import/parse-key-file.ts';
import { lookupKeyInDns } from '../keys/dns-lookup.ts';
import type { KeyAnswer } from '../keys/types.ts';
import { KeyStore } from '../store/key-store.ts';
import type { Db } from '../store/open-store.ts';

export interface ImportReport {
  path: string;
  format: KeyFileFormat;
  sha256: string;
  added: number;
  alreadyKnown: number;
  ignored: Array<{ where: string; why: string }>;
}

/**
 * `leakcheck keys import`: every key with its provenance. A whole file is imported in one
 * transaction, so a malformed file adds nothing; importing the same file twice adds nothing.
 */
export function importKeyFiles(db: Db, paths: string[]): ImportReport[] {
  const store = new KeyStore(db);
  const parsed = paths.map((path) => {
    const bytes = readFileSync(path);
    return { path, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), file: parseKeyFile(bytes, path) };
  });
  const reports: ImportReport[] = [];
  db.transaction(() => {
    for (const { path, sha256, file } of parsed) {
      let added = 0;
      for (const key of file.keys) {
        const isNew = store.addKey({
          name: key.name,
          txt: key.txt,
          source: key.provenance,
          origin: key.provenance === 'archive' ? key.origin : path,
          originSha256: sha256,
          firstSeen: key.firstSeen,
          lastSeen: key.lastSeen,
        });
        if (isNew) added++;
      }
      reports.push({ path, format: file.format, sha256, added, alreadyKnown: file.keys.length - added, ignored: file.ignored });
    }
  })();
  return reports;
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
  report.errors.sort((a, b) => a.name.localeCompare(b.name));
  return report;
}
