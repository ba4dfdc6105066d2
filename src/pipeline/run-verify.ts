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
import { defaultThreadCount } from './analysis-threads.ts';
import { createAnalyzer, TASKS_PER_WORKER, type Analyzer } from './worker-pool.ts';
import type { MessageAnalysis } from '../analyze/analyze-message.ts';
import { attachmentPath } from '../attachments/inventory.ts';
import { isSingleMessageKind, locateMboxMessages, readMessageAt, type LocatedMessage, type SingleMessageKind } from '../read/read-container.ts';
import { ReadError, type RawMessage } from '../read/types.ts';
import { locateZipEntries, type LocatedZipEntry, type ZipEntryLocation } from '../read/zip.ts';
import { MBOX_ENTRY, NESTED_ARCHIVE, zipEntryChunks } from '../read/zip-entry.ts';
import { splitMbox } from '../read/mbox-split.ts';
import { DerivedPaths, type DerivedPath } from './derived-paths.ts';
import { DOCUMENT_REASONS, runDocumentsPass } from '../store/documents-pass.ts';
import { runDumpPass } from '../store/dump-pass.ts';
import { fileStateChecker } from '../store/incremental.ts';
import { KeyStore } from '../store/key-store.ts';
import { openStore, type Db } from '../store/open-store.ts';
import { acquireRunLock } from '../store/run-lock.ts';
import { StoreWriter, type FileChange, type FileRecord, type StoredMessage } from '../store/write.ts';
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
  // The lock comes first: a run that is refused must not open, let alone migrate, a database
  // another run is writing.
  const releaseLock = acquireRunLock(options.dbPath);
  let db: Db;
  try {
    db = openStore(options.dbPath);
  } catch (err) {
    releaseLock();
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
    options: { offline: options.offline, workers: options.concurrency ?? defaultThreadCount() },
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
  const workers = options.concurrency ?? defaultThreadCount();
  const analyzer = createAnalyzer(lookup, { workers });
  // Files in progress at once: enough to keep every worker's hands full while others are being read.
  const maxPendingFiles = Math.max(4, workers * (TASKS_PER_WORKER + 2));
  const pending = new Set<Promise<void>>();
  const seen = new Set<string>();
  const derivedPaths = new DerivedPaths(root);
  const report = (path: string): void =>
    options.onProgress?.({ files: counts.files, messages: counts.messages, skipped: counts.skipped, currentPath: path });

  let status: 'completed' | 'failed' | 'interrupted' = 'failed';
  try {
    for await (const entry of walkDump(root)) {
      if (options.signal?.aborted) break;
      counts.files++;
      const isZip = entry.type === 'skipped' && entry.reason === 'not-email' && /\.zip$/i.test(entry.relPath) && /zip/i.test(entry.detail);
      if (entry.type === 'skipped' && !isZip) {
        seen.add(entry.relPath);
        counts.skipped++;
        // A loose document gets its sha256, so that it can be matched to the attachments.
        const record = skippedRecord(entry);
        if (DOCUMENT_REASONS.has(entry.reason)) record.sha256 = await hashFile(entry.absPath).catch(() => null);
        writer.queueFile(runId, record, []);
        report(entry.relPath);
        continue;
      }
      const file: DiscoveredFile =
        entry.type === 'container' ? entry.file : { relPath: entry.relPath, absPath: entry.absPath, size: entry.size ?? 0, mtimeMs: entry.mtimeMs ?? 0 };
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
      // A changed file's change is recorded with its new rows, in the same batch.
      const changeTo = (now: FileRecord): FileChange | null =>
        state === 'changed' && previous && now.path === file.relPath
          ? { path: file.relPath, change: 'changed', old: previous, new: { size: now.size, mtimeMs: now.mtimeMs, sha256: now.sha256 } }
          : null;
      // Files are processed concurrently; a bound on pending files keeps memory flat.
      const sink: FileSink = {
        files: (processed) => {
          const change = processed.length ? changeTo(processed[0]!.record) : null;
          writer.queueFiles(runId, processed.map(({ record, messages }) => ({ record: { ...record, analysisContext: context }, messages })), change);
          for (const { record, messages } of processed) {
            counts.messages += messages.length;
            if (record.status !== 'ok') counts.errors++;
          }
        },
        begin: (record) => writer.beginFile(runId, record),
        append: (path, messages) => {
          writer.appendMessages(runId, path, messages);
          counts.messages += messages.length;
        },
        paths: derivedPaths,
        finish: (record) => {
          const change = changeTo(record);
          writer.finishFile({ ...record, analysisContext: context }, change && { runId, change });
          if (record.status !== 'ok') counts.errors++;
        },
      };
      const work = entry.type === 'container' ? processContainer(file, entry.kind, analyzer, sink) : processZip(file, analyzer, sink);
      const task = work.then(() => {
        if (state === 'changed' && previous) counts.changed++;
        report(file.relPath);
      });
      pending.add(task);
      void task.finally(() => pending.delete(task));
      if (pending.size >= maxPendingFiles) await Promise.race(pending);
    }
    await Promise.all(pending);
    writer.flush();
    // Every message is analysed: the workers' memory goes back before the passes over the dump.
    await analyzer.close();
    if (options.signal?.aborted) {
      status = 'interrupted';
    } else {
      // Only a complete walk knows which files are gone.
      counts.removed = writer.removeMissing(runId, seen);
      // Messages compared with each other, and documents with attachments: only once all are stored.
      runDumpPass(db);
      runDocumentsPass(db);
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

interface ProcessedFile {
  record: FileRecord;
  messages: StoredMessage[];
}

/** Messages inside messages inside messages: deeper nesting is recorded, not followed. */
const MAX_EMBEDDED_DEPTH = 3;

/**
 * What a stream of messages holds: messages already in memory (a zip entry, a forwarded
 * message), or messages the analysing thread reads itself where they lie (a single-message
 * file, a message of an mbox).
 */
type StreamItem = RawMessage | LocatedMessage;

/**
 * Analyses every message of a stream, in order, through the pool. A read error stops the
 * stream but keeps what came before it; a message the analysis cannot handle is recorded as an
 * error of its file and never stops the run.
 */
async function analyzeStream(
  source: AsyncIterable<StreamItem> | Iterable<StreamItem>,
  analyzer: Analyzer,
  onBatch?: (messages: StoredMessage[]) => Promise<void>,
  options: { ownsMessageMemory?: boolean } = {},
): Promise<{ messages: StoredMessage[]; error: ReadError | null; failed: number }> {
  let analyses: Array<Promise<StoredMessage | Error>> = [];
  const kept: StoredMessage[] = [];
  let error: ReadError | null = null;
  let failed = 0;
  let firstFailure = '';
  // Analyses are handed on in batches, in order: a 2 GB mbox never holds more than a batch.
  const drain = async (): Promise<void> => {
    const results = await Promise.all(analyses);
    analyses = [];
    const ok = results.filter((r): r is StoredMessage => !(r instanceof Error));
    for (const r of results) {
      // a file its worker could not read: the stream's read error, as if read here
      if (r instanceof ReadError) error ??= r;
      else if (r instanceof Error) (failed++, (firstFailure ||= r.message));
    }
    if (onBatch) await onBatch(ok);
    else kept.push(...ok);
  };
  /** Recorded, judged unverifiable, and counted against its file: never lost, never fatal. */
  const recordFailure = async (err: unknown, again: () => RawMessage): Promise<StoredMessage | Error> => {
    const why = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    firstFailure ||= why;
    try {
      const { failedAnalysis } = await import('../analyze/analyze-message.ts');
      const { index, offset, format, envelope, raw } = again();
      const recorded = { index, offset, format, envelope: envelope ?? null, analysis: failedAnalysis(raw, why) };
      failed++;
      return recorded;
    } catch (inner) {
      // Not recorded after all: counted where the results are gathered (see drain), once.
      return inner instanceof Error ? inner : new Error(String(inner));
    }
  };
  try {
    for await (const item of source) {
      if ('location' in item) {
        const { location, size } = item;
        const envelope = location.kind === 'mbox' ? location.range.envelope : null;
        const { result } = await analyzer.submitAt(location, size);
        analyses.push(
          result.then(
            ({ message, analysis }): StoredMessage => ({ ...message, envelope, analysis }),
            (err: unknown) => (err instanceof ReadError ? err : recordFailure(err, () => readMessageAt(location))),
          ),
        );
      } else {
        const { index, offset, format, envelope, raw } = item;
        const { result } = await analyzer.submit(raw, format);
        analyses.push(
          result.then(
            (analysis): StoredMessage => {
              // Memory of the stream's own (ownsMessageMemory): given back now that the worker
              // is done with its copy, rather than when a collection finds it (kept until then in
              // case the analysis fails, whose record needs the bytes).
              if (options.ownsMessageMemory) (raw.buffer as ArrayBuffer).transfer(0);
              return { index, offset, format, envelope: envelope ?? null, analysis };
            },
            (err: unknown) => recordFailure(err, () => item),
          ),
        );
      }
      if (onBatch && analyses.length >= STREAM_BATCH) await drain();
    }
  } catch (err) {
    error = err instanceof ReadError ? err : new ReadError('read-failed', (err as Error).message);
  }
  await drain();
  // A message the analysis could not handle is recorded as an error of its file, never a reason to stop the run.
  if (failed && !error) error = new ReadError('analysis-failed', `${failed} message(s) could not be analysed: ${firstFailure}`);
  return { messages: kept, error, failed };
}

const STREAM_BATCH = 256;

/** Where processed files go: the run's batched writer, in order (a file before what it holds). */
interface FileSink {
  /** a file with the forwarded messages found inside it, committed together (never one without the others) */
  files(processed: ProcessedFile[]): void;
  begin(record: FileRecord): void;
  append(path: string, messages: StoredMessage[]): void;
  finish(record: FileRecord): void;
  /** the paths of rows that stand for no file of the dump (forwarded messages, zip entries) */
  paths: DerivedPaths;
}

/**
 * Forwarded messages (message/rfc822 parts) keep their original signatures: each is verified as
 * a message in its own right, as a file of its own (`parent.eml#attachment-2`) linked to the
 * message that carried it.
 */
async function processEmbedded(
  parentPath: string,
  parentLabel: string,
  parent: StoredMessage,
  analyzer: Analyzer,
  paths: DerivedPaths,
  depth: number,
): Promise<ProcessedFile[]> {
  const out: ProcessedFile[] = [];
  for (const part of parent.analysis.embedded) {
    const { path, note } = paths.claim(attachmentPath(parentLabel, part.partIndex));
    const nested = depth >= MAX_EMBEDDED_DEPTH;
    const { messages, error } = nested
      ? { messages: [], error: new ReadError('too-deep', `a forwarded message nested more than ${MAX_EMBEDDED_DEPTH} deep is recorded but not verified`) }
      : await analyzeStream(oneMessage(part.raw), analyzer);
    out.push({
      record: {
        path,
        kind: 'embedded',
        status: error ? 'error' : 'ok',
        reason: error?.code ?? null,
        detail: joinNotes(error?.message, note),
        size: part.raw.length,
        mtimeMs: null,
        sha256: messages[0]?.analysis.sha256 ?? null,
        parent: { path: parentPath, messageIndex: parent.index },
      },
      messages,
    });
    for (const m of messages) out.push(...(await processEmbedded(path, path, m, analyzer, paths, depth + 1)));
  }
  parent.analysis.embedded = []; // the bytes are not needed any more: let them go
  return out;
}

/** A file followed by the forwarded messages found in its messages: what is written together. */
async function withEmbedded(file: ProcessedFile, analyzer: Analyzer, paths: DerivedPaths): Promise<ProcessedFile[]> {
  const { path } = file.record;
  const out = [file];
  for (const m of file.messages) out.push(...(await processEmbedded(path, path, m, analyzer, paths, 1)));
  return out;
}

async function* oneMessage(raw: Buffer): AsyncGenerator<RawMessage> {
  yield { index: 0, offset: 0, raw, format: 'eml' };
}

async function processContainer(file: DiscoveredFile, kind: ContainerKind, analyzer: Analyzer, sink: FileSink): Promise<FileRecord> {
  return isSingleMessageKind(kind) ? processSingleMessageFile(file, kind, analyzer, sink) : processMbox(file, analyzer, sink);
}

/**
 * A file of one message (eml, Maildir, emlx) is read by the worker that analyses it: its bytes
 * never come to this thread. It is written in one go, file and message together, rather than
 * begun, appended to and finished like an mbox: a third of the statements, in the same batch,
 * and just as whole if the run is killed (a batch is all or nothing).
 */
async function processSingleMessageFile(file: DiscoveredFile, kind: SingleMessageKind, analyzer: Analyzer, sink: FileSink): Promise<FileRecord> {
  const { messages, error } = await analyzeStream([{ location: { absPath: file.absPath, kind }, size: file.size }], analyzer);
  const one = messages.length === 1 ? messages[0]! : null;
  // An emlx file holds more than the message (its length line and Apple's property list).
  const sha256 = kind === 'emlx' || !one ? await hashFile(file.absPath).catch(() => null) : one.analysis.sha256;
  const record: FileRecord = {
    path: file.relPath,
    kind,
    status: error ? (messages.length ? 'partial' : 'error') : 'ok',
    reason: error?.code ?? null,
    detail: error?.message ?? null,
    size: file.size,
    mtimeMs: file.mtimeMs,
    sha256,
  };
  sink.files(await withEmbedded({ record, messages }, analyzer, sink.paths));
  return record;
}

/**
 * An mbox is scanned on this thread for where its messages lie, and each message is read by the
 * worker that analyses it: its bytes never come here. Results are written as they come, a batch
 * at a time, so a 2 GB mbox never sits in memory, whole or as its analyses.
 */
async function processMbox(file: DiscoveredFile, analyzer: Analyzer, sink: FileSink): Promise<FileRecord> {
  const record: FileRecord = { path: file.relPath, kind: 'mbox', status: 'ok', reason: null, detail: null, size: file.size, mtimeMs: file.mtimeMs, sha256: null };
  let count = 0;
  sink.begin(record);
  const located = locateMboxMessages(file);
  const { error } = await analyzeStream(located.messages, analyzer, async (messages) => {
    count += messages.length;
    sink.append(file.relPath, messages);
    // (the mbox stays in progress until it is finished: a re-run reads it again whatever was committed)
    for (const m of messages) sink.files(await processEmbedded(file.relPath, `${file.relPath}#${m.index}`, m, analyzer, sink.paths, 1));
  });
  const final: FileRecord = {
    ...record,
    status: error ? (count ? 'partial' : 'error') : 'ok',
    reason: error?.code ?? null,
    detail: error?.message ?? null,
    // hashed as the scan read it, unless the scan stopped short of the end
    sha256: located.sha256() ?? (await hashFile(file.absPath).catch(() => null)),
  };
  sink.finish(final);
  return final;
}

/**
 * A zip archive is never extracted: this thread reads its central directory, and each entry is
 * read and inflated where it lies by the thread that analyses it, several at once, as the
 * messages of an mbox are (the bytes never come here). Every email in it is verified as a file of
 * its own, `archive.zip!inner/path.eml`. Entries refused by a guard (encrypted, a bomb, corrupt,
 * too large) are recorded as such; directories and entries that are not emails are left alone.
 */
async function processZip(file: DiscoveredFile, analyzer: Analyzer, sink: FileSink): Promise<FileRecord> {
  const record: FileRecord = { path: file.relPath, kind: 'zip', status: 'ok', reason: null, detail: null, size: file.size, mtimeMs: file.mtimeMs, sha256: null };
  sink.begin(record);
  // the archive's own sha256, read alongside its entries
  const archiveSha256 = hashFile(file.absPath).catch(() => null);
  const notes: string[] = [];
  let emails = 0;
  let error: ReadError | null = null;
  // A zip may hold two entries of one name (tools then disagree on which one is "the" file: a
  // way to show different readers different mail), or names that are made safe alike. Each
  // gets a row of its own: the first by its name, the others by their place in the archive.
  const firstWithName = new Map<string, number>();
  const pathOf = ({ safeName, index }: { safeName: string; index: number }): DerivedPath => {
    const first = firstWithName.get(safeName);
    if (first === undefined) firstWithName.set(safeName, index);
    const label = first === undefined ? safeName : `${safeName}#entry-${index}`;
    const { path, note } = sink.paths.claim(`${file.relPath}!${label}`);
    return { path, note: joinNotes(first === undefined ? null : `another entry of the archive (entry ${first}) has the same name`, note) };
  };
  const entryRecord = (path: string, fields: Pick<FileRecord, 'status' | 'reason' | 'detail' | 'size' | 'sha256'>): FileRecord => ({
    path,
    kind: 'zip-entry',
    mtimeMs: null,
    parent: { path: file.relPath, messageIndex: null },
    ...fields,
  });
  const refusal = ({ path, note }: DerivedPath, code: string, detail: string, size: number | null): ProcessedFile => ({
    record: entryRecord(path, { status: code === 'corrupt-entry' ? 'error' : 'skipped', reason: code, detail: joinNotes(detail, note), size, sha256: null }),
    messages: [],
  });
  const analyzeEntry = async ({ location }: LocatedZipEntry, derived: DerivedPath): Promise<void> => {
    const { messages, error: entryError } = await analyzeStream(
      [{ location: { absPath: file.absPath, kind: 'zip-entry', entry: location }, size: location.size }],
      analyzer,
    );
    if (!messages.length && entryError && NOT_MESSAGES.has(entryError.code)) return;
    if (!messages.length && entryError?.code === MBOX_ENTRY) {
      // (not `emails += await …`, which would read `emails` before the wait and lose the entries counted meanwhile)
      const held = await analyzeMboxEntry(location, derived);
      emails += held;
      return;
    }
    // (a nested archive is recorded, but is not an email)
    if (entryError?.code !== NESTED_ARCHIVE) emails++;
    if (!messages.length && entryError && ZIP_REFUSALS.has(entryError.code)) {
      sink.files([refusal(derived, entryError.code, entryError.message, location.size)]);
      return;
    }
    const entry: ProcessedFile = {
      record: entryRecord(derived.path, {
        status: entryError ? 'error' : 'ok',
        reason: entryError?.code ?? null,
        detail: joinNotes(entryError?.message, derived.note),
        size: location.size,
        sha256: messages[0]?.analysis.sha256 ?? null,
      }),
      messages,
    };
    sink.files(await withEmbedded(entry, analyzer, sink.paths));
  };
  /**
   * An mbox inside the archive (a Google Takeout export is one): inflated here as a stream and cut
   * into messages, which go to the workers as they come, the entry's row written in batches like
   * a loose mbox's. Returns how many messages it held.
   */
  const analyzeMboxEntry = async (location: ZipEntryLocation, { path, note }: DerivedPath): Promise<number> => {
    const entry = entryRecord(path, { status: 'ok', reason: null, detail: note, size: location.size, sha256: null });
    sink.begin(entry);
    const hash = createHash('sha256');
    async function* hashed(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for await (const chunk of chunks) {
        hash.update(chunk);
        yield chunk;
      }
    }
    let count = 0;
    const messages = splitMbox(hashed(zipEntryChunks(file.absPath, location)), { maxMessageBytes: location.maxEntryBytes });
    const onBatch = async (batch: StoredMessage[]): Promise<void> => {
      count += batch.length;
      sink.append(path, batch);
      for (const m of batch) sink.files(await processEmbedded(path, `${path}#${m.index}`, m, analyzer, sink.paths, 1));
    };
    // (splitMbox gives every message memory of its own)
    const { error: entryError } = await analyzeStream(messages, analyzer, onBatch, { ownsMessageMemory: true });
    sink.finish({
      ...entry,
      status: entryError ? (count ? 'partial' : 'error') : 'ok',
      reason: entryError?.code ?? null,
      detail: joinNotes(entryError?.message, note),
      // the bytes of the mbox as inflated, when all of them were
      sha256: entryError ? null : hash.digest('hex'),
    });
    return count;
  };
  const pending = new Set<Promise<void>>();
  try {
    for await (const item of locateZipEntries(file.absPath)) {
      if ('skipped' in item) {
        if (item.stopped) notes.push(`${item.safeName}: ${item.skipped}`);
        else if (!NOT_MESSAGES.has(item.code)) sink.files([refusal(pathOf(item), item.code, item.skipped, null)]);
        continue;
      }
      const task = analyzeEntry(item, pathOf(item));
      pending.add(task);
      void task.finally(() => pending.delete(task));
      if (pending.size >= MAX_PENDING_ENTRIES) await Promise.race(pending);
    }
  } catch (err) {
    error = err instanceof ReadError ? err : new ReadError('read-failed', (err as Error).message);
  } finally {
    await Promise.all(pending);
  }
  const final: FileRecord = {
    ...record,
    status: error ? (emails ? 'partial' : 'error') : 'ok',
    reason: error?.code ?? (notes.length ? 'zip-limits' : null),
    detail: error?.message ?? (notes.length ? notes.join('; ') : `${emails} email(s) inside`),
    sha256: await archiveSha256,
  };
  sink.finish(final);
  return final;
}

/** The details of a row, each said once, `; `-separated; null when there are none. */
const joinNotes = (...notes: Array<string | null | undefined>): string | null => notes.filter(Boolean).join('; ') || null;

/** Entries of an archive that are no business of a mail verifier: not recorded. */
const NOT_MESSAGES = new Set(['directory', 'not-email', 'empty']);
/** What the guards say of an entry read as a message and refused (see zip-entry.ts): recorded as such. */
const ZIP_REFUSALS = new Set(['too-large', 'zip-bomb', 'corrupt-entry', NESTED_ARCHIVE]);
/**
 * Entries of one archive in progress at once: enough to keep every worker busy (each holds only
 * the entry it is on; nothing of them waits here but their analyses).
 */
const MAX_PENDING_ENTRIES = 32;

function skippedRecord(entry: Extract<DiscoveryEntry, { type: 'skipped' }>): FileRecord {
  return {
    path: entry.relPath,
    kind: null,
    status: entry.reason === 'unreadable' || entry.reason === 'vanished' ? 'error' : 'skipped',
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
