import { loadMimeLibraries } from '../attachments/parser-config.ts';

/** Far longer than any Content-Type or Content-Disposition a mail program writes. */
export const MAX_HEADER_VALUE = 8 * 1024;
/** How much of a boundary, a parameter or a reading goes into a finding's text and evidence. */
const MAX_SHOWN = 200;
export const shownParameter = (text: string): string => (text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text);
/** An unquoted parameter value: printable ASCII without space, quote, backslash or parentheses. */
const TOKEN = /^[\x21\x23-\x27\x2a-\x5b\x5d-\x7e]+$/;
const EXTENDED_VALUE = /^[^']*'[^']*'(.*)$/s;

/** A parameter of a header value as every reader reads it, or why they disagree. */
export interface AgreedParameter {
  /** null when every reader reads the same (readings then holds that one text, '' for none) */
  problem: string | null;
  /** the parameters of that name as written */
  parameters: string[];
  /** what the readers make of them, each distinct reading once */
  readings: string[];
}

/**
 * Reads one parameter (`boundary`, `charset`) of a MIME header value as mail programs read it,
 * and says whether they agree. They read the same text differently: libmime (which mailparser and
 * its splitter use) takes the last of two `name=` and Python's email the first; libmime prefers
 * `name*` to `name=` and Python's compat32 does not; Python's default policy decodes encoded words
 * in a value and drops comments in a name, libmime does neither; segments with a gap are joined
 * by one and cut by another; a `name=` inside another parameter's quoted string is no parameter
 * to any of them, but is to a regular expression. So the readings are libmime's and every value
 * written (each `name=`, `name*=`, the joined `name*0, *1, …`, and each with encoded words
 * decoded), compared after `fold` (lower case, for a charset), and they agree when they are one
 * printable ASCII text; otherwise `problem` says why not. `inCharset`: an RFC 2231 value is read
 * in the charset it names (a file name, which may be any text: otherNamesOf), not refused as
 * soon as it leaves ASCII.
 */
export function readAgreedParameter(
  headerValue: string,
  name: string,
  { field, fold = (r) => r, inCharset = false }: { field: string; fold?: (reading: string) => string; inCharset?: boolean },
): AgreedParameter {
  if (headerValue.length > MAX_HEADER_VALUE) {
    // reading it all would take seconds; no mail program writes one this long
    return { problem: `the ${field} is ${headerValue.length} characters long, too long to read`, parameters: [], readings: [] };
  }
  const libmimeReading = loadMimeLibraries().libmime.parseHeaderValue(headerValue).params[name];
  const nameForm = new RegExp(`^${name}(?:\\*(\\d+))?(\\*)?$`);
  const parameters: string[] = [];
  // each whole value as written (name= or name*=), and the segments of name*0, *1, …
  const values: string[] = [];
  const segments = new Map<number, string>();
  // (inCharset: the charset an RFC 2231 value names, and its segments' bytes read in it when joined)
  let segmentCharset: string | null = null;
  let problem: string | null = null;
  const fail = (why: string): void => {
    problem ??= why;
  };
  for (const parameter of splitParameters(headerValue).slice(1)) {
    const eq = parameter.indexOf('=');
    const rawName = (eq < 0 ? parameter : parameter.slice(0, eq)).trim().toLowerCase();
    // Python's default policy drops comments and spaces in a name; libmime keeps them
    const cleanName = rawName.replace(/\([^()]*\)/g, '').replace(/\s+/g, '');
    const form = nameForm.exec(cleanName);
    if (!form) continue;
    parameters.push(parameter.trim());
    if (cleanName !== rawName) fail(`a ${name} parameter name with a comment or space in it`);
    const value = eq < 0 ? null : unquote(parameter.slice(eq + 1).trim());
    if (value === null) {
      fail(`a ${name} value that is neither a quoted string nor a token`);
      continue;
    }
    const [, index, star] = form;
    const first = index === undefined || /^0+$/.test(index);
    const charset = star && first && EXTENDED_VALUE.test(value) ? value.slice(0, value.indexOf("'")) : null;
    if (index !== undefined && first && charset !== null) segmentCharset = charset;
    const decoded = !star ? (inCharset && index !== undefined ? asBytes(value) : value) : decodeExtended(value, first, inCharset);
    if (decoded === null) fail(`an RFC 2231 ${name} value without its charset'language' prefix`);
    else if (index === undefined) values.push(inCharset && star ? readInCharset(decoded, charset) : decoded);
    // Python's compat32 joins two segments of one number, its default policy keeps the first
    else if (segments.has(Number(index))) fail(`${name}*${Number(index)} given twice`);
    else segments.set(Number(index), decoded);
  }
  if (segments.size) {
    const numbers = [...segments.keys()].sort((a, b) => a - b);
    // libmime and compat32 join what there is, the default policy stops at the gap
    if (numbers.some((nr, i) => nr !== i)) fail(`${name}* segments that do not run 0, 1, 2, …`);
    else {
      const joined = numbers.map((nr) => segments.get(nr)).join('');
      values.push(inCharset ? readInCharset(joined, segmentCharset) : joined);
    }
  }
  const readings = [...new Set([libmimeReading ?? '', ...values, ...values.map(decodeWords)].map(fold))];
  // readers turn other characters into bytes each in their own way
  if (readings.some((r) => !/^[\x20-\x7e]*$/.test(r))) fail(`the ${name} is not printable ASCII`);
  if (readings.length > 1) fail(`mail programs read it differently: ${readings.map((r) => `"${shownParameter(r)}"`).join(', ')}`);
  return { problem, parameters, readings };
}

/** The ';'-separated pieces of a header value, a ';' inside a quoted string not counting. */
function splitParameters(value: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === ';') {
      pieces.push(value.slice(start, i));
      start = i + 1;
    }
  }
  pieces.push(value.slice(start));
  return pieces;
}

