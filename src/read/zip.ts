/**
 * The email messages inside a zip archive of the dump, read in memory: nothing is ever extracted
 * to disk, and the archive is opened read-only through openEvidence like every other file of the
 * dump. Two readers share the central directory's guards (judgeEntry): readZipEmails streams
 * every entry through yauzl on the calling thread; locateZipEntries only lists where the entries
 * lie, for `verify`'s analysing threads to read and inflate each one themselves (zip-entry.ts).
 *
 * An archive is hostile input. The guards:
 * - entry names are never used as paths; `safeName` is a printable, traversal-free form of the
 *   name for reports (see sanitizeEntryName);
 * - no entry may inflate to more, or less, than its header declares (readZipEmails: yauzl's
 *   validateEntrySizes, the stream aborted the moment it is crossed; readZipEntryAt: zlib stops
 *   a byte past it), so the limits are crossed by declared sizes or not at all: per entry
 *   (`maxEntryBytes`), per archive (`maxTotalBytes`, which then stops the archive), and by
 *   compression ratio (`maxRatio`, for entries past `ratioMinBytes`: zip bombs);
 * - declared sizes and ratios refuse an entry before any of it is inflated;
 * - at most `maxEntries` entries are looked at;
 * - encrypted entries, unknown compression methods and entries sharing their data with an
 *   earlier entry (overlapping-entry bombs) are skipped;
 * - every message read is checked against the CRC-32 of its entry.
 * Memory stays within about one entry (`maxEntryBytes`) plus yauzl's and zlib's buffers, per
 * thread reading entries.
 */
import { crc32 } from 'node:zlib';
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { openEvidence } from '../discover/open-evidence.ts';
import { ReadError } from './types.ts';
import { refusalOfHead, SNIFF_BYTES, sniffsAsMessage } from './zip-entry.ts';

export { sniffsAsMessage };

export interface ZipLimits {
  /** entries looked at before the archive is given up (a marker is yielded); default 1,000,000 */
  maxEntries?: number;
  /** largest message read, in inflated bytes; default 64 MiB */
  maxEntryBytes?: number;
  /**
   * inflated bytes read from the whole archive before it is given up (a marker is yielded);
   * default 20 times the archive's size, and at least 1 GiB
   */
  maxTotalBytes?: number;
  /** largest inflated/compressed ratio for an entry larger than `ratioMinBytes`; default 200 */
  maxRatio?: number;
  /** entries up to this many inflated bytes are not judged by ratio (small text compresses well); default 1 MiB */
  ratioMinBytes?: number;
  /**
   * also inflate the entries that are not messages, to give their size and sha256 (so that loose
   * documents inside archives can be matched to attachments); default false. Nothing is kept.
   */
  hashOthers?: boolean;
}

export const ZIP_DEFAULTS = {
  // A mailbox exported as a zip holds an entry per message: the 2017 MacronLeaks dump alone was
  // over 20,000 emails. Entries cost only their central directory record until they are read.
  maxEntries: 1_000_000,
  maxEntryBytes: 64 * 1024 * 1024,
  /** the floor of the default total (see resolveLimits) */
  maxTotalBytes: 1024 * 1024 * 1024,
  /** the default total in bytes inflated per byte of archive: mail compresses 2-5 times, bombs far more */
  maxTotalPerArchiveByte: 20,
  maxRatio: 200,
  ratioMinBytes: 1024 * 1024,
} as const;

/** A message found in the archive. */
export interface ZipEmail {
  /** position of the entry in the archive's central directory, 0-based */
  index: number;
  /** the entry name as stored (CP437 or UTF-8 decoded); may hold `..`, backslashes, control characters */
  entryName: string;
  /** the entry name made safe to show and to use inside a path string (see sanitizeEntryName) */
  safeName: string;
  raw: Buffer;
}

/** An entry not yielded as a message, and why. */
export interface ZipSkipped {
  index: number;
  entryName: string;
  safeName: string;
  skipped: string;
  /** what kind of refusal, for the database (`source_files.reason`) */
  code: ZipSkipCode;
  /** set on the last item when the archive was given up (too many entries, too many bytes) */
  stopped?: true;
  /** with `hashOthers`: inflated size and sha256 of an entry that is not a message */
  size?: number;
  sha256?: string;
}

export type ZipItem = ZipEmail | ZipSkipped;

