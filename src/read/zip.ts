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
 *   compression ratio (`maxRatio`) for entries declaring more than `maxEntryBytes`;
 * - declared sizes and ratios refuse an entry before any of it is inflated;
 * - at most `maxEntries` entries are looked at;
 * - encrypted entries, unknown compression methods and entries sharing their data with an
 *   earlier entry (overlapping-entry bombs) are skipped;
 * - every message read is checked against the CRC-32 of its entry.
 * Memory stays within about one entry (`maxEntryBytes`) plus yauzl's and zlib's buffers, per
 * thread reading entries, and what the listing remembers of each entry until the archive is
 * done: its local header's offset (OffsetSet, 8 to 16 bytes) and, in entriesSharingNames, its
 * name (StringTable: its bytes and 24 to 44 more).
 *
 * Why the ratio is judged only past `maxEntryBytes`: an entry up to that size costs at most that
 * much memory, and its declared size counts against `maxTotalBytes`, which bounds all the
 * inflating an archive can cause (an entry inflating past its declared size is stopped there).
 * A ratio rule adds nothing to that, and it refused genuine mail: a message carrying a
 * zero-filled attachment deflates far past 200:1. Past `maxEntryBytes` an entry is never one
 * message, and only its head counts against the total (a large document is inflated no further
 * than its head, and must not give up the archive); but an mbox there is inflated whole, as a
 * stream, and the ratio is what bounds that stream: to `maxRatio` times its compressed bytes.
 *
 * Nothing of the archive goes unaccounted for: locateZipEntries ends with the bytes that no
 * listed entry and none of the zip's own records cover (UnlistedBytes), which other tools may
 * still read as entries (a stream extractor walks the local headers from the start of the file).
 */
import { crc32 } from 'node:zlib';
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { Entry, ExtraField, LocalFileHeader, ZipFile } from 'yauzl';
import { openEvidence } from '../discover/open-evidence.ts';
import { StringTable, grownUint32 } from './string-table.ts';
import { ReadError } from './types.ts';
import { BINARY_ENTRY, judgedWhole, MAY_HOLD_MAIL, refusalOfHead, SNIFF_BYTES, sniffsAsMessage } from './zip-entry.ts';

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
  /** largest inflated/compressed ratio for an entry declaring more than `maxEntryBytes`; default 200 */
  maxRatio?: number;
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
  /** set by locateZipEntries where the entry's local header disagrees with its central directory record (see localHeaderDisagreement) */
  localHeader?: string;
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
 * Why an entry was not read as a message. `directory`, `not-email` and `empty` are the normal case
 * of an archive's other entries; every other code is worth recording against the archive.
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
  | 'nested-archive'
  /** no mail that is read, but it may hold some: compressed, another archive format, a mail store, UTF-16 text (see mayHoldMail in sniff.ts) */
  | typeof MAY_HOLD_MAIL
  /** binary data of no known kind, which may hold anything */
  | typeof BINARY_ENTRY;


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
 * Small reads are served from windows of the archive read ahead: the central directory is read a
 * record at a time (two reads each), and each local header once more, and a read of the file
 * for each made listing 60,000 entries take 5.5 s; with the windows, 0.5 s (0.6-1.1 s with the
 * second reading of the names, entriesSharingNames). One window follows the central directory,
 * the others the local headers and what lies between entries. 4, 16 and 64 KiB windows list as
 * fast; a small one costs least where the local headers lie far apart (large entries).
 */
const READ_WINDOW_BYTES = 16 * 1024;
const READ_WINDOWS = 4;

/**
 * yauzl's view of the archive, through the evidence handle. yauzl's own fd reader closes the
 * descriptor it is given when it is done with it, behind the back of the handle that owns it;
 * this one reads with the handle and leaves closing it to readZipEmails.
 */
class EvidenceReader extends yauzl.RandomAccessReader {
  readonly handle: FileHandle;
  /** most recently used first */
  private readonly windows: Array<{ start: number; bytes: Buffer }> = [];

