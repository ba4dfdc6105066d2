/**
 * The attachment inventory of a message: every attachment-like or inline part with its declared
 * type, its decoded file name, and the size and sha256 of its decoded content.
 *
 * What is listed is what mailparser lists, and the reference implementation reads the message
 * with mailparser's streaming MailParser (mailparser-inventory.ts). Most messages are read by a
 * fast path instead (fast-inventory.ts), which walks the MIME tree in the message bytes with
 * native searches and decodes each part natively, to exactly the same inventory; whenever it is
 * not sure to (a malformed or unusual message, a limit reached), the message goes to mailparser.
 *
 * How mailparser sorts the parts, and so what is listed:
 * - text/plain and text/html parts (and message/delivery-status) that are not marked as
 *   attachments are the message text: mailparser buffers them as the body and they are not listed.
 *   A text/plain or text/html part with `Content-Disposition: attachment` is listed.
 * - every other leaf part is listed: documents, images (inline ones included), text/csv, ...,
 *   and the body of a non-multipart message whose type is not text (partId null).
 * - message/rfc822 parts are listed as parts, never opened up, and carry the embedded message
 *   (see SPLITTER_OPTIONS in parser-config.ts): verifying it is the caller's job.
 *
 * Memory: a part's content is hashed chunk by chunk as it is decoded, so an attachment costs a
 * few buffers of a megabyte or so whatever its size; only embedded messages are kept, up to
 * `maxEmbeddedBytes` each. Neither path keeps the text parts: the fast path does not read them,
 * and mailparser is made to read them as an empty text (`handNothingOn` in
 * mailparser-inventory.ts), where it held them as bytes and strings, several bytes of memory a
 * byte of text, whenever a message went to it.
 */
import { fastInventory } from './fast-inventory.ts';
import type { InventoryOptions } from './inventory-options.ts';
import type { PartInventory } from './types.ts';

export { DEFAULT_MAX_DEPTH, DEFAULT_MAX_EMBEDDED_BYTES, DEFAULT_MAX_PARTS, normalizeFileName } from './inventory-options.ts';
export type { InventoryOptions } from './inventory-options.ts';

/**
 * Lists the attachment-like and inline parts of `message` (see the module comment for which).
 * Never throws on a malformed message: a parser error, or a limit reached, ends the inventory and
 * is reported in `error`, with the parts read before it in `parts`.
 */
export async function inventoryParts(message: Buffer, options: InventoryOptions = {}): Promise<PartInventory> {
  const fast = fastInventory(message, options);
  if (fast) return fast;
  // Loaded on first need: most dumps never need it, and mailparser costs 10 MB in every thread.
  const { inventoryPartsWithMailparser } = await import('./mailparser-inventory.ts');
  return inventoryPartsWithMailparser(message, options);
}

/**
 * The path under which a part of the message at `parentPath` is recorded, such as
 * `dir/file.eml#attachment-2` (an embedded message found in a zip: `dump/a.zip#x.eml#attachment-1`).
 */
export function attachmentPath(parentPath: string, partIndex: number): string {
  return `${parentPath}#attachment-${partIndex}`;
}
