import { describeError } from '../discover/describe-error.ts';
import { closeEvidenceSync, openEvidenceSync, readHeadSync, readToEndSync, statEvidenceSync, type ReadTarget } from '../discover/open-evidence.ts';
import type { ContainerKind, DiscoveredFile } from '../discover/types.ts';
import { readEmlx } from './emlx.ts';
import { readMbox } from './mbox.ts';
import { ReadError, type RawMessage } from './types.ts';

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

/**
 * The whole file, for single-message containers; refused above `maxBytes`. Synchronous, like
 * the walk: one open, fstat, read and close, while the workers analyse the messages read before.
 */
function readWhole(file: Pick<DiscoveredFile, 'absPath'>, maxBytes: number, into?: ReadTarget): Buffer {
  const fd = openEvidenceSync(file.absPath);
  try {
    const stats = statEvidenceSync(fd);
    if (!stats.isFile()) throw new ReadError('unreadable', 'not a regular file (any more)');
    if (stats.size > maxBytes) {
      throw new ReadError('too-large', `${stats.size} bytes, over the ${maxBytes}-byte limit for one message`);
    }
    return readToEndSync(fd, stats.size, into);
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
  file: Pick<DiscoveredFile, 'absPath'>,
  kind: SingleMessageKind,
  maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES,
  into?: ReadTarget,
): RawMessage {
  try {
    switch (kind) {
      case 'emlx':
        return { ...readEmlx(readWhole(file, maxMessageBytes, into)), movable: !into };
      case 'eml':
      case 'maildir':
        return { index: 0, offset: 0, raw: readWhole(file, maxMessageBytes, into), format: kind, movable: !into };
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

/** The `length` bytes at `offset` of a container file, read again (to record a message whose analysis failed). */
export function rereadRange(file: DiscoveredFile, offset: number, length: number): Buffer {
  const fd = openEvidenceSync(file.absPath);
  try {
    return readHeadSync(fd, length, offset);
  } finally {
    closeEvidenceSync(fd);
  }
}
