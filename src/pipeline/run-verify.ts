import { createHash } from 'node:crypto';
import { opendirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeError } from '../discover/describe-error.ts';
import type { DiscoveredFile, DiscoveryEntry, ContainerKind } from '../discover/types.ts';
import { walkDump } from '../discover/walk.ts';
import { lookupKeyInDns } from '../keys/dns-lookup.ts';
import { createKeyLookup } from '../keys/key-lookup.ts';
import { loadCompromisedList, mergedCompromisedList, type CompromisedList } from '../keys/compromised.ts';
import { loadKeysFile, type KeysFile } from '../keys/keys-file.ts';
import type { KeyAnswer } from '../keys/types.ts';
import { defaultThreadCount } from './analysis-threads.ts';
import { assertOutsideDump } from './outside-dump.ts';
import { readOptionFile, UsageError } from './usage-error.ts';
import { createAnalyzer, type Analyzer } from './worker-pool.ts';
import { isSingleMessageKind, locateMboxMessages, type SingleMessageKind } from '../read/read-container.ts';
import { LENGTH_OVERRULED } from '../read/mbox-split.ts';
import { DerivedPaths } from './derived-paths.ts';
import { analyzeStream, joinNotes, processEmbedded, sha256Of, withEmbedded, type FileSink } from './message-stream.ts';
import { processZip } from './process-zip.ts';
import { TasksInFlight } from './tasks-in-flight.ts';
import { zipEntryFolds } from './zip-entry-folds.ts';
import { DOCUMENT_REASONS, runDocumentsPass } from '../store/documents-pass.ts';
import { runDumpPass } from '../store/dump-pass.ts';
import { deferLookupIndexes, restoreLookupIndexes } from '../store/lookup-indexes.ts';
import { cpuTimeSoFar } from './cpu-time.ts';
import {
  additionsSince, changeSince, displacedDerivedRows, fileHoldingRow, fileStateChecker, lastCompletedWalk, namesResultsWaitFor, unconfirmedSince, type FileState, type PreviousFile,
} from '../store/incremental.ts';
import { KeyStore } from '../store/key-store.ts';
import { KeysFileImport } from './keys-file-import.ts';
import { openStore, StoreError, type Db } from '../store/open-store.ts';
import { KeysSeen } from '../store/keys-seen.ts';
import { acquireRunLock, lockPathOf, refuseIfHeld } from '../store/run-lock.ts';
import { StoreWriter, UNEXAMINED, type FileChange, type FileRecord } from '../store/write.ts';
import { LIBRARY_VERSIONS, MAILAUTH_VERSION, NODE_VERSION, runToolVersion } from '../version.ts';
import { trustedSealerList } from '../verify/arc-sealers.ts';
import type { AnalysisOptions } from '../analyze/analyze-message.ts';

export interface VerifyOptions {
  dumpRoot: string;
  dbPath: string;
  keyFiles: string[];
  offline: boolean;
  /** fingerprints of keys whose private half is public (--compromised) */
  compromisedFile?: string | null;
  /** worker threads analysing messages (--jobs); 0 analyses on the main thread */
  concurrency?: number;
  /** ARC sealers the user vouches for (--trust-arc-sealer), beside the well-known ones */
  trustedArcSealers?: string[];
  /** the command as typed, the program first (`['leakcheck', 'verify', …]`); process.argv when not given */
  argv?: readonly string[];
  /** replaces live DNS (tests use it to prove --offline never asks) */
  liveLookup?: (name: string) => Promise<KeyAnswer>;
  onProgress?: (progress: VerifyProgress) => void;
  /** Ctrl-C: stop taking new files, keep everything finished, mark the run interrupted */
  signal?: AbortSignal;
  /** --rehash: read every recorded file again and compare its sha256, whatever its size and mtime say */
  rehash?: boolean;
  /** --zip-max-bytes: bytes inflated from one zip archive before it is given up (ZipLimits.maxTotalBytes) */
  zipMaxBytes?: number;
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
  /** files found different from their record: size, mtime or sha256 (re-verified; the change is recorded in file_changes) */
  changed: number;
  /** files read again and hashed (--rehash, or written around their analysis) whose sha256 matched their record */
  confirmed: number;
  /** files recorded before that are no longer in the dump */
  removed: number;
  /** files with no record, found after a completed walk of the dump had not found them (recorded in file_changes) */
  added: number;
  /** files read before that this run could not read, their analysis kept (recorded in file_changes) */
  unconfirmed: number;
}

