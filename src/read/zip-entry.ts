/**
 * One zip entry read and inflated by the thread that analyses it, from where its data lies in
 * the archive (located by locateZipEntries, in zip.ts): the main thread only reads the central
 * directory. Synchronous, like the worker's other reads, and without yauzl, so that the worker
 * never loads it.
 *
 * The guards that need the data are applied here, with the outcomes readZipEmails gives (a test
 * compares the two on hostile archives):
 * - an entry inflates to no more than it declares: zlib stops at that size (`maxOutputLength`),
 *   so a lying bomb costs what its declared size does, and the central directory already refused
 *   declared sizes over the ratio and size limits;
 * - it inflates to exactly what it declares, and matches its CRC-32;
 * - an entry is a message only if its head reads as one to the loose sniff (sniffContainer, on as
 *   many bytes), a name ending in `.eml` aside (see refusalOfHead); an entry larger than a head is
 *   inflated no further than its head to tell, unless it is named so and may be read whole;
 * - the archive must be the one whose central directory was read (size and modification time).
 */
import { createHash } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { constants as zlibConstants, crc32, createInflateRaw, InflateRaw, inflateRawSync } from 'node:zlib';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { closeEvidenceSync, openEvidence, openEvidenceSync, readHeadSync, statEvidenceSync, type ReadTarget } from '../discover/open-evidence.ts';
import { mayHoldMail, SNIFF_HEAD_BYTES, sniffContainer, type SniffResult } from '../discover/sniff.ts';
import { emlxCountLine } from './emlx.ts';
import { releaseNow, ReusableBuffer } from './reusable-buffer.ts';
import { ReadError } from './types.ts';
import type { ZipEntryLocation } from './zip.ts';

/**
 * The head of an entry that tells what it is: what the loose sniff reads of a file, so that an
 * entry is judged as the same bytes loose are. With 4 KB and a rule of its own, a message whose
 * first 4 KB were other fields (an X-Spam-Report, Exchange's X-MS-*, or padding added on top of
 * an altered copy) was "not email" in a zip and read as mail loose (red team 27, B-02).
 */
export const SNIFF_BYTES = SNIFF_HEAD_BYTES;

/** Whether an entry's bytes are an .emlx file (an export of Mail's folders, zipped): a byte count on the first line, then a message. */
export const isEmlxEntry = (raw: Buffer): boolean => emlxCountLine(raw) !== null;

const sniffHead = (head: Buffer): SniffResult => sniffContainer(head.subarray(0, SNIFF_BYTES), '');

/**
 * True when `head` (the first bytes of a file) reads as one message (or an .emlx) to the loose
 * sniff: after at most a UTF-8 byte-order mark and blank lines, which editors and export tools
 * add and the analysis removes (the `strip-leading-bytes` repair).
 */
export function sniffsAsMessage(head: Buffer): boolean {
  const kind = sniffHead(head).kind;
  return kind === 'eml' || kind === 'maildir' || kind === 'emlx';
}

/** Compressed bytes are read into this, one entry after the other (its thread reads one at a time). */
const compressedBuffer = new ReusableBuffer();

/**
 * Compressed bytes inflated to tell what an entry is, growing until the head is long enough: a
 * kilobyte of deflate data inflates to at most about a megabyte, whatever the entry claims.
 */
const SNIFF_INPUT_STEPS = [1024, 4096, 16 * 1024, 64 * 1024];

/** zlib's smallest output buffer (its Z_MIN_CHUNK). */
const MIN_INFLATE_CHUNK = 64;

const corrupt = (why: string): ReadError => new ReadError('corrupt-entry', `corrupt entry: ${why}`);
const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The entry's bytes, inflated and checked. With `into`, a message is returned in that reused
 * memory, valid until its next use. Every refusal is a ReadError whose code is readZipEmails'
 * (ZipSkipCode): `not-email`, `empty`, `too-large`, `zip-bomb`, `corrupt-entry`; and `changed`
 * or `unreadable` for an archive that is not the one located any more.
 */
