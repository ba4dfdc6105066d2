/**
 * The email messages inside a zip archive of the dump, read with yauzl straight from the
 * archive, in memory: nothing is ever extracted to disk, and the archive is opened read-only
 * through openEvidence like every other file of the dump.
 *
 * An archive is hostile input. The guards:
 * - entry names are never used as paths; `safeName` is a printable, traversal-free form of the
 *   name for reports (see sanitizeEntryName);
 * - sizes are counted as the data is inflated, not taken from the headers, and the stream is
 *   aborted the moment a limit is crossed: per entry (`maxEntryBytes`), per archive
 *   (`maxTotalBytes`, which then stops the archive), and by compression ratio (`maxRatio`, for
 *   entries past `ratioMinBytes`: zip bombs); yauzl's validateEntrySizes also refuses an entry
 *   that inflates to more, or less, than its header declares;
 * - declared sizes and ratios refuse an entry before any of it is inflated;
 * - at most `maxEntries` entries are looked at;
 * - encrypted entries, unknown compression methods and entries sharing their data with an
 *   earlier entry (overlapping-entry bombs) are skipped;
 * - every message read is checked against the CRC-32 of its entry.
 * Memory stays within about one entry (`maxEntryBytes`) plus yauzl's and zlib's buffers.
 */
import { crc32 } from 'node:zlib';
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { openEvidence } from '../discover/open-evidence.ts';
import { ReadError } from './types.ts';

export interface ZipLimits {
  /** entries looked at before the archive is given up (a marker is yielded); default 10,000 */
  maxEntries?: number;
  /** largest message read, in inflated bytes; default 64 MiB */
  maxEntryBytes?: number;
  /** inflated bytes read from the whole archive before it is given up (a marker is yielded); default 1 GiB */
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
  maxEntries: 10_000,
  maxEntryBytes: 64 * 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
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
  /** set on the last item when the archive was given up (too many entries, too many bytes) */
  stopped?: true;
  /** with `hashOthers`: inflated size and sha256 of an entry that is not a message */
  size?: number;
  sha256?: string;
}

export type ZipItem = ZipEmail | ZipSkipped;

const SNIFF_BYTES = 4096;

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

