import { hash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import type { CompromisedEntry } from './compromised.ts';
import { compromisedEntry, isKeyStoreMember, KEY_STORE_FORMAT, KEY_STORE_VERSION, keyStoreRecord } from './import/key-store-file.ts';
import { repeatedNameProblem, BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './import/json-text.ts';
import { KeyImportError, type ImportedKey } from './import/types.ts';
import { COLON, IndexBuilder, isJsonSpace, readIndexedBytes, readUtf8Pieces, type KeysMapIndex } from './keys-file-index.ts';

/**
 * A key-store file (`keys export`) as one pass over its bytes found it: its sha256, its
 * compromised fingerprints (every one applies to every key, so all are kept), how many records
 * it has, and, when asked for, an index of its records by name (normalized as the whole reading
 * names them): where each record is in the file and the sha256 of its bytes, as for a JSON map
 * (`KeysMapIndex`). The records themselves are read again when their name is asked for
 * (`readIndexedRecords`). Parsed whole, 100,000 records (71 MB) held about 500 MB and became
 * 100,000 database rows before the run.
 */
export interface KeyStoreFileScan {
  sha256: string;
  compromised: CompromisedEntry[];
  records: number;
  index: KeysMapIndex | null;
}

export interface KeyStoreScanOptions {
  /** build the index of the records by name */
  index: boolean;
  /** each record, checked, in file order, as the pass reaches it */
  onRecord?: (key: ImportedKey) => void;
}

/**
 * Scans `path` when it is a key-store file the whole reading (`parseKeyStoreFile`) would accept:
 * valid UTF-8 (a leading byte-order mark skipped), valid JSON, no member name repeated in any
 * object, only the format's members, its format and version, and every record and compromised
 * entry checked by the same functions the whole reading checks them with. Returns null for
 * anything else (a JSON map, any refusal): the caller reads the file whole, so that every
 * refusal is worded as it always was, by the same code.
 */
export function scanKeyStoreFile(path: string, options: KeyStoreScanOptions): KeyStoreFileScan | null {
  const fd = openSync(path, 'r');
  try {
    return new KeyStoreScanner(path, options).scan(fd);
  } finally {
    closeSync(fd);
  }
}

/** The records of `name` (as `ImportedKey.name` has it) in file order, read again and checked against the bytes indexed. */
export function readIndexedRecords(path: string, index: KeysMapIndex, name: string): ImportedKey[] {
  return index.valuesOf(name).map((at) => keyStoreRecord(JSON.parse(readIndexedBytes(path, index, at).toString('utf8')) as unknown, at.entry, path));
}

/** Not a key-store file the pass can vouch for: the whole file is read instead. */
class NotKeyStore extends Error {}

/** What the scanner expects next, outside a value it is reading: JSON's grammar narrowed to the file's shape. */
const Expect = {
  ObjectStart: 0,
  NameOrEnd: 1,
  Name: 2,
  Colon: 3,
  Value: 4,
  MemberCommaOrEnd: 5,
  EntryOrListEnd: 6,
  Entry: 7,
  ListCommaOrEnd: 8,
  Nothing: 9,
} as const;
type Expect = (typeof Expect)[keyof typeof Expect];

/** What a value being read is: a member's name, a member's value, or an entry of "keys" or "compromised". */
type ValueKind = 'name' | 'member' | 'entry';

/**
 * One JSON value being read, whole: its end is found here (strings and nesting followed), its
 * grammar checked by JSON.parse once it is complete. An entry is a few hundred bytes.
 */
interface OpenValue {
  kind: ValueKind;
  start: number;
  /** what of it earlier pieces held (copied: each piece is read into the same buffer) */
  before: Buffer[];
  depth: number;
  inString: boolean;
  escape: boolean;
  /** a number or a literal: it ends before the first byte that cannot be in it */
  scalar: boolean;
  /** objects opened in it, itself included; when it is one object alone, the member names directly inside it are counted */
  objects: number;
  names: number;
  expectName: boolean;
}

class KeyStoreScanner {
  private readonly path: string;
  private readonly options: KeyStoreScanOptions;
  private expect: Expect = Expect.ObjectStart;
  private readonly members = new Set<string>();
  private member = '';
  private value: OpenValue | null = null;
  private readonly built = new IndexBuilder();
  private records = 0;
  private readonly compromised: CompromisedEntry[] = [];
  private format: unknown;
  private version: unknown;

  constructor(path: string, options: KeyStoreScanOptions) {
    this.path = path;
    this.options = options;
  }

  scan(fd: number): KeyStoreFileScan | null {
    let sha256: string | null;
    try {
      sha256 = readUtf8Pieces(fd, (piece, offset) => this.scanPiece(piece, offset));
    } catch (err) {
      if (err instanceof NotKeyStore) return null;
      throw err;
    }
    // (a value still open, a number at the very end of the file, is a JSON error the whole reading words)
    if (sha256 === null || this.expect !== Expect.Nothing || this.value !== null) return null;
    const complete = ['format', 'version', 'keys', 'compromised'].every((m) => this.members.has(m));
    if (!complete || this.format !== KEY_STORE_FORMAT || this.version !== KEY_STORE_VERSION) return null;
    return { sha256, compromised: this.compromised, records: this.records, index: this.options.index ? this.built.index(sha256) : null };
  }

  private scanPiece(piece: Buffer, base: number): void {
    let i = 0;
    // a byte-order mark is skipped, as parseJsonBytes skips it
    if (base === 0 && piece[0] === 0xef && piece[1] === 0xbb && piece[2] === 0xbf) i = 3;
    for (; i < piece.length; i++) {
      if (this.value) {
        i = this.valueBytes(piece, i, base);
        continue;
      }
      const c = piece[i]!;
      if (isJsonSpace(c)) continue;
      switch (this.expect) {
        case Expect.ObjectStart:
          if (c !== OPEN_BRACE) throw new NotKeyStore();
          this.expect = Expect.NameOrEnd;
          break;
        case Expect.NameOrEnd:
        case Expect.Name:
          if (c === CLOSE_BRACE && this.expect === Expect.NameOrEnd) this.expect = Expect.Nothing;
          else if (c === QUOTE) this.open('name', base + i, c);
          else throw new NotKeyStore();
          break;
        case Expect.Colon:
          if (c !== COLON) throw new NotKeyStore();
          this.expect = Expect.Value;
          break;
        case Expect.Value:
          // (the two lists are read entry by entry; "keys" or "compromised" that is no list is refused by the whole reading)
          if (this.member === 'keys' || this.member === 'compromised') {
            if (c !== OPEN_BRACKET) throw new NotKeyStore();
            this.expect = Expect.EntryOrListEnd;
          } else this.open('member', base + i, c);
          break;
        case Expect.EntryOrListEnd:
        case Expect.Entry:
          if (c === CLOSE_BRACKET && this.expect === Expect.EntryOrListEnd) this.expect = Expect.MemberCommaOrEnd;
          else if (c === OPEN_BRACE) this.open('entry', base + i, c);
          else throw new NotKeyStore();
          break;
        case Expect.ListCommaOrEnd:
          if (c === COMMA) this.expect = Expect.Entry;
          else if (c === CLOSE_BRACKET) this.expect = Expect.MemberCommaOrEnd;
          else throw new NotKeyStore();
          break;
        case Expect.MemberCommaOrEnd:
          if (c === COMMA) this.expect = Expect.Name;
          else if (c === CLOSE_BRACE) this.expect = Expect.Nothing;
          else throw new NotKeyStore();
          break;
        case Expect.Nothing:
          throw new NotKeyStore();
      }
    }
    // a value that goes on into the next piece: what of it this piece holds
    const open = this.value;
    if (open) open.before.push(Buffer.from(piece.subarray(Math.max(0, open.start - base))));
  }

  private open(kind: ValueKind, start: number, first: number): void {
    const container = first === OPEN_BRACE || first === OPEN_BRACKET;
    this.value = {
      kind,
      start,
      before: [],
      depth: container ? 1 : 0,
      inString: first === QUOTE,
      escape: false,
      scalar: !container && first !== QUOTE,
      objects: first === OPEN_BRACE ? 1 : 0,
      names: 0,
      expectName: first === OPEN_BRACE,
    };
  }

  /** Consumes the open value's bytes from `from` (its first byte was taken when it was opened); returns the index of the last byte consumed. */
  private valueBytes(piece: Buffer, from: number, base: number): number {
    const v = this.value!;
    const n = piece.length;
    for (let i = from; i < n; i++) {
      const c = piece[i]!;
      if (v.inString) {
        // (the bulk of the file: a record's text, up to its closing quote)
        if (!v.escape && c !== QUOTE && c !== BACKSLASH) {
          while (++i < n && piece[i] !== QUOTE && piece[i] !== BACKSLASH);
          i--;
          continue;
        }
        if (v.escape) v.escape = false;
        else if (c === BACKSLASH) v.escape = true;
        else if (c === QUOTE) {
          v.inString = false;
          if (v.depth === 1 && v.expectName) {
            v.names++;
            v.expectName = false;
          }
          if (v.depth === 0) {
            this.close(piece, i + 1, base);
            return i;
          }
        }
        continue;
      }
      if (v.scalar) {
        if (isJsonSpace(c) || c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          this.close(piece, i, base);
          // (the byte after it is the grammar's again)
          return i - 1;
        }
        continue;
      }
      if (c === QUOTE) v.inString = true;
      else if (c === OPEN_BRACE) {
        v.depth++;
        v.objects++;
      } else if (c === OPEN_BRACKET) v.depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--v.depth === 0) {
          this.close(piece, i + 1, base);
          return i;
        }
      } else if (c === COMMA && v.depth === 1) v.expectName = true;
    }
    return n - 1;
  }

  /** The open value ends before piece[end]. */
  private close(piece: Buffer, end: number, base: number): void {
    const v = this.value!;
    this.value = null;
    const from = v.start - base;
    const bytes = from >= 0 ? piece.subarray(from, end) : Buffer.concat([...v.before, piece.subarray(0, end)]);
    const text = bytes.toString('utf8');
    let data: unknown;
    try {
      data = JSON.parse(text) as unknown;
    } catch {
      throw new NotKeyStore();
    }
    // A name repeated in any object is refused by the whole reading. In an object that holds no
    // other (a record, as a rule), comparing its names with its members tells; anything else that
    // holds objects (a DNS answer, a note) is looked through.
    const oneObject = v.objects === 1 && bytes[0] === OPEN_BRACE;
    if (oneObject ? Object.keys(data as object).length !== v.names : v.objects > 0 && repeatedNameProblem(text) !== null) throw new NotKeyStore();
    switch (v.kind) {
      case 'name':
        this.member = data as string;
        if (this.members.has(this.member) || !isKeyStoreMember(this.member)) throw new NotKeyStore();
        this.members.add(this.member);
        this.expect = Expect.Colon;
        break;
      case 'member':
        if (this.member === 'format') this.format = data;
        else if (this.member === 'version') this.version = data;
        this.expect = Expect.MemberCommaOrEnd;
        break;
      case 'entry':
        this.entry(data, v.start, v.start + bytes.length, bytes);
        this.expect = Expect.ListCommaOrEnd;
        break;
    }
  }

  private entry(data: unknown, start: number, end: number, bytes: Buffer): void {
    try {
      if (this.member === 'compromised') {
        this.compromised.push(compromisedEntry(data, this.compromised.length, this.path));
        return;
      }
      const key = keyStoreRecord(data, this.records, this.path);
      this.records++;
      if (this.options.index) {
        this.built.nameNext(key.name);
        this.built.place(start, end, hash('sha256', bytes, 'buffer'));
      }
      this.options.onRecord?.(key);
    } catch (err) {
      if (err instanceof KeyImportError) throw new NotKeyStore();
      throw err;
    }
  }
}