export function readZipEntryAt(absPath: string, entry: ZipEntryLocation, into?: ReadTarget): Buffer {
  const fd = openEvidenceSync(absPath);
  try {
    assertListedArchive(statEvidenceSync(fd), entry);
    const raw = entry.method === 0 ? readStored(fd, entry, into) : readDeflated(fd, entry, into);
    if (crc32(raw) >>> 0 !== entry.crc32 >>> 0) throw corrupt('CRC-32 mismatch');
    return raw;
  } finally {
    closeEvidenceSync(fd);
  }
}

/** The archive must be the one whose central directory located the entry, or the offsets mean nothing. */
function assertListedArchive(stats: Stats, entry: ZipEntryLocation): void {
  if (!stats.isFile()) throw new ReadError('unreadable', 'not a regular file (any more)');
  if (stats.size !== entry.identity.size || stats.mtimeMs !== entry.identity.mtimeMs) {
    throw new ReadError('changed', `the archive changed while its entries were being read: ${entry.identity.size} bytes when listed, ${stats.size} now`);
  }
}

/** A zip inside the archive: not opened (archives inside archives multiply every guard), but recorded. */
export const NESTED_ARCHIVE = 'nested-archive';
const NESTED_ARCHIVE_REASON = 'a zip archive inside the archive: not opened; extract the outer archive to verify what it holds';
const ZIP_MAGIC = Buffer.from('PK\x03\x04', 'latin1');

/** The kind of an entry's head that is no message but must not go unrecorded: a nested archive. */
const isNestedArchiveHead = (head: Buffer): boolean => head.subarray(0, ZIP_MAGIC.length).equals(ZIP_MAGIC);

/** The refusal of an mbox entry as one message: readers of archives read it as a stream instead. */
export const MBOX_ENTRY = 'mbox-entry';
const MBOX_ENTRY_REASON = 'an mbox: its messages are read one by one';

/**
 * The codes of entries that are no mail but may hold it (a compressed mbox, a 7-Zip or RAR
 * archive, a PST, UTF-16 text, binary data of no known kind): recorded with the reason the loose
 * sniff gives, `not-email` or `binary`, and its detail, since only someone who extracts them can
 * verify what they hold. Documents and text are not: they are no business of a mail verifier.
 */
export const MAY_HOLD_MAIL = 'may-hold-mail';
export const BINARY_ENTRY = 'binary';

type HeadRefusalCode = typeof MBOX_ENTRY | typeof NESTED_ARCHIVE | typeof MAY_HOLD_MAIL | typeof BINARY_ENTRY | 'not-email' | 'empty' | 'too-large';

/** Refuses an entry that is not read as one message, judged on `head` (its first bytes, or all of them). */
function judgeHead(entry: ZipEntryLocation, head: Buffer): void {
  const refusal = refusalOfHead(head, entry.size, entry.maxEntryBytes, entry.named);
  if (refusal) throw new ReadError(refusal.code, refusal.reason);
}

/**
 * Why an entry of `size` bytes, whose first bytes are `head`, is not read as one message; null
 * when it is one. Both readers of archives ask this, in this order. An mbox is one whatever its
 * name: named `.eml` and read as one message, the first message took in all the others and was
 * called altered, the others had no row (red team 27, B-03). Any other entry named `.eml` is read
 * as a message, as it always was: one that is none gets a verdict that says so, not no row.
 */
export function refusalOfHead(head: Buffer, size: number, maxEntryBytes: number, named: boolean): { code: HeadRefusalCode; reason: string } | null {
  const sniffed = sniffHead(head);
  if (sniffed.kind === 'mbox') return { code: MBOX_ENTRY, reason: MBOX_ENTRY_REASON };
  if (!named) {
    if (size === 0) return { code: 'empty', reason: 'empty' };
    if (isNestedArchiveHead(head)) return { code: NESTED_ARCHIVE, reason: NESTED_ARCHIVE_REASON };
    if (sniffed.kind === 'skip') {
      if (!mayHoldMail(sniffed)) return { code: 'not-email', reason: 'not an email message' };
      return { code: sniffed.reason === 'binary' ? BINARY_ENTRY : MAY_HOLD_MAIL, reason: sniffed.detail };
    }
  }
  if (size > maxEntryBytes) return { code: 'too-large', reason: `too large: declares ${size} bytes, over the ${maxEntryBytes}-byte limit` };
  return null;
}

