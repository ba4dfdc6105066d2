import { isUtf8 } from 'node:buffer';
import { sep } from 'node:path';

/*
 * POSIX file names are bytes, but DiscoveredFile paths are strings. Node encodes string paths as
 * UTF-8, so a name that is not valid UTF-8 has no string that opens it. Such a name is written
 * with each invalid byte as `\xNN` (two upper-case hex digits), and so is each backslash in it,
 * as `\x5C`. A valid name that contains the text of an escape (`\x` and two upper-case hex
 * digits) is escaped the same way, its backslashes as `\x5C`, so that no two names ever give
 * the same text: `\xFF.eml` is the name of one byte 0xFF, `\x5CxFF.eml` the name of the four
 * characters. Every other valid name is its own text, whatever it contains (a backslash not
 * followed by such digits included). In a path text, every `\xNN` therefore stands for the
 * byte NN and toFsPath decodes it without asking the file system.
 */

const ESCAPE = /\\x([0-9A-F]{2})/;
const ESCAPES = /\\x([0-9A-F]{2})/g;
const BACKSLASH = 0x5c;
const SEP_BYTES = Buffer.from(sep);

/** Length of the UTF-8 sequence a lead byte announces, or 0 if it can never start one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

function escapeByte(byte: number): string {
  return `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** A directory entry name as its path text: itself if valid UTF-8 and free of escape text, `\xNN`-escaped otherwise. */
export function nameToString(name: Buffer): string {
  if (!needsEscaping(name)) return name.toString('utf8');
  let out = '';
  let i = 0;
  while (i < name.length) {
    const lead = name[i] as number;
    const len = sequenceLength(lead);
    if (len > 0 && lead !== BACKSLASH && i + len <= name.length && isUtf8(name.subarray(i, i + len))) {
      out += name.toString('utf8', i, i + len);
      i += len;
    } else {
      out += escapeByte(lead);
      i += 1;
    }
  }
  return out;
}

/** True when nameToString escapes this name: it is not UTF-8, or it holds the text of an escape. */
export function needsEscaping(name: Buffer): boolean {
  return !isUtf8(name) || ESCAPE.test(name.toString('latin1'));
}

/** An absolute path given as a string (the dump root) as path text: a segment holding escape text gets its backslashes escaped. */
export function pathToText(path: string): string {
  if (!ESCAPE.test(path)) return path;
  return path
    .split(sep)
    .map((segment) => (ESCAPE.test(segment) ? segment.replaceAll('\\', escapeByte(BACKSLASH)) : segment))
    .join(sep);
}

/** Inverse of nameToString for an escaped name. */
export function decodeEscapedName(name: string): Buffer {
  const pieces: Buffer[] = [];
  let last = 0;
  for (const match of name.matchAll(ESCAPES)) {
    pieces.push(Buffer.from(name.slice(last, match.index), 'utf8'));
    pieces.push(Buffer.from([Number.parseInt(match[1] as string, 16)]));
    last = match.index + match[0].length;
  }
  pieces.push(Buffer.from(name.slice(last), 'utf8'));
  return Buffer.concat(pieces);
}

/** The path to hand to fs for a path text made by walkDump (its root through pathToText): every `\xNN` is the byte NN. */
export async function toFsPath(path: string): Promise<string | Buffer> {
  return toFsPathSync(path);
}

/** toFsPath, synchronously (no system call). */
export function toFsPathSync(path: string): string | Buffer {
  if (!ESCAPE.test(path)) return path;
  return Buffer.concat(path.split(sep).flatMap((segment, i) => [...(i > 0 ? [SEP_BYTES] : []), ESCAPE.test(segment) ? decodeEscapedName(segment) : Buffer.from(segment, 'utf8')]));
}
