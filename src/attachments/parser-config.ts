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
  /** declared media type, lower-case, and the file name, decoded; false when absent */
  contentType: string | false;
  filename: string | false;
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

/** One raw header line of a MIME node, as mailsplit's Headers lists it. */
export interface MailsplitHeaderLine {
  /** lower-case name */
  key: string;
  /** the whole line, folds kept, as a binary (latin1) string */
  line: string;
}

/**
 * The subset of mailsplit's MimeNode the fast inventory uses: the node is built and its header
 * parsed by mailsplit's own code, so that type, disposition, file name, transfer encoding,
 * boundary and part number come out exactly as the splitter inside mailparser makes them.
 */
export interface MailsplitMimeNode {
  root: boolean;
  parentNode: MailsplitMimeNode | false;
  contentType: string | false;
  encoding: string | false;
  disposition: string | false;
  filename: string | false;
  multipart: string | false;
  partNr: Array<number | string> | false;
  _boundary: Buffer | false;
  _parentBoundary: Buffer | false;
  headers: { getList(): MailsplitHeaderLine[] } | false;
  addHeaderChunk(line: Buffer): void;
  parseHeaders(): void;
}

export type MimeNodeConstructor = new (parent: MailsplitMimeNode | false, config?: Record<string, unknown>) => MailsplitMimeNode;

/** The libmime calls mailparser makes on part headers. */
export interface MailparserLibmime {
  decodeHeader(line: string): { key: string; value: string } | undefined;
  parseHeaderValue(value: string, options?: Record<string, unknown>): { value: string | false; params: Record<string, string> };
  decodeWords(value: string): string;
  detectMimeType(filename: string): string | false | undefined;
}

export interface MimeLibraries {
  Splitter: SplitterConstructor;
  MimeNode: MimeNodeConstructor;
  /** libbase64's decode(), the function mailsplit's base64 Decoder stream calls */
  decodeBase64: (text: string) => Buffer;
  /** libqp's decode(), which mailsplit's quoted-printable Decoder stream applies to a whole part */
  decodeQuotedPrintable: (encoded: Buffer) => Buffer;
  /** the libmime that mailparser itself imports */
  libmime: MailparserLibmime;
  /** he's decode(), with which mailparser reads HTML entities */
  decodeHtmlEntities: (html: string) => string;
  /** whether libmime can decode text in `charset` (else it reads the bytes as UTF-8 instead, silently) */
  canDecodeCharset: (charset: string) => boolean;
}

let libraries: MimeLibraries | null = null;

/**
 * mailsplit, its decoders and libmime, each loaded from where mailparser (or mailsplit) loads
 * it: the very same copies of the code that parse the message for the inventory, whatever
 * versions npm resolved (mailsplit keeps its own libbase64 and libqp).
 */
export function loadMimeLibraries(): MimeLibraries {
  if (!libraries) {
    const here = createRequire(import.meta.url);
    const mailparserPath = here.resolve('mailparser');
    const fromMailparser = createRequire(mailparserPath);
    const mailsplitPath = fromMailparser.resolve('@zone-eu/mailsplit');
    const mailsplit = fromMailparser(mailsplitPath) as { Splitter: SplitterConstructor; MimeNode: MimeNodeConstructor };
    const fromMailsplit = createRequire(mailsplitPath);
    const libbase64 = fromMailsplit('libbase64') as { decode: (text: string) => Buffer };
    const libqp = fromMailsplit('libqp') as { decode: (encoded: Buffer) => Buffer };
    libraries = {
      Splitter: mailsplit.Splitter,
      MimeNode: mailsplit.MimeNode,
      decodeBase64: libbase64.decode,
      decodeQuotedPrintable: libqp.decode,
      libmime: fromMailparser('libmime') as MailparserLibmime,
      decodeHtmlEntities: (fromMailparser('he') as { decode: (html: string) => string }).decode,
      canDecodeCharset: charsetTest(fromMailparser.resolve('libmime')),
    };
  }
  return libraries;
}

/**
 * libmime's own test of a charset, from its charset.js: ASCII and UTF-8 names, the Japanese
 * encodings it hands to encoding-japanese, and whatever its iconv-lite knows, after its own
 * alias table (normalizeCharset).
 */
function charsetTest(libmimePath: string): (charset: string) => boolean {
  const fromLibmime = createRequire(libmimePath);
  const iconv = fromLibmime('iconv-lite') as { encodingExists: (name: string) => boolean };
  const libmime = fromLibmime(libmimePath) as { normalizeCharset: (name: string) => string };
  return (charset) => {
    const name = libmime.normalizeCharset(charset || 'UTF-8');
    return /^(us-)?ascii|utf-8|7bit$/i.test(name) || /^jis|^iso-?2022-?jp|^EUCJP/i.test(name) || iconv.encodingExists(name);
  };
}

/**
 * mailsplit's Splitter, loaded from where mailparser loads it: the very same copy of the code
 * that splits the message for the inventory, whatever version npm resolved.
 */
export function loadSplitter(): SplitterConstructor {
  return loadMimeLibraries().Splitter;
}
