import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './import/json-text.ts';
import { keyNameParts, normalizeKeyName } from './types.ts';

const CHUNK = 1 << 20;

/** A name the key store can keep its records under: normalized as a keys file's names are, then as the store normalizes what it adds. */
export const isStorableKeyName = (raw: string): boolean => keyNameParts(normalizeKeyName(normalizeKeyName(raw))) !== null;
const DIGEST = 32;

/** Where one entry's value (a string or a list of strings) is in the file, and the sha256 of its bytes. */
interface ValueAt {
  start: number;
  end: number;
  digestAt: number;
}

/**
 * A JSON map key file as one pass over its bytes found it: for each name (normalized, in file
 * order), where its values are, and the file's sha256. The values themselves are read again
 * when a name is asked for (`read`). A key archive of 100,000 selectors, parsed whole, held the
 * 45 MB file about five times over (red team BB, BB-08); the index holds a few numbers a name.
 */
export interface KeysMapIndex {
  sha256: string;
  /** normalized name -> its entries' values, in file order (names that differ only in case are one) */
  values: Map<string, ValueAt[]>;
  /** the sha256 of every value's bytes as indexed, 32 bytes each at ValueAt.digestAt */
  digests: Buffer;
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
  const digest = createHash('sha256').update(bytes).digest();
  if (!digest.equals(index.digests.subarray(at.digestAt, at.digestAt + DIGEST))) return changedUnderfoot(path);
  const value = JSON.parse(bytes.toString('utf8')) as string | string[];
  return typeof value === 'string' ? [value] : value;
}

export class KeysFileChangedError extends Error {
  override name = 'KeysFileChangedError';
}

function changedUnderfoot(path: string): never {
  throw new KeysFileChangedError(`${path}: the key file changed while the run was reading it (its sha256 on the run's record no longer describes it)`);
}

/** Not a map the index can vouch for: the whole file is read instead. */
class NotPlainMap extends Error {}

const COLON = 0x3a;
const isJsonSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
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

class MapScanner {
  private expect: Expect = Expect.ObjectStart;
  private inString = false;
  private escape = 0; // 0: none; 1: after a backslash; 2..5: hex digits of \u still due
  private readonly fileHash = createHash('sha256');
  private valueHash: Hash | null = null;
  private valueStart = 0;
  private nameBytes: Buffer[] | null = null;
  private nameFrom = 0;
  private currentName = '';
  private readonly seen = new Set<string>();
  private readonly values = new Map<string, ValueAt[]>();
  private digests = Buffer.alloc(DIGEST * 1024);
  private digestCount = 0;
  /** the last bytes of a chunk that may begin a UTF-8 sequence the next chunk ends */
  private utf8Tail: Buffer = Buffer.alloc(0);

  scan(fd: number): KeysMapIndex | null {
    const chunk = Buffer.alloc(CHUNK);
    let offset = 0;
    try {
      for (;;) {
        const n = readSync(fd, chunk, 0, CHUNK, offset);
        if (n === 0) break;
        const piece = chunk.subarray(0, n);
        this.fileHash.update(piece);
        this.checkUtf8(piece, false);
        this.scanPiece(piece, offset);
        offset += n;
      }
      this.checkUtf8(Buffer.alloc(0), true);
      if (this.expect !== Expect.Nothing) throw new NotPlainMap();
    } catch (err) {
      if (err instanceof NotPlainMap) return null;
      throw err;
    }
    return { sha256: this.fileHash.digest('hex'), values: this.values, digests: this.digests.subarray(0, this.digestCount * DIGEST) };
  }

  /** Valid UTF-8 as a whole, checked piece by piece, each cut before a byte that begins a sequence. */
  private checkUtf8(piece: Buffer, last: boolean): void {
    const bytes = this.utf8Tail.length ? Buffer.concat([this.utf8Tail, piece]) : piece;
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
    if (!isUtf8(bytes.subarray(0, cut))) throw new NotPlainMap();
    this.utf8Tail = Buffer.from(bytes.subarray(cut));
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
          this.valueHash = createHash('sha256');
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
    if (this.valueHash) this.valueHash.update(piece.subarray(Math.max(0, this.valueStart - base)));
    // (copied: the next piece is read into the same buffer)
    if (this.nameBytes) this.nameBytes.push(Buffer.from(piece.subarray(Math.max(0, this.nameFrom - base))));
  }

  private beginString(piece: Buffer, i: number, base: number, isName: boolean): void {
    this.inString = true;
    this.escape = 0;
    if (isName) {
      this.nameBytes = [];
      this.nameFrom = base + i;
    }
  }

  /** Consumes string bytes from i; returns the index of the last byte consumed. */
  private stringBytes(piece: Buffer, from: number, base: number): number {
    for (let i = from; i < piece.length; i++) {
      const c = piece[i]!;
      if (this.escape === 1) {
        if (c === 0x75) this.escape = 5;
        else if (ESCAPES.has(c)) this.escape = 0;
        else throw new NotPlainMap();
      } else if (this.escape > 1) {
        if (!isHex(c)) throw new NotPlainMap();
        this.escape = this.escape === 2 ? 0 : this.escape - 1;
      } else if (c === BACKSLASH) {
        this.escape = 1;
      } else if (c === QUOTE) {
        this.inString = false;
        this.endString(piece, i, base);
        return i;
      } else if (c < 0x20) {
        throw new NotPlainMap();
      }
    }
    return piece.length - 1;
  }

  private endString(piece: Buffer, i: number, base: number): void {
    if (this.nameBytes) {
      this.nameBytes.push(piece.subarray(Math.max(0, this.nameFrom - base), i + 1));
      const raw = JSON.parse(Buffer.concat(this.nameBytes).toString('utf8')) as string;
      this.nameBytes = null;
      // (a repeated name, or one no key could be stored under, is refused by the whole reading)
      if (this.seen.has(raw) || !isStorableKeyName(raw)) throw new NotPlainMap();
      this.seen.add(raw);
      this.currentName = normalizeKeyName(raw);
      this.expect = Expect.Colon;
    } else if (this.expect === Expect.Value) {
      this.endValue(piece, i, base);
    } else {
      this.expect = Expect.ListCommaOrEnd;
    }
  }

  /** The value ends at piece[i] (its closing quote or bracket). */
  private endValue(piece: Buffer, i: number, base: number): void {
    const hash = this.valueHash!;
    hash.update(piece.subarray(Math.max(0, this.valueStart - base), i + 1));
    this.valueHash = null;
    if (this.digests.length < (this.digestCount + 1) * DIGEST) {
      const grown = Buffer.alloc(this.digests.length * 2);
      this.digests.copy(grown);
      this.digests = grown;
    }
    hash.digest().copy(this.digests, this.digestCount * DIGEST);
    const at: ValueAt = { start: this.valueStart, end: base + i + 1, digestAt: this.digestCount * DIGEST };
    this.digestCount++;
    const list = this.values.get(this.currentName);
    if (list) list.push(at);
    else this.values.set(this.currentName, [at]);
    this.expect = Expect.MemberCommaOrEnd;
  }
}
