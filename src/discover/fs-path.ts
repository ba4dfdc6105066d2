import { isUtf8 } from 'node:buffer';
import { lstatSync } from 'node:fs';
import { sep } from 'node:path';

/*
 * POSIX file names are bytes, but DiscoveredFile paths are strings. Node encodes string paths as
 * UTF-8, so a name that is not valid UTF-8 has no string that opens it. Such names are shown
 * with each invalid byte (and, in those names only, each backslash, so that the escaping can be
 * undone without ambiguity) written as `\xNN`; toFsPath turns that string back into the exact
 * bytes. Valid names are never altered, whatever they contain.
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

/** A directory entry name as a display string: unchanged if valid UTF-8, `\xNN`-escaped otherwise. */
export function nameToString(name: Buffer): string {
  if (isUtf8(name)) return name.toString('utf8');
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

/** True when nameToString had to escape this name (so the string alone cannot open it). */
export function needsEscaping(name: Buffer): boolean {
  return !isUtf8(name);
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

function exists(path: Buffer): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The path to hand to fs for a path string produced by walkDump. A segment that looks escaped is
 * taken literally if such a name exists (a valid name may really contain `\x41`), else decoded;
 * walkDump refuses escaped names that collide with a literal sibling, so the choice is exact.
 */
export async function toFsPath(path: string): Promise<string | Buffer> {
  return toFsPathSync(path);
}

/** toFsPath, synchronously (an lstat per escaped segment, nothing else). */
export function toFsPathSync(path: string): string | Buffer {
  if (!ESCAPE.test(path)) return path;
  const segments = path.split(sep);
  let prefix = Buffer.from(segments[0] ?? '', 'utf8');
  for (const segment of segments.slice(1)) {
    const literal = Buffer.from(segment, 'utf8');
    let chosen: Buffer = literal;
    if (ESCAPE.test(segment) && !exists(Buffer.concat([prefix, SEP_BYTES, literal]))) {
      chosen = decodeEscapedName(segment);
    }
    prefix = Buffer.concat([prefix, SEP_BYTES, chosen]);
  }
  return prefix;
}
