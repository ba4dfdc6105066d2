/**
 * The attachment inventory read with mailparser's streaming MailParser: the reference
 * implementation, which `inventoryParts` falls back to whenever the fast path (fast-inventory.ts)
 * is not sure to read a message exactly as this does. See inventory.ts for what is listed.
 *
 * Every attachment-like part's content is hashed as it streams out of mailparser's decoder and
 * never held whole: the message is fed to the parser in 64 KiB slices, so an attachment costs a
 * few decoder buffers whatever its size; only embedded messages are kept, up to
 * `maxEmbeddedBytes` each. The text parts, which mailparser buffers whole to build the message
 * text, are read and dropped (`handNothingOn`).
 */
import { createHash } from 'node:crypto';
import { MailParser } from 'mailparser';
import type { AttachmentStream, MessageText } from 'mailparser';
import { Base64Agreement } from './content-decode.ts';
import { SPLITTER_OPTIONS, WRITE_CHUNK } from './parser-config.ts';
import type { MailsplitHeaderLine, MailsplitMimeNode } from './parser-config.ts';
import type { MimePartRecord, PartInventory } from './types.ts';
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_EMBEDDED_BYTES,
  DEFAULT_MAX_PARTS,
  foldsWhitespace,
  holdsMessage,
  isMessageType,
  mayHoldMessage,
  partRecord,
} from './inventory-options.ts';
import { gatherShared } from './embedded-bytes.ts';
import { WhitespaceFolds } from './whitespace-fold.ts';
import type { InventoryOptions } from './inventory-options.ts';

/** The decoder mailparser makes for a part (a transform stream of mailsplit's or libmime's). */
interface PartDecoder {
  write(chunk: unknown, ...rest: unknown[]): boolean;
  push(chunk: unknown, encoding?: unknown): boolean;
}

/**
 * mailparser keeps every text part it reads as the message text (text/plain, text/html and
 * delivery-status parts not marked as attachments) whole: its decoded bytes, joined, then a string
 * of them, then that string with its line ends rewritten, several bytes of memory a byte of text.
 * The inventory drops the message text, so the part's decoder here reads the part as before (an
 * error decoding it still ends the parse) but hands nothing on: mailparser sees an empty text.
 * Nothing else in the text can make mailparser fail: with text-to-HTML and HTML-to-text off
 * (below), its only other failure is a string longer than V8's longest, and a message is read to
 * 256 MB (DEFAULT_MAX_MESSAGE_BYTES), which makes at most 256 M characters of text, half that
 * length. A 50 MB text part beside a part the fast path leaves to mailparser peaked at 329 MB
 * (a 50 MB message), and 140 MB of text in two parts at 845 MB.
 */
function handNothingOn(decoder: PartDecoder): void {
  const push = decoder.push.bind(decoder);
  decoder.push = (chunk, encoding) => (chunk === null ? push(null, encoding) : true);
}

function headerValue(attachment: AttachmentStream, key: string): unknown {
  try {
    return attachment.headers.get(key);
  } catch {
    return undefined;
  }
}

