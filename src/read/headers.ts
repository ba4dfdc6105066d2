/**
 * A deliberately small RFC 5322 header reader. It keeps every field's raw bytes so that the
 * forensic checks can count and compare fields exactly as DKIM sees them, which a
 * full MIME parser (that merges, decodes and drops duplicates) would hide.
 */
export interface HeaderField {
  /** lower-case field name */
  name: string;
  /** the name as written */
  rawName: string;
  /** the unfolded value, without the leading colon and surrounding whitespace */
  value: string;
  /** position among the header fields, 0 = topmost */
  position: number;
  /**
   * set when the name was read leniently: whitespace before it, or a character other than a
   * space or tab between it and the colon (a no-break space, a vertical tab), which this reader
   * trims and mailauth does not accept. Such a field counts for the checks (stricter), but is
   * never paired with a result mailauth computed for another field (dkim.ts, matchResults).
   */
  looseName?: true;
}

export interface ParsedHeaders {
  fields: HeaderField[];
  /** byte length of the header block including the empty line that ends it */
  headerBytes: number;
  /** false when the message has no empty line separating headers from a body */
  hasBody: boolean;
  /** more header fields than `maxFields`, or more bytes than `maxBytes`: the rest were not read */
  truncated: boolean;
  /** the header block is longer than `maxBytes`: only the lines within its first `maxBytes` were read */
  tooLarge: boolean;
}

const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
/** A line that begins a header field: a field name, optional blanks (the obsolete syntax), a colon. */
export const FIELD_LINE = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;

/** FIELD_LINE read on the bytes [start, end) of one line, where no string of it is made (a line may be megabytes long). */
export function isFieldLineAt(bytes: Buffer, start: number, end: number): boolean {
  let at = start;
  while (at < end && bytes[at]! >= 0x21 && bytes[at]! <= 0x7e && bytes[at] !== 0x3a) at++;
  if (at === start) return false;
  while (at < end && (bytes[at] === 0x20 || bytes[at] === 0x09)) at++;
  return at < end && bytes[at] === 0x3a;
}

/** Finds the end of the header block: the index just past the first empty line, or -1. */
export function findHeaderEnd(raw: Buffer): number {
  if (raw[0] === 0x0a) return 1;
  if (raw[0] === 0x0d && raw[1] === 0x0a) return 2;
  let from = 0;
  for (;;) {
    const lf = raw.indexOf(0x0a, from);
    if (lf < 0) return -1;
    const next = raw[lf + 1];
    if (next === 0x0a) return lf + 2;
    if (next === 0x0d && raw[lf + 2] === 0x0a) return lf + 3;
    from = lf + 1;
  }
}

/**
 * Reads the header block. Header bytes are decoded as latin1 so that every byte survives the
 * round trip (8-bit headers are common in old mail); callers decode RFC 2047 words themselves.
 */
export const MAX_HEADER_FIELDS = 100_000;

/**
 * The most header bytes read. Mail servers keep far less (Postfix discards what is past 102,400
 * bytes, sendmail refuses past 32,768, OpenDKIM past 65,536 by default), and every reader of a
 * header (this one, mailauth, mailparser, the checks) makes strings of it: a 50 MB header cost
 * 500 MB of memory per thread analysing it (red team W2, W2-01). Past the limit a message is
 * unparseable, as past 100,000 fields: a header after the part read could hide a forged one.
 * 2 MiB, not 1: a genuine message with a 1 MB header line of junk stays verified (tests/hostile),
 * and the costliest header within it (2 MB of Q-encoded words in a Subject) costs about 60 MB.
 */
export const MAX_HEADER_BYTES = 2 * 1024 * 1024;

/** What folding a field's blanks to single spaces would change: a tab, or two spaces in a row. */
const BLANKS_TO_FOLD = /\t| {2}/;

export function parseHeaders(raw: Buffer, maxFields = MAX_HEADER_FIELDS, maxBytes = MAX_HEADER_BYTES): ParsedHeaders {
  const end = findHeaderEnd(raw);
  const blockEnd = end < 0 ? raw.length : end;
  const tooLarge = blockEnd > maxBytes;
  // (cut after the last line break within the limit, so that no line is read cut short)
  const readEnd = tooLarge ? raw.lastIndexOf(0x0a, maxBytes - 1) + 1 : blockEnd;
  const block = raw.subarray(0, readEnd).toString('latin1');
  // A CR alone ends a line too: some readers (Python's email package) break lines there, and
  // counting the fields they would see only makes the checks stricter.
  const lines = block.split(/\r?\n|\r/);
  const fields: HeaderField[] = [];
  let truncated = false;
  // Physical lines joined into logical ones first (RFC 5322 unfolding), whether or not the first
  // of them reads as a field: "From\r\n : x" unfolds to the obsolete "From : x", which mailauth
  // and mail programs read as a From field, and a reader that dropped the bare "From" line and
  // then its orphaned continuation would miss an injected header.
  let current: string[] | null = null;
  const flush = (): void => {
    if (!current) return;
    const text = current.join('');
    current = null;
    const colon = text.indexOf(':');
    // Lenient about what surrounds the name, because some reader is: a first line indented, or
    // a name followed by a vertical tab, form feed or no-break space before its colon (which
    // JavaScript's trim, and so mailparser, removes). Counting too many fields only ever makes
    // a check stricter. (A CR there has ended the line above; any CR alone in a header is a
    // finding of its own, header-bare-cr.)
    const head = colon > 0 ? text.slice(0, colon) : '';
    const rawName = head.trim();
    if (!rawName || !FIELD_NAME.test(rawName)) return; // not a field: mbox junk, a line without a name
    if (fields.length >= maxFields) {
      truncated = true;
      return;
    }
    const rest = text.slice(colon + 1);
    // (a value with no tab and no two spaces in a row has no run to fold: most values)
    const value = (BLANKS_TO_FOLD.test(rest) ? rest.replace(/[ \t]+/g, ' ') : rest).trim();
    const field: HeaderField = { name: rawName.toLowerCase(), rawName, value, position: fields.length };
    // (a name trim left as it was has no blanks to strip either)
    if (head !== rawName && head.replace(/[ \t]+$/, '') !== rawName) field.looseName = true;
    fields.push(field);
  };
  for (const line of lines) {
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && current) {
      current.push(line);
      continue;
    }
    flush();
    if (truncated) break;
    current = [line];
  }
  flush();
  return { fields, headerBytes: blockEnd, hasBody: end >= 0, truncated: truncated || tooLarge, tooLarge };
}

export const fieldsNamed = (headers: ParsedHeaders, name: string): HeaderField[] =>
  headers.fields.filter((f) => f.name === name);

export const firstValue = (headers: ParsedHeaders, name: string): string | null =>
  headers.fields.find((f) => f.name === name)?.value ?? null;
