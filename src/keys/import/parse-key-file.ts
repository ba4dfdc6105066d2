import { parseArchiveList } from './archive-list.ts';
import { isPlainObject } from './common.ts';
import { parseJsonMap } from './json-map.ts';
import { parseJsonBytes } from './json-text.ts';
import { isKeyStoreFile, parseKeyStoreFile } from './key-store-file.ts';
import { KeyImportError, type KeyFileFormat, type ParsedKeyFile } from './types.ts';
import { hasTxtRecord, parseZone } from './zone.ts';

export { KeyImportError } from './types.ts';
export type { IgnoredRecord, ImportedKey, KeyFileFormat, ParsedKeyFile } from './types.ts';

const NOT_A_KEY_FILE = 'not a key file: expected a JSON map, a JSON list of archive entries, or zone-file/dig TXT lines';

type Sniffed =
  | { format: 'json-map' | 'key-store'; data: Record<string, unknown> }
  | { format: 'archive-list'; data: unknown[] }
  | { format: 'zone' };

/** The first byte that is not white space, after a UTF-8 byte-order mark. */
function firstSignificantByte(bytes: Buffer): number | undefined {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return bytes[i];
}

/** A line that holds a bare key record (tags with p=, no owner name): worth a hint. */
function bareKeyRecordLine(bytes: Buffer): number | null {
  const lines = bytes.toString('utf8').split('\n');
  const at = lines.findIndex((l) => /(^|[\s;"])p=/.test(l) && /^\s*"?\s*[a-z]+\s*=/i.test(l));
  return at < 0 ? null : at + 1;
}

function sniff(bytes: Buffer, path: string): Sniffed {
  const first = firstSignificantByte(bytes);
  if (first === 0x7b /* { */) {
    const data = parseJsonBytes(bytes, path);
    if (!isPlainObject(data)) throw new KeyImportError(path, null, NOT_A_KEY_FILE);
    return { format: isKeyStoreFile(data) ? 'key-store' : 'json-map', data };
  }
  if (first === 0x5b /* [ */) {
    const data = parseJsonBytes(bytes, path);
    if (!Array.isArray(data)) throw new KeyImportError(path, null, NOT_A_KEY_FILE);
    return { format: 'archive-list', data };
  }
  if (first !== undefined && !bytes.includes(0) && hasTxtRecord(bytes)) return { format: 'zone' };
  const bare = first === undefined || bytes.includes(0) ? null : bareKeyRecordLine(bytes);
  const hint =
    bare === null
      ? ''
      : ` (line ${bare} looks like a bare key record; a key file must name it: "<selector>._domainkey.<domain>. IN TXT \\"v=DKIM1; …\\"")`;
  throw new KeyImportError(path, null, `${NOT_A_KEY_FILE}${hint}`);
}

/**
 * Which format a key file is in, by its content: `{` → our JSON map (or the corpus keyring, or
 * the key-store file `keys export` writes, told by its "format" member),
 * `[` → a JSON list of archive entries, otherwise zone-file/dig text when at least one line is
 * a TXT record. Throws KeyImportError when it is none of them, or when JSON is invalid.
 */
export function detectKeyFileFormat(bytes: Buffer, path = 'input'): KeyFileFormat {
  return sniff(bytes, path).format;
}

/**
 * Reads a key file for `leakcheck keys import`. The same bytes always give the same result.
 * Throws KeyImportError, naming the file and the line or entry, when any part of it is
 * malformed: a file is imported whole or not at all. Records that are not DKIM keys (other
 * record types, TXT records without p=) are returned in `ignored` with the reason.
 */
export function parseKeyFile(bytes: Buffer, path: string): ParsedKeyFile {
  const sniffed = sniff(bytes, path);
  switch (sniffed.format) {
    case 'json-map':
      return parseJsonMap(sniffed.data, path);
    case 'key-store':
      return parseKeyStoreFile(sniffed.data, path);
    case 'archive-list':
      return parseArchiveList(sniffed.data, path);
    case 'zone':
      return parseZone(bytes, path);
  }
}
