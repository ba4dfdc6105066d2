import { isUtf8 } from 'node:buffer';
import { createHash, hash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './import/json-text.ts';
import { keyNameParts, normalizeKeyName } from './types.ts';

const CHUNK = 1 << 20;
const DIGEST = 32;

/** A name the key store can keep its records under: normalized as a keys file's names are, then as the store normalizes what it adds. */
export const isStorableKeyName = (raw: string): boolean => keyNameParts(normalizeKeyName(normalizeKeyName(raw))) !== null;

/** Where one entry's value (a string or a list of strings) is in the file. */
export interface ValueAt {
  start: number;
  end: number;
  /** its number in the file, which finds the sha256 of its bytes as indexed */
  entry: number;
}

/**
 * A JSON map key file as one pass over its bytes found it: for each name (normalized, in file
 * order), where its values are, and the file's sha256. The values themselves are read again
 * when a name is asked for (`readIndexedValue`). A key archive of 100,000 selectors, parsed
 * whole, held the 45 MB file about five times over (red team BB, BB-08); the index holds the
 * name, two offsets and a sha256 an entry.
 */
export class KeysMapIndex {
  readonly sha256: string;
  /** normalized name -> the number of its first entry */
  readonly names: Map<string, number>;
  private readonly starts: number[];
  private readonly ends: number[];
  /** the later entries of a name written several times (in another case, or with a trailing dot): rare */
  private readonly more: Map<number, number[]>;
  /** the sha256 of every entry's value bytes, 32 bytes each */
  private readonly digests: Buffer;

  constructor(scanned: { sha256: string; names: Map<string, number>; starts: number[]; ends: number[]; more: Map<number, number[]>; digests: Buffer }) {
    this.sha256 = scanned.sha256;
    this.names = scanned.names;
    this.starts = scanned.starts;
    this.ends = scanned.ends;
    this.more = scanned.more;
    this.digests = scanned.digests;
  }

  /** Where the values of `name` are, in file order; empty when the file does not list it. */
  valuesOf(name: string): ValueAt[] {
    const first = this.names.get(name);
    if (first === undefined) return [];
    return [first, ...(this.more.get(first) ?? [])].map((entry) => ({ start: this.starts[entry]!, end: this.ends[entry]!, entry }));
  }

  digestOf(entry: number): Buffer {
    return this.digests.subarray(entry * DIGEST, (entry + 1) * DIGEST);
  }
}

/**
 * Indexes `path` when it is a plain JSON map that `loadKeysFile` would accept as such: valid
 * UTF-8 (a leading byte-order mark skipped), valid JSON, one object of member names that are DKIM
 * key names, each a string or a list of strings, no name repeated. Returns null for anything
 * else (an error, a key-store file, a keyring): the caller reads the file whole, so that every
 * refusal is worded as it always was, by the same code.
 */
export function indexKeysMap(path: string): KeysMapIndex | null {
  const fd = openSync(path, 'r');
  try {
    return new MapScanner().scan(fd);
  } finally {
    closeSync(fd);
  }
}

/** The records of one entry's value as the index found it; throws when the file no longer holds those bytes. */
export function readIndexedValue(path: string, index: KeysMapIndex, at: ValueAt): string[] {
  const value = JSON.parse(readIndexedBytes(path, index, at).toString('utf8')) as string | string[];
  return typeof value === 'string' ? [value] : value;
}

/** The bytes of one entry as the index found them; throws when the file no longer holds them. */
export function readIndexedBytes(path: string, index: KeysMapIndex, at: ValueAt): Buffer {
  const bytes = Buffer.alloc(at.end - at.start);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, at.start + done);
      if (n === 0) break;
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  // The run's record names the file by the sha256 of the bytes indexed: a key read from
  // anything else would be credited to a file that never held it.
  if (!hash('sha256', bytes, 'buffer').equals(index.digestOf(at.entry))) return changedUnderfoot(path);
  return bytes;
}