/**
 * Why an entry was not read as a message. `directory` and `not-email` are the normal case of an
 * archive's other entries; every other code is a refusal worth recording against the archive.
 */
export type ZipSkipCode =
  | 'directory'
  | 'not-email'
  | 'empty'
  | 'encrypted'
  | 'unsupported-compression'
  | 'zip-bomb'
  | 'too-large'
  | 'corrupt-entry'
  | 'zip-limits'
  /** an mbox: not one message, but a stream of them (see zipEntryChunks) */
  | 'mbox-entry'
  /** a zip inside the archive, not opened */
  | 'nested-archive';


/**
 * A form of an entry name that is safe to show and to embed in a path string such as
 * `dump/a.zip#dir/b.eml`: backslashes become `/`; empty, `.` and leading `/` segments go;
 * `..` segments become `%2E%2E`; `%`, `#`, control characters and a drive letter's colon are
 * percent-encoded. Distinct names may still map to one safe name only where they differ by
 * separators or `.` segments; the entry index tells them apart.
 */
export function sanitizeEntryName(name: string, index = 0): string {
  const encodeChar = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
  const segments = name
    .replace(/\\/g, '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .map((segment) => (segment === '..' ? '%2E%2E' : segment.replace(/[%#\u0000-\u001f\u007f]/gu, encodeChar)));
  const first = segments[0];
  if (first !== undefined && /^[A-Za-z]:/.test(first)) segments[0] = `${first[0]}%3A${first.slice(2)}`;
  return segments.length === 0 ? `entry-${index}` : segments.join('/');
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * yauzl's view of the archive, through the evidence handle. yauzl's own fd reader closes the
 * descriptor it is given when it is done with it, behind the back of the handle that owns it;
 * this one reads with the handle and leaves closing it to readZipEmails.
 */
class EvidenceReader extends yauzl.RandomAccessReader {
  readonly handle: FileHandle;

  constructor(handle: FileHandle) {
    super();
    this.handle = handle;
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    const fill = async (): Promise<number> => {
      let done = 0;
      while (done < length) {
        const { bytesRead } = await this.handle.read(buffer, offset + done, length - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done;
    };
    fill().then(
      (bytesRead) => callback(null, bytesRead),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const handle = this.handle;
    let position = start;
    return new Readable({
      highWaterMark: 64 * 1024,
      read(size: number): void {
        const length = Math.min(Math.max(size, 16 * 1024), 256 * 1024, end - position);
        if (length <= 0) {
          this.push(null);
          return;
        }
        const buffer = Buffer.allocUnsafe(length);
        handle.read(buffer, 0, length, position).then(
          ({ bytesRead }) => {
            if (bytesRead === 0) {
              this.destroy(new Error('unexpected end of file'));
              return;
            }
            position += bytesRead;
            this.push(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
          },
          (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
        );
      },
    });
  }

  override close(callback: (err: Error | null) => void): void {
    setImmediate(() => callback(null));
  }
}

function openZip(handle: FileHandle, size: number): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(
      new EvidenceReader(handle),
      size,
      // decodeStrings off: yauzl would otherwise refuse the whole archive for one `../` name;
      // names are decoded below and only ever sanitized
      { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true },
      (err, zipfile) => (err ? reject(err) : resolve(zipfile)),
    );
  });
}

/** The next central directory entry, null at the end; rejects on a corrupt central directory. */
function nextEntry(zip: ZipFile): Promise<Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: Entry): void => {
      cleanup();
      resolve(entry);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(null);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

function openStream(zip: ZipFile, entry: Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream)));
  });
}

/** Limits with their defaults filled in. */
type ResolvedLimits = Required<Omit<ZipLimits, 'hashOthers'>>;

/**
 * The limits for an archive of `archiveBytes`. The total scales with the archive: a fixed 1 GiB
 * gave up on any real mailbox export past that size. Bombs stay bounded: each entry by its own
 * ratio and size limits, and the whole archive by this multiple of the bytes it takes on disk.
 */
function resolveLimits(limits: ZipLimits, archiveBytes: number): ResolvedLimits {
  return {
    maxEntries: limits.maxEntries ?? ZIP_DEFAULTS.maxEntries,
    maxEntryBytes: limits.maxEntryBytes ?? ZIP_DEFAULTS.maxEntryBytes,
    maxTotalBytes: limits.maxTotalBytes ?? Math.max(ZIP_DEFAULTS.maxTotalBytes, archiveBytes * ZIP_DEFAULTS.maxTotalPerArchiveByte),
    maxRatio: limits.maxRatio ?? ZIP_DEFAULTS.maxRatio,
    ratioMinBytes: limits.ratioMinBytes ?? ZIP_DEFAULTS.ratioMinBytes,
  };
}

