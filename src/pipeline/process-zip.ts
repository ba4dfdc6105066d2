import { createHash } from 'node:crypto';
import type { DiscoveredFile } from '../discover/types.ts';
import { LENGTH_OVERRULED, OverruledLengths, splitMbox } from '../read/mbox-split.ts';
import { releaseNow } from '../read/reusable-buffer.ts';
import { ReadError } from '../read/types.ts';
import { BINARY_ENTRY, MAY_HOLD_MAIL, MBOX_ENTRY, NESTED_ARCHIVE, zipEntryChunks } from '../read/zip-entry.ts';
import { describeUnlistedBytes, entriesSharingNames, locateZipEntries, type LocatedZipEntry, type UnlistedBytes, type ZipEntryLocation, type ZipLimits } from '../read/zip.ts';
import type { FileRecord, StoredMessage } from '../store/write.ts';
import type { DerivedPath } from './derived-paths.ts';
import { analyzeStream, joinNotes, sha256Of, processEmbedded, withEmbedded, type FileSink, type ProcessedFile } from './message-stream.ts';
import { TasksInFlight } from './tasks-in-flight.ts';
import type { Analyzer } from './worker-pool.ts';

/**
 * A zip archive is never extracted: this thread reads its central directory, and each entry is
 * read and inflated where it lies by the thread that analyses it, several at once, as the
 * messages of an mbox are (the bytes never come here). Every email in it is verified as a file of
 * its own, `archive.zip!inner/path.eml`. Entries refused by a guard (encrypted, a bomb, corrupt,
 * too large) are recorded as such. Every other entry that is no email (a document, text, binary
 * data, a compressed mbox) gets the row its loose twin would, `skipped` with its inflated size
 * and sha256, and is a document (documents-pass.ts); directories get none.
 * Bytes of the archive that no listed entry accounts for are recorded on the archive's row
 * (reason `unlisted-bytes`): they may be entries that other tools read. So are entries whose
 * local header disagrees with the central directory (reason `local-header-mismatch`, and a note
 * on the entry's own row): other tools read them under another name, or as other bytes.
 */