  constructor(handle: FileHandle) {
    super();
    this.handle = handle;
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    this.view(position, length).then(
      (bytes) => callback(null, bytes.copy(buffer, offset)),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** The `length` bytes at `position` (fewer at the end of the file), in memory of their own. */
  async readAt(position: number, length: number): Promise<Buffer> {
    const bytes = await this.view(position, length);
    return length > READ_WINDOW_BYTES / 2 ? bytes : Buffer.from(bytes);
  }

  /** readAt's bytes, a small read's as a view of a window: valid until the next read. */
  private async view(position: number, length: number): Promise<Buffer> {
    if (length > READ_WINDOW_BYTES / 2) return this.fill(Buffer.allocUnsafe(length), position);
    const at = this.windows.findIndex((w) => position >= w.start && position + length <= w.start + w.bytes.length);
    let window = at === -1 ? null : this.windows.splice(at, 1)[0]!;
    // (a window cut short by the end of the file serves what the file holds)
    if (!window) window = { start: position, bytes: await this.fill(Buffer.allocUnsafe(READ_WINDOW_BYTES), position) };
    this.windows.unshift(window);
    if (this.windows.length > READ_WINDOWS) this.windows.pop();
    const from = position - window.start;
    return window.bytes.subarray(from, Math.min(from + length, window.bytes.length));
  }

  private async fill(buffer: Buffer, position: number): Promise<Buffer> {
    let done = 0;
    while (done < buffer.length) {
      const { bytesRead } = await this.handle.read(buffer, done, buffer.length - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buffer.subarray(0, done);
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

function openZip(reader: EvidenceReader, size: number): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(
      reader,
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
  };
}

/** What the guards remember from one entry of an archive to the next. */
interface DirectoryState {
  /** inflated bytes counted against `maxTotalBytes` */
  total: number;
  /** local header offsets already read: an entry pointing at one again is an overlap bomb */
  dataOffsets: OffsetSet;
}

/**
 * A set of the local header offsets of an archive's entries. Writers list the entries in the
 * order they wrote them, so the offsets come in increasing order: those are kept in a typed
 * array, 8 bytes each where a Set of numbers took about 36 (an archive may list a million
 * entries), and found by binary search. An offset that comes out of order (a central directory
 * in another order than the entries) goes to a Set of its own.
 */
class OffsetSet {
  #ascending = new Float64Array(1024);
  #count = 0;
  /** each smaller than the last of #ascending when it came, so smaller than any offset added to #ascending since */
  readonly #others = new Set<number>();

  /** Adds `offset`: false when it is there already. */
  add(offset: number): boolean {
    if (this.#count === 0 || offset > this.#ascending[this.#count - 1]!) {
      if (this.#count === this.#ascending.length) {
        const grown = new Float64Array(this.#count * 2);
        grown.set(this.#ascending);
        this.#ascending = grown;
      }
      this.#ascending[this.#count++] = offset;
      return true;
    }
    if (this.#others.has(offset) || this.#holds(offset)) return false;
    this.#others.add(offset);
    return true;
  }

  #holds(offset: number): boolean {
    let low = 0;
    let high = this.#count - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const value = this.#ascending[middle]!;
      if (value === offset) return true;
      if (value < offset) low = middle + 1;
      else high = middle - 1;
    }
    return false;
  }
}

/** An entry past `maxEntryBytes` that inflates by more than `maxRatio` (see the module comment for why only those). */
const exceedsRatio = (entry: Entry, limits: ResolvedLimits): boolean =>
  entry.uncompressedSize > limits.maxEntryBytes && entry.uncompressedSize > entry.compressedSize * limits.maxRatio;

const isNamedMessage = (entryName: string): boolean => /\.eml$/i.test(entryName);
const isDirectoryName = (entryName: string): boolean => entryName.endsWith('/') || entryName.endsWith('\\');

type Refusal = Pick<ZipSkipped, 'skipped' | 'code' | 'stopped'>;

/**
 * The central directory's verdict on an entry, before any of its data is read: why it is not
 * read, or null to read it. Both readers of archives apply these same guards.
 */
function judgeEntry(entry: Entry, index: number, entryName: string, limits: ResolvedLimits, state: DirectoryState): Refusal | null {
  if (index >= limits.maxEntries) return { skipped: `archive given up: more than ${limits.maxEntries} entries`, code: 'zip-limits', stopped: true };
  if (isDirectoryName(entryName)) return { skipped: 'directory', code: 'directory' };
  if (entry.isEncrypted()) return { skipped: 'encrypted', code: 'encrypted' };
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    return { skipped: `unsupported compression method ${entry.compressionMethod}`, code: 'unsupported-compression' };
  }
  if (!state.dataOffsets.add(entry.relativeOffsetOfLocalHeader)) {
    return { skipped: 'zip bomb suspected: entry shares its data with an earlier entry', code: 'zip-bomb' };
  }
  const declared = entry.uncompressedSize;
  if (exceedsRatio(entry, limits)) {
    return { skipped: `zip bomb suspected: declares ${declared} bytes from ${entry.compressedSize} compressed (limit ${limits.maxRatio}:1)`, code: 'zip-bomb' };
  }
  if (state.total + declared > limits.maxTotalBytes) {
    return { skipped: `archive given up: it inflates to more than ${limits.maxTotalBytes} bytes (the guard against zip bombs; verify --zip-max-bytes raises it)`, code: 'zip-limits', stopped: true };
  }
  return null;
}

/** One entry of the central directory, with its names. */
interface DirectoryEntry {
  zip: ZipFile;
  reader: EvidenceReader;
  entry: Entry;
  index: number;
  entryName: string;
  safeName: string;
}

/** An archive whose central directory was read to its end, still open. */
interface ListedArchive {
  zip: ZipFile;
  reader: EvidenceReader;
  size: number;
  /** where the central directory begins and ends, as read */
  centralDirectory: { start: number; end: number };
}

/**
 * yauzl keeps where it reads the central directory, from its first record to past its last, in
 * `readEntryCursor` (its type declarations call it a boolean).
 */
const centralDirectoryCursor = (zip: ZipFile): number => (zip as unknown as { readEntryCursor: number }).readEntryCursor;

/**
 * The entries of the archive at `absPath`, in central directory order, then `afterLast` on the
 * archive still open when every entry was read, then the archive closed. A corrupt archive throws
 * a ReadError with code 'corrupt-zip', after the entries read before the damage; system errors
 * opening the file are thrown as they are.
 */
async function* zipDirectory(
  absPath: string,
  onOpen?: (identity: { size: number; mtimeMs: number }) => void,
  afterLast?: (archive: ListedArchive) => Promise<void>,
): AsyncGenerator<DirectoryEntry> {
  const handle = await openEvidence(absPath);
  let zip: ZipFile | null = null;
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new ReadError('unreadable', 'not a regular file (any more)');
    onOpen?.({ size: stats.size, mtimeMs: stats.mtimeMs });
    const reader = new EvidenceReader(handle);
    try {
      zip = await openZip(reader, stats.size);
    } catch (err) {
      throw new ReadError('corrupt-zip', `not a readable zip archive: ${describe(err)}`);
    }
    const centralDirectoryStart = centralDirectoryCursor(zip);
    // a late error (closing) must not go unhandled; entry errors are taken through nextEntry
    zip.on('error', () => {});
    for (let index = 0; ; index++) {
      let entry: Entry | null;
      try {
        entry = await nextEntry(zip);
      } catch (err) {
        throw new ReadError('corrupt-zip', `corrupt zip central directory after ${index} entries: ${describe(err)}`);
      }
      if (entry === null) {
        await afterLast?.({ zip, reader, size: stats.size, centralDirectory: { start: centralDirectoryStart, end: centralDirectoryCursor(zip) } });
        return;
      }
      const entryName = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
      yield { zip, reader, entry, index, entryName, safeName: sanitizeEntryName(entryName, index) };
    }
  } finally {
    zip?.close();
    await handle.close();
  }
}

/**
 * The names (made safe) that more than one entry of the archive at `absPath` has, each with the
 * indexes of all its entries, in central directory order; directories left out. Read before the
 * entries are, so that every entry of such a name can be flagged, the first as well as the others.
 * A damaged or unreadable archive ends the list where its reading ends: the listing of the
 * entries meets the same damage and records it.
 */
export async function entriesSharingNames(absPath: string, limits: Pick<ZipLimits, 'maxEntries'> = {}): Promise<Map<string, number[]>> {
  const maxEntries = limits.maxEntries ?? ZIP_DEFAULTS.maxEntries;
  // (every name is kept until the last is read: kept compactly, see StringTable)
  const names = new StringTable();
  let firstWithName = new Uint32Array(1024);
  const shared = new Map<string, number[]>();
  try {
    for await (const { index, entryName, safeName } of zipDirectory(absPath)) {
      if (index >= maxEntries) break;
      if (isDirectoryName(entryName)) continue;
      const known = names.size;
      const id = names.add(safeName);
      if (id === known) {
        if (id === firstWithName.length) firstWithName = grownUint32(firstWithName);
        firstWithName[id] = index;
        continue;
      }
      const first = firstWithName[id]!;
      const indexes = shared.get(safeName);
      if (indexes) indexes.push(index);
      else shared.set(safeName, [first, index]);
    }
  } catch {
    // (see above: recorded by the listing)
  }
  return shared;
}

/**
 * Bytes of an archive that no entry its central directory lists accounts for, nor any of the
 * zip's own records (the archive comment is one). A reader of the central directory never sees
 * them; other tools may (a stream extractor, such as Java's ZipInputStream or bsdtar reading a
 * pipe, walks the local file headers from the start of the file), so a forensic record of the
 * archive must say where they are.
 */
export interface UnlistedBytes {
  bytes: number;
  /** how many separate stretches of the archive they make */
  stretches: number;
  /** the first stretches, [start, end) */
  firstStretches: Array<{ start: number; end: number }>;
  /** local file header signatures found in those bytes: entries the central directory does not list */
  localHeaders: number;
  /** the first of them, with the name each header gives (made safe) */
  firstLocalHeaders: Array<{ offset: number; name: string }>;
}

/** How many stretches and local headers an UnlistedBytes describes one by one. */
const UNLISTED_SHOWN = 5;

/** The parts of an archive its listing accounts for, merged as they come (an archive in order makes one). */
class ArchiveSpans {
  private starts = new Float64Array(64);
  private ends = new Float64Array(64);
  private count = 0;
  private inOrder = true;

  add(start: number, end: number): void {
    if (!(end > start)) return;
    const last = this.count - 1;
    if (last >= 0 && start >= this.starts[last]! && start <= this.ends[last]!) {
      if (end > this.ends[last]!) this.ends[last] = end;
      return;
    }
    if (last >= 0 && start < this.starts[last]!) this.inOrder = false;
    if (this.count === this.starts.length) {
      const grow = (from: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
        const to = new Float64Array(from.length * 2);
        to.set(from);
        return to;
      };
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.count++;
  }

  /** The stretches of [0, size) outside every span, in order, [start, end). */
  *gaps(size: number): Generator<[number, number]> {
    const order = Uint32Array.from({ length: this.count }, (_, i) => i);
    if (!this.inOrder) order.sort((a, b) => this.starts[a]! - this.starts[b]!);
    let covered = 0;
    for (const i of order) {
      if (covered >= size) return;
      const start = this.starts[i]!;
      if (start > covered) yield [covered, Math.min(start, size)];
      covered = Math.max(covered, this.ends[i]!);
    }
    if (covered < size) yield [covered, size];
  }
}

const LOCAL_HEADER_SIGNATURE = Buffer.from('PK\x03\x04', 'latin1');
const DATA_DESCRIPTOR_SIGNATURE = 0x08074b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_END_SIGNATURE = 0x06064b50;
/** The end of central directory record, without its comment (APPNOTE 4.3.16). */
const END_RECORD_BYTES = 22;
const ZIP64_LOCATOR_BYTES = 20;
/** The zip64 end of central directory record without its extensible data (APPNOTE 4.3.14). */
const ZIP64_END_RECORD_BYTES = 56;
/** Unlisted bytes are searched this much at a time. */
const SCAN_CHUNK_BYTES = 1024 * 1024;

/**
 * Where the entry whose data ends at `dataEnd` really ends: past its data descriptor (APPNOTE
 * 4.3.9; with or without its signature, sizes of 4 or 8 bytes) when the bytes there are one
 * that matches the entry. A descriptor that does not match is left to show as unlisted bytes.
 */
async function entryEnd(reader: EvidenceReader, entry: Entry, dataEnd: number): Promise<number> {
  if (!(entry.generalPurposeBitFlag & 0x8)) return dataEnd;
  const bytes = await reader.readAt(dataEnd, 24);
  const at = bytes.length >= 4 && bytes.readUInt32LE(0) === DATA_DESCRIPTOR_SIGNATURE ? 4 : 0;
  if (bytes.length < at + 12 || bytes.readUInt32LE(at) !== entry.crc32 >>> 0) return dataEnd;
  if (bytes.readUInt32LE(at + 4) === entry.compressedSize && bytes.readUInt32LE(at + 8) === entry.uncompressedSize) return dataEnd + at + 12;
  const wide = bytes.length >= at + 20 && Number(bytes.readBigUInt64LE(at + 4)) === entry.compressedSize && Number(bytes.readBigUInt64LE(at + 12)) === entry.uncompressedSize;
  return wide ? dataEnd + at + 20 : dataEnd;
}

/** A name (made safe) as a row's detail shows it: a hostile archive's names run to 64 KiB. */
function shownName(name: string): string {
  if (name.length <= SHOWN_NAME_CHARS) return name;
  // (not through the middle of a surrogate pair)
  const cut = /[\uD800-\uDBFF]/.test(name[SHOWN_NAME_CHARS - 1]!) ? SHOWN_NAME_CHARS - 1 : SHOWN_NAME_CHARS;
  return `${name.slice(0, cut)}…`;
}

const SHOWN_NAME_CHARS = 100;

/** Local header sizes of 0xFFFFFFFF are in its zip64 extra field (APPNOTE 4.5.3). */
const ZIP64_EXTRA_ID = 0x0001;
const ZIP32_MAX = 0xffffffff;

/** A header's extra fields; none where they do not parse (the name is then read from the name field alone). */
function extraFieldsOf(bytes: Buffer): ExtraField[] {
  try {
    return yauzl.parseExtraFields(bytes);
  } catch {
    return [];
  }
}

/**
 * How the local file header of an entry disagrees with its central directory record, as what
 * follows "its local header" in a row's detail; null where they agree. The two records hold the
 * same fields (APPNOTE 4.3.7, 4.3.12) and writers make them alike. The entry is read as the
 * central directory has it; a tool that walks the local headers instead (a stream extractor,
 * such as Java's ZipInputStream or bsdtar reading a pipe) gets the other name, or other bytes,
 * and Info-ZIP's `unzip -t` warns of a name that differs, Python's zipfile refuses the entry.
 * The CRC-32 and sizes are compared only where the local header holds them: not where a data
 * descriptor follows the data (general purpose bit 3), whose writer leaves them zero.
 */
export function localHeaderDisagreement(entry: Entry, entryName: string, safeName: string, header: LocalFileHeader): string | null {
  const phrases: string[] = [];
  // (a name is compared as read, each with its own flags and Unicode path field: the bytes may differ and the names not)
  if (!header.fileName.equals(entry.fileNameRaw)) {
    const localName = yauzl.getFileNameLowLevel(header.generalPurposeBitFlag, header.fileName, extraFieldsOf(header.extraField), true);
    if (localName !== entryName) {
      const shown = sanitizeEntryName(localName);
      // (sanitizeEntryName would show a name of nothing but separators and `.` segments as `entry-0`)
      if (localName.split(/[/\\]/).every((segment) => segment === '' || segment === '.')) phrases.push(`gives it no name (${JSON.stringify(shownName(localName))})`);
      else if (shown === safeName) phrases.push(`spells its name otherwise (the same once made safe to show: ${shownName(shown)})`);
      else phrases.push(`names it ${shownName(shown)}`);
    }
  }
  const central = (value: number | string): string => ` (the central directory: ${value})`;
  if (header.compressionMethod !== entry.compressionMethod) phrases.push(`gives compression method ${header.compressionMethod}${central(entry.compressionMethod)}`);
  if (!(header.generalPurposeBitFlag & 0x8)) {
    const hex = (crc: number): string => `0x${(crc >>> 0).toString(16).padStart(8, '0')}`;
    if (header.crc32 >>> 0 !== entry.crc32 >>> 0) phrases.push(`gives CRC-32 ${hex(header.crc32)}${central(hex(entry.crc32))}`);
    const sizes = localSizes(header);
    if (sizes && sizes.compressedSize !== entry.compressedSize) phrases.push(`declares ${sizes.compressedSize} bytes compressed${central(entry.compressedSize)}`);
    if (sizes && sizes.size !== entry.uncompressedSize) phrases.push(`declares ${sizes.size} bytes inflated${central(entry.uncompressedSize)}`);
  }
  return phrases.length ? phrases.join(', ') : null;
}

/** The sizes a local header gives; null where it defers them to a zip64 extra field it does not hold. */
function localSizes(header: LocalFileHeader): { size: number; compressedSize: number } | null {
  if (header.uncompressedSize !== ZIP32_MAX && header.compressedSize !== ZIP32_MAX) return { size: header.uncompressedSize, compressedSize: header.compressedSize };
  const zip64 = extraFieldsOf(header.extraField).find((field) => field.id === ZIP64_EXTRA_ID);
  if (!zip64 || zip64.data.length < 16) return null;
  return { size: Number(zip64.data.readBigUInt64LE(0)), compressedSize: Number(zip64.data.readBigUInt64LE(8)) };
}

/**
 * The zip's own records after the central directory: the end record with the archive comment,
 * and the zip64 end record and its locator when there are (APPNOTE 4.3.14-16). The zip64 end
 * record counts for its fixed 56 bytes only: the size it gives itself is the archive's word,
 * and a record placed at the start of the file could claim the whole of it; the extensible data
 * that size would allow for is reserved to PKWARE's central directory encryption, which
 * nothing here reads.
 */
async function addEndRecords(archive: ListedArchive, spans: ArchiveSpans): Promise<void> {
  const { reader, size } = archive;
  // (yauzl found the end record where its comment ends the file; with decodeStrings off, the comment is its bytes)
  const endRecord = size - END_RECORD_BYTES - (archive.zip.comment as unknown as Buffer).length;
  spans.add(endRecord, size);
  if (endRecord < ZIP64_LOCATOR_BYTES) return;
  const locator = await reader.readAt(endRecord - ZIP64_LOCATOR_BYTES, ZIP64_LOCATOR_BYTES);
  if (locator.length < ZIP64_LOCATOR_BYTES || locator.readUInt32LE(0) !== ZIP64_LOCATOR_SIGNATURE) return;
  spans.add(endRecord - ZIP64_LOCATOR_BYTES, endRecord);
  const zip64End = Number(locator.readBigUInt64LE(8));
  const record = await reader.readAt(zip64End, 4);
  if (record.length === 4 && record.readUInt32LE(0) === ZIP64_END_SIGNATURE) spans.add(zip64End, zip64End + ZIP64_END_RECORD_BYTES);
}

/**
 * The bytes of a listed archive outside `spans` (its entries) and its own records, searched for
 * local file headers; null when there are none. Only those bytes are read: nothing, for an
 * archive as writers make them.
 */
async function findUnlistedBytes(archive: ListedArchive, spans: ArchiveSpans): Promise<UnlistedBytes | null> {
  spans.add(archive.centralDirectory.start, archive.centralDirectory.end);
  await addEndRecords(archive, spans);
  const found: UnlistedBytes = { bytes: 0, stretches: 0, firstStretches: [], localHeaders: 0, firstLocalHeaders: [] };
  for (const [start, end] of spans.gaps(archive.size)) {
    found.bytes += end - start;
    if (found.stretches++ < UNLISTED_SHOWN) found.firstStretches.push({ start, end });
    await findLocalHeaders(archive.reader, start, end, found);
  }
  return found.bytes ? found : null;
}

/** Counts the local file header signatures in [start, end) into `found`, and names the first ones. */
async function findLocalHeaders(reader: EvidenceReader, start: number, end: number, found: UnlistedBytes): Promise<void> {
  const overlap = LOCAL_HEADER_SIGNATURE.length - 1;
  for (let position = start; position < end; position += SCAN_CHUNK_BYTES) {
    // each chunk begins a little before its part, for a signature cut by the chunk before
    const from = Math.max(start, position - overlap);
    const bytes = await reader.readAt(from, Math.min(end, position + SCAN_CHUNK_BYTES) - from);
    for (let at = bytes.indexOf(LOCAL_HEADER_SIGNATURE); at !== -1; at = bytes.indexOf(LOCAL_HEADER_SIGNATURE, at + 1)) {
      if (found.localHeaders++ < UNLISTED_SHOWN) found.firstLocalHeaders.push({ offset: from + at, name: await localHeaderName(reader, from + at) });
    }
  }
}

/** The name a local file header at `offset` gives its entry, made safe. */
async function localHeaderName(reader: EvidenceReader, offset: number): Promise<string> {
  const header = await reader.readAt(offset, 30);
  if (header.length < 30) return '(a header cut short by the end of the file)';
  const nameLength = header.readUInt16LE(26);
  if (nameLength === 0) return '(no name)';
  const raw = await reader.readAt(offset + 30, nameLength);
  if (raw.length < nameLength) return '(a name cut short by the end of the file)';
  return sanitizeEntryName(yauzl.getFileNameLowLevel(header.readUInt16LE(6), raw, [], true), 0);
}

/** What UnlistedBytes holds, in words, for the archive's row. */
export function describeUnlistedBytes(unlisted: UnlistedBytes): string {
  const more = (total: number, shown: number, what: string): string => (total > shown ? `, and ${total - shown} more ${what}` : '');
  const stretches = unlisted.firstStretches.map(({ start, end }) => `${end - start} at offset ${start}`).join(', ');
  let text = `${unlisted.bytes} bytes of the archive are in no entry its central directory lists: ${stretches}${more(unlisted.stretches, unlisted.firstStretches.length, 'stretches')}`;
  if (unlisted.localHeaders) {
    const headers = unlisted.firstLocalHeaders.map(({ offset, name }) => `${shownName(name)} at offset ${offset}`).join(', ');
    text += `; they hold ${unlisted.localHeaders} local file header(s) of entries the central directory does not list: ${headers}${more(unlisted.localHeaders, unlisted.firstLocalHeaders.length, 'headers')}`;
  }
  return text;
}

/** What `hashOthers` hashes: the entries that are no message. */
const HASHED_OTHERS: ReadonlySet<ZipSkipCode> = new Set(['not-email', 'empty', MAY_HOLD_MAIL, BINARY_ENTRY]);

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
  const state: DirectoryState = { total: 0, dataOffsets: new OffsetSet() };
  let stream: Readable | null = null;
  try {
    for await (const { zip, entry, index, entryName, safeName } of zipDirectory(absPath, ({ size }) => (resolved = resolveLimits(limits, size)))) {
      const { maxEntryBytes, maxTotalBytes } = resolved;
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
      // judged on all its bytes, as readZipEntryAt judges it, or on its head as it comes
      const whole = judgedWhole(declared, named, maxEntryBytes);
      let isMessage = false;
      let buffer: Buffer | null = whole ? Buffer.alloc(declared) : null;
      let hash: ReturnType<typeof createHash> | null = null;
      let other: Pick<ZipSkipped, 'skipped' | 'code'> | null = null;
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
          // judged on its head: gather it
          head.push(chunk);
          headLength += chunk.length;
          if (headLength < SNIFF_BYTES && filled < declared) continue;
          const start = Buffer.concat(head, headLength);
          head.length = 0;
          const refusal = refusalOfHead(start, declared, maxEntryBytes, named);
          if (refusal && hashOthers && HASHED_OTHERS.has(refusal.code)) {
            other = { skipped: refusal.reason, code: refusal.code };
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
      if (whole && buffer) {
        const refusal = refusalOfHead(buffer, declared, maxEntryBytes, named);
        if (refusal && !(hashOthers && HASHED_OTHERS.has(refusal.code))) {
          yield skip(refusal.reason, refusal.code);
          continue;
        }
        if (refusal) {
          other = { skipped: refusal.reason, code: refusal.code };
          hash = createHash('sha256').update(buffer);
        } else {
          isMessage = true;
        }
      }
      if (crc >>> 0 !== entry.crc32 >>> 0) {
        yield skip('corrupt entry: CRC-32 mismatch', 'corrupt-entry');
        continue;
      }
      if (isMessage && buffer) {
        yield { ...item, raw: buffer };
      } else if (hash && other) {
        yield { ...item, ...other, size: filled, sha256: hash.digest('hex') };
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
  /** named `.eml`: read as a message unless its head is an mbox's; any other entry only if it sniffs as one (refusalOfHead) */
  named: boolean;
  maxEntryBytes: number;
}

export interface LocatedZipEntry {
  index: number;
  entryName: string;
  safeName: string;
  /** see ZipSkipped */
  localHeader?: string;
  location: ZipEntryLocation;
}

/**
 * The entries of the zip archive at `absPath` that may be messages, located for the threads
 * that read them, and a `skipped` item for every other entry, in central directory order. The
 * central directory's guards are readZipEmails' (judgeEntry); the rest are applied where the
 * entry is inflated, by readZipEntryAt: the same outcome for every entry, as a test checks.
 *
 * The archive's total is counted as the entries declare, which bounds what they may inflate to
 * (an entry that inflates to more is refused as soon as it does). An entry too large to be a
 * message is counted only for the head that is inflated to tell what it is (an mbox, or not).
 * Errors are readZipEmails'.
 *
 * Returns, once every entry is listed, the bytes of the archive that none of them accounts for
 * (null when there are none, or when the archive was given up before its last entry).
 */
export async function* locateZipEntries(absPath: string, limits: ZipLimits = {}): AsyncGenerator<LocatedZipEntry | ZipSkipped, UnlistedBytes | null> {
  let resolved = resolveLimits(limits, 0);
  const state: DirectoryState = { total: 0, dataOffsets: new OffsetSet() };
  let identity = { size: 0, mtimeMs: 0 };
  const onOpen = (seen: typeof identity): void => {
    identity = seen;
    resolved = resolveLimits(limits, seen.size);
  };
  const spans = new ArchiveSpans();
  const accounted: { unlisted: UnlistedBytes | null } = { unlisted: null };
  const afterLast = async (archive: ListedArchive): Promise<void> => {
    accounted.unlisted = await findUnlistedBytes(archive, spans);
  };
  for await (const { zip, reader, entry, index, entryName, safeName } of zipDirectory(absPath, onOpen, afterLast)) {
    const refused = judgeEntry(entry, index, entryName, resolved, state);
    if (refused?.stopped) {
      yield { index, entryName, safeName, ...refused };
      return null;
    }
    // Every entry's local header is read, a refused one's too: what it spans is accounted for,
    // and what it says of the entry is checked against the central directory.
    let dataStart: number | null = null;
    let unreadable: unknown = null;
    let localHeader: string | null = null;
    try {
      const header = await zip.readLocalFileHeaderPromise(entry);
      dataStart = header.fileDataStart;
      localHeader = localHeaderDisagreement(entry, entryName, safeName, header);
      spans.add(entry.relativeOffsetOfLocalHeader, await entryEnd(reader, entry, dataStart + entry.compressedSize));
    } catch (err) {
      unreadable = err;
    }
    const item = localHeader === null ? { index, entryName, safeName } : { index, entryName, safeName, localHeader };
    if (refused) {
      yield { ...item, ...refused };
      continue;
    }
    if (dataStart === null) {
      yield { ...item, skipped: `unreadable entry: ${describe(unreadable)}`, code: 'corrupt-entry' };
      continue;
    }
    const named = isNamedMessage(entryName);
    const declared = entry.uncompressedSize;
    state.total += declared <= resolved.maxEntryBytes ? declared : Math.min(declared, SNIFF_BYTES);
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
  return accounted.unlisted;
}
