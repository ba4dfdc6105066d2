import { createHash } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { dirname, relative, resolve, isAbsolute } from 'node:path';
import { openEvidence } from '../discover/open-evidence.ts';
import type { DiscoveredFile, DiscoveryEntry, ContainerKind } from '../discover/types.ts';
import { walkDump } from '../discover/walk.ts';
import { lookupKeyInDns } from '../keys/dns-lookup.ts';
import { createKeyLookup } from '../keys/key-lookup.ts';
import { loadCompromisedList, type CompromisedList } from '../keys/compromised.ts';
import { loadKeysFile, type KeysFile } from '../keys/keys-file.ts';
import type { KeyAnswer } from '../keys/types.ts';
import { createAnalyzer, defaultWorkers, type Analyzer } from './worker-pool.ts';
import { readContainer } from '../read/read-container.ts';
import { ReadError } from '../read/types.ts';
import { runDumpPass } from '../store/dump-pass.ts';
import { fileStateChecker } from '../store/incremental.ts';
import { KeyStore } from '../store/key-store.ts';
import { openStore, type Db } from '../store/open-store.ts';
import { acquireRunLock } from '../store/run-lock.ts';
import { StoreWriter, type FileRecord, type StoredMessage } from '../store/write.ts';
import { MAILAUTH_VERSION, NODE_VERSION, TOOL_VERSION } from '../version.ts';

export interface VerifyOptions {
  dumpRoot: string;
  dbPath: string;
  keyFiles: string[];
  offline: boolean;
  /** fingerprints of keys whose private half is public (--compromised) */
  compromisedFile?: string | null;
  /** worker threads analysing messages (--jobs); 0 analyses on the main thread */
  concurrency?: number;
  commandLine?: string;
  /** replaces live DNS (tests use it to prove --offline never asks) */
  liveLookup?: (name: string) => Promise<KeyAnswer>;
  onProgress?: (progress: VerifyProgress) => void;
  /** Ctrl-C: stop taking new files, keep everything finished, mark the run interrupted */
  signal?: AbortSignal;
}

export interface VerifyProgress {
  files: number;
  messages: number;
  skipped: number;
  currentPath: string;
}

export interface VerifyCounts {
  files: number;
  containers: number;
  skipped: number;
  errors: number;
  messages: number;
  /** containers left as they were: same size and mtime, nothing new that could change a verdict */
  unchanged: number;
  /** containers that changed since the last run (re-verified; the change is recorded) */
  changed: number;
  /** files recorded before that are no longer in the dump */
  removed: number;
}

