/**
 * The messages of one file of the dump on their way through the analysis pool and into the
 * store: a stream of them analysed in order (`analyzeStream`), the forwarded messages found in
 * them (`processEmbedded`), and where the results go (`FileSink`). run-verify.ts drives it for
 * loose files and mboxes, process-zip.ts for archives.
 */
import { attachmentPath } from '../attachments/inventory.ts';
import { DEFAULT_MAX_EMBEDDED_BYTES } from '../attachments/inventory-options.ts';
import { closeEvidenceSync, openEvidenceSync, statEvidenceSync } from '../discover/open-evidence.ts';
import { changedSince, readMessageAt, type LocatedMessage } from '../read/read-container.ts';
import { ReadError, type RawMessage } from '../read/types.ts';
import type { FileRecord, StoredMessage } from '../store/write.ts';
import { applyCarrierFindings } from '../verdict/findings-from-outside.ts';
import type { PathClaims } from './derived-paths.ts';
import type { Analyzer } from './worker-pool.ts';

export interface ProcessedFile {
  record: FileRecord;
  messages: StoredMessage[];
}

/** Forwarded messages are verified this many levels down (a forward of a forward of a forward); deeper ones are recorded, not followed. */
const MAX_EMBEDDED_DEPTH = 3;

/**
 * What a stream of messages holds: messages already in memory (a zip entry, a forwarded
 * message), or messages the analysing thread reads itself where they lie (a single-message
 * file, a message of an mbox).
 */
export type StreamItem = RawMessage | LocatedMessage;

/**
 * Analyses every message of a stream, in order, through the pool. A read error stops the
 * stream but keeps what came before it; a message the analysis cannot handle is recorded as an
 * error of its file and never stops the run.
 */
export async function analyzeStream(
  source: AsyncIterable<StreamItem> | Iterable<StreamItem>,
  analyzer: Analyzer,
  onBatch?: (messages: StoredMessage[]) => Promise<void>,
  options: { release?: (raw: Buffer) => void } = {},
): Promise<{ messages: StoredMessage[]; error: ReadError | null; failed: number }> {
  let analyses: Array<Promise<StoredMessage | Error>> = [];
  const kept: StoredMessage[] = [];
  let error: ReadError | null = null;
  let failed = 0;
  let firstFailure = '';
  let handedOn = null as { error: unknown } | null;
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
    if (!onBatch) kept.push(...ok);
    else {
      try {
        await onBatch(ok);
      } catch (err) {
        // The store's failure (a full disk), not the stream's: thrown to the run below, never
        // recorded as this file's read error.
        handedOn = { error: err };
        throw err;
      }
    }
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
        let submitted: Awaited<ReturnType<Analyzer['submit']>>;
        try {
          submitted = await analyzer.submit(raw, format);
        } catch (err) {
          options.release?.(raw);
          throw err;
        }
        // Memory of the stream's own (`release`): given back once the worker is done with it,
        // rather than when a collection finds it (kept until then in case the analysis fails,
        // whose record needs the bytes).
        analyses.push(
          submitted.result
            .then(
              (analysis): StoredMessage => ({ index, offset, format, envelope: envelope ?? null, analysis }),
              // (from a copy: the record outlives memory that is given back)
              (err: unknown) => recordFailure(err, () => (options.release ? { ...item, raw: Buffer.from(raw) } : item)),
            )
            .finally(() => options.release?.(raw)),
        );
      }
      if (onBatch && analyses.length >= STREAM_BATCH) await drain();
    }
  } catch (err) {
    if (handedOn) throw handedOn.error;
    error = err instanceof ReadError ? err : new ReadError('read-failed', (err as Error).message);
  }
  await drain();
  // A message the analysis could not handle is recorded as an error of its file, never a reason to stop the run.
  if (failed && !error) error = new ReadError('analysis-failed', `${failed} message(s) could not be analysed: ${firstFailure}`);
  return { messages: kept, error, failed };
}

const STREAM_BATCH = 256;

