/**
 * A set of strings kept as bytes in large buffers, each numbered in the order it was first
 * added. It stands where a Set or Map of strings would keep one for every entry of an archive
 * (its names, the paths of its rows): a JS string and its place in a Set cost about 120 bytes
 * for a 22-character path, and an archive may list a million entries; here it costs its bytes
 * and 24 to 44 more (4 before them, 12 for where they are and their hash, 4 for a slot of a
 * table never more than half full, with room to grow). Membership is exact: strings are
 * compared byte for byte, never by hash alone, and each is kept in an encoding that gives
 * distinct strings distinct bytes (latin1 when every code unit fits in a byte, else the UTF-16
 * code units themselves, a lone surrogate too, with a flag telling the two apart).
 */

import { randomBytes } from 'node:crypto';

/** Bytes are kept in chunks of this size; a string larger than a chunk has one of its own. */
const CHUNK_BYTES = 1024 * 1024;
/** Before each string: its byte length times two, plus 1 when it is kept as UTF-16. */
const HEADER_BYTES = 4;
const FITS_LATIN1 = /^[\u0000-\u00ff]*$/;

export class StringTable {
  readonly #chunks: Buffer[] = [];
  /** bytes used in the last chunk */
  #used = CHUNK_BYTES;
  #count = 0;
  /** by id: where the string is, and its hash */
  #chunkOf = new Uint32Array(256);
  #offsetOf = new Uint32Array(256);
  #hashOf = new Uint32Array(256);
  /** open addressing, linear probing: id + 1, 0 where empty; never more than half full */
  #slots = new Uint32Array(1024);
  /**
   * A random key for the hash, so that no archive can be made whose names all land in one
   * place: every lookup would then compare them all, and a million names take hours.
   */
  readonly #k0: number;
  readonly #k1: number;

  constructor() {
    const key = randomBytes(8);
    this.#k0 = key.readInt32LE(0);
    this.#k1 = key.readInt32LE(4);
  }

  get size(): number {
    return this.#count;
  }

  /** The id of `text`, -1 if it was never added. */
  idOf(text: string): number {
    return this.#find(text, false);
  }

  /** The id of `text`, which is `size` before the call when it is new. */
  add(text: string): number {
    return this.#find(text, true);
  }

  #find(text: string, add: boolean): number {
    // (written where the next string would go, to be hashed and compared: kept only if added)
    const wide = !FITS_LATIN1.test(text);
    const encoding = wide ? 'utf16le' : 'latin1';
    const length = wide ? text.length * 2 : text.length;
    const { chunk, at } = this.#room(HEADER_BYTES + length);
    const header = length * 2 + (wide ? 1 : 0);
    chunk.writeUInt32LE(header, at);
    chunk.write(text, at + HEADER_BYTES, length, encoding);
    const hash = halfSipHash(chunk, at, at + HEADER_BYTES + length, this.#k0, this.#k1);
    const mask = this.#slots.length - 1;
    let slot = hash & mask;
    for (let id = this.#slots[slot]! - 1; id !== -1; slot = (slot + 1) & mask, id = this.#slots[slot]! - 1) {
      if (this.#hashOf[id] !== hash) continue;
      const other = this.#chunks[this.#chunkOf[id]!]!;
      const from = this.#offsetOf[id]!;
      // (the same header, so as many bytes: the comparison stays within the other string)
      if (other.readUInt32LE(from) === header && other.compare(chunk, at, at + HEADER_BYTES + length, from, from + HEADER_BYTES + length) === 0) return id;
    }
    if (!add) return -1;
    const id = this.#count++;
    if (id === this.#chunkOf.length) this.#growIds();
    this.#chunkOf[id] = this.#chunks.length - 1;
    this.#offsetOf[id] = at;
    this.#hashOf[id] = hash;
    this.#used = at + HEADER_BYTES + length;
    this.#slots[slot] = id + 1;
    if (this.#count * 2 > this.#slots.length) this.#rehash();
    return id;
  }

  /** The last chunk, with `bytes` free from `at` (a new chunk when it has not). */
  #room(bytes: number): { chunk: Buffer; at: number } {
    if (this.#used + bytes > (this.#chunks.at(-1)?.length ?? 0)) {
      this.#chunks.push(Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, bytes)));
      this.#used = 0;
    }
    return { chunk: this.#chunks.at(-1)!, at: this.#used };
  }

  #growIds(): void {
    this.#chunkOf = grownUint32(this.#chunkOf);
    this.#offsetOf = grownUint32(this.#offsetOf);
    this.#hashOf = grownUint32(this.#hashOf);
  }

  #rehash(): void {
    const slots = new Uint32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 0; id < this.#count; id++) {
      let slot = this.#hashOf[id]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id + 1;
    }
    this.#slots = slots;
  }
}

/** `from` in an array twice its length. */
export function grownUint32(from: Uint32Array): Uint32Array<ArrayBuffer> {
  const to = new Uint32Array(from.length * 2);
  to.set(from);
  return to;
}

const rotl = (x: number, b: number): number => (x << b) | (x >>> (32 - b));

/**
 * HalfSipHash-2-4 (Aumasson and Bernstein's SipHash on 32-bit words, as V8 keys its own hashes
 * of numbers) of bytes [start, end) with the 64-bit key k0, k1: its 32-bit tag.
 */
export function halfSipHash(bytes: Uint8Array, start: number, end: number, k0: number, k1: number): number {
  let v0 = k0 | 0;
  let v1 = k1 | 0;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
  const round = (): void => {
    v0 = (v0 + v1) | 0;
    v1 = rotl(v1, 5) ^ v0;
    v0 = rotl(v0, 16);
    v2 = (v2 + v3) | 0;
    v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) | 0;
    v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) | 0;
    v1 = rotl(v1, 13) ^ v2;
    v2 = rotl(v2, 16);
  };
  const compress = (word: number): void => {
    v3 ^= word;
    round();
    round();
    v0 ^= word;
  };
  const whole = start + ((end - start) & ~3);
  for (let i = start; i < whole; i += 4) compress(bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  let last = (end - start) << 24;
  for (let i = whole; i < end; i++) last |= bytes[i]! << (8 * (i - whole));
  compress(last);
  v2 ^= 0xff;
  for (let i = 0; i < 4; i++) round();
  return (v1 ^ v3) >>> 0;
}
