import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { openEvidence } from '../discover/open-evidence.ts';
import { splitMbox, splitMboxRanges, type MboxRange, type SplitMboxOptions } from './mbox-split.ts';
import { ReadError, type RawMessage } from './types.ts';

export interface MboxReadOptions extends SplitMboxOptions {
  /** read chunk size; tests make it tiny to put separators across chunk boundaries */
  highWaterMark?: number;
}

/**
 * Streams the messages of an mbox file (see splitMbox for the format rules), never holding more
 * than the current message and one chunk. `absPath` is a DiscoveredFile.absPath.
 */
export async function* readMbox(absPath: string, options: MboxReadOptions = {}): AsyncGenerator<RawMessage> {
  const { handle } = await openMbox(absPath);
  try {
    // autoClose off: the handle is closed below, also when the consumer stops early.
    const stream = handle.createReadStream({
      autoClose: false,
      ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
    });
    try {
      yield* splitMbox(stream, options);
    } finally {
      stream.destroy();
    }
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
  /** the sha256 of every byte of the file, once the scan has read them all; null before */
  sha256(): string | null;
}

/** Chunks of the scan: large, since the bytes are only looked at once, and each read is a trip to the thread pool. */
const SCAN_CHUNK = 1024 * 1024;

/**
 * Where each message of an mbox lies, for readers that read the bytes themselves (the worker
 * threads, see messageFromRange). The file is read once, through one reused buffer, and hashed
 * as it is read, so that its sha256 costs no second pass. The file stays open until `ranges` is
 * done with, to its end or not: the caller must iterate it.
 */
export async function scanMbox(absPath: string, options: MboxReadOptions = {}): Promise<MboxScan> {
  const { handle, stats } = await openMbox(absPath);
  const hash = createHash('sha256');
  let digest: string | null = null;
  async function* chunks(): AsyncGenerator<Buffer> {
    const buffer = Buffer.allocUnsafeSlow(options.highWaterMark ?? SCAN_CHUNK);
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      position += bytesRead;
      // valid until the next one is asked for: the splitter copies it first
      yield chunk;
    }
    digest = hash.digest('hex');
  }
  async function* ranges(): AsyncGenerator<MboxRange> {
    try {
      yield* splitMboxRanges(chunks(), options);
    } finally {
      await handle.close();
    }
  }
  return { identity: { size: stats.size, mtimeMs: stats.mtimeMs }, ranges: ranges(), sha256: () => digest };
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
