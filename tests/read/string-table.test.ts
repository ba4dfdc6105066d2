/**
 * StringTable stands where a Set of strings kept the names of an archive's entries and the paths
 * of its rows (red team 28, G-10). It must answer exactly as that Set did.
 */
import { describe, expect, it } from 'vitest';
import { halfSipHash, StringTable } from '../../src/read/string-table.ts';

describe('StringTable', () => {
  it('tells apart strings whose bytes would be alike in another encoding, lone surrogates too', () => {
    const table = new StringTable();
    // '\u0100' as UTF-16 is the bytes 00 01, '\u0000\u0001' as latin1 the same two bytes
    const strings = ['', 'a', 'a\u0000', '\u00e9', 'e\u0301', '\u0100', '\u0000\u0001', '\ud800', '\udc00', '\ufffd', '\ud83d\ude00', '\ud83d', 'A'];
    expect(strings.map((s) => table.add(s))).toEqual(strings.map((_, i) => i));
    expect(table.size).toBe(strings.length);
    // added again: the first id, nothing new
    expect(strings.map((s) => table.add(s))).toEqual(strings.map((_, i) => i));
    expect(table.size).toBe(strings.length);
    for (const absent of ['b', '\u0001', '\u0001\u0000', '\ud801', 'a\u0000\u0000', '\u00e9\u0000']) expect(table.idOf(absent), JSON.stringify(absent)).toBe(-1);
  });

  it('keeps a string larger than its chunks, and those around it', () => {
    const table = new StringTable();
    const big = 'x'.repeat(3 * 1024 * 1024);
    const wideBig = '\u4e00'.repeat(600 * 1024);
    expect([table.add('before'), table.add(big), table.add('after'), table.add(wideBig), table.add('last')]).toEqual([0, 1, 2, 3, 4]);
    expect([table.idOf('before'), table.idOf(big), table.idOf('after'), table.idOf(wideBig), table.idOf('last')]).toEqual([0, 1, 2, 3, 4]);
    expect(table.idOf(`${big}x`)).toBe(-1);
    expect(table.idOf(big.slice(1))).toBe(-1);
  });

  it('numbers many strings in the order they came, across chunks and growth, and finds every one', () => {
    const table = new StringTable();
    const path = (i: number): string => `dump/export.zip!inbox/${i % 7 === 0 ? '\u00fc' : i % 11 === 0 ? '\u0416' : ''}${String(i).padStart(7, '0')}.eml`;
    const count = 120_000;
    for (let i = 0; i < count; i++) expect(table.add(path(i))).toBe(i);
    expect(table.size).toBe(count);
    for (let i = 0; i < count; i += 97) expect(table.idOf(path(i))).toBe(i);
    for (let i = count; i < count + 1000; i++) expect(table.idOf(path(i))).toBe(-1);
    // the same strings made anew (not the objects added): found by their contents
    expect(table.idOf(['dump/export.zip!inbox/', '0000001.eml'].join(''))).toBe(1);
  });
});

describe('halfSipHash', () => {
  it("gives the reference implementation's test vectors (key 00..07, messages 00..n-1)", () => {
    const message = Uint8Array.from({ length: 16 }, (_, i) => i);
    const key = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]);
    // vectors_hsip32 of github.com/veorq/SipHash, as little-endian words
    const vectors = [0x5b9f35a9, 0xb85a4727, 0x03a662fa, 0x04e7fe8a, 0x89466e2a, 0x69b6fac5, 0x23fc6358, 0xc563cf8b, 0x8f84b8d0, 0x79e706f8, 0x3479b094];
    expect(vectors.map((_, n) => halfSipHash(message, 0, n, key.readInt32LE(0), key.readInt32LE(4)))).toEqual(vectors);
    // a message anywhere in its buffer
    expect(halfSipHash(Buffer.concat([Buffer.from('prefix'), message.subarray(0, 9)]), 6, 15, key.readInt32LE(0), key.readInt32LE(4))).toBe(vectors[9]);
  });
});