export interface VerifyResult {
  runId: number;
  counts: VerifyCounts;
  /** stopped by the signal before the end: a re-run of the same command resumes */
  interrupted: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * `leakcheck verify`: walks the dump, reads every message, analyses it and stores the result.
 * Nothing under the dump root is ever opened for writing.
 */
export async function runVerify(options: VerifyOptions): Promise<VerifyResult> {
  const root = resolve(options.dumpRoot);
  let rootStat;
  try {
    rootStat = statSync(root);
  } catch {
    throw new UsageError(`${options.dumpRoot}: no such directory`);
  }
  if (!rootStat.isDirectory()) throw new UsageError(`${options.dumpRoot} is not a directory`);
  assertOutsideDump(root, options.dbPath);

  const keyFiles = options.keyFiles.map((path) => loadKeysFile(path));
  const compromised = options.compromisedFile ? loadCompromisedList(options.compromisedFile) : null;
  const db = openStore(options.dbPath);
  let releaseLock: () => void;
  try {
    releaseLock = acquireRunLock(options.dbPath);
  } catch (err) {
    db.close();
    throw err;
  }
  try {
    return await verifyLocked(options, root, db, keyFiles, compromised);
  } finally {
    db.close();
    releaseLock();
  }
}

async function verifyLocked(
  options: VerifyOptions,
  root: string,
  db: Db,
  keyFiles: KeysFile[],
  compromised: CompromisedList | null,
): Promise<VerifyResult> {
  const writer = new StoreWriter(db);
  writer.markStaleRunsInterrupted();
  const keyStore = new KeyStore(db);
  // --keys files go into the key store first: every key used is then on record with its origin.
  for (const file of keyFiles) importKeysFile(keyStore, file);
  const runId = writer.beginRun({
    startedAt: new Date().toISOString(),
    dumpRoot: root,
    commandLine: options.commandLine ?? process.argv.join(' '),
    toolVersion: TOOL_VERSION,
    mailauthVersion: MAILAUTH_VERSION,
    nodeVersion: NODE_VERSION,
    sqliteVersion: (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v,
    options: { offline: options.offline, workers: options.concurrency ?? defaultWorkers() },
    keyFiles: keyFiles.map((f) => ({ path: resolve(f.path), sha256: f.sha256 })),
    compromised: compromised ? { path: resolve(compromised.path), sha256: compromised.sha256, count: compromised.fingerprints.size } : null,
  });

  const lookup = createKeyLookup({
    files: [],
    cached: (name) => keyStore.answerFor(name),
    offline: options.offline,
    live: options.liveLookup ?? ((name) => lookupKeyInDns(name)),
    onLiveAnswer: (answer) => keyStore.recordLookup(answer, new Date().toISOString()),
    compromised,
  });
  const context = analysisContext(compromised);
  const fileState = fileStateChecker(db, context);

  const counts: VerifyCounts = { files: 0, containers: 0, skipped: 0, errors: 0, messages: 0, unchanged: 0, changed: 0, removed: 0 };
  const workers = options.concurrency ?? defaultWorkers();
  const analyzer = createAnalyzer(lookup, { workers });
  // Files in progress at once: enough to keep every worker fed while others are being read.
  const maxPendingFiles = Math.max(4, workers * 4);
  const pending = new Set<Promise<void>>();
  const seen = new Set<string>();
  const report = (path: string): void =>
    options.onProgress?.({ files: counts.files, messages: counts.messages, skipped: counts.skipped, currentPath: path });

  let status: 'completed' | 'failed' | 'interrupted' = 'failed';
  try {
    for await (const entry of walkDump(root)) {
      if (options.signal?.aborted) break;
      counts.files++;
      if (entry.type === 'skipped') {
        seen.add(entry.relPath);
        counts.skipped++;
        writer.queueFile(runId, skippedRecord(entry), []);
        report(entry.relPath);
        continue;
      }
      const file = entry.file;
      seen.add(file.relPath);
      counts.containers++;
      let { state, previous } = fileState(file);
      if (state === 'confirm-by-hash') {
        state = previous?.sha256 && (await hashFile(file.absPath).catch(() => null)) === previous.sha256 ? 'unchanged' : 'changed';
      }
      if (state === 'unchanged') {
        counts.unchanged++;
        report(file.relPath);
        continue;
      }
      // Files are processed concurrently; a bound on pending files keeps memory flat.
      const task = processContainer(file, entry.kind, analyzer).then(({ record, messages }) => {
        if (state === 'changed' && previous) {
          counts.changed++;
          writer.recordChange(runId, { path: file.relPath, change: 'changed', old: previous, new: { size: record.size, mtimeMs: record.mtimeMs, sha256: record.sha256 } });
        }
        writer.queueFile(runId, { ...record, analysisContext: context }, messages);
        counts.messages += messages.length;
        if (record.status !== 'ok') counts.errors++;
        report(file.relPath);
      });
      pending.add(task);
      void task.finally(() => pending.delete(task));
      if (pending.size >= maxPendingFiles) await Promise.race(pending);
    }
    await Promise.all(pending);
    writer.flush();
    if (options.signal?.aborted) {
      status = 'interrupted';
    } else {
      // Only a complete walk knows which files are gone.
      counts.removed = writer.removeMissing(runId, seen);
      // Messages compared with each other: only once all are stored.
      runDumpPass(db);
      status = 'completed';
    }
  } finally {
    // Whatever happened, what was analysed is kept: a re-run resumes from it.
    await Promise.allSettled(pending);
    await analyzer.close();
    try {
      writer.flush();
    } finally {
      writer.finishRun(runId, status, counts);
    }
  }
  return { runId, counts, interrupted: status === 'interrupted' };
}

async function processContainer(
  file: DiscoveredFile,
  kind: ContainerKind,
  analyzer: Analyzer,
): Promise<{ record: FileRecord; messages: StoredMessage[] }> {
  const analyses: Array<Promise<StoredMessage | Error>> = [];
  let readError: ReadError | null = null;
  try {
    for await (const message of readContainer(file, kind)) {
      const { result } = await analyzer.submit(message.raw, message.format);
      analyses.push(
        result
          .then((analysis) => ({
            index: message.index,
            offset: message.offset,
            format: message.format,
            envelope: message.envelope ?? null,
            analysis,
          }))
          .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))),
      );
    }
  } catch (err) {
    readError = err instanceof ReadError ? err : new ReadError('read-failed', (err as Error).message);
  }
  const results = await Promise.all(analyses);
  // A message the analysis could not handle is a bug to report, never a reason to stop the run.
  const failed = results.filter((r): r is Error => r instanceof Error);
  if (failed.length && !readError) {
    readError = new ReadError('analysis-failed', `${failed.length} message(s) could not be analysed: ${failed[0]!.message}`);
  }
  const messages = results.filter((r): r is StoredMessage => !(r instanceof Error));
  const sha256 = kind === 'mbox' || kind === 'emlx' || messages.length !== 1 ? await hashFile(file.absPath).catch(() => null) : messages[0]!.analysis.sha256;
  return {
    record: {
      path: file.relPath,
      kind,
      status: readError ? (messages.length ? 'partial' : 'error') : 'ok',
      reason: readError?.code ?? null,
      detail: readError?.message ?? null,
      size: file.size,
      mtimeMs: file.mtimeMs,
      sha256,
    },
    messages,
  };
}

function skippedRecord(entry: Extract<DiscoveryEntry, { type: 'skipped' }>): FileRecord {
  return {
    path: entry.relPath,
    kind: null,
    status: entry.reason === 'unreadable' ? 'error' : 'skipped',
    reason: entry.reason,
    detail: entry.detail,
    size: entry.size,
    mtimeMs: entry.mtimeMs,
    sha256: null,
  };
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await openEvidence(path);
  try {
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** The database must never land inside the evidence. */
function assertOutsideDump(root: string, dbPath: string): void {
  const realRoot = realpathSync(root);
  let dbDir = resolve(dirname(dbPath));
  try {
    dbDir = realpathSync(dbDir);
  } catch {
    // the directory does not exist yet: better-sqlite3 will say so
  }
  const rel = relative(realRoot, dbDir);
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
    throw new UsageError(`refusing to write the database ${dbPath} inside the dump ${root}: evidence is read-only. Use --db to put it elsewhere.`);
  }
}


/** Everything besides the bytes and the keys that a verdict depends on. */
function analysisContext(compromised: CompromisedList | null): string {
  return createHash('sha256')
    .update(JSON.stringify({ tool: TOOL_VERSION, mailauth: MAILAUTH_VERSION, compromised: compromised?.sha256 ?? null }))
    .digest('hex');
}

function importKeysFile(store: KeyStore, file: KeysFile): void {
  for (const [name, records] of file.records) {
    for (const record of records) store.addKey({ name, txt: record.txt, source: 'file', origin: file.path, originSha256: file.sha256 });
  }
}
