import { openEvidence } from '../discover/open-evidence.ts';
import { splitMbox, type SplitMboxOptions } from './mbox-split.ts';
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
  const handle = await openEvidence(absPath);
  try {
    if (!(await handle.stat()).isFile()) throw new ReadError('unreadable', 'not a regular file (any more)');
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