/**
 * Whether an entry is judged on all its bytes, read first: an entry no longer than a head, and
 * one named `.eml` that may be a message, which it nearly always is (an mbox so named is read
 * again, as a stream). Any other is judged on its head first, so that a large document or an mbox
 * of gigabytes is not read into memory to learn that it is no message.
 */
export const judgedWhole = (size: number, named: boolean, maxEntryBytes: number): boolean => size <= SNIFF_BYTES || (named && size <= maxEntryBytes);

/** A head read from a stored entry (a judged-whole one is read straight into its memory). */
const headBuffer = new ReusableBuffer(SNIFF_BYTES);

function readStored(fd: number, entry: ZipEntryLocation, into?: ReadTarget): Buffer {
  // (the central directory already refused a stored entry whose two sizes differ)
  const whole = judgedWhole(entry.size, entry.named, entry.maxEntryBytes);
  if (!whole) judgeHead(entry, readHeadSync(fd, SNIFF_BYTES, entry.dataStart, headBuffer));
  const raw = readHeadSync(fd, entry.size, entry.dataStart, into);
  if (raw.length !== entry.size) throw corrupt(`inflates to ${raw.length} bytes, ${entry.size} declared`);
  if (whole) judgeHead(entry, raw);
  return raw;
}

function readDeflated(fd: number, entry: ZipEntryLocation, into?: ReadTarget): Buffer {
  const whole = judgedWhole(entry.size, entry.named, entry.maxEntryBytes);
  if (!whole) {
    // Only the head is read to tell what the entry is: an mbox of gigabytes, or a large document,
    // is not a message, and its compressed bytes must not be read into memory to learn that.
    const prefix = readHeadSync(fd, Math.min(entry.compressedSize, SNIFF_INPUT_STEPS.at(-1)!), entry.dataStart);
    const head = inflateHead(prefix, SNIFF_BYTES);
    // a head already past the declared size is a lie found before the content is judged
    if (head.length > entry.size) throw bomb(entry);
    judgeHead(entry, head);
  }
  const compressed = readHeadSync(fd, entry.compressedSize, entry.dataStart, compressedBuffer);
  if (compressed.length !== entry.compressedSize) throw corrupt('unexpected end of file');
  // Into the thread's reused memory, where the line-feed scan runs in place (see line-scan.ts;
  // it gives an entry too large for it memory of its own), else into memory of its own. The
  // extra byte tells an entry that inflates to more, which zlib then refuses (past
  // maxOutputLength) before it takes any more.
  const room = Math.max(entry.size + 1, MIN_INFLATE_CHUNK);
  let raw: Buffer;
  try {
    raw = inflateInto(compressed, into?.take(room) ?? Buffer.allocUnsafeSlow(room), Math.max(entry.size, 1));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw bomb(entry);
    throw corrupt(describe(err));
  }
  if (raw.length > entry.size) throw bomb(entry);
  if (raw.length !== entry.size) throw corrupt(`inflates to ${raw.length} bytes, ${entry.size} declared`);
  if (whole) judgeHead(entry, raw);
  return raw;
}

/** The parts of a zlib engine that its legacy `_processChunk` works with (Node's lib/zlib.js, processChunkSync). */
interface LegacyZlibEngine {
  _processChunk(chunk: Buffer, flushFlag: number): Buffer;
  _outBuffer: Buffer;
  _outOffset: number;
  _chunkSize: number;
}