/** Where processed files go: the run's batched writer, in order (a file before what it holds). */
export interface FileSink {
  /** a file with the forwarded messages found inside it, committed together (never one without the others) */
  files(processed: ProcessedFile[]): void;
  begin(record: FileRecord): void;
  append(path: string, messages: StoredMessage[]): void;
  finish(record: FileRecord): void;
  /** the paths of rows that stand for no file of the dump (forwarded messages, zip entries) */
  paths: PathClaims;
}

/**
 * Forwarded messages (message/rfc822 parts) keep their original signatures: each is verified as
 * a message in its own right, as a file of its own (`parent.eml#attachment-2`) linked to the
 * message that carried it.
 */
export async function processEmbedded(
  parentPath: string,
  parentLabel: string,
  parent: StoredMessage,
  analyzer: Analyzer,
  paths: PathClaims,
  depth: number,
): Promise<ProcessedFile[]> {
  const out: ProcessedFile[] = [];
  for (const part of parent.analysis.embedded) {
    const { path, note } = paths.claim(attachmentPath(parentLabel, part.partIndex));
    const nested = depth > MAX_EMBEDDED_DEPTH;
    const { messages, error } = nested
      ? { messages: [], error: new ReadError('too-deep', `a forwarded message nested more than ${MAX_EMBEDDED_DEPTH} deep is recorded but not verified`) }
      : part.raw === null
        ? { messages: [], error: new ReadError('too-large', `a forwarded message of ${part.size} bytes, over the ${DEFAULT_MAX_EMBEDDED_BYTES} bytes read of one, is recorded but not verified`) }
        : await analyzeStream(oneMessage(part.raw), analyzer);
    // what the carrier says about how its forwarded messages were cut out of it
    for (const m of messages) {
      const { verdict, findings } = applyCarrierFindings(m.analysis.verdict, parent.analysis.findings);
      // its parts were judged while it was verified: what no verified message proves is unverified
      // (red team Y, Y-01: a document stayed verified-by-email through an unverifiable message)
      if (verdict.verdict !== m.analysis.verdict.verdict) m.analysis.parts = m.analysis.parts.map(({ nameUnsigned: _, ...p }) => ({ ...p, strength: 'unverified' }));
      m.analysis.verdict = verdict;
      m.analysis.findings = [...m.analysis.findings, ...findings];
    }
    out.push({
      record: {
        path,
        kind: 'embedded',
        status: error ? 'error' : 'ok',
        reason: error?.code ?? null,
        detail: joinNotes(error?.message, note),
        size: part.size,
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
export async function withEmbedded(file: ProcessedFile, analyzer: Analyzer, paths: PathClaims): Promise<ProcessedFile[]> {
  const { path } = file.record;
  const out = [file];
  for (const m of file.messages) out.push(...(await processEmbedded(path, path, m, analyzer, paths, 1)));
  return out;
}

export async function* oneMessage(raw: Buffer): AsyncGenerator<RawMessage> {
  yield { index: 0, offset: 0, raw, format: 'eml' };
}

/** The details of a row, each said once, `; `-separated; null when there are none. */
export const joinNotes = (...notes: Array<string | null | undefined>): string | null => notes.filter(Boolean).join('; ') || null;

/**
 * A whole file's sha256, hashed by an analysing thread (null: it could not be read). With the
 * mtime the walk saw, null too if the file no longer has that size and mtime once hashed: the
 * row stores the walk's, and a hash of other bytes beside them is a false custody record (red
 * team G-02). (Checked here, after the hash, because the hashing thread is told only the path.)
 */
export async function sha256Of(analyzer: Analyzer, absPath: string, size: number, mtimeMs?: number | null): Promise<string | null> {
  const { result } = await analyzer.hashAt(absPath, size);
  const sha256 = await result.catch(() => null);
  if (sha256 === null || mtimeMs === undefined || mtimeMs === null) return sha256;
  try {
    const fd = openEvidenceSync(absPath);
    try {
      return changedSince({ size, mtimeMs }, statEvidenceSync(fd)) === null ? sha256 : null;
    } finally {
      closeEvidenceSync(fd);
    }
  } catch {
    return null;
  }
}