/** True when `head` (the first bytes of a file) looks like an RFC 5322 message. */
export function sniffsAsMessage(head: Buffer): boolean {
  const text = head.subarray(0, SNIFF_BYTES).toString('latin1');
  if (!/^[\x21-\x39\x3b-\x7e]+[ \t]*:/.test(text)) return false;
  return /(?:^|\n)(?:from|date|received|message-id)[ \t]*:/i.test(text);
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

/** Why reading an entry stopped early. */
type Abort = { kind: 'skip'; reason: string } | { kind: 'stop'; reason: string };

/**
 * The messages in the zip archive at `absPath`, in central directory order, with a `skipped`
 * item for every other entry (see the module comment for the guards). A corrupt archive throws a
 * ReadError with code 'corrupt-zip', after the items read before the damage; system errors
 * opening the file are thrown as they are.
 */
export async function* readZipEmails(absPath: string, limits: ZipLimits = {}): AsyncGenerator<ZipItem> {
  const maxEntries = limits.maxEntries ?? ZIP_DEFAULTS.maxEntries;
  const maxEntryBytes = limits.maxEntryBytes ?? ZIP_DEFAULTS.maxEntryBytes;
  const maxTotalBytes = limits.maxTotalBytes ?? ZIP_DEFAULTS.maxTotalBytes;
  const maxRatio = limits.maxRatio ?? ZIP_DEFAULTS.maxRatio;
  const ratioMinBytes = limits.ratioMinBytes ?? ZIP_DEFAULTS.ratioMinBytes;
  const hashOthers = limits.hashOthers ?? false;

  const handle = await openEvidence(absPath);
  let zip: ZipFile | null = null;
  let stream: Readable | null = null;
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new ReadError('unreadable', 'not a regular file (any more)');
    try {
      zip = await openZip(handle, stats.size);
    } catch (err) {
      throw new ReadError('corrupt-zip', `not a readable zip archive: ${describe(err)}`);
    }
    // a late error (closing) must not go unhandled; entry errors are taken through nextEntry
    zip.on('error', () => {});

    let total = 0;
    const dataOffsets = new Set<number>();
    for (let index = 0; ; index++) {
      let entry: Entry | null;
      try {
        entry = await nextEntry(zip);
      } catch (err) {
        throw new ReadError('corrupt-zip', `corrupt zip central directory after ${index} entries: ${describe(err)}`);
      }
      if (entry === null) return;

      const entryName = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
      const safeName = sanitizeEntryName(entryName, index);
      const item = { index, entryName, safeName };
      const skip = (skipped: string): ZipSkipped => ({ ...item, skipped });
      const stop = (skipped: string): ZipSkipped => ({ ...item, skipped, stopped: true });

      if (index >= maxEntries) {
        yield stop(`archive given up: more than ${maxEntries} entries`);
        return;
      }
      if (entryName.endsWith('/') || entryName.endsWith('\\')) {
        yield skip('directory');
        continue;
      }
      if (entry.isEncrypted()) {
        yield skip('encrypted');
        continue;
      }
      if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
        yield skip(`unsupported compression method ${entry.compressionMethod}`);
        continue;
      }
      if (dataOffsets.has(entry.relativeOffsetOfLocalHeader)) {
        yield skip('zip bomb suspected: entry shares its data with an earlier entry');
        continue;
      }
      dataOffsets.add(entry.relativeOffsetOfLocalHeader);

      const declared = entry.uncompressedSize;
      const compressed = entry.compressedSize;
      const ratioLimit = Math.max(ratioMinBytes, compressed * maxRatio);
      if (declared > ratioLimit) {
        yield skip(`zip bomb suspected: declares ${declared} bytes from ${compressed} compressed (limit ${maxRatio}:1)`);
        continue;
      }
      const named = /\.eml$/i.test(entryName);
      if (named && declared > maxEntryBytes) {
        yield skip(`too large: declares ${declared} bytes, over the ${maxEntryBytes}-byte limit`);
        continue;
      }
      if (total + declared > maxTotalBytes) {
        yield stop(`archive given up: it inflates to more than ${maxTotalBytes} bytes`);
        return;
      }

      try {
        stream = await openStream(zip, entry);
      } catch (err) {
        yield skip(`unreadable entry: ${describe(err)}`);
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
          total += chunk.length;
          if (total > maxTotalBytes) {
            abort = { kind: 'stop', reason: `archive given up: it inflates to more than ${maxTotalBytes} bytes` };
          } else if (filled > declared) {
            abort = { kind: 'skip', reason: `zip bomb suspected: inflates to more than the ${declared} bytes it declares` };
          } else if (filled > ratioLimit) {
            abort = { kind: 'skip', reason: `zip bomb suspected: inflates beyond ${maxRatio}:1` };
          } else if (isMessage && filled > maxEntryBytes) {
            abort = { kind: 'skip', reason: `too large: over the ${maxEntryBytes}-byte limit` };
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
          if (sniffsAsMessage(start)) {
            if (declared > maxEntryBytes) {
              abort = { kind: 'skip', reason: `too large: declares ${declared} bytes, over the ${maxEntryBytes}-byte limit` };
              break;
            }
            isMessage = true;
            buffer = Buffer.alloc(declared);
            start.copy(buffer, 0);
          } else if (hashOthers) {
            hash = createHash('sha256').update(start);
          } else {
            abort = { kind: 'skip', reason: 'not an email message' };
            break;
          }
        }
      } catch (err) {
        const message = describe(err);
        abort = /too many bytes in the stream/.test(message)
          ? { kind: 'skip', reason: `zip bomb suspected: inflates to more than the ${declared} bytes it declares` }
          : { kind: 'skip', reason: `corrupt entry: ${message}` };
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
        yield skip(abort.reason);
        continue;
      }
      if (filled !== declared) {
        yield skip(`corrupt entry: inflates to ${filled} bytes, ${declared} declared`);
        continue;
      }
      if (crc >>> 0 !== entry.crc32 >>> 0) {
        yield skip('corrupt entry: CRC-32 mismatch');
        continue;
      }
      if (!decided) {
        // only an empty entry ends before the sniff decides
        yield hashOthers ? { ...skip('empty'), size: 0, sha256: createHash('sha256').digest('hex') } : skip('empty');
      } else if (isMessage && buffer) {
        yield { ...item, raw: buffer };
      } else if (hash) {
        yield { ...skip('not an email message'), size: filled, sha256: hash.digest('hex') };
      }
    }
  } finally {
    stream?.destroy();
    zip?.close();
    await handle.close();
  }
}