const hasLegacyFields = (engine: object): engine is LegacyZlibEngine => {
  const e = engine as Partial<LegacyZlibEngine>;
  return typeof e._processChunk === 'function' && e._outBuffer instanceof Uint8Array && typeof e._outOffset === 'number' && typeof e._chunkSize === 'number';
};

/**
 * `compressed` inflated into `target`, with the guards of inflateRawSync (`maxOutputLength`, and
 * zlib's errors thrown as they are). Node's public API always inflates into fresh memory, one
 * allocation an entry of a size that varies from entry to entry: glibc kept what each thread
 * freed of it in that thread's arena, and 20,000 messages deflated in one zip peaked at
 * 307–316 MB against 274–281 MB inflated in place (docs/performance-history.md, twenty-fourth
 * round). An engine's legacy `_processChunk` (kept in Node "for backwards compatibility") writes into the
 * engine's `_outBuffer`, which is set to `target` here. Should a Node change those fields, the
 * bytes inflated elsewhere are copied into `target`: the same bytes, only the memory differs
 * (a test checks that this Node inflates in place).
 */
export function inflateInto(compressed: Buffer, target: Buffer, maxOutputLength: number): Buffer {
  inflateIntoCalls.total++;
  const engine = new InflateRaw({ chunkSize: MIN_INFLATE_CHUNK, maxOutputLength });
  let raw: Buffer;
  try {
    if (!hasLegacyFields(engine)) return copyInto(inflateRawSync(compressed, { chunkSize: target.length, maxOutputLength }), target);
    engine._outBuffer = target;
    engine._outOffset = 0;
    engine._chunkSize = target.length;
    raw = engine._processChunk(compressed, zlibConstants.Z_FINISH);
  } finally {
    engine.close();
  }
  // (nothing inflated comes back as a Buffer of its own, with nothing to copy)
  if (raw.length === 0 || (raw.buffer === target.buffer && raw.byteOffset === target.byteOffset)) return raw;
  return copyInto(raw, target);
}

/** How many inflateInto calls there were, and how many of them had to inflate elsewhere and copy. */
export const inflateIntoCalls = { total: 0, copied: 0 };

function copyInto(raw: Buffer, target: Buffer): Buffer {
  inflateIntoCalls.copied++;
  if (raw.length > target.length) return raw;
  const copied = target.subarray(0, raw.copy(target));
  // (left to the collector, these buffers, one a message, took the 2,000 bench messages in a
  // deflated zip 10-25 MB higher; and once released, `raw` is empty)
  releaseNow(raw);
  return copied;
}

const bomb = (entry: ZipEntryLocation): ReadError =>
  new ReadError('zip-bomb', `zip bomb suspected: inflates to more than the ${entry.size} bytes it declares`);