function declaredContentType(attachment: AttachmentStream): string {
  const value = headerValue(attachment, 'content-type');
  const declared =
    value && typeof value === 'object' && 'value' in value && typeof value.value === 'string' ? value.value : null;
  const type = (declared ?? attachment.contentType ?? '').toLowerCase().trim();
  return type === '' ? 'application/octet-stream' : type;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/**
 * Lists the attachment-like and inline parts of `message` (see inventory.ts for which).
 * Never throws on a malformed message: a parser error, or a limit reached, ends the inventory and
 * is reported in `error`, with the parts read before it in `parts`.
 */
export async function inventoryPartsWithMailparser(message: Buffer, options: InventoryOptions = {}): Promise<PartInventory> {
  const maxParts = options.maxParts ?? DEFAULT_MAX_PARTS;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxEmbedded = options.maxEmbeddedBytes ?? DEFAULT_MAX_EMBEDDED_BYTES;

  const parts: MimePartRecord[] = [];
  let error: string | null = null;
  let finished = false;
  let failed = false;
  let seen = 0;
  // the part being read: at the end of the message mailparser ends without waiting for it
  let pending: Promise<void> | null = null;

  const parser = new MailParser({
    ...SPLITTER_OPTIONS,
    // hashing is done here, as sha256; mailparser still counts the size
    checksumAlgo: false,
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    skipTextLinks: true,
  });

  // An attachment carries mailparser's processed headers only (the first Content-Disposition,
  // one reading of each parameter); the names other readers give a part are read from its raw
  // lines, which mailparser's createNode receives with each node mailsplit makes, by part number
  // as processChunk numbers it.
  // The base64 text a part's decoder is given is read there too, to tell whether other decoders
  // read it alike (Base64Agreement, as the fast path reads it in decodeBase64).
  const headerLines = new Map<string | null, MailsplitHeaderLine[]>();
  const base64Agreements = new Map<string | null, Base64Agreement>();
  type MadeNode = { isAttachment?: boolean; decoder?: PartDecoder };
  const internals = parser as unknown as { createNode(node: MailsplitMimeNode): MadeNode };
  const createNode = internals.createNode.bind(parser);
  internals.createNode = (node) => {
    const partId = node._parentBoundary ? (node.partNr || []).filter((nr) => typeof nr === 'number').join('.') || null : null;
    headerLines.set(partId, node.headers ? node.headers.getList() : []);
    const made = createNode(node);
    const decoder = made.decoder;
    if (made.isAttachment === false && decoder) handNothingOn(decoder);
    if (node.encoding === 'base64' && decoder) {
      const agreement = new Base64Agreement();
      base64Agreements.set(partId, agreement);
      const write = decoder.write.bind(decoder);
      decoder.write = (chunk, ...rest) => {
        agreement.update(Buffer.isBuffer(chunk) ? chunk.toString('latin1') : String(chunk));
        return write(chunk, ...rest);
      };
    }
    return made;
  };

  let settle: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    settle = () => {
      if (finished) return;
      finished = true;
      resolve();
    };
  });
  const fail = (reason: string): void => {
    if (finished) return;
    failed = true;
    error ??= reason;
    settle();
    parser.destroy();
  };
  const end = (): void => {
    if (finished || !pending) return settle();
    // the decoder has ended, so the content stream ends too; wait for it, but not forever
    const timer = setTimeout(() => fail('the last part did not finish after the end of the message'), 10_000);
    void pending.then(() => {
      clearTimeout(timer);
      settle();
    });
  };

  const consume = async (attachment: AttachmentStream): Promise<void> => {
    const index = ++seen;
    const partId = typeof attachment.partId === 'string' && attachment.partId !== '' ? attachment.partId : null;
    const depth = partId === null ? 0 : partId.split('.').length;
    if (index > maxParts) {
      fail(`inventory stopped: more than ${maxParts} parts`);
      attachment.release?.();
      return;
    }
    if (depth > maxDepth) {
      fail(`inventory stopped: a part is nested ${depth} levels deep, deeper than ${maxDepth} levels`);
      attachment.release?.();
      return;
    }
    const contentType = declaredContentType(attachment);
    const hash = createHash('sha256');
    const filename = typeof attachment.filename === 'string' && attachment.filename !== '' ? attachment.filename : null;
    const transferEncoding = headerValue(attachment, 'content-transfer-encoding');
    const folded = foldsWhitespace(filename, transferEncoding, isMessageType(contentType)) ? new WhitespaceFolds() : null;
    let size = 0;
    let kept: Buffer[] | null = mayHoldMessage(contentType, filename) ? [] : null;
    try {
      for await (const chunk of attachment.content as AsyncIterable<Buffer | string>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
        hash.update(bytes);
        folded?.update(bytes);
        size += bytes.length;
        if (kept) {
          if (size > maxEmbedded) kept = null;
          else kept.push(bytes);
        }
      }
    } catch (err) {
      attachment.release?.();
      fail(`part ${partId ?? index} could not be decoded: ${describe(err)}`);
      return;
    }
    if (failed) {
      // the parser failed while the content was streaming: the part may be cut off
      attachment.release?.();
      return;
    }
    const embedded = kept && gatherShared(kept, size);
    const isMessage = holdsMessage(contentType, embedded);
    const record = partRecord({
      partIndex: parts.length + 1,
      partId,
      contentType,
      filename,
      size,
      sha256: hash.digest('hex'),
      ...(isMessage ? {} : folded?.digest()),
      disposition: attachment.contentDisposition,
      transferEncoding,
      contentId: typeof attachment.cid === 'string' && attachment.cid !== '' ? attachment.cid : null,
      isMessage,
      embedded,
      headerLines: headerLines.get(partId) ?? [],
      base64Agreed: base64Agreements.get(partId)?.agreed ?? true,
    });
    parts.push(record);
    attachment.release?.();
  };

  parser.on('data', (data: AttachmentStream | MessageText) => {
    if (data.type !== 'attachment') return;
    if (finished) {
      data.release?.();
      return;
    }
    pending = consume(data).catch((err: unknown) => fail(describe(err)));
  });
  parser.on('error', (err: unknown) => fail(describe(err)));
  parser.on('end', end);
  parser.on('close', () => {
    // destroyed without an end: keep what was read
    if (!finished && !parser.readableEnded) fail('parser closed before the end of the message');
  });

  // A drain that never comes (the parser failed) must not hold the writer: race it with `done`.
  const drained = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const onDrain = (): void => {
        parser.off('drain', onDrain);
        resolve();
      };
      parser.on('drain', onDrain);
      void done.then(() => {
        parser.off('drain', onDrain);
        resolve();
      });
    });

  try {
    for (let pos = 0; pos < message.length && !finished; pos += WRITE_CHUNK) {
      if (!parser.write(message.subarray(pos, pos + WRITE_CHUNK))) await drained();
    }
    if (!finished) parser.end();
  } catch (err) {
    fail(describe(err));
  }
  await done;
  return { parts, error };
}
