/**
 * The attachment inventory without a streaming parser: the MIME tree is found in the message
 * bytes with native searches (mime-walk.ts), and each listed part's content is decoded straight
 * out of the message in bounded chunks and hashed (content-decode.ts).
 *
 * It must give exactly what inventoryPartsWithMailparser gives, so it reuses the code that
 * decides there wherever it can: part headers are parsed by mailsplit's own MimeNode, part
 * header values are read with mailparser's libmime in the steps mailparser takes, and contents
 * are decoded by libbase64's own decode() and by libqp's in pieces (content-decode.ts). What it rebuilds is mailparser's choice
 * of the parts it lists (createNode and processChunk in mail-parser.js) and the three header
 * values the record takes from mailparser's processed headers.
 *
 * `fastInventory` returns null, "not sure", whenever a message leaves the shapes it handles
 * (see mime-walk.ts for the structure), and also when a listed part has a transfer encoding
 * other than base64, quoted-printable, 7bit, 8bit or binary (or none), when a part's
 * Content-Type is there but empty, when the inventory would stop at maxParts or maxDepth, and
 * when mailsplit's or libmime's header code throws.
 *
 * The text parts are not read here at all, whatever their size: the reference inventory reads
 * them as an empty text (`handNothingOn` in mailparser-inventory.ts), and nothing else of
 * leakcheck takes the text from mailparser (the reader-text fingerprint and the checks that read
 * the text decode it themselves, in bounded pieces). Until the thirty-ninth round mailparser held
 * the text whole, could in principle fail on a string past V8's longest, and had the messages of
 * more than 128 MiB of text parts left to it (MAX_TEXT_BYTES), to fail alike.
 */
import { createHash } from 'node:crypto';
import { decodeBase64, decodeQuotedPrintable } from './content-decode.ts';
import type { ContentSink } from './content-decode.ts';
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
import { walkMime } from './mime-walk.ts';
import type { WalkedLeaf } from './mime-walk.ts';
import { loadMimeLibraries } from './parser-config.ts';
import type { MailparserLibmime, MailsplitHeaderLine, MimeLibraries } from './parser-config.ts';
import type { MimePartRecord, PartInventory } from './types.ts';

/** mailparser's textTypes (keepDeliveryStatus is not set): parts it reads as the message text. */
export const TEXT_TYPES: readonly string[] = ['text/plain', 'text/html', 'message/delivery-status'];

const PASSED_THROUGH = new Set(['', '7bit', '8bit', 'binary']);

/** Thrown inside the fast path when it meets something it is not sure to read as mailparser does. */
class NotSure extends Error {}

/**
 * mailparser's value for header `key` of a part, as processHeaders makes it: the value of
 * the first line with that name, unfolded and trimmed by libmime.decodeHeader and read as UTF-8;
 * empty values are skipped, except for Content-Type, which is parsed into value and parameters
 * (an object, never skipped) with encoded words in the value decoded. mailparser processes
 * every header; these are the three the inventory reads.
 */
function mailparserHeader(libmime: MailparserLibmime, lines: readonly MailsplitHeaderLine[], key: 'content-type' | 'content-transfer-encoding' | 'content-id'): unknown {
  for (const line of lines) {
    if (line.key !== key) continue;
    const decoded = libmime.decodeHeader(line.line);
    const raw = ((decoded && decoded.value) || '').toString().trim();
    const value = Buffer.from(raw, 'binary').toString();
    if (key === 'content-type') {
      const parsed = libmime.parseHeaderValue(value, { stripComments: true });
      if (parsed.value) parsed.value = libmime.decodeWords(parsed.value);
      return parsed;
    }
    if (value) return value;
  }
  return undefined;
}

interface Listed {
  leaf: WalkedLeaf;
  /** the node's media type as mailparser's createNode has it */
  nodeContentType: string;
  partId: string | null;
}

/** The leaves mailparser lists as attachments (createNode's isAttachment), in document order. */
function listedLeaves(leaves: readonly WalkedLeaf[]): Listed[] {
  const listed: Listed[] = [];
  for (const leaf of leaves) {
    const node = leaf.node;
    const contentType = node.contentType || (node.root ? 'text/plain' : false);
    if (contentType === false) throw new NotSure();
    let disposition = node.disposition || '';
    if (disposition && disposition !== 'attachment' && disposition !== 'inline') disposition = 'attachment';
    const isText = TEXT_TYPES.includes(contentType);
    const effective = !disposition && !isText ? 'attachment' : disposition || 'inline';
    if (isText && effective === 'inline') continue;
    const partId = node._parentBoundary && Array.isArray(node.partNr) ? node.partNr.filter((nr) => typeof nr === 'number').join('.') || null : null;
    listed.push({ leaf, nodeContentType: contentType, partId });
  }
  return listed;
}

