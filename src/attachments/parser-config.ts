/**
 * The one MIME parser configuration the inventory and the layout scan share, so that both see
 * the same tree and number the parts alike.
 */
import { createRequire } from 'node:module';

/**
 * Options for mailsplit's Splitter, which mailparser passes its own options on to.
 *
 * `ignoreEmbedded`: mailsplit descends into a message/rfc822 part whose disposition is inline
 * (nodemailer writes forwarded messages that way) and mailparser then shows the embedded
 * message's parts as if they were the parent's, dropping the message/rfc822 part itself. With
 * the option set, every message/rfc822 part stays a leaf whose decoded content is the embedded
 * message, byte for byte, which is what has to be verified on its own.
 */
export const SPLITTER_OPTIONS = { ignoreEmbedded: true } as const;

/** The size of the slices a message is written to a parser in. */
export const WRITE_CHUNK = 64 * 1024;

/** The structural subset of mailsplit's MimeNode that the layout scan reads. */
export interface SplitterNode {
  type: 'node';
  root: boolean;
  multipart: string | false;
  parentNode: SplitterNode | false;
  partNr: Array<number | string> | false;
  _parentBoundary: Buffer | false;
  _headersLines: Buffer[];
  _headerlen: number;
}

export interface SplitterChunk {
  type: 'data' | 'body';
  node: SplitterNode;
  value: Buffer;
}

export interface SplitterStream extends NodeJS.ReadWriteStream {
  on(event: 'data', listener: (data: SplitterNode | SplitterChunk) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: string | symbol, listener: (...args: unknown[]) => void): this;
  destroy(error?: Error): this;
}

type SplitterConstructor = new (options?: Record<string, unknown>) => SplitterStream;

let splitterClass: SplitterConstructor | null = null;

/**
 * mailsplit's Splitter, loaded from where mailparser loads it: the very same copy of the code
 * that splits the message for the inventory, whatever version npm resolved.
 */
export function loadSplitter(): SplitterConstructor {
  if (!splitterClass) {
    const here = createRequire(import.meta.url);
    const fromMailparser = createRequire(here.resolve('mailparser'));
    const mailsplit = fromMailparser('@zone-eu/mailsplit') as { Splitter: SplitterConstructor };
    splitterClass = mailsplit.Splitter;
  }
  return splitterClass;
}
