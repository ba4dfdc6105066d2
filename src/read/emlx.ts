import { ReadError, type RawMessage } from './types.ts';

/** The count line is a few digits; a longer first line is not an emlx header, however it ends. */
const MAX_COUNT_LINE = 64;
const COUNT_LINE = /^[ \t]*(\d+)[ \t]*\r?$/;

/**
 * Cuts the message out of an Apple Mail .emlx file: a line with the decimal byte count of the
 * message, the message, then an XML plist with Mail's metadata (ignored here). `raw` is a view
 * into `bytes`, which the caller already holds whole. When something other than the plist
 * follows the counted bytes, the whole file is given as a plain message (format `eml`).
 */
export function readEmlx(bytes: Buffer): RawMessage {
  const lf = bytes.subarray(0, MAX_COUNT_LINE + 1).indexOf(0x0a);
  if (lf === -1) throw new ReadError('malformed-emlx', 'not an emlx file: no byte-count line at the start');
  const countText = COUNT_LINE.exec(bytes.toString('latin1', 0, lf))?.[1];
  if (countText === undefined) {
    throw new ReadError('malformed-emlx', 'not an emlx file: the first line is not a byte count');
  }
  const count = Number(countText);
  if (!Number.isSafeInteger(count)) {
    throw new ReadError('malformed-emlx', `not an emlx file: byte count ${countText} is not a usable number`);
  }
  const offset = lf + 1;
  const available = bytes.length - offset;
  if (count > available) {
    throw new ReadError('truncated', `emlx declares a ${count}-byte message but only ${available} bytes follow`);
  }
  // Apple Mail writes its plist, and nothing else, after the counted bytes. Anything else there
  // is text some reader shows (read as a plain message, the whole file is the body) and the
  // count hides: then the whole file is the message, and its signature judges the extra text.
  if (!isPlistTail(bytes.subarray(offset + count))) return { index: 0, offset: 0, raw: bytes, format: 'eml' };
  return { index: 0, offset, raw: bytes.subarray(offset, offset + count), format: 'emlx' };
}

/** Whether what follows the counted message is nothing, or Mail's XML plist (after whitespace). */
function isPlistTail(tail: Buffer): boolean {
  const start = tail.subarray(0, 256).toString('latin1').replace(/^\s+/, '');
  return start === '' || start.startsWith('<?xml') || start.startsWith('<!DOCTYPE plist') || start.startsWith('<plist');
}