export class KeysFileChangedError extends Error {
  override name = 'KeysFileChangedError';
}

export function changedUnderfoot(path: string): never {
  throw new KeysFileChangedError(`${path}: the key file changed while the run was reading it (its sha256 on the run's record no longer describes it)`);
}

/** Not a map the index can vouch for: the whole file is read instead. */
class NotPlainMap extends Error {}

export const COLON = 0x3a;
export const isJsonSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const ESCAPES = new Set([QUOTE, BACKSLASH, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/**
 * What the scanner expects next. The grammar is JSON's (RFC 8259, as JSON.parse reads it)
 * narrowed to `{ "name": "txt" | ["txt", …], … }`.
 */
const Expect = {
  ObjectStart: 0,
  NameOrEnd: 1,
  Name: 2,
  Colon: 3,
  Value: 4,
  StringOrListEnd: 5,
  String: 6,
  ListCommaOrEnd: 7,
  MemberCommaOrEnd: 8,
  Nothing: 9,
} as const;
type Expect = (typeof Expect)[keyof typeof Expect];

/**
 * Reads the file 1 MiB at a time, each piece to `scan` with its offset (the next piece is read
 * into the same buffer). Returns the file's sha256, or null when it is not valid UTF-8.
 */
export function readUtf8Pieces(fd: number, scan: (piece: Buffer, offset: number) => void): string | null {
  const chunk = Buffer.alloc(CHUNK);
  const fileHash = createHash('sha256');
  const utf8 = new Utf8Pieces();
  let offset = 0;
  for (;;) {
    const n = readSync(fd, chunk, 0, CHUNK, offset);
    if (n === 0) break;
    const piece = chunk.subarray(0, n);
    fileHash.update(piece);
    if (!utf8.valid(piece, false)) return null;
    scan(piece, offset);
    offset += n;
  }
  return utf8.valid(Buffer.alloc(0), true) ? fileHash.digest('hex') : null;
}

/** Valid UTF-8 as a whole, checked piece by piece, each cut before a byte that begins a sequence. */
class Utf8Pieces {
  /** the last bytes of a chunk that may begin a UTF-8 sequence the next chunk ends */
  private tail: Buffer = Buffer.alloc(0);

  valid(piece: Buffer, last: boolean): boolean {
    const bytes = this.tail.length ? Buffer.concat([this.tail, piece]) : piece;
    let cut = bytes.length;
    if (!last) {
      // back to the start of the last sequence (at most 4 bytes long): it may go on in the next piece
      for (let back = 1; back <= 4 && bytes.length - back >= 0; back++) {
        if ((bytes[bytes.length - back]! & 0xc0) !== 0x80) {
          cut = bytes.length - back;
          break;
        }
      }
    }
    this.tail = Buffer.from(bytes.subarray(cut));
    return isUtf8(bytes.subarray(0, cut));
  }
}

/**
 * The index being built: each entry's name, where its bytes are and their sha256, in file order.
 * An entry takes its name first (`nameNext`), then its place (`place`).
 */
export class IndexBuilder {
  readonly names = new Map<string, number>();
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly more = new Map<number, number[]>();
  private digests = Buffer.alloc(DIGEST * 1024);

  /** how many entries have their place */
  get entries(): number {
    return this.starts.length;
  }

  /** Names the entry about to be placed; returns the first entry of that name before it, if any. */
  nameNext(name: string): number | undefined {
    const entry = this.starts.length;
    const first = this.names.get(name);
    if (first === undefined) this.names.set(name, entry);
    else {
      const later = this.more.get(first);
      if (later) later.push(entry);
      else this.more.set(first, [entry]);
    }
    return first;
  }

  place(start: number, end: number, digest: Buffer): void {
    const entry = this.starts.length;
    if (this.digests.length < (entry + 1) * DIGEST) {
      const grown = Buffer.alloc(this.digests.length * 2);
      this.digests.copy(grown);
      this.digests = grown;
    }
    digest.copy(this.digests, entry * DIGEST);
    this.starts.push(start);
    this.ends.push(end);
  }

  index(sha256: string): KeysMapIndex {
    const digests = this.digests.subarray(0, this.starts.length * DIGEST);
    return new KeysMapIndex({ sha256, names: this.names, starts: this.starts, ends: this.ends, more: this.more, digests });
  }
}

class MapScanner {
  private expect: Expect = Expect.ObjectStart;
  private inString = false;
  private escape = 0; // 0: none; 1: after a backslash; 2..5: hex digits of \u still due
  private valueHash: Hash | null = null;
  private valueStart = 0;
  /** inside a member name: where it began, and what of it earlier pieces held */
  private inName = false;
  private nameFrom = 0;
  private nameBefore: Buffer[] = [];
  private readonly built = new IndexBuilder();
  /**
   * Which names were written exactly as they are normalized: with the rare others (`otherNames`),
   * what tells a name written twice, refused, from two spellings of one name, merged.
   */
  private exactName = new Uint8Array(1024);
  private readonly otherNames = new Set<string>();

  scan(fd: number): KeysMapIndex | null {
    try {
      const sha256 = readUtf8Pieces(fd, (piece, offset) => this.scanPiece(piece, offset));
      return sha256 === null || this.expect !== Expect.Nothing ? null : this.built.index(sha256);
    } catch (err) {
      if (err instanceof NotPlainMap) return null;
      throw err;
    }
  }

  private scanPiece(piece: Buffer, base: number): void {
    let i = 0;
    // a byte-order mark is skipped, as parseJsonBytes skips it
    if (base === 0 && piece[0] === 0xef && piece[1] === 0xbb && piece[2] === 0xbf) i = 3;
    for (; i < piece.length; i++) {
      const c = piece[i]!;
      if (this.inString) {
        i = this.stringBytes(piece, i, base);
        continue;
      }
      if (isJsonSpace(c)) continue;
      switch (this.expect) {
        case Expect.ObjectStart:
          if (c !== OPEN_BRACE) throw new NotPlainMap();
          this.expect = Expect.NameOrEnd;
          break;
        case Expect.NameOrEnd:
        case Expect.Name:
          if (c === CLOSE_BRACE && this.expect === Expect.NameOrEnd) this.expect = Expect.Nothing;
          else if (c === QUOTE) this.beginString(piece, i, base, true);
          else throw new NotPlainMap();
          break;
        case Expect.Colon:
          if (c !== COLON) throw new NotPlainMap();
          this.expect = Expect.Value;
          break;
        case Expect.Value:
          this.valueStart = base + i;
          this.valueHash = null;
          if (c === QUOTE) this.beginString(piece, i, base, false);
          else if (c === OPEN_BRACKET) this.expect = Expect.StringOrListEnd;
          else throw new NotPlainMap();
          break;
        case Expect.StringOrListEnd:
        case Expect.String:
          if (c === CLOSE_BRACKET && this.expect === Expect.StringOrListEnd) this.endValue(piece, i, base);
          else if (c === QUOTE) this.beginString(piece, i, base, false);
          else throw new NotPlainMap();
          break;
        case Expect.ListCommaOrEnd:
          if (c === COMMA) this.expect = Expect.String;
          else if (c === CLOSE_BRACKET) this.endValue(piece, i, base);
          else throw new NotPlainMap();
          break;
        case Expect.MemberCommaOrEnd:
          if (c === COMMA) this.expect = Expect.Name;
          else if (c === CLOSE_BRACE) this.expect = Expect.Nothing;
          else throw new NotPlainMap();
          break;
        case Expect.Nothing:
          throw new NotPlainMap();
      }
    }
    // a value or a name that goes on into the next piece: what of it this piece holds
    if (this.valueOpen()) {
      this.valueHash ??= createHash('sha256');
      this.valueHash.update(piece.subarray(Math.max(0, this.valueStart - base)));
    }
    // (copied: the next piece is read into the same buffer)
    if (this.inName) this.nameBefore.push(Buffer.from(piece.subarray(Math.max(0, this.nameFrom - base))));
  }

  /** Inside a value: its string, or its list, not ended yet. */
  private valueOpen(): boolean {
    const inList = this.expect === Expect.StringOrListEnd || this.expect === Expect.String || this.expect === Expect.ListCommaOrEnd;
    return inList || (this.inString && this.expect === Expect.Value);
  }

  private beginString(piece: Buffer, i: number, base: number, isName: boolean): void {
    this.inString = true;
    this.escape = 0;
    if (isName) {
      this.inName = true;
      this.nameFrom = base + i;
    }
  }

  /** Consumes string bytes from i; returns the index of the last byte consumed. */
  private stringBytes(piece: Buffer, from: number, base: number): number {
    const n = piece.length;
    for (let i = from; i < n; i++) {
      let c = piece[i]!;
      if (this.escape === 0) {
        // (the bulk of a key file: plain text up to the closing quote)
        while (c !== QUOTE && c !== BACKSLASH && c >= 0x20) {
          if (++i === n) return n - 1;
          c = piece[i]!;
        }
        if (c === QUOTE) {
          this.inString = false;
          this.endString(piece, i, base);
          return i;
        }
        if (c !== BACKSLASH) throw new NotPlainMap();
        this.escape = 1;
      } else if (this.escape === 1) {
        if (c === 0x75) this.escape = 5;
        else if (ESCAPES.has(c)) this.escape = 0;
        else throw new NotPlainMap();
      } else {
        if (!isHex(c)) throw new NotPlainMap();
        this.escape = this.escape === 2 ? 0 : this.escape - 1;
      }
    }
    return n - 1;
  }

  private endString(piece: Buffer, i: number, base: number): void {
    if (this.inName) {
      const from = this.nameFrom - base;
      const quoted = from >= 0 ? piece.subarray(from, i + 1) : Buffer.concat([...this.nameBefore, piece.subarray(0, i + 1)]);
      // (a name without escapes, the usual case, is its bytes between the quotes)
      const raw = quoted.includes(BACKSLASH) ? (JSON.parse(quoted.toString('utf8')) as string) : quoted.toString('utf8', 1, quoted.length - 1);
      this.inName = false;
      this.nameBefore = [];
      // (a repeated name, or one no key could be stored under, is refused by the whole reading)
      if (!isStorableKeyName(raw) || this.repeats(raw)) throw new NotPlainMap();
      this.expect = Expect.Colon;
    } else if (this.expect === Expect.Value) {
      this.endValue(piece, i, base);
    } else {
      this.expect = Expect.ListCommaOrEnd;
    }
  }

  /** Whether `raw` was a name before; names it, and the entry its value is about to take, if not. */
  private repeats(raw: string): boolean {
    const name = normalizeKeyName(raw);
    const entry = this.built.entries;
    const first = this.built.names.get(name);
    if (raw === name) {
      const at = first ?? entry;
      if (at >= this.exactName.length) {
        const grown = new Uint8Array(this.exactName.length * 2 + at);
        grown.set(this.exactName);
        this.exactName = grown;
      }
      if (this.exactName[at] === 1) return true;
      this.exactName[at] = 1;
    } else {
      if (this.otherNames.has(raw)) return true;
      this.otherNames.add(raw);
    }
    this.built.nameNext(name);
    return false;
  }

  /** The value ends at piece[i] (its closing quote or bracket). */
  private endValue(piece: Buffer, i: number, base: number): void {
    const from = this.valueStart - base;
    // (a value within one piece, the usual case, is hashed at once; one across pieces has its hash under way)
    const digest = from >= 0 ? hash('sha256', piece.subarray(from, i + 1), 'buffer') : this.valueHash!.update(piece.subarray(0, i + 1)).digest();
    this.valueHash = null;
    this.built.place(this.valueStart, base + i + 1, digest);
    this.expect = Expect.MemberCommaOrEnd;
  }
}