export async function processZip(file: DiscoveredFile, analyzer: Analyzer, sink: FileSink, limits: ZipLimits = {}): Promise<FileRecord> {
  const record: FileRecord = { path: file.relPath, kind: 'zip', status: 'ok', reason: null, detail: null, size: file.size, mtimeMs: file.mtimeMs, sha256: null };
  sink.begin(record);
  // The archive's own sha256, read alongside its entries by an analysing thread: this one
  // inflates and cuts an mbox inside the archive, and is the slower path there.
  const archiveSha256 = sha256Of(analyzer, file.absPath, file.size);
  const notes: string[] = [];
  let emails = 0;
  let error: ReadError | null = null;
  // A zip may hold two entries of one name (tools then disagree on which one is "the" file:
  // `unzip -o` keeps the last, others the first; a way to show different readers different
  // mail), or names that are made safe alike. No entry of such a name takes the name alone,
  // each is told by its place in the archive, and each row names the others.
  const sharedNames = await entriesSharingNames(file.absPath);
  const pathOf = ({ safeName, index, localHeader }: { safeName: string; index: number; localHeader?: string }): DerivedPath => {
    const withName = sharedNames.get(safeName);
    const { path, note } = sink.paths.claim(`${file.relPath}!${withName ? `${safeName}#entry-${index}` : safeName}`);
    return { path, note: joinNotes(withName && othersWithName(withName, index), localHeader && `its local header ${localHeader}`, note) };
  };
  // On the archive's row too: the entries that get no row of their own (a directory) are counted there.
  const disagreeing: LocalHeaderDisagreements = { count: 0, first: [] };
  const entryRecord = (path: string, fields: Pick<FileRecord, 'status' | 'reason' | 'detail' | 'size' | 'sha256'>): FileRecord => ({
    path,
    kind: 'zip-entry',
    mtimeMs: null,
    parent: { path: file.relPath, messageIndex: null },
    ...fields,
  });
  const refusal = ({ path, note }: DerivedPath, code: string, detail: string, size: number | null): ProcessedFile => ({
    record: entryRecord(path, { status: code === 'corrupt-entry' ? 'error' : 'skipped', reason: UNREAD_REASONS.get(code) ?? code, detail: joinNotes(detail, note), size, sha256: null }),
    messages: [],
  });
  const analyzeEntry = async ({ location }: LocatedZipEntry, derived: DerivedPath): Promise<void> => {
    const { messages, error: entryError } = await analyzeStream(
      [{ location: { absPath: file.absPath, kind: 'zip-entry', entry: location }, size: location.size }],
      analyzer,
    );
    if (!messages.length && entryError && DOCUMENTS.has(entryError.code)) {
      sink.files([await documentEntry(location, derived, entryError)]);
      return;
    }
    if (!messages.length && entryError?.code === MBOX_ENTRY) {
      // (not `emails += await …`, which would read `emails` before the wait and lose the entries counted meanwhile)
      const held = await analyzeMboxEntry(location, derived);
      emails += held;
      return;
    }
    // (a nested archive, or an entry that may hold mail, is recorded, but is not an email)
    if (!(entryError && NOT_EMAILS.has(entryError.code))) emails++;
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
   * An entry that is no message and is a document by the rules loose files follow (a PDF, a
   * .docx, binary data, an empty file): a row of its own, with its inflated size and sha256, as a
   * loose document has, so that the documents pass compares it like one (red team Y, Y-06: a
   * forged contract.pdf zipped escaped the name-conflict red flag). Its head told what it is; the
   * rest is inflated here only to be hashed, as a stream, and an entry that fails the guards then
   * is recorded as the refusal it is.
   */
  const documentEntry = async (location: ZipEntryLocation, derived: DerivedPath, judged: ReadError): Promise<ProcessedFile> => {
    let sha256: string;
    try {
      sha256 = location.size === 0 ? EMPTY_SHA256 : await (await analyzer.hashAt(file.absPath, location.size, location)).result;
    } catch (err) {
      const refused = err instanceof ReadError ? err : new ReadError('corrupt-entry', `corrupt entry: ${(err as Error).message}`);
      return refusal(derived, refused.code, refused.message, location.size);
    }
    const reason = UNREAD_REASONS.get(judged.code) ?? judged.code;
    return { record: entryRecord(derived.path, { status: 'skipped', reason, detail: joinNotes(judged.message, derived.note), size: location.size, sha256 }), messages: [] };
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
    const memory = analyzer.messageMemory();
    const overruled = new OverruledLengths();
    // (MessageRing.gather: a message too large for the ring is handed to its worker shared)
    const gathered = memory && { take: (size: number) => memory.gather(size) };
    const messages = splitMbox(hashed(zipEntryChunks(file.absPath, location)), { maxMessageBytes: location.maxEntryBytes, memory: gathered, overruled });
    const onBatch = async (batch: StoredMessage[]): Promise<void> => {
      count += batch.length;
      sink.append(path, batch);
      for (const m of batch) sink.files(await processEmbedded(path, `${path}#${m.index}`, m, analyzer, sink.paths, 1));
    };
    // (a message is in the pool's shared memory, else in memory of its own from splitMbox)
    const release = (raw: Buffer): void => {
      if (!memory?.give(raw)) releaseNow(raw);
    };
    const { error: entryError } = await analyzeStream(messages, analyzer, onBatch, { release });
    // (as on a loose mbox's row: see processMbox)
    const lengths = overruled.note();
    sink.finish({
      ...entry,
      status: entryError ? (count ? 'partial' : 'error') : 'ok',
      reason: entryError?.code ?? (lengths ? LENGTH_OVERRULED : null),
      detail: joinNotes(entryError?.message, lengths, note),
      // the bytes of the mbox as inflated, when all of them were
      sha256: entryError ? null : hash.digest('hex'),
    });
    return count;
  };
  // An entry's failure is the store's (a full disk): thrown to the run, as a loose file's is,
  // never taken for the archive's own read error.
  const tasks = new TasksInFlight(() => Math.max(MAX_PENDING_ENTRIES, analyzer.holds()));
  let unlisted: UnlistedBytes | null = null;
  const listing = locateZipEntries(file.absPath, limits);
  try {
    for (;;) {
      let next: Awaited<ReturnType<typeof listing.next>>;
      try {
        next = await listing.next();
      } catch (err) {
        error = err instanceof ReadError ? err : new ReadError('read-failed', (err as Error).message);
        break;
      }
      if (next.done) {
        unlisted = next.value;
        break;
      }
      const item = next.value;
      if (item.localHeader && disagreeing.count++ < DISAGREEING_SHOWN) disagreeing.first.push(`${item.safeName} (its local header ${item.localHeader})`);
      if ('skipped' in item) {
        if (item.stopped) notes.push(`${item.safeName}: ${item.skipped}`);
        else if (!NOT_MESSAGES.has(item.code)) sink.files([refusal(pathOf(item), item.code, item.skipped, null)]);
        continue;
      }
      await tasks.add(analyzeEntry(item, pathOf(item)));
    }
  } finally {
    // (a listing left before its end still holds the archive open)
    await listing.return(null);
    await tasks.settled();
  }
  await tasks.done();
  const disagreement = disagreeing.count ? describeDisagreeing(disagreeing) : null;
  const final: FileRecord = {
    ...record,
    status: error ? (emails ? 'partial' : 'error') : 'ok',
    reason: error?.code ?? (notes.length ? 'zip-limits' : unlisted ? UNLISTED_BYTES : disagreement ? LOCAL_HEADER_MISMATCH : null),
    detail: joinNotes(
      error?.message ?? (notes.length ? notes.join('; ') : joinNotes(`${emails} email(s) inside`, unlisted && describeUnlistedBytes(unlisted))),
      disagreement,
    ),
    sha256: await archiveSha256,
  };
  sink.finish(final);
  return final;
}

/** The reason on an archive's row when some of its bytes are in no entry its central directory lists. */
const UNLISTED_BYTES = 'unlisted-bytes';
/** The reason on an archive's row (when it has none before it) when local headers disagree with the central directory. */
const LOCAL_HEADER_MISMATCH = 'local-header-mismatch';

/** How many entries whose local header disagrees with the central directory an archive's row names. */
const DISAGREEING_SHOWN = 5;

interface LocalHeaderDisagreements {
  count: number;
  /** the first DISAGREEING_SHOWN, described */
  first: string[];
}

function describeDisagreeing({ count, first }: LocalHeaderDisagreements): string {
  const more = count > first.length ? `, and ${count - first.length} more` : '';
  const entries = count === 1 ? 'the local header of 1 entry disagrees' : `the local headers of ${count} entries disagree`;
  return `${entries} with the central directory, which is what is read here (tools that walk the local headers read them otherwise): ${first.join(', ')}${more}`;
}

/** How many of the other entries of a shared name a row names. */
const OTHERS_NAMED = 10;

/** The note on the row of entry `index`, one of the entries `withName` (central directory order) sharing its name. */
function othersWithName(withName: number[], index: number): string {
  const others: number[] = [];
  for (const other of withName) {
    if (other !== index) others.push(other);
    if (others.length === OTHERS_NAMED) break;
  }
  const count = withName.length - 1;
  if (count === 1) return `another entry of the archive (entry ${others[0]}) has the same name`;
  const more = count > others.length ? `, and ${count - others.length} more` : '';
  return `${count} other entries of the archive (entries ${others.join(', ')}${more}) have the same name`;
}

/** Entries of an archive that get no row: directories (the other entries that are no message are documents). */
const NOT_MESSAGES = new Set(['directory', 'not-email', 'empty']);
/**
 * Entries read and found to be no message that are documents, as their loose twins are
 * (DOCUMENT_REASONS): a document, text, an empty file, binary data, and what may hold mail
 * without being read as it (a compressed mbox, UTF-16 text), which is recorded either way.
 */
const DOCUMENTS = new Set(['not-email', 'empty', MAY_HOLD_MAIL, BINARY_ENTRY]);
const EMPTY_SHA256 = createHash('sha256').digest('hex');
/**
 * Entries that are no email but may hold some (see refusalOfHead), by the reason on their row:
 * the one their loose twin's row gives.
 */
const UNREAD_REASONS: ReadonlyMap<string, string> = new Map([
  [MAY_HOLD_MAIL, 'not-email'],
  [BINARY_ENTRY, 'binary'],
]);
/** Entries recorded that are not emails. */
const NOT_EMAILS = new Set([NESTED_ARCHIVE, ...UNREAD_REASONS.keys()]);
/** What the guards say of an entry read as a message and refused (see zip-entry.ts), and the other entries recorded: recorded as such. */
const ZIP_REFUSALS = new Set(['too-large', 'zip-bomb', 'corrupt-entry', ...NOT_EMAILS]);
/**
 * Entries of one archive in progress at once, at least: enough to keep every worker busy (each
 * holds only the entry it is on; nothing of them waits here but their analyses), and more when
 * the pool can hold more (Analyzer.holds).
 */
const MAX_PENDING_ENTRIES = 32;