/**
 * Decodes a listed leaf whose transfer encoding has been checked, as mailsplit's getDecoder() would;
 * false when it is base64 that other decoders read to other bytes (Base64Agreement).
 */
function decodeInto(libraries: MimeLibraries, message: Buffer, leaf: WalkedLeaf, sink: ContentSink): boolean {
  const encoding = leaf.node.encoding || '';
  const { contentStart, contentEnd } = leaf;
  if (encoding === 'base64') return decodeBase64(message, contentStart, contentEnd, libraries.decodeBase64, sink);
  if (encoding === 'quoted-printable') decodeQuotedPrintable(message, contentStart, contentEnd, sink);
  else if (contentEnd > contentStart) sink(message.subarray(contentStart, contentEnd));
  return true;
}

function inventory(message: Buffer, options: InventoryOptions): PartInventory | null {
  const maxParts = options.maxParts ?? DEFAULT_MAX_PARTS;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxEmbedded = options.maxEmbeddedBytes ?? DEFAULT_MAX_EMBEDDED_BYTES;
  const libraries = loadMimeLibraries();
  const { libmime } = libraries;

  const leaves = walkMime(message, libraries.MimeNode);
  if (!leaves) return null;
  const listed = listedLeaves(leaves);
  // mailparser stops with an error at a limit: leave that to it
  if (listed.length > maxParts) return null;
  for (const { leaf, partId } of listed) {
    if ((partId === null ? 0 : partId.split('.').length) > maxDepth) return null;
    const encoding = leaf.node.encoding || '';
    if (encoding !== 'base64' && encoding !== 'quoted-printable' && !PASSED_THROUGH.has(encoding)) return null;
  }

  const parts: MimePartRecord[] = [];
  for (const { leaf, nodeContentType, partId } of listed) {
    const node = leaf.node;
    if (!node.headers) throw new NotSure();
    const lines = node.headers.getList();

    const filename = typeof node.filename === 'string' && node.filename !== '' ? node.filename : null;
    let fallbackType = nodeContentType;
    if (nodeContentType === 'application/octet-stream' && node.filename) fallbackType = libmime.detectMimeType(node.filename) || 'application/octet-stream';
    const declaredHeader = mailparserHeader(libmime, lines, 'content-type') as { value: unknown } | undefined;
    const declared = declaredHeader && typeof declaredHeader.value === 'string' ? declaredHeader.value : null;
    const contentType = (declared ?? fallbackType).toLowerCase().trim() || 'application/octet-stream';
    const contentId = mailparserHeader(libmime, lines, 'content-id');
    const cid = typeof contentId === 'string' ? contentId.trim().replace(/^<|>$/g, '').trim() : '';

    const hash = createHash('sha256');
    const transferEncoding = mailparserHeader(libmime, lines, 'content-transfer-encoding');
    const folded = foldsWhitespace(filename, transferEncoding, isMessageType(contentType)) ? new WhitespaceFolds() : null;
    let size = 0;
    let kept: Buffer[] | null = mayHoldMessage(contentType, filename) ? [] : null;
    const base64Agreed = decodeInto(libraries, message, leaf, (bytes) => {
      hash.update(bytes);
      folded?.update(bytes);
      size += bytes.length;
      if (kept) {
        // the sink's bytes are a view into the message, which outlives this part, or a decoder's
        // reused buffer, which does not: only those are copied before they are gathered
        if (size > maxEmbedded) kept = null;
        else kept.push(isViewInto(message, bytes) ? bytes : Buffer.from(bytes));
      }
    });

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
      disposition: node.disposition || undefined,
      transferEncoding,
      contentId: cid !== '' ? cid : null,
      isMessage,
      embedded,
      headerLines: lines,
      base64Agreed,
    });
    parts.push(record);
  }
  return { parts, error: null, walked: leaves };
}

/** (a pooled Buffer shares its ArrayBuffer with others: the range says whose bytes these are) */
const isViewInto = (message: Buffer, bytes: Uint8Array): boolean =>
  bytes.buffer === message.buffer && bytes.byteOffset >= message.byteOffset && bytes.byteOffset + bytes.byteLength <= message.byteOffset + message.byteLength;

/**
 * The inventory of `message` as inventoryPartsWithMailparser would give it, or null when the
 * message is not one this fast path is sure to read exactly alike (see the module comment).
 * Synchronous: the caller falls back to the streaming parser on null.
 */
export function fastInventory(message: Buffer, options: InventoryOptions = {}): PartInventory | null {
  try {
    return inventory(message, options);
  } catch {
    // NotSure, or a throw from library code mailparser would meet too: mailparser will say
    return null;
  }
}