/** A parameter value as written: a whole quoted string (escapes undone) or a token; else null. */
function unquote(value: string): string | null {
  if (!value.startsWith('"')) return TOKEN.test(value) ? value : null;
  let text = '';
  for (let i = 1; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) text += value[++i];
    else if (c === '"') return value.slice(i + 1).trim() === '' ? text : null;
    else text += c;
  }
  return null;
}

/**
 * An RFC 2231 extended value with its %XX escapes undone. Bytes below 0x80 are the only ones
 * that every ASCII-based charset turns into the same text, so any other becomes U+FFFD and the
 * reading is refused; a charset that is not ASCII-based (UTF-7) makes libmime's reading differ,
 * which is refused too. Null when the first segment lacks its charset'language' prefix.
 * `asBytesOfCharset`: every escape kept as its byte (one character of a binary string), for
 * readInCharset to read once the segments are joined: a file name is any text, and a reader
 * saves the file under it.
 */
function decodeExtended(value: string, first: boolean, asBytesOfCharset = false): string | null {
  let encoded = value;
  if (first) {
    const prefixed = EXTENDED_VALUE.exec(value);
    if (!prefixed) return null;
    encoded = prefixed[1]!;
  }
  if (asBytesOfCharset) return asBytes(encoded).replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return encoded.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => {
    const byte = parseInt(hex, 16);
    return byte < 0x80 ? String.fromCharCode(byte) : '\ufffd';
  });
}

/** Text as the binary string of its UTF-8 bytes, to be joined with escaped bytes. */
const asBytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

/** A binary string read in `charset` (UTF-8 when none is named, or one this Node does not know). */
function readInCharset(bytes: string, charset: string | null): string {
  const buffer = Buffer.from(bytes, 'latin1');
  try {
    return new TextDecoder(charset || 'utf-8').decode(buffer);
  } catch {
    return new TextDecoder('utf-8').decode(buffer);
  }
}

const decodeWords = (value: string): string => {
  try {
    return loadMimeLibraries().libmime.decodeWords(value);
  } catch {
    return value; // an unknown charset: the encoded word stays as written
  }
};