/** What the guards remember from one entry of an archive to the next. */
interface DirectoryState {
  /** inflated bytes counted against `maxTotalBytes` */
  total: number;
  /** local header offsets already read: an entry pointing at one again is an overlap bomb */
  dataOffsets: Set<number>;
}

/** The most an entry may inflate to before it counts as a bomb by ratio. */
const ratioLimitOf = (entry: Entry, limits: ResolvedLimits): number => Math.max(limits.ratioMinBytes, entry.compressedSize * limits.maxRatio);

const isNamedMessage = (entryName: string): boolean => /\.eml$/i.test(entryName);

type Refusal = Pick<ZipSkipped, 'skipped' | 'code' | 'stopped'>;

/**
 * The central directory's verdict on an entry, before any of its data is read: why it is not
 * read, or null to read it. Both readers of archives apply these same guards.
 */
function judgeEntry(entry: Entry, index: number, entryName: string, limits: ResolvedLimits, state: DirectoryState): Refusal | null {
  if (index >= limits.maxEntries) return { skipped: `archive given up: more than ${limits.maxEntries} entries`, code: 'zip-limits', stopped: true };
  if (entryName.endsWith('/') || entryName.endsWith('\\')) return { skipped: 'directory', code: 'directory' };
  if (entry.isEncrypted()) return { skipped: 'encrypted', code: 'encrypted' };
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    return { skipped: `unsupported compression method ${entry.compressionMethod}`, code: 'unsupported-compression' };
  }
  if (state.dataOffsets.has(entry.relativeOffsetOfLocalHeader)) {
    return { skipped: 'zip bomb suspected: entry shares its data with an earlier entry', code: 'zip-bomb' };
  }
  state.dataOffsets.add(entry.relativeOffsetOfLocalHeader);
  const declared = entry.uncompressedSize;
  if (declared > ratioLimitOf(entry, limits)) {
    return { skipped: `zip bomb suspected: declares ${declared} bytes from ${entry.compressedSize} compressed (limit ${limits.maxRatio}:1)`, code: 'zip-bomb' };
  }
  if (isNamedMessage(entryName) && declared > limits.maxEntryBytes) {
    return { skipped: `too large: declares ${declared} bytes, over the ${limits.maxEntryBytes}-byte limit`, code: 'too-large' };
  }
  if (state.total + declared > limits.maxTotalBytes) {
    return { skipped: `archive given up: it inflates to more than ${limits.maxTotalBytes} bytes`, code: 'zip-limits', stopped: true };
  }
  return null;
}

/** One entry of the central directory, with its names. */
interface DirectoryEntry {
  zip: ZipFile;
  entry: Entry;
  index: number;
  entryName: string;
  safeName: string;
}

/**
 * The entries of the archive at `absPath`, in central directory order, then the archive closed.
 * A corrupt archive throws a ReadError with code 'corrupt-zip', after the entries read before
 * the damage; system errors opening the file are thrown as they are.
 */
async function* zipDirectory(absPath: string, onOpen?: (identity: { size: number; mtimeMs: number }) => void): AsyncGenerator<DirectoryEntry> {
  const handle = await openEvidence(absPath);
  let zip: ZipFile | null = null;
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new ReadError('unreadable', 'not a regular file (any more)');
    onOpen?.({ size: stats.size, mtimeMs: stats.mtimeMs });
    try {
      zip = await openZip(handle, stats.size);
    } catch (err) {
      throw new ReadError('corrupt-zip', `not a readable zip archive: ${describe(err)}`);
    }
    // a late error (closing) must not go unhandled; entry errors are taken through nextEntry
    zip.on('error', () => {});
    for (let index = 0; ; index++) {
      let entry: Entry | null;
      try {
        entry = await nextEntry(zip);
      } catch (err) {
        throw new ReadError('corrupt-zip', `corrupt zip central directory after ${index} entries: ${describe(err)}`);
      }
      if (entry === null) return;
      const entryName = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
      yield { zip, entry, index, entryName, safeName: sanitizeEntryName(entryName, index) };
    }
  } finally {
    zip?.close();
    await handle.close();
  }
}

