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
}

export interface ParsedHeaders {
  fields: HeaderField[];
  /** byte length of the header block including the empty line that ends it */
  headerBytes: number;
  /** false when the message has no empty line separating headers from a body */
  hasBody: boolean;
  /** more header fields than `maxFields`: the rest were not read */
  truncated: boolean;
}

const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

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

export function parseHeaders(raw: Buffer, maxFields = MAX_HEADER_FIELDS): ParsedHeaders {
  const end = findHeaderEnd(raw);
  const block = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
  const lines = block.split(/\r?\n/);
  const fields: HeaderField[] = [];
  let truncated = false;
  let current: { rawName: string; parts: string[] } | null = null;
  const flush = (): void => {
    if (!current) return;
    const value = current.parts.join(' ').replace(/[ \t]+/g, ' ').trim();
    fields.push({ name: current.rawName.toLowerCase(), rawName: current.rawName, value, position: fields.length });
    current = null;
  };
  for (const line of lines) {
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && current) {
      current.parts.push(line.trim());
      continue;
    }
    flush();
    if (fields.length >= maxFields) {
      truncated = true;
      break;
    }
    const colon = line.indexOf(':');
    const rawName = colon > 0 ? line.slice(0, colon).replace(/[ \t]+$/, '') : '';
    if (!rawName || !FIELD_NAME.test(rawName)) continue; // not a field: mbox junk, continuation without a field
    current = { rawName, parts: [line.slice(colon + 1).trim()] };
  }
  flush();
  return { fields, headerBytes: end < 0 ? raw.length : end, hasBody: end >= 0, truncated };
}

export const fieldsNamed = (headers: ParsedHeaders, name: string): HeaderField[] =>
  headers.fields.filter((f) => f.name === name);

export const firstValue = (headers: ParsedHeaders, name: string): string | null =>
  headers.fields.find((f) => f.name === name)?.value ?? null;
