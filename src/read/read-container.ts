import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { describeError } from '../discover/describe-error.ts';
import { closeEvidenceSync, openEvidenceSync, readHeadSync, readToEndSync, statEvidenceSync, type ReadTarget } from '../discover/open-evidence.ts';
import type { ContainerKind, DiscoveredFile } from '../discover/types.ts';
import { readEmlx } from './emlx.ts';
import { readMbox, scanMbox, type FileIdentity, type MboxScan } from './mbox.ts';
import { messageFromRange, OverruledLengths, type MboxRange } from './mbox-split.ts';
import { ReadError, type RawMessage } from './types.ts';
import { isEmlxEntry, readZipEntryAt } from './zip-entry.ts';
import type { ZipEntryLocation } from './zip.ts';

/** Above this, a single message is refused rather than loaded: real mail is far smaller. */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** ENOENT and ENOTDIR: the file (or a directory above it) is gone since discovery. */
const VANISHED_CODES = new Set(['ENOENT', 'ENOTDIR']);

/**
 * System failures become ReadErrors so callers record them per container; errors without a code
 * are bugs, and are left to surface as such.
 */
function asReadError(error: unknown): unknown {
  if (error instanceof ReadError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string') return error;
  const wrapped = VANISHED_CODES.has(code)
    ? new ReadError('vanished', `file vanished after discovery (${describeError(error)})`)
    : new ReadError('unreadable', describeError(error));
  wrapped.cause = error;
  return wrapped;
}

/** A file to read whole, and what the walk saw of it, if the bytes read must be those. */
export interface SingleFileTarget {
  absPath: string;
  /**
   * The size and mtime the walk recorded: a file that no longer has them is refused (`changed`),
   * as an mbox or a zip is. The file's row stores these, and the sha256 of the bytes read; a file
   * grown or replaced between the walk and the read was recorded with the old size and the new
   * bytes' hash, and the next run's custody entry gave the original the new bytes' hash (red
   * team G-02).
   */
  seen?: FileIdentity;
}

/** The refusal of a file no longer as the walk saw it, or null. */
export function changedSince(seen: FileIdentity | undefined, stats: FileIdentity): ReadError | null {
  if (seen === undefined || (stats.size === seen.size && stats.mtimeMs === seen.mtimeMs)) return null;
  return new ReadError(
    'changed',
    `the file changed after it was found: ${seen.size} bytes modified ${new Date(seen.mtimeMs).toISOString()} then, ${stats.size} bytes modified ${new Date(stats.mtimeMs).toISOString()} when read`,
  );
}

/**
 * The whole file, for single-message containers; refused above `maxBytes`. Synchronous, like
 * the walk: one open, fstat, read and close, while the workers analyse the messages read before.
 */
function readWhole(file: SingleFileTarget, maxBytes: number, into?: ReadTarget): Buffer {
  const fd = openEvidenceSync(file.absPath);
  try {
    const stats = statEvidenceSync(fd);
    if (!stats.isFile()) throw new ReadError('unreadable', 'not a regular file (any more)');
    const changed = changedSince(file.seen, stats);
    if (changed) throw changed;
    if (stats.size > maxBytes) {
      throw new ReadError('too-large', `${stats.size} bytes, over the ${maxBytes}-byte limit for one message`);
    }
    const bytes = readToEndSync(fd, stats.size, into);
    // (grown or cut while being read: the fstat before the read does not see that)
    const grown = changedSince(file.seen, { size: bytes.length, mtimeMs: file.seen?.mtimeMs ?? 0 });
    if (grown) throw grown;
    return bytes;
  } finally {
    closeEvidenceSync(fd);
  }
}

/** Containers that hold exactly one message: read whole, in one go. */
export type SingleMessageKind = Exclude<ContainerKind, 'mbox'>;

export const isSingleMessageKind = (kind: ContainerKind): kind is SingleMessageKind => kind !== 'mbox';

/**
 * The message of a single-message container. With `into`, the bytes are read into that reused
 * memory (a worker thread reads the files it analyses this way) and are valid until its next use.
 * Whatever goes wrong surfaces as a ReadError.
 */
export function readSingleMessage(
  file: SingleFileTarget,
  kind: SingleMessageKind,
  maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES,
  into?: ReadTarget,
): RawMessage {
  try {
    switch (kind) {
      case 'emlx':
        return readEmlx(readWhole(file, maxMessageBytes, into));
      case 'eml':
      case 'maildir':
        return { index: 0, offset: 0, raw: readWhole(file, maxMessageBytes, into), format: kind };
      default: {
        const unknown: never = kind;
        throw new ReadError('unsupported', `no reader for container kind ${String(unknown)}`);
      }
    }
  } catch (error) {
    throw asReadError(error);
  }
}

/**
 * The messages of one discovered container, in file order. Whatever goes wrong surfaces as a
 * ReadError, after the messages read before it.
 */
export async function* readContainer(
  file: DiscoveredFile,
  kind: ContainerKind,
  maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES,
): AsyncGenerator<RawMessage> {
  if (isSingleMessageKind(kind)) {
    yield readSingleMessage(file, kind, maxMessageBytes);
    return;
  }
  try {
    yield* readMbox(file.absPath, { maxMessageBytes });
  } catch (error) {
    throw asReadError(error);
  }
}

/**
 * Where one message's bytes are, for the thread that analyses it to read them itself: a whole
 * single-message file, the range of one message in an mbox that the main thread scanned, or an
 * entry of a zip archive whose central directory the main thread read.
 */
export type MessageLocation =
  | { absPath: string; kind: SingleMessageKind; seen?: FileIdentity }
  | { absPath: string; kind: 'mbox'; range: MboxRange; identity: FileIdentity }
  | { absPath: string; kind: 'zip-entry'; entry: ZipEntryLocation };

/**
 * The message at a location. With `into`, read into that reused memory, valid until its next
 * use. Whatever goes wrong surfaces as a ReadError.
 */
export function readMessageAt(location: MessageLocation, maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES, into?: ReadTarget): RawMessage {
  if (location.kind !== 'mbox' && location.kind !== 'zip-entry') return readSingleMessage(location, location.kind, maxMessageBytes, into);
  try {
    // (a zip entry has its archive's own limit on its size, in its location)
    if (location.kind === 'zip-entry') {
      const raw = readZipEntryAt(location.absPath, location.entry, into);
      // an .emlx entry is read as the loose file would be: the counted message, without Mail's plist
      return isEmlxEntry(raw) ? readEmlx(raw) : { index: 0, offset: 0, raw, format: 'eml' };
    }
    return readMboxMessage(location, into);
  } catch (error) {
    throw asReadError(error);
  }
}

/**
 * An mbox message is read at the range the scan found, and only from the file the scan saw: its
 * size and modification time must not have changed since, or the range may cut another message
 * (the scan's sha256 would not be of these bytes either).
 */
function readMboxMessage({ absPath, range, identity }: Extract<MessageLocation, { kind: 'mbox' }>, into?: ReadTarget): RawMessage {
  const fd = openEvidenceSync(absPath);
  try {
    const stats = statEvidenceSync(fd);
    if (!stats.isFile()) throw new ReadError('unreadable', 'not a regular file (any more)');
    if (stats.size !== identity.size || stats.mtimeMs !== identity.mtimeMs) {
      throw new ReadError(
        'changed',
        `the file changed while its messages were being read: ${identity.size} bytes when scanned, ${stats.size} now, modified ${new Date(stats.mtimeMs).toISOString()}`,
      );
    }
    return messageFromRange(range, readHeadSync(fd, range.size, range.offset, into));
  } finally {
    closeEvidenceSync(fd);
  }
}

/** A message to be read where it lies, and its size (what the analysis' time limit is set for). */
export interface LocatedMessage {
  location: MessageLocation;
  size: number;
}

export interface LocatedMboxMessages {
  messages: AsyncGenerator<LocatedMessage>;
  /** the sha256 of the whole file, once `messages` has been read to its end; null before */
  sha256(): string | null;
  /** what the scan has to say of the file besides its messages (a Content-Length it overruled), or null */
  note(): string | null;
}

/**
 * The messages of an mbox, located by one scan of the file (see scanMbox) for the threads that
 * read them. Whatever goes wrong surfaces as a ReadError, after the messages located before it.
 */
export function locateMboxMessages(file: Pick<DiscoveredFile, 'absPath'>, maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES): LocatedMboxMessages {
  let scan: MboxScan | null = null;
  const overruled = new OverruledLengths();
  async function* messages(): AsyncGenerator<LocatedMessage> {
    try {
      const opened = await scanMbox(file.absPath, { maxMessageBytes, overruled });
      scan = opened;
      for await (const range of opened.ranges) {
        yield { location: { absPath: file.absPath, kind: 'mbox', range, identity: opened.identity }, size: range.size };
      }
    } catch (error) {
      throw asReadError(error);
    }
  }
  return { messages: messages(), sha256: () => scan?.sha256() ?? null, note: () => overruled.note() };
}

/**
 * The sha256 of a whole file of the dump, of any size, read a chunk at a time into `chunk`
 * (memory the caller reuses). Synchronous, for a thread that has nothing else to do meanwhile: on
 * this project's 2-core machine, hashing 20,000 files (3.4 GB) this way took 2.6 s, against 7.5 s
 * with a read stream and 5.6 s with promise reads into a reused buffer, whose thread-pool round
 * trips cost more system time than the reading itself.
 */
export function hashFileSync(absPath: string, chunk: Buffer): string {
  try {
    const fd = openEvidenceSync(absPath);
    try {
      if (!statEvidenceSync(fd).isFile()) throw new ReadError('unreadable', 'not a regular file (any more)');
      const hash = createHash('sha256');
      for (;;) {
        const bytesRead = readSync(fd, chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        hash.update(chunk.subarray(0, bytesRead));
      }
      return hash.digest('hex');
    } finally {
      closeEvidenceSync(fd);
    }
  } catch (error) {
    throw asReadError(error);
  }
}