/** At least `wanted` bytes inflated from the start of `compressed` (fewer only if it holds fewer). */
function inflateHead(compressed: Buffer, wanted: number): Buffer {
  let head = Buffer.alloc(0);
  for (const step of SNIFF_INPUT_STEPS) {
    const input = compressed.subarray(0, Math.min(step, compressed.length));
    try {
      // a cut stream: inflate what there is, without asking for its end
      head = inflateRawSync(input, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (err) {
      throw corrupt(describe(err));
    }
    if (head.length >= wanted || input.length === compressed.length) return head;
  }
  return head;
}

/** How much of an entry's stored bytes is read at a time. */
const STORED_CHUNK_BYTES = 256 * 1024;

/**
 * How much zlib inflates into each buffer of its own: a 1 GB mbox in a zip took 9.1 s with its
 * default 16 KiB, 7.3 s with 64 and 6.9 s with 256, which held 15-20 MB more while each piece
 * waited for a collection to be freed. Given back as soon as it is read (giveBack), a larger
 * piece holds nothing more. It must be larger than Buffer's shared pool to be given back at all:
 * releaseNow leaves memory of the pool's size alone, since it may be the pool itself.
 */
const INFLATED_PIECE_BYTES = 256 * 1024;

/**
 * The memory of a piece of an entry the caller is done with, given back now rather than when a
 * collection finds it: a Takeout of 1 GB inflates into 4,000 such buffers, and those waiting for
 * a collection were 25-30 MB of the main thread's malloc arena at the run's peak (forty-second
 * round). zlib writes each piece into the buffer it allocated for its output and takes a fresh
 * one only once that is full; a stored piece is read into a buffer of its own (a small one into
 * a slice of Buffer's pool, which releaseNow leaves alone). A piece that ends where its buffer
 * ends is therefore the last view of that buffer anyone will make, and the ones before it in the
 * same buffer were read before it.
 */
function giveBack(piece: Buffer): void {
  if (piece.byteOffset + piece.length === piece.buffer.byteLength) releaseNow(piece);
}

/**
 * The `length` bytes at `start` of the archive, each chunk in memory of its own (the inflater
 * may hold it until it has read it), read through the handle one awaited read at a time. No
 * stream holds the handle: once the reading stops, nothing of it is in flight, and closing the
 * handle closes the file. (A ReadStream on the handle held it as well, and the handle's close()
 * could resolve with the file still open for some milliseconds: a worker thread stopped at that
 * moment, at the end of a run, left the archive open for as long as the process lived.) A file
 * that ends before the entry does ends the chunks early; the size check after them says so.
 */
async function* storedBytes(handle: FileHandle, start: number, length: number): AsyncGenerator<Buffer> {
  for (let position = start, end = start + length; position < end; ) {
    const chunk = Buffer.allocUnsafe(Math.min(STORED_CHUNK_BYTES, end - position));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield chunk.subarray(0, bytesRead);
  }
}

/**
 * The bytes of an entry, inflated as a stream (an mbox entry of any size, read without holding
 * it): the same checks as readZipEntryAt, the size as the bytes come (an entry that inflates past
 * what it declares stops there), the CRC-32 and the exact size at the end.
 *
 * A piece is the caller's until it asks for the next one: its memory is then given back at once
 * (`giveBack`), so a caller that keeps bytes copies them first, as every caller does (the mbox
 * splitter, the hashes).
 */
export async function* zipEntryChunks(absPath: string, entry: ZipEntryLocation): AsyncGenerator<Buffer> {
  const handle = await openEvidence(absPath);
  let inflater: Readable | null = null;
  try {
    assertListedArchive(await handle.stat(), entry);
    let inflated = 0;
    let crc = 0;
    if (entry.compressedSize > 0) {
      const stored = storedBytes(handle, entry.dataStart, entry.compressedSize);
      // (pipeline hands a read error on to the inflater, which the loop below then throws.)
      const source: AsyncIterable<Buffer> = entry.method === 0 ? stored : (inflater = pipeline(stored, createInflateRaw({ chunkSize: INFLATED_PIECE_BYTES }), () => undefined));
      try {
        for await (const chunk of source) {
          inflated += chunk.length;
          if (inflated > entry.size) throw bomb(entry);
          crc = crc32(chunk, crc);
          yield chunk;
          giveBack(chunk);
        }
      } catch (err) {
        throw err instanceof ReadError ? err : corrupt(describe(err));
      }
    }
    if (inflated !== entry.size) throw corrupt(`inflates to ${inflated} bytes, ${entry.size} declared`);
    if (crc >>> 0 !== entry.crc32 >>> 0) throw corrupt('CRC-32 mismatch');
  } finally {
    inflater?.destroy();
    await handle.close();
  }
}

/**
 * The sha256 of an entry that is no message (a document), inflated as a stream by zipEntryChunks
 * under its guards: no more than it declares, exactly that, and its CRC-32; a ReadError
 * (`zip-bomb`, `corrupt-entry`, `changed`) otherwise. Nothing of it is held but a chunk.
 */
export async function sha256OfZipEntry(absPath: string, entry: ZipEntryLocation): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of zipEntryChunks(absPath, entry)) hash.update(chunk);
  return hash.digest('hex');
}
