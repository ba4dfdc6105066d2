/**
 * Searches over a whole message are made on its bytes, never on the message made one string: a
 * latin1 string is a byte a byte, and a 50 MB message whose body hash failed was made such a
 * string twice (the search for Apple Mail's and Thunderbird's markers), and a 50 MB file of
 * header lines with no blank line once and split into 670,000 more. A plain 50 MB text whose body
 * hash failed peaked at 260 MB (310 MB stored with bare LFs), and the header lines at 304 MB;
 * 161–173 MB, 211 MB and 237 MB now.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { partsRemovedByClient } from '../../src/attachments/removed-by-client.ts';
import { partsStoredApart } from '../../src/attachments/stored-apart.ts';
import { caseRng, pick, randInt } from '../../src/fuzz/mutate.ts';
import { includesAsciiIgnoringCase } from '../../src/read/find-ascii.ts';
import { headerBlockOnly } from '../../src/read/rebuilt-by-converter.ts';

afterEach(() => vi.restoreAllMocks());

/** The longest string made of the bytes of a Buffer while `run` runs. */
function longestStringMade(run: () => unknown): number {
  let longest = 0;
  const toString = Buffer.prototype.toString;
  vi.spyOn(Buffer.prototype, 'toString').mockImplementation(function (this: Buffer, ...args: unknown[]) {
    const text = (toString as (...a: unknown[]) => string).apply(this, args);
    longest = Math.max(longest, text.length);
    return text;
  });
  for (const slice of ['latin1Slice', 'asciiSlice', 'utf8Slice'] as const) {
    const original = (Buffer.prototype as unknown as Record<string, (...a: unknown[]) => string>)[slice]!;
    vi.spyOn(Buffer.prototype as unknown as Record<string, (...a: unknown[]) => string>, slice).mockImplementation(function (this: Buffer, ...args: unknown[]) {
      const text = original.apply(this, args);
      longest = Math.max(longest, text.length);
      return text;
    });
  }
  run();
  return longest;
}

describe('includesAsciiIgnoringCase', () => {
  it('finds what a case-insensitive expression over the latin1 text finds, on 20,000 seeded inputs', () => {
    const rng = caseRng(37, 1);
    const needles = ['x-apple-content-length', 'x-mozilla-altered', 'ab', 'q'];
    let found = 0;
    for (let c = 0; c < 20_000; c++) {
      const needle = pick(rng, needles);
      // the needle's letters in both cases, bytes that fold to none of them in latin1 (µ, ÿ, À, à), and any byte
      const alphabet = Buffer.from(`${needle}${needle.toUpperCase()}\xb5\xff\xc0\xe0-xX `, 'latin1');
      const bytes = Buffer.from(Array.from({ length: randInt(rng, 60) }, () => (rng() < 0.7 ? alphabet[randInt(rng, alphabet.length)]! : randInt(rng, 256))));
      if (rng() < 0.3 && bytes.length > needle.length) {
        const at = randInt(rng, bytes.length - needle.length);
        for (let i = 0; i < needle.length; i++) bytes[at + i] = (rng() < 0.5 ? needle[i]!.toUpperCase() : needle[i]!).charCodeAt(0);
      }
      const expected = new RegExp(needle.replace(/-/g, '\\-'), 'i').test(bytes.toString('latin1'));
      if (expected) found++;
      expect(includesAsciiIgnoringCase(bytes, needle), JSON.stringify([needle, bytes.toString('latin1')])).toBe(expected);
    }
    expect(found).toBeGreaterThan(4_000);
  });

  it('finds the needle at the very start and end of the bytes, and in a view into larger memory', () => {
    const memory = Buffer.from('X-Mozilla-ALTERED: 1 x-apple-content-length');
    expect(includesAsciiIgnoringCase(memory, 'x-mozilla-altered')).toBe(true);
    expect(includesAsciiIgnoringCase(memory, 'x-apple-content-length')).toBe(true);
    expect(includesAsciiIgnoringCase(memory.subarray(1), 'x-mozilla-altered')).toBe(false);
    expect(includesAsciiIgnoringCase(memory.subarray(0, memory.length - 1), 'x-apple-content-length')).toBe(false);
  });
});

describe('a message whose body hash failed is searched for the markers of parts kept apart on its bytes', () => {
  const message = Buffer.from(`From: a@demo.example\r\nContent-Type: text/plain\r\n\r\n${'a line of text - with a dash\r\n'.repeat(40_000)}`, 'latin1');

  it('finds no Apple Mail or Thunderbird marker, and never makes the message one string', () => {
    let results: unknown[] = [];
    const longest = longestStringMade(() => {
      results = [partsStoredApart(message), partsRemovedByClient(message)];
    });
    expect(longest).toBeLessThan(message.length / 10);
    return Promise.all(results).then((found) => expect(found).toEqual([null, null]));
  });
});

describe('a file of header lines with no blank line (headerBlockOnly)', () => {
  /** The rule as written: every line, split at CRLF, LF or CR alone, a header field, a continuation or Exchange's first line. */
  const byTheRule = (text: string): boolean => {
    const lines = text.split(/\r?\n|\r/);
    if (lines.at(-1) === '') lines.pop();
    return lines.every((line, i) => /^[\x21-\x39\x3b-\x7e]+[ \t]*:/.test(line) || (i > 0 && /^[ \t]/.test(line)) || (i === 0 && line.startsWith('Microsoft Mail Internet Headers')));
  };

  it('reads every line as the rule does, on 40,000 seeded files', () => {
    const rng = caseRng(37, 2);
    const pieces = ['From: a', 'X-A:b', 'X-B \t:', 'Bad line', ' cont', '\tcont', '', 'Microsoft Mail Internet Headers Version 2.0', 'a:', ':x', 'x\x7f: y', '\xdc: x', 'Microsoft Mail', 'MICROSOFT Mail Internet Headers'];
    const ends = ['\n', '\r\n', '\r', '\r\r\n', '\n\r'];
    let headerOnly = 0;
    for (let c = 0; c < 40_000; c++) {
      const count = randInt(rng, 6);
      let text = '';
      for (let i = 0; i < count; i++) text += pick(rng, pieces) + (i < count - 1 || rng() < 0.6 ? pick(rng, ends) : '');
      const expected = byTheRule(text);
      if (expected) headerOnly++;
      expect(headerBlockOnly(Buffer.from(text, 'latin1'), 0, false), JSON.stringify(text)).toBe(expected);
    }
    expect(headerOnly).toBeGreaterThan(4_000);
  });

  it('reads a large file of header lines without making it one string', () => {
    const lines = Buffer.from(`From: a@demo.example\r\n${`X-Line: ${'a'.repeat(68)}\r\n`.repeat(30_000)}`, 'latin1');
    let only = false;
    expect(longestStringMade(() => (only = headerBlockOnly(lines, 0, false)))).toBeLessThan(1000);
    expect(only).toBe(true);
  });
});
