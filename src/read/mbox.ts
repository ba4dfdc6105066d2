import { createHash, type Hash } from 'node:crypto';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { openEvidence } from '../discover/open-evidence.ts';
import { splitMbox, splitMboxRanges, type MboxRange, type SplitMboxOptions } from './mbox-split.ts';
import { ReadError, type RawMessage } from './types.ts';

export interface MboxReadOptions extends SplitMboxOptions {
  /** read chunk size; tests make it tiny to put separators across chunk boundaries */
  highWaterMark?: number;
}

/** Chunks are large: each read is a trip to the thread pool, and the splitter copies each chunk once. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Streams the messages of an mbox file (see splitMbox for the format rules), never holding more
 * than the current message and one chunk. `absPath` is a DiscoveredFile.absPath.
 */
export async function* readMbox(absPath: string, options: MboxReadOptions = {}): AsyncGenerator<RawMessage> {
  const { handle } = await openMbox(absPath);
  try {
    yield* splitMbox(chunksOf(handle, options.highWaterMark ?? CHUNK_BYTES), options);
  } finally {
    await handle.close();
  }
}

/** What the scan of an mbox saw of the file, to tell whether it is still the same when its messages are read. */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
}

export interface MboxScan {
  /** the file as it was when the scan opened it */
  identity: FileIdentity;
  ranges: AsyncGenerator<MboxRange>;
  /**
   * the sha256 of the file's first `identity.size` bytes, the file as the scan opened it, once the
   * scan has read them all; null before, and null for good when the file ended before them
   */
  sha256(): string | null;
}

/**
 * Where each message of an mbox lies, for readers that read the bytes themselves (the worker
 * threads, see messageFromRange). The file is read once, through one reused buffer, and hashed
 * as it is read, so that its sha256 costs no second pass. The file stays open until `ranges` is
 * done with, to its end or not: the caller must iterate it.
 *
 * Only the bytes the file had when it was opened are scanned and hashed. An mbox is a file mail
 * programs append to: read to whatever end it had by then, the scan hashed bytes appended after
 * the walk, and the file's row paired the size the walk saw with the hash of a longer file, so
 * that the hash of the bytes the verdicts came from was recorded nowhere (red team V, V-05). A
 * file that ends before those bytes were all read was cut while it was scanned: a ReadError
 * `changed`, and no sha256.
 */
export async function scanMbox(absPath: string, options: MboxReadOptions = {}): Promise<MboxScan> {
  const { handle, stats } = await openMbox(absPath);
  const hash = createHash('sha256');
  let digest: string | null = null;
  async function* ranges(): AsyncGenerator<MboxRange> {
    try {
      yield* splitMboxRanges(chunksOf(handle, options.highWaterMark ?? CHUNK_BYTES, { hash, bytes: stats.size, onEnd: (hex) => (digest = hex) }), options);
    } finally {
      await handle.close();
    }
  }
  return { identity: { size: stats.size, mtimeMs: stats.mtimeMs }, ranges: ranges(), sha256: () => digest };
}

/** The bytes a scan reads, and hashes. */
interface ScanBound {
  hash: Hash;
  /** how many: the file's size when it was opened */
  bytes: number;
  /** given the digest once they are all read */
  onEnd: (hex: string) => void;
}

/**
 * The file from its start, in chunks read into one buffer: each chunk is valid until the next is
 * asked for (the splitter copies it first). With `bound`, the first `bound.bytes` bytes and no
 * more, every one hashed; a file that ends before them changed while it was read.
 */
async function* chunksOf(handle: FileHandle, chunkBytes: number, bound?: ScanBound): AsyncGenerator<Buffer> {
  const buffer = Buffer.allocUnsafeSlow(chunkBytes);
  let position = 0;
  for (;;) {
    const wanted = bound ? Math.min(buffer.length, bound.bytes - position) : buffer.length;
    if (wanted === 0) break;
    const { bytesRead } = await handle.read(buffer, 0, wanted, position);
    if (bytesRead === 0) {
      if (bound) throw new ReadError('changed', `the file changed while its messages were being read: ${bound.bytes} bytes when scanned, ${position} when its end was reached`);
      break;
    }
    const chunk = buffer.subarray(0, bytesRead);
    bound?.hash.update(chunk);
    position += bytesRead;
    yield chunk;
  }
  bound?.onEnd(bound.hash.digest('hex'));
}

async function openMbox(absPath: string): Promise<{ handle: FileHandle; stats: Stats }> {
  const handle = await openEvidence(absPath);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new ReadError('unreadable', 'not a regular file (any more)');
    return { handle, stats };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
