import { isUtf8 } from 'node:buffer';
import { jsonText } from '../../report/json-text.ts';
import { KeyImportError } from './types.ts';

/** The 1-based line of the first line of `bytes` that is not valid UTF-8, or null when all are. */
export function firstNonUtf8Line(bytes: Buffer): number | null {
  if (isUtf8(bytes)) return null;
  let line = 1;
  let start = 0;
  // 0x0a never occurs inside a multi-byte UTF-8 sequence, so lines can be checked one by one.
  for (;;) {
    const end = bytes.indexOf(0x0a, start);
    if (!isUtf8(bytes.subarray(start, end < 0 ? bytes.length : end))) return line;
    if (end < 0) return line;
    start = end + 1;
    line++;
  }
}

/** Line and column (1-based) of a UTF-16 offset into text. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Where an "Unexpected token 'x', <context> is not valid JSON" error happened. V8 quotes the
 * source around the error: all of it when short ("…"), else its start ("…"...), its end
 * (..."…") or a middle piece (..."…"...), cut 10 characters before the error. Returns null
 * when the place cannot be known for sure (a short source, or context found twice).
 */
function offsetFromContext(text: string, message: string): number | null {
  const m = /^Unexpected token '.*?', (\.\.\.)?"([\s\S]*)"(\.\.\.)? is not valid JSON$/.exec(message);
  if (!m || m[2] === undefined) return null;
  const [, leading, context, trailing] = m;
  let offset: number;
  if (leading === undefined && trailing === undefined) {
    // the whole source (short): where in it is unknown
    return null;
  } else if (leading === undefined) {
    if (!text.startsWith(context)) return null;
    offset = context.length - 10;
  } else {
    const at = text.indexOf(context);
    if (at < 0 || text.lastIndexOf(context) !== at) return null;
    offset = at + 10;
  }
  while (offset < text.length && /\s/.test(text.charAt(offset))) offset++;
  return offset;
}

/**
 * Parses a key file's bytes as JSON. Errors name the line (and column) where the JSON parser
 * stopped, when it says where; a leading UTF-8 byte-order mark is skipped.
 */
export function parseJsonBytes(bytes: Buffer, path: string): unknown {
  const badLine = firstNonUtf8Line(bytes);
  if (badLine !== null) throw new KeyImportError(path, `line ${badLine}`, 'not valid UTF-8, so not a JSON key file');
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let data: unknown;
  try {
    data = JSON.parse(text) as unknown;
  } catch (err) {
    const message = (err as Error).message;
    const position = /at position (\d+)/.exec(message);
    // V8 adds "(line L column C)" to some messages; ours replaces it.
    const bare = message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '');
    const atEnd = position?.[1] === undefined ? /unexpected end of json input/i.test(message) : Number(position[1]) >= text.length;
    if (atEnd) {
      // name the last line that has something on it, not the empty one after the final newline
      const { line } = lineAndColumn(text, text.trimEnd().length);
      throw new KeyImportError(path, `line ${line}`, `not valid JSON: the file ends before the JSON does (${bare})`);
    }
    if (position?.[1] !== undefined) {
      const { line, column } = lineAndColumn(text, Number(position[1]));
      throw new KeyImportError(path, `line ${line}`, `not valid JSON: ${bare} (column ${column})`);
    }
    // V8 gives no position for "Unexpected token" errors, only some context around it.
    const token = /^(Unexpected token '.*?')/.exec(message)?.[1];
    const offset = token === undefined ? null : offsetFromContext(text, message);
    if (token !== undefined && offset !== null) {
      const { line, column } = lineAndColumn(text, offset);
      throw new KeyImportError(path, `line ${line}`, `not valid JSON: ${token} (column ${column})`);
    }
    if (token !== undefined && !text.includes('\n')) throw new KeyImportError(path, 'line 1', `not valid JSON: ${token}`);
    const short = bare.length > 200 ? `${bare.slice(0, 200)}…` : bare;
    throw new KeyImportError(path, null, `not valid JSON: ${short}`);
  }
  const repeated = repeatedNameProblem(text);
  if (repeated) throw new KeyImportError(path, repeated.where, repeated.detail);
  return data;
}

/**
 * Where and why a JSON key file (valid JSON) is refused for repeating a member name in one
 * object; null when it repeats none. JSON.parse keeps the last of the two: a strict record read
 * first, then a lax copy of the same key, was imported as the lax one alone (red team 10,
 * finding 07). Other JSON readers may keep the first, so the file means different things to
 * different readers; refused, it gets written once with every record of a name under it.
 */
export function repeatedNameProblem(text: string): { where: string; detail: string } | null {
  const repeated = repeatedMemberName(text);
  if (!repeated) return null;
  return {
    where: `line ${lineAndColumn(text, repeated.offset).line}`,
    detail: `the name ${jsonText(repeated.name)} appears twice in one object: JSON readers keep only one of the two (which one differs), so the file is refused; list every record of a name under it once`,
  };
}

/**
 * The first member name that an object of `text` (valid JSON) repeats, and where; null when no
 * object repeats one.
 */
function repeatedMemberName(text: string): { name: string; offset: number } | null {
  // one set of names per open object; null for an open array
  const open: Array<Set<string> | null> = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i + 1;
      while (text.charCodeAt(end) !== QUOTE) end += text.charCodeAt(end) === BACKSLASH ? 2 : 1;
      const names = open.at(-1);
      if (names && expectName) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (names.has(name)) return { name, offset: i };
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === OPEN_BRACE) {
      open.push(new Set());
      expectName = true;
    } else if (c === OPEN_BRACKET) {
      open.push(null);
      expectName = false;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      open.pop();
      expectName = false;
    } else if (c === COMMA) {
      expectName = open.at(-1) != null;
    }
  }
  return null;
}

/** JSON's structural characters, as code units and bytes alike (the key file index reads bytes). */
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;
export const COMMA = 0x2c;