export interface VerifyResult {
  runId: number;
  counts: VerifyCounts;
  /** stopped by the signal before the end: a re-run of the same command resumes */
  interrupted: boolean;
  /**
   * The passes over the whole dump (messages compared with each other, documents with
   * attachments): `ran`, or `kept` when this run stored nothing and removed nothing after a run
   * that completed them, so that what they found then still holds (null: interrupted before them).
   */
  dumpPasses: 'ran' | 'kept' | null;
  /**
   * The folder the database's last completed run walked, when it is not this one (another dump,
   * a sub-folder, or this dump before it moved): files are matched to their records by their
   * path inside the dump, so the chain of custody compares this folder's files with that one's.
   */
  otherRoot: string | null;
}

export { UsageError } from './usage-error.ts';

/**
 * `leakcheck verify`: walks the dump, reads every message, analyses it and stores the result.
 * Nothing under the dump root is ever opened for writing.
 */
export async function runVerify(options: VerifyOptions): Promise<VerifyResult> {
  const root = resolve(options.dumpRoot);
  let rootStat;
  try {
    rootStat = statSync(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new UsageError(`${options.dumpRoot}: cannot reach the dump (${describeError(err)})`);
    // Node hands a program its arguments as UTF-8, with U+FFFD for bytes that are not: such a
    // path can never be opened, and "no such directory" would be false (red team 28, G-08)
    if (options.dumpRoot.includes('\ufffd')) {
      throw new UsageError(
        `${options.dumpRoot}: the path given is not valid UTF-8 (shown with U+FFFD where its bytes are not), which Node cannot pass on to the system; ` +
          'verify it through a symlink with a UTF-8 name (ln -s)',
      );
    }
    throw new UsageError(`${options.dumpRoot}: no such directory`);
  }
  if (!rootStat.isDirectory()) throw new UsageError(`${options.dumpRoot} is not a directory`);
  // A dump whose top folder cannot be listed has nothing of it verified: the run used to complete
  // with no message, every --fail-on passed, and the next run, able to list it, recorded every
  // file of the evidence as added since (red team Z, Z-11).
  try {
    const listing = opendirSync(root);
    try {
      listing.readSync();
    } finally {
      listing.closeSync();
    }
  } catch (err) {
    throw new UsageError(`${options.dumpRoot}: cannot list the dump (${describeError(err)}); nothing was verified`);
  }
  const insideDump = (): string => `refusing to write the database ${options.dbPath} inside the dump ${root}: evidence is read-only. Use --db to put it elsewhere.`;
  assertOutsideDump(root, [options.dbPath], insideDump);
  try {
    assertOutsideDump(root, [lockPathOf(options.dbPath)], insideDump);
  } catch (err) {
    // A lock being taken has two names for a moment (run-lock.ts, createLockFile): when it is a
    // live run's, the database is busy, which is what the user must hear.
    refuseIfHeld(options.dbPath);
    throw err;
  }

  const keyFiles = options.keyFiles.map((path) => readOptionFile('--keys', path, loadKeysFile));
  const compromised = options.compromisedFile ? readOptionFile('--compromised', options.compromisedFile, loadCompromisedList) : null;
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
  } catch (err) {
    throw storageFailure(err, options.dbPath) ?? err;
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
  given: CompromisedList | null,
): Promise<VerifyResult> {
  const writer = new StoreWriter(db);
  writer.markStaleRunsInterrupted();
  const analysis: AnalysisOptions = { trustedArcSealers: trustedSealerList(options.trustedArcSealers ?? []) };
  const lastRun = db.prepare('SELECT status FROM runs ORDER BY id DESC LIMIT 1').get() as { status: string } | undefined;
  // (asked before this run is on record: a file is added only if a walk before this one completed)
  const lastWalk = lastCompletedWalk(db, root);
  const addedSince = additionsSince(db, lastWalk);
  const keyStore = new KeyStore(db);
  // --keys files go into the key store before any key is used: every key used is then on record
  // with its origin. A file's records go in for the names the stored results wait for now (a
  // changed file re-analyses what it did), and for each other name when the run first asks for
  // it or records it (KeysFileImport); a key-store file's compromised fingerprints all go in now.
  const fromKeyFiles = new KeysFileImport(keyStore, keyFiles);
  db.transaction(() => {
    fromKeyFiles.addCompromised(new Date().toISOString());
    if (fromKeyFiles.hasFiles) fromKeyFiles.bringIn(fromKeyFiles.due(namesResultsWaitFor(db)));
  })();
  const keysSeen = new KeysSeen(db);
  const bringInKeys = (names: Iterable<string>): void => fromKeyFiles.bringInSeen(names, keysSeen);
  // (without a --keys file, a write has no key to bring in: the names of its results are not even listed)
  writer.analysedWithKeys(keysSeen, fromKeyFiles.hasFiles ? bringInKeys : undefined);
  const startedAt = new Date().toISOString();
  // A key known to be forgeable stays so: the run applies every list ever given to this database.
  if (given) keyStore.recordCompromised({ ...given, path: resolve(given.path) }, startedAt);
  const compromised = mergedCompromisedList(keyStore.compromisedFingerprints());
  const runId = writer.beginRun({
    startedAt,
    dumpRoot: root,
    argv: options.argv ?? process.argv,
    cwd: process.cwd(),
    toolVersion: runToolVersion(),
    mailauthVersion: MAILAUTH_VERSION,
    libraries: LIBRARY_VERSIONS,
    nodeVersion: NODE_VERSION,
    sqliteVersion: (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v,
    options: {
      offline: options.offline,
      workers: options.concurrency ?? defaultThreadCount(),
      rehash: options.rehash === true,
      ...(analysis.trustedArcSealers.length ? { trustedArcSealers: analysis.trustedArcSealers } : {}),
      // which archives are read at all rests on it: a second newsroom must see it (red team Q, Q-04)
      ...(options.zipMaxBytes !== undefined ? { zipMaxBytes: options.zipMaxBytes } : {}),
    },
    keyFiles: keyFiles.map((f) => ({ path: resolve(f.path), sha256: f.sha256 })),
    compromised:
      given || compromised
        ? {
            path: given ? resolve(given.path) : null,
            sha256: given?.sha256 ?? null,
            count: given?.fingerprints.size ?? 0,
            knownInStore: compromised?.fingerprints.size ?? 0,
          }
        : null,
  });

  const lookup = createKeyLookup({
    files: [],
    cached: (name) => {
      bringInKeys([name]);
      return keyStore.answerFor(name);
    },
    offline: options.offline,
    live: options.liveLookup ?? ((name) => lookupKeyInDns(name)),
    onLiveAnswer: (answer) => keysSeen.ownRecords(() => keyStore.recordLookup(answer, new Date().toISOString())),
    compromised,
  });
  const context = analysisContext(compromised, analysis, options.zipMaxBytes);
  const fileState = fileStateChecker(db, context, { rehash: options.rehash === true });

  const counts: VerifyCounts = { files: 0, containers: 0, skipped: 0, errors: 0, messages: 0, unchanged: 0, changed: 0, confirmed: 0, removed: 0, added: 0, unconfirmed: 0 };
  const countChange = (change: FileChange): void => {
    if (change.change === 'added') counts.added++;
    else counts.changed++;
  };
  const workers = options.concurrency ?? defaultThreadCount();
  const analyzer = createAnalyzer(lookup, { workers, analysis });
  // Files in progress at once: enough to keep every worker's hands full (Analyzer.holds) while
  // others are being read.
  const maxPendingFiles = (): number => Math.max(4, analyzer.holds() + 2 * workers);
  const seen = new Set<string>();
  const derivedPaths = new DerivedPaths(root, fileHoldingRow(db));
  // Before the walk, whose order must not matter: a file that holds such a row may come before
  // the file of the dump that now has the row's path, or after it.
  writer.rereadFilesHolding(displacedDerivedRows(db, (path) => derivedPaths.wouldMove(path)));
  const report = (path: string): void =>
    options.onProgress?.({ files: counts.files, messages: counts.messages, skipped: counts.skipped, currentPath: path });

  // Files are processed concurrently; a bound on pending files keeps memory flat. A file's failure
  // (the disk holding the database full, a write refused) is thrown to the walk (TasksInFlight).
  const inFlight = new TasksInFlight(maxPendingFiles);
  // The walk asks about each regular file, from lstat, just before it yields it: the loop takes
  // that answer when the file it got (from fstat) has the same size and mtime, rather than look
  // the file up again (a query by path, and the seek for keys added since).
  let asked: { file: DiscoveredFile; answer: ReturnType<typeof fileState> } | null = null;
  const stateOf = (file: DiscoveredFile): ReturnType<typeof fileState> => {
    const last = asked;
    asked = null;
    const same = last !== null && last.file.relPath === file.relPath && last.file.size === file.size && last.file.mtimeMs === file.mtimeMs;
    return same ? last.answer : fileState(file);
  };

  /**
   * Directories this run could not list: what a run before recorded below them was not reached,
   * and is kept; it was not removed (red team 28, G-03). Nor is such a directory an addition to
   * the evidence, or a removal once it can be listed again: it is no file of the dump. Entries
   * the walk could not look at join them: any of them may be a directory.
   */
  const unlistedDirectories = new Set<string>();

  /** A file that holds no message: its record, and a loose document's sha256. */
  const recordSkipped = async (entry: Extract<DiscoveryEntry, { type: 'skipped' }>, previous: PreviousFile | null): Promise<void> => {
    if (entry.directory) {
      unlistedDirectories.add(entry.relPath);
      writer.queueFiles(runId, [{ record: { ...skippedRecord(entry), kind: 'directory', analysisContext: context }, messages: [] }], null);
      return;
    }
    if (entry.unexamined) unlistedDirectories.add(entry.relPath);
    // A file read before that cannot be read now keeps its row: its custody entry says it was
    // not confirmed. (Not a write: no stored analysis changed, so the passes over the dump may
    // keep what they found.)
    if (entry.reason === 'unreadable') {
      const unconfirmed = unconfirmedSince(entry.relPath, previous, entry.unexamined ? null : entry, entry.detail);
      if (unconfirmed) {
        writer.recordChange(runId, unconfirmed);
        counts.unconfirmed++;
        return;
      }
    }
    // A loose document gets its sha256, so that it can be matched to the attachments.
    // (with the analysis context: a leakcheck that sniffs differently sniffs it again)
    const record: FileRecord = { ...skippedRecord(entry), ...(entry.unexamined ? { kind: UNEXAMINED } : {}), analysisContext: context };
    if (DOCUMENT_REASONS.has(entry.reason)) record.sha256 = await sha256Of(analyzer, entry.absPath, entry.size ?? 0, entry.mtimeMs);
    // A file that was something else before (a message, another document) is a change of the
    // evidence like any other, whatever it has become; a document that joined the dump after a
    // walk of it completed is an addition to the evidence like a message file. An entry that
    // could not be looked at is neither: nothing is known of what it is now, and it may have
    // been there all along, below a directory that hid it.
    const change = entry.unexamined ? null : (changeSince(entry.relPath, previous, custodyOf(record)) ?? addedSince(entry.relPath, previous, custodyOf(record)));
    if (change) countChange(change);
    else if (previous?.sha256 && previous.sha256 === record.sha256) counts.confirmed++;
    writer.queueFiles(runId, [{ record, messages: [] }], change);
  };

  /** A file of messages (or a zip): confirmed by its sha256 where asked, else analysed and stored. */
  const verifyFile = async (file: DiscoveredFile, kind: ContainerKind | 'zip', firstState: FileState, previous: PreviousFile | null): Promise<void> => {
    let state = firstState;
    if (state === 'confirm-by-hash') {
      const sha256 = previous?.sha256 ? await sha256Of(analyzer, file.absPath, file.size) : null;
      state = sha256 !== null && sha256 === previous?.sha256 ? 'unchanged' : 'changed';
      if (state === 'unchanged') {
        counts.confirmed++;
        counts.unchanged++;
        report(file.relPath);
        return;
      }
    }
    // A changed file's change is recorded with its new rows, in the same batch. So is one read
    // again for another reason (a key, a new leakcheck) that turns out to have changed too, and
    // a file that a completed walk of the dump did not find: whatever it holds, it was not part
    // of the evidence as first analysed.
    const changeTo = (now: FileRecord): FileChange | null => {
      if (now.path !== file.relPath) return null;
      const change = previous
        ? (changeSince(file.relPath, previous, custodyOf(now)) ??
          (state === 'changed' ? { path: file.relPath, change: 'changed' as const, old: previous, new: custodyOf(now) } : null))
        : addedSince(file.relPath, previous, custodyOf(now));
      if (change) countChange(change);
      return change;
    };
    let begun: number | null = null;
    const sink: FileSink = {
      files: (processed) => {
        const change = processed.length ? changeTo(processed[0]!.record) : null;
        writer.queueFiles(runId, processed.map(({ record, messages }) => ({ record: { ...record, analysisContext: context }, messages })), change);
        for (const { record, messages } of processed) {
          counts.messages += messages.length;
          if (record.status !== 'ok') counts.errors++;
        }
      },
      // A file written as it is read (an mbox, a zip) has its change recorded as it begins, and
      // completed with its sha256 at the end (see StoreWriter.beginFile). One whose change, if
      // any, only its sha256 can show (read again for a key, a new leakcheck, with its size and
      // mtime as recorded) keeps the recorded sha256 in its in-progress row: a run killed before
      // the end would otherwise leave the next one nothing to compare the bytes with.
      begin: (record) => {
        const change = changeTo(record);
        const own = record.path === file.relPath;
        const kept = own && !change && previous?.sha256 && record.sha256 === null ? { ...record, sha256: previous.sha256 } : record;
        const id = writer.beginFile(runId, kept, change);
        // (a change a killed run began, with nothing new since, is completed by this reading)
        if (own) begun = id ?? (previous && previous.sha256 === null ? writer.unfinishedChange(file.relPath, record.size, record.mtimeMs) : null);
      },
      append: (path, messages) => {
        writer.appendMessages(runId, path, messages);
        counts.messages += messages.length;
      },
      paths: derivedPaths.forFile(file.relPath),
      finish: (record) => {
        const completes = record.path === file.relPath ? begun : null;
        const change = completes === null ? changeTo(record) : null;
        writer.finishFile({ ...record, analysisContext: context }, change && { runId, change }, completes);
        if (record.status !== 'ok') counts.errors++;
      },
    };
    await (kind === 'zip' ? processZip(file, analyzer, sink, options.zipMaxBytes === undefined ? {} : { maxTotalBytes: options.zipMaxBytes }) : processContainer(file, kind, analyzer, sink));
    report(file.relPath);
  };

  let status: 'completed' | 'failed' | 'interrupted' = 'failed';
  let dumpPasses: VerifyResult['dumpPasses'] = null;
  // A first run builds the lookup indexes once its inserts are done, not row by row.
  let indexesDeferred = deferLookupIndexes(db);
  if (!indexesDeferred) restoreLookupIndexes(db);
  try {
    // A file whose size and mtime match its record is not opened at all: the state check below
    // would find a message file unchanged after the walk had read its first bytes for nothing,
    // and a file that held no message (a loose document) would be sniffed and hashed again.
    const leaveUnopened = (file: DiscoveredFile): string | null => {
      const answer = fileState(file);
      asked = { file, answer };
      return answer.state === 'unchanged' || answer.state === 'unchanged-skipped' ? answer.state : null;
    };
    for await (const entry of walkDump(root, { leaveUnopened })) {
      if (options.signal?.aborted) break;
      counts.files++;
      if (entry.type === 'unopened') {
        seen.add(entry.file.relPath);
        if (entry.because === 'unchanged-skipped') {
          counts.skipped++;
        } else {
          counts.containers++;
          counts.unchanged++;
        }
        report(entry.file.relPath);
        continue;
      }
      const isZip = entry.type === 'skipped' && entry.reason === 'not-email' && /\.zip$/i.test(entry.relPath) && /zip/i.test(entry.detail);
      if (entry.type === 'skipped' && !isZip) {
        seen.add(entry.relPath);
        counts.skipped++;
        report(entry.relPath);
        const { previous } = stateOf({ relPath: entry.relPath, absPath: entry.absPath, size: entry.size ?? 0, mtimeMs: entry.mtimeMs ?? 0 });
        await inFlight.add(recordSkipped(entry, previous));
        continue;
      }
      const file: DiscoveredFile =
        entry.type === 'container' ? entry.file : { relPath: entry.relPath, absPath: entry.absPath, size: entry.size ?? 0, mtimeMs: entry.mtimeMs ?? 0 };
      seen.add(file.relPath);
      counts.containers++;
      const { state, previous } = stateOf(file);
      if (state === 'unchanged') {
        counts.unchanged++;
        report(file.relPath);
        continue;
      }
      await inFlight.add(verifyFile(file, entry.type === 'container' ? entry.kind : 'zip', state, previous));
    }
    await inFlight.done();
    writer.flush();
    // Every message is analysed: the workers' memory goes back before the passes over the dump.
    await analyzer.close();
    if (indexesDeferred) {
      restoreLookupIndexes(db);
      indexesDeferred = false;
    }
    if (options.signal?.aborted) {
      status = 'interrupted';
    } else {
      // Only a complete walk knows which files are gone.
      writer.removeMissing(runId, seen, unlistedDirectories);
      // Messages compared with each other, and documents with attachments: only once all are
      // stored. They are recomputed whole from what is stored, so a run that stored nothing
      // after one that completed them would find the same again (1.7 s of a 3.8 s re-run over
      // 70,000 unchanged messages): their findings and verdicts are kept as they are.
      if (writer.writes === 0 && writer.removed === 0 && lastRun?.status === 'completed') {
        dumpPasses = 'kept';
      } else {
        runDumpPass(db);
        runDocumentsPass(db, root, await zipEntryFolds(db, root));
        dumpPasses = 'ran';
      }
      status = 'completed';
    }
  } finally {
    // Whatever happened, what was analysed is kept: a re-run resumes from it.
    await inFlight.settled();
    await analyzer.close();
    try {
      writer.flush();
      if (indexesDeferred) {
        try {
          restoreLookupIndexes(db);
        } catch {
          // (a run that failed on a full disk, say, fails again here: its own error is the one to
          // report, and the next run builds the indexes before anything else)
        }
      }
    } finally {
      // (a file found gone when a row took its path is recorded even by a run that stops early)
      counts.removed = writer.removed;
      writer.finishRun(runId, status, { ...counts, dumpPasses, cpu: cpuTimeSoFar(), analysisThreads: analyzer.threadsStarted() });
    }
  }
  return { runId, counts, interrupted: status === 'interrupted', dumpPasses, otherRoot: lastWalk && !lastWalk.sameFolder ? lastWalk.root : null };
}

/**
 * What the system refused to the database, said as the user can act on it: everything committed
 * before is kept (each batch is a transaction), and a run started again resumes from it. Null for
 * any other error.
 */
function storageFailure(err: unknown, dbPath: string): StoreError | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  const what =
    code === 'SQLITE_FULL'
      ? 'the disk holding it is full'
      : code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY_')
        ? 'it can no longer be written (read-only)'
        : code === 'SQLITE_IOERR' || code.startsWith('SQLITE_IOERR_')
          ? `the system could not write it (${code})`
          : null;
  if (what === null) return null;
  return new StoreError(
    `${dbPath}: ${what}. Everything analysed up to the last batch written is kept; make room (or fix the cause) and run the same command again to resume. The run is recorded as failed where the database could still be written.`,
  );
}

const custodyOf = (record: FileRecord): PreviousFile => ({ size: record.size, mtimeMs: record.mtimeMs, sha256: record.sha256 });

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
  const { messages, error } = await analyzeStream([{ location: { absPath: file.absPath, kind, seen: { size: file.size, mtimeMs: file.mtimeMs } }, size: file.size }], analyzer);
  const one = messages.length === 1 ? messages[0]! : null;
  // An emlx file holds more than the message (its length line and Apple's property list).
  const sha256 = kind === 'emlx' || !one ? await sha256Of(analyzer, file.absPath, file.size, file.mtimeMs) : one.analysis.sha256;
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
  // (a note rides with an error's detail; on a file read whole, it is the row's reason)
  const note = located.note();
  const final: FileRecord = {
    ...record,
    status: error ? (count ? 'partial' : 'error') : 'ok',
    reason: error?.code ?? (note ? LENGTH_OVERRULED : null),
    detail: joinNotes(error?.message, note),
    // hashed as the scan read it, unless the scan stopped short of the end. None for a file that
    // changed while it was read: the scan may have hashed bytes appended after the walk, or a mix
    // of old and new bytes, a file that never existed, and the row then paired the walk's size
    // with that hash (red team V, V-05). (A file moved away is still read whole through the open
    // handle; hashing its path again would fail.)
    sha256: error?.code === 'changed' ? null : (located.sha256() ?? (error?.code === 'vanished' ? null : await sha256Of(analyzer, file.absPath, file.size))),
  };
  sink.finish(final);
  return final;
}

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

/**
 * Everything besides the bytes and the keys that a verdict depends on. Options left at their
 * defaults add nothing, so that a database verified before an option existed is not read again.
 */
function analysisContext(compromised: CompromisedList | null, analysis: AnalysisOptions, zipMaxBytes: number | undefined): string {
  // (the packages that decide verdicts, and Node, whose OpenSSL verifies and whose ICU reads
  // international domains: another install analyses every file again)
  const context: Record<string, unknown> = { tool: runToolVersion(), mailauth: MAILAUTH_VERSION, libraries: LIBRARY_VERSIONS, node: NODE_VERSION, compromised: compromised?.sha256 ?? null };
  if (analysis.trustedArcSealers.length) context['trustedArcSealers'] = analysis.trustedArcSealers;
  // (what an archive's messages are depends on how much of it is read: another limit reads it again)
  if (zipMaxBytes !== undefined) context['zipMaxBytes'] = zipMaxBytes;
  return createHash('sha256').update(JSON.stringify(context)).digest('hex');
}
