import { ReadError, type RawMessage } from './types.ts';

/**
 * The count line is a few digits. A first line shaped like a number gone wrong (a sign, a decimal
 * point, an exponent, a run of leading zeros) is taken as a count line too, for readEmlx to refuse
 * or read: such a file with a header block after it was "text file, not an email", and inside a
 * zip it had no row at all (red team G-06). A longer first line is no count line, however it ends.
 */
const MAX_COUNT_LINE = 1024;
const COUNT_LINE = /^[ \t]*([-+]?\d[\d.eE+-]*)[ \t]*\r?$/;
const DIGITS = /^\d+$/;
const LF = 0x0a;
const CR = 0x0d;

/**
 * The byte count that starts an Apple Mail .emlx file, as written, and where the message after it
 * starts; null when the file does not start with one. A UTF-8 byte-order mark and blank lines
 * before it are looked past, as they are before a message's first header: the sniff, the
 * reader and the zip reader all judge a file by this one function.
 */
export function emlxCountLine(bytes: Buffer): { countText: string; messageStart: number } | null {
  let at = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (;;) {
    if (bytes[at] === LF) at += 1;
    else if (bytes[at] === CR && bytes[at + 1] === LF) at += 2;
    else break;
  }
  const lf = bytes.subarray(at, at + MAX_COUNT_LINE + 1).indexOf(LF);
  if (lf === -1) return null;
  const countText = COUNT_LINE.exec(bytes.toString('latin1', at, at + lf))?.[1];
  return countText === undefined ? null : { countText, messageStart: at + lf + 1 };
}

/**
 * Cuts the message out of an Apple Mail .emlx file: a line with the decimal byte count of the
 * message, the message, then an XML plist with Mail's metadata (ignored here). `raw` is a view
 * into `bytes`, which the caller already holds whole. When something other than the plist
 * follows the counted bytes, the whole file is given as a plain message (format `eml`).
 */
export function readEmlx(bytes: Buffer): RawMessage {
  const countLine = emlxCountLine(bytes);
  if (countLine === null) throw new ReadError('malformed-emlx', 'not an emlx file: the first line is not a byte count');
  const { countText, messageStart: offset } = countLine;
  if (!DIGITS.test(countText)) {
    throw new ReadError('malformed-emlx', `damaged emlx file: its first line, "${countText}", is not a byte count (Apple Mail writes digits only)`);
  }
  const count = Number(countText);
  if (!Number.isSafeInteger(count)) {
    throw new ReadError('malformed-emlx', `not an emlx file: byte count ${countText} is not a usable number`);
  }
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
