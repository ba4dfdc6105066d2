/**
 * Delimiter lines with transport padding: `--boundary` (or `--boundary--`) followed by spaces or
 * tabs before the line break. RFC 2046 (section 5.1.1) allows the padding, and mail programs
 * (Python's email package, Thunderbird, Apple Mail) read such a line as the delimiter it is.
 * mailsplit, which leakcheck's attachment inventory follows byte for byte, reads it as content:
 * the part before it runs on into the next, and the inventory lists one part of merged bytes
 * where a mail program saves two files. Relaxed body canonicalization drops trailing whitespace,
 * so the padding can be added to (or taken from) a signed message without breaking its
 * signature (red team 10, finding 10): a genuine loose document then seemed to differ from the
 * attachment "sent in a verified email".
 */

import { isKnownCleanLineEnds } from '../read/line-endings.ts';

const LF = 0x0a;
const DASH = 0x2d;
const SP = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LINE_START = Buffer.from('\n--', 'latin1');
/** No delimiter line is longer: RFC 2046 boundaries are at most 70 characters. */
const MAX_LINE = 1000;
const PADDED_DELIMITER = /^--([\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)[ \t]+\r?$/;

/**
 * The first line of the body (from `bodyStart`) that is a delimiter of a boundary the message
 * declares, followed by transport padding; null when there is none. A line only counts when the
 * message names its boundary in a `boundary=` parameter, so that a dashed rule followed by a
 * space in a text part is not taken for one.
 */
export function paddedDelimiterLine(message: Buffer, bodyStart: number): { line: number; text: string } | null {
  let declared: string | null = null;
  // the body's first line when it starts with "--", then each line that does after a line break
  let lineStart = bodyStart > 0 ? nextDashedLine(message, bodyStart - 1) : message[0] === DASH && message[1] === DASH ? 0 : nextDashedLine(message, 0);
  if (lineStart !== -1 && isKnownCleanLineEnds(message)) {
    // The line scan found no line ending in " \r\n", "\t\r\n" or "\r\r\n", which every padded
    // line with a line break has: only a last line without one is left to look at. (The search
    // for "\n--" stops at every line of a base64 body: it was 1.5 % of the analysis.)
    const lastLf = message.lastIndexOf(LF);
    const last = lastLf + 1;
    lineStart = last < message.length && last >= bodyStart && message[last] === DASH && message[last + 1] === DASH ? last : -1;
  }
  while (lineStart !== -1) {
    const lf = message.indexOf(LF, lineStart);
    const lineEnd = lf === -1 ? message.length : lf;
    // the bound is on what precedes the padding: padding of any length is padding (red team 11, 02)
    let padStart = lineEnd;
    while (padStart > lineStart && (message[padStart - 1] === SP || message[padStart - 1] === TAB || message[padStart - 1] === CR)) padStart--;
    const padded = padStart < lineEnd && !(padStart === lineEnd - 1 && message[padStart] === CR);
    const m = padded && padStart - lineStart <= MAX_LINE ? PADDED_DELIMITER.exec(message.toString('latin1', lineStart, Math.min(lineEnd, padStart + 2))) : null;
    if (m) {
      declared ??= message.toString('latin1');
      const boundary = m[1]!;
      const candidates = boundary.endsWith('--') ? [boundary, boundary.slice(0, -2)] : [boundary];
      if (candidates.some((b) => b !== '' && declaresBoundary(declared!, b))) {
        return { line: lineNumber(message, lineStart), text: shownLine(message, lineStart, padStart, message[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd) };
      }
    }
    if (lf === -1) return null;
    lineStart = nextDashedLine(message, lf);
  }
  return null;
}

/** The start of the first line after the line break at or after `from` that starts with "--", or -1. */
function nextDashedLine(message: Buffer, from: number): number {
  const at = message.indexOf(LINE_START, from);
  return at === -1 ? -1 : at + 1;
}

/**
 * Whether `message` names `boundary` in a boundary parameter: `boundary=`, quoted or not, the
 * RFC 2231 `boundary*=` (after its charset and language), or the RFC 2231 segments
 * `boundary*0="b"; boundary*1="1"` joined. Generous on purpose: a line taken for a padded
 * delimiter only makes the message prove less of its attachments.
 */
function declaresBoundary(message: string, boundary: string): boolean {
  const escaped = boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (new RegExp(`\\bboundary(?:\\*0?\\*?)?\\s*=\\s*"?(?:[\\w-]*'[\\w-]*')?${escaped}(?=["\\s;]|$)`, 'im').test(message)) return true;
  return segmentedBoundaries(message).includes(boundary);
}

const SEGMENT = /\bboundary\*(\d{1,3})(\*?)\s*=\s*("(?:[^"\\\r\n]|\\.)*"|[^;\s"]+)/gi;

/**
 * Every boundary the message spells in RFC 2231 segments, joined: a run of `boundary*0`,
 * `boundary*1`, … (a new run at each `*0`), quoted values unquoted, an extended value's
 * charset'language' prefix dropped and its %XX escapes decoded (red team 10's padded-delimiter
 * fix missed a boundary written this way).
 */
function segmentedBoundaries(message: string): string[] {
  const joined: string[] = [];
  let current: string[] | null = null;
  for (const [, index, extended, raw] of message.matchAll(SEGMENT)) {
    let value = raw!.startsWith('"') ? raw!.slice(1, -1).replace(/\\(.)/g, '$1') : raw!;
    if (Number(index) === 0) {
      if (current) joined.push(current.join(''));
      current = [];
      if (extended) value = value.replace(/^[^']*'[^']*'/, '');
    }
    if (!current) continue;
    if (extended) value = value.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    current.push(value);
  }
  if (current) joined.push(current.join(''));
  return joined;
}

/** The delimiter line, its padding counted when long (evidence should not hold a megabyte of spaces). */
function shownLine(message: Buffer, lineStart: number, padStart: number, end: number): string {
  const padding = end - padStart;
  return message.toString('latin1', lineStart, padStart) + (padding > 20 ? `[${padding} blanks]` : message.toString('latin1', padStart, end));
}

function lineNumber(message: Buffer, offset: number): number {
  let line = 1;
  for (let at = message.indexOf(LF); at !== -1 && at < offset; at = message.indexOf(LF, at + 1)) line++;
  return line;
}