/** Why reading an entry stopped early. */
type Abort = { kind: 'skip'; reason: string; code: ZipSkipCode } | { kind: 'stop'; reason: string };

/**
 * The messages in the zip archive at `absPath`, in central directory order, with a `skipped`
 * item for every other entry (see the module comment for the guards), each read here, on the
 * calling thread. A corrupt archive throws a ReadError with code 'corrupt-zip', after the items
 * read before the damage; system errors opening the file are thrown as they are.
 * (`verify` reads its archives with locateZipEntries instead: the analysing threads inflate.)
 */
export async function* readZipEmails(absPath: string, limits: ZipLimits = {}): AsyncGenerator<ZipItem> {
  let resolved = resolveLimits(limits, 0);
  const hashOthers = limits.hashOthers ?? false;
  const state: DirectoryState = { total: 0, dataOffsets: new Set() };
  let stream: Readable | null = null;
  try {
    for await (const { zip, entry, index, entryName, safeName } of zipDirectory(absPath, ({ size }) => (resolved = resolveLimits(limits, size)))) {
      const { maxEntryBytes, maxTotalBytes, maxRatio } = resolved;
      const item = { index, entryName, safeName };
      const skip = (skipped: string, code: ZipSkipCode): ZipSkipped => ({ ...item, skipped, code });
      const stop = (skipped: string): ZipSkipped => ({ ...item, skipped, code: 'zip-limits', stopped: true });

      const refused = judgeEntry(entry, index, entryName, resolved, state);
      if (refused) {
        yield { ...item, ...refused };
        if (refused.stopped) return;
        continue;
      }
      const declared = entry.uncompressedSize;
      const ratioLimit = ratioLimitOf(entry, resolved);
      const named = isNamedMessage(entryName);

      try {
        stream = await openStream(zip, entry);
      } catch (err) {
        yield skip(`unreadable entry: ${describe(err)}`, 'corrupt-entry');
        continue;
      }

      // Read the entry: buffered when it is (or may be) a message, hashed only otherwise.
      // A stray error after the stream was given up must not go unhandled.
      stream.on('error', () => {});
      let abort: Abort | null = null;
      let isMessage = named;
      let decided = named;
      let buffer: Buffer | null = named ? Buffer.alloc(declared) : null;
      let hash: ReturnType<typeof createHash> | null = null;
      const head: Buffer[] = [];
      let headLength = 0;
      let filled = 0;
      let crc = 0;
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          filled += chunk.length;
          state.total += chunk.length;
          if (state.total > maxTotalBytes) {
            abort = { kind: 'stop', reason: `archive given up: it inflates to more than ${maxTotalBytes} bytes` };
          } else if (filled > declared) {
            abort = { kind: 'skip', reason: `zip bomb suspected: inflates to more than the ${declared} bytes it declares`, code: 'zip-bomb' };
          } else if (filled > ratioLimit) {
            abort = { kind: 'skip', reason: `zip bomb suspected: inflates beyond ${maxRatio}:1`, code: 'zip-bomb' };
          } else if (isMessage && filled > maxEntryBytes) {
            abort = { kind: 'skip', reason: `too large: over the ${maxEntryBytes}-byte limit`, code: 'too-large' };
          }
          if (abort) break;
          crc = crc32(chunk, crc);

          if (buffer) {
            chunk.copy(buffer, filled - chunk.length);
            continue;
          }
          if (hash) {
            hash.update(chunk);
            continue;
          }
          // not named .eml: sniff the first bytes
          head.push(chunk);
          headLength += chunk.length;
          if (headLength < SNIFF_BYTES && filled < declared) continue;
          const start = Buffer.concat(head, headLength);
          head.length = 0;
          decided = true;
          const refusal = refusalOfHead(start, declared, maxEntryBytes);
          if (refusal?.code === 'not-email' && hashOthers) {
            hash = createHash('sha256').update(start);
          } else if (refusal) {
            abort = { kind: 'skip', reason: refusal.reason, code: refusal.code };
            break;
          } else {
            isMessage = true;
            buffer = Buffer.alloc(declared);
            start.copy(buffer, 0);
          }
        }
      } catch (err) {
        const message = describe(err);
        abort = /too many bytes in the stream/.test(message)
          ? { kind: 'skip', reason: `zip bomb suspected: inflates to more than the ${declared} bytes it declares`, code: 'zip-bomb' }
          : { kind: 'skip', reason: `corrupt entry: ${message}`, code: 'corrupt-entry' };
      } finally {
        // breaking out of the loop destroyed the stream already; make sure of it
        stream.destroy();
        stream = null;
      }

      if (abort?.kind === 'stop') {
        yield stop(abort.reason);
        return;
      }
      if (abort) {
        yield skip(abort.reason, abort.code);
        continue;
      }
      if (filled !== declared) {
        yield skip(`corrupt entry: inflates to ${filled} bytes, ${declared} declared`, 'corrupt-entry');
        continue;
      }
      if (crc >>> 0 !== entry.crc32 >>> 0) {
        yield skip('corrupt entry: CRC-32 mismatch', 'corrupt-entry');
        continue;
      }
      if (!decided) {
        // only an empty entry ends before the sniff decides
        yield hashOthers ? { ...skip('empty', 'empty'), size: 0, sha256: createHash('sha256').digest('hex') } : skip('empty', 'empty');
      } else if (isMessage && buffer) {
        yield { ...item, raw: buffer };
      } else if (hash) {
        yield { ...skip('not an email message', 'not-email'), size: filled, sha256: hash.digest('hex') };
      }
    }
  } finally {
    stream?.destroy();
  }
}

/**
 * Where an entry's data lies in its archive, for the thread that analyses it to read and inflate
 * it itself (see readZipEntryAt): its bytes never pass through the main thread.
 */
export interface ZipEntryLocation {
  /** the archive as it was when its central directory was read: a changed archive is not read */
  identity: { size: number; mtimeMs: number };
  /** offset of the entry's (compressed) data, past its local header */
  dataStart: number;
  compressedSize: number;
  /** the inflated size the archive declares: the entry must inflate to exactly this */
  size: number;
  method: 0 | 8;
  crc32: number;
  /** named `.eml`: read as a message whatever its content; any other entry only if it sniffs as one */
  named: boolean;
  maxEntryBytes: number;
}

export interface LocatedZipEntry {
  index: number;
  entryName: string;
  safeName: string;
  location: ZipEntryLocation;
}

/**
 * The entries of the zip archive at `absPath` that may be messages, located for the threads
 * that read them, and a `skipped` item for every other entry, in central directory order. The
 * central directory's guards are readZipEmails' (judgeEntry); the rest are applied where the
 * entry is inflated, by readZipEntryAt: the same outcome for every entry, as a test checks.
 *
 * The archive's total is counted as the entries declare, which bounds what they may inflate to
 * (an entry that inflates to more is refused as soon as it does). An entry not named `.eml` and
 * too large to be a message is counted only for the head that is inflated to tell what it is.
 * Errors are readZipEmails'.
 */
export async function* locateZipEntries(absPath: string, limits: ZipLimits = {}): AsyncGenerator<LocatedZipEntry | ZipSkipped> {
  let resolved = resolveLimits(limits, 0);
  const state: DirectoryState = { total: 0, dataOffsets: new Set() };
  let identity = { size: 0, mtimeMs: 0 };
  const onOpen = (seen: typeof identity): void => {
    identity = seen;
    resolved = resolveLimits(limits, seen.size);
  };
  for await (const { zip, entry, index, entryName, safeName } of zipDirectory(absPath, onOpen)) {
    const item = { index, entryName, safeName };
    const refused = judgeEntry(entry, index, entryName, resolved, state);
    if (refused) {
      yield { ...item, ...refused };
      if (refused.stopped) return;
      continue;
    }
    let dataStart: number;
    try {
      ({ fileDataStart: dataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true }));
    } catch (err) {
      yield { ...item, skipped: `unreadable entry: ${describe(err)}`, code: 'corrupt-entry' };
      continue;
    }
    const named = isNamedMessage(entryName);
    const declared = entry.uncompressedSize;
    state.total += named || declared <= resolved.maxEntryBytes ? declared : Math.min(declared, SNIFF_BYTES);
    yield {
      ...item,
      location: {
        identity,
        dataStart,
        compressedSize: entry.compressedSize,
        size: declared,
        method: entry.compressionMethod as 0 | 8,
        crc32: entry.crc32,
        named,
        maxEntryBytes: resolved.maxEntryBytes,
      },
    };
  }
}
