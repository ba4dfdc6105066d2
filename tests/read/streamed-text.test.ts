/**
 * The reader-text fingerprint taken in chunks (red team BB, BB-02) against the text read whole,
 * as it was before: the sha256 is stored and compared across messages, so it must be the same for
 * every input. Each streamed step against its whole form on generated and crafted input and on
 * the shared corpus, then the whole fingerprint against the former code.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import { TextDecoder } from 'node:util';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeBase64 } from '../../src/attachments/content-decode.ts';
import { loadMimeLibraries } from '../../src/attachments/parser-config.ts';
import { mulberry32 } from '../../src/fuzz/mutate.ts';
import { normalisedBodyHash, slowNormalisedBodyHash, textFingerprint } from '../../src/read/message-traits.ts';
import { pushNormalisedLinesInMemory, scannableMemory } from '../../src/read/line-scan.ts';
import { NormalisedTextHash, StreamedComposition, StreamedUtf8Check } from '../../src/read/streamed-text.ts';
import { CORPUS_SKIP_NOTE, HAS_CORPUS, corpusFiles } from '../helpers/corpus.ts';

const next = mulberry32(2026);
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;

/** `bytes` handed out in pieces of random size, each a view of a buffer reused for the next, as the decoders do */
function inPieces(bytes: Buffer, sink: (piece: Buffer) => void, largest: number): void {
  const reused = Buffer.alloc(largest);
  for (let at = 0; at < bytes.length; ) {
    const size = Math.min(bytes.length - at, 1 + Math.floor(next() * largest));
    bytes.copy(reused, 0, at, at + size);
    sink(reused.subarray(0, size));
    reused.fill(0x41);
    at += size;
  }
}

/** Text of what composing touches: combining marks after letters and alone, Hangul jamo and syllables, singletons, exclusions, astral characters. */
const COMPOSING_PIECES = [
  'e', 'a', 'word', ' ', '\r\n', '\n', '\u0301', '\u0308', '\u0327', '\u0334', '\u05b0', '\u0f71', '\u0f72', 'e\u0301', 'e\u0327\u0301', 'e\u0301\u0327',
  '\u0438\u0306', '\u0418', '\u0435\u0308', '\u1100', '\u1161', '\u11a8', '\u1100\u1161\u11a8', '\uac00', '\uac00\u11a8', '\u4e00', '\u212b', '\u2126',
  '\u0958', '\u0344', '\u0cc6\u0cd5', '\u0b47\u0b3e', '\u09c7\u09be', '\u0dd9\u0dcf', '\u{1d15e}', '\u{1d165}', '\u{1f600}', '\u00e9', '\u03b9\u0308\u0301',
  '\u0041\u030a', '\u00c5', '\u0627\u0653', '\u05d0', '\u0e01', '\u3099', '\u304b\u3099', '\u{110ab}\u{110ba}', '\u0300\u0300\u0300',
];

function composingText(length: number): string {
  let text = '';
  while (text.length < length) text += pick(COMPOSING_PIECES);
  return text;
}

/** `text` through StreamedComposition in pieces, composing every `composeChars` characters or so */
function composedInPieces(text: string, composeChars: number): Buffer {
  const out: Buffer[] = [];
  const composition = new StreamedComposition((bytes) => out.push(Buffer.from(bytes)), composeChars);
  for (let at = 0; at < text.length; ) {
    let size = 1 + Math.floor(next() * composeChars * 2);
    // TextDecoder never splits a surrogate pair
    if (at + size < text.length && /[\ud800-\udbff]/.test(text[at + size - 1]!)) size++;
    composition.write(text.substring(at, at + size));
    at += size;
  }
  composition.end('');
  return Buffer.concat(out);
}

describe('the normalised hash of text that comes in pieces', () => {
  it('is normalisedBodyHash of all of it, on bodies of the characters that matter, in pieces of any size', () => {
    const pieces = ['word', 'x', ' ', '  ', '\t', ' \t ', '\r', '\r\r', '\r\n', '\n', '\n\n', ' \r\n', '\t\n', '\r \r', '\u00e9'];
    for (let n = 0; n < 3000; n++) {
      const body = Buffer.from(Array.from({ length: Math.floor(next() * 60) }, () => pick(pieces)).join(''), 'latin1');
      const hash = new NormalisedTextHash();
      // (small pieces cut most lines; whole lines are taken a line at a time)
      inPieces(body, (piece) => hash.update(piece), n % 2 ? 1 + Math.floor(next() * 12) : 1 + Math.floor(next() * (body.length + 1)));
      const got = hash.digest();
      expect(got, JSON.stringify(body.toString('latin1'))).toBe(normalisedBodyHash(body));
      expect(got).toBe(slowNormalisedBodyHash(body));
    }
  });

  it('keeps every space and CR held between a line\'s words, however many (more than the room it starts with)', () => {
    for (const held of [63, 64, 65, 200, 5000]) {
      const body = Buffer.from(`a${' \r'.repeat(held)}b\r\nc${'\r'.repeat(held)}\r\n`, 'latin1');
      for (const size of [1, 7, body.length]) {
        const hash = new NormalisedTextHash();
        inPieces(body, (piece) => hash.update(piece), size);
        expect(hash.digest(), `${held} in pieces of ${size}`).toBe(slowNormalisedBodyHash(body));
      }
    }
  });
});

describe('the normalised hash of text in WebAssembly memory (a worker\'s read buffer, or text kept decoded)', () => {
  // whole lines are normalised there (norm in line-scan.wat), a window of 512 KiB at a time
  const memory = scannableMemory(4 << 20)!;
  /** the hash of `body` put at `offset` of the memory and handed over in views of it, cut at `cuts` */
  function hashedInMemory(body: Buffer, offset: number, cuts: number[] = []): string {
    body.copy(memory, offset);
    const hash = new NormalisedTextHash();
    let at = 0;
    for (const cut of [...cuts, body.length]) {
      hash.update(memory.subarray(offset + at, offset + cut));
      at = cut;
    }
    return hash.digest();
  }
  const randomCuts = (length: number): number[] =>
    Array.from({ length: Math.floor(next() * 4) }, () => Math.floor(next() * (length + 1))).sort((a, b) => a - b);

  it('is normalisedBodyHash of all of it, at every alignment, whole and in pieces', () => {
    const pieces = ['word', 'x', 'sixteen letters!', ' ', '  ', '   ', '\t', ' \t ', '\r', '\r\r', '\r\n', '\n', '\n\n', ' \r\n', '\t\n', '\r \r', ' \r ', '\u00e9'];
    for (let n = 0; n < 4000; n++) {
      const body = Buffer.from(Array.from({ length: Math.floor(next() * 80) }, () => pick(pieces)).join(''), 'latin1');
      const expected = slowNormalisedBodyHash(body);
      expect(hashedInMemory(body, n % 37), JSON.stringify(body.toString('latin1'))).toBe(expected);
      expect(hashedInMemory(body, n % 16, randomCuts(body.length)), JSON.stringify(body.toString('latin1'))).toBe(expected);
    }
  });

  it('is normalisedBodyHash of all of it across windows: blank lines alone, a line longer than one, runs of blanks over the cut', () => {
    const window = 512 * 1024;
    const words = (length: number): string => 'word '.repeat(Math.ceil(length / 5)).slice(0, length);
    const bodies = [
      // a window of blank lines alone, between lines with content, and at the end
      `first\n${'\n'.repeat(window + 10)}after\n`,
      `${' \r\n'.repeat(window / 2)}after the blanks\n\n \n`,
      `${'\n'.repeat(3 * window)}`,
      // a line longer than a window, before and after lines of words
      `a line\n${words(window + 100)}\nafter it\n`,
      `${words(window - 3)}\n${words(window * 2)}  \t \r\n\ntail`,
      // runs of blanks and blank lines where the windows are cut
      `${`${words(70)}${' '.repeat(40)}\t\r\n\n`.repeat(20000)}end`,
      `${`x${' '.repeat(17)}\r${' '.repeat(15)}y\r\r\n \n`.repeat(30000)}`,
    ].map((text) => Buffer.from(text, 'latin1'));
    for (const [k, body] of bodies.entries()) {
      const expected = slowNormalisedBodyHash(body);
      expect(hashedInMemory(body, k), `body ${k}`).toBe(expected);
      expect(hashedInMemory(body, 16 - k, [1000, window + 7, 2 * window + 1].filter((cut) => cut <= body.length)), `body ${k}, in pieces`).toBe(expected);
    }
  });

  it('hands over whole lines, with the blank lines before and after them left to the caller', () => {
    const text = Buffer.from('\n \n\r\nfirst  line \r\n\n\t\nsecond\tline\n\n \n', 'latin1');
    text.copy(memory, 3);
    const handed: Array<[string, number, number]> = [];
    const done = pushNormalisedLinesInMemory(memory.subarray(3, 3 + text.length), (normalised, before, after) => handed.push([normalised.toString('latin1'), before, after]));
    expect(done).toBe(text.length);
    expect(handed).toEqual([['first line\r\n\r\n\r\nsecond line\r\n', 3, 2]]);
    // nothing but blank lines: nothing written, every line before it
    expect(pushNormalisedLinesInMemory(memory.subarray(3, 8), (normalised, before, after) => handed.push([normalised.toString('latin1'), before, after]))).toBe(5);
    expect(handed[1]).toEqual(['', 3, 0]);
    // memory of its own is not WebAssembly's: nothing read
    expect(pushNormalisedLinesInMemory(Buffer.from(text), () => handed.push(['', -1, -1]))).toBe(0);
    expect(handed).toHaveLength(2);
  });
});

describe('UTF-8 checked in pieces', () => {
  it('answers as isUtf8 and isAscii on all of it, with pieces cut inside characters', () => {
    const pieces = [[0x41], [0x0a], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0x80], [0xc3], [0xe2, 0x82], [0xff], [0xed, 0xa0, 0x80], [0xc0, 0xaf]];
    for (let n = 0; n < 5000; n++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(next() * 12) }, () => (next() < 0.5 ? [0x61] : pick(pieces))).flat());
      const check = new StreamedUtf8Check();
      inPieces(bytes, (piece) => check.update(piece), 1 + Math.floor(next() * 5));
      expect(check.composable(), bytes.toString('hex')).toBe(isUtf8(bytes) && !isAscii(bytes));
    }
  });
});

describe('Unicode composition of text that comes in pieces', () => {
  it('is the composed form of all of it, on crafted combining sequences cut anywhere', () => {
    for (let n = 0; n < 400; n++) {
      const text = composingText(1 + Math.floor(next() * 3000));
      const composeChars = 1 + Math.floor(next() * 200);
      expect(composedInPieces(text, composeChars).toString('utf8'), `case ${n}`).toBe(text.normalize('NFC'));
    }
  });

  // StreamedComposition leaves text with no character from U+0300 on as it is, unnormalized.
  it('leaves as they are the characters below U+0300, alone and in every pair (what Unicode\'s quick check promises)', () => {
    const changed: string[] = [];
    for (let a = 0; a < 0x300; a++) {
      const first = String.fromCharCode(a);
      if (first.normalize('NFC') !== first) changed.push(first);
      for (let b = 0; b < 0x300; b++) {
        const pair = first + String.fromCharCode(b);
        if (pair.normalize('NFC') !== pair) changed.push(pair);
      }
    }
    expect(changed).toEqual([]);
    // and the first combining mark is where composing begins
    expect('e\u0300'.normalize('NFC')).toBe('\u00e8');
    expect(composedInPieces('caf\u00e9 e\u0300', 4).toString('utf8')).toBe('caf\u00e9 \u00e8');
  });

  it.skipIf(!HAS_CORPUS)(`is the composed form of all of it, on the text of every message of the shared corpus, and of it decomposed${CORPUS_SKIP_NOTE}`, () => {
    const files = corpusFiles((name) => /\.(eml|msg|txt)$/i.test(name));
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) {
      const text = readFileSync(file).toString('utf8');
      for (const form of [text, text.normalize('NFD')]) expect(composedInPieces(form, 1 + Math.floor(next() * 100)).toString('utf8'), file).toBe(form.normalize('NFC'));
    }
  });
});

/** The reader-text fingerprint of [start, end) as it was before red team BB: decoded, composed and hashed whole. */
function formerFingerprint(message: Buffer, start: number, end: number, encoding: string, charset: string): string | null {
  const libraries = loadMimeLibraries();
  let bytes: Buffer;
  if (encoding === 'base64') {
    const chunks: Buffer[] = [];
    decodeBase64(message, start, end, libraries.decodeBase64, (b) => chunks.push(Buffer.from(b)));
    bytes = Buffer.concat(chunks);
  } else if (encoding === 'quoted-printable') bytes = libraries.decodeQuotedPrintable(message.subarray(start, end));
  else if (['', '7bit', '8bit', 'binary'].includes(encoding)) bytes = message.subarray(start, end);
  else return null;
  let text = bytes;
  if (!['', 'utf-8', 'utf8', 'us-ascii', 'ascii'].includes(charset)) {
    let decoder: TextDecoder;
    try {
      decoder = new TextDecoder(charset);
    } catch {
      return null;
    }
    if (decoder.encoding !== 'utf-8') text = Buffer.from(decoder.decode(bytes), 'utf8');
  }
  if (!isAscii(text) && isUtf8(text)) {
    const read = text.toString('utf8');
    const composed = read.normalize('NFC');
    if (composed !== read) text = Buffer.from(composed, 'utf8');
  }
  return normalisedBodyHash(text);
}

const BYTE_PIECES = [[0x41, 0x42], [0x20], [0x09], [0x0d, 0x0a], [0x0a], [0x0d], [0xcf], [0xe9], [0xff], [0xc3], [0x80, 0x81], [0x3d], [0x00]];

/** The bytes of a text in `charset`: UTF-8 of composing text (now and then with a BOM or a stray byte), or bytes of any value. */
function textBytes(charset: string, length: number): Buffer {
  if (/utf-?8|^$|ascii/.test(charset) && next() < 0.8) {
    const parts = [Buffer.from((next() < 0.1 ? '\ufeff' : '') + composingText(length), 'utf8')];
    if (next() < 0.2) parts.splice(Math.floor(next() * 2), 0, Buffer.from(pick(BYTE_PIECES)));
    return Buffer.concat(parts);
  }
  const bytes: number[] = [];
  while (bytes.length < length) bytes.push(...pick(BYTE_PIECES));
  return Buffer.from(bytes);
}

function transferEncoded(bytes: Buffer, encoding: string): Buffer {
  if (encoding === 'base64') return Buffer.from(bytes.toString('base64').replace(/.{76}/g, '$&\r\n'), 'latin1');
  if (encoding === 'quoted-printable') {
    const { encode, wrap } = createRequire(import.meta.url)('libqp') as { encode: (b: Buffer) => string; wrap: (s: string, n: number) => string };
    return Buffer.from(wrap(encode(bytes), 76), 'latin1');
  }
  return bytes;
}

describe('the reader-text fingerprint, decoded, composed and hashed in pieces', () => {
  const charsets = ['', 'utf-8', 'us-ascii', 'unicode-1-1-utf-8', 'windows-1251', 'iso-8859-1', 'koi8-r', 'shift_jis', 'utf-16le', 'gb18030', 'x-no-such-charset'];
  const encodings = ['', '7bit', '8bit', 'quoted-printable', 'base64', 'x-uuencode'];

  it('is the fingerprint of the text read whole, for every transfer encoding and charset, small texts and texts of many pieces', () => {
    for (let n = 0; n < 600; n++) {
      const charset = pick(charsets);
      const encoding = pick(encodings);
      const content = transferEncoded(textBytes(charset, n % 50 === 0 ? 150_000 : Math.floor(next() * 400)), encoding);
      // the content inside other bytes, as a part is inside its message
      const message = Buffer.concat([Buffer.from('head\r\n\r\n'), content, Buffer.from('\r\n--tail--\r\n')]);
      const [start, end] = [8, 8 + content.length];
      expect(textFingerprint(message, start, end, encoding, charset), `case ${n}: ${encoding} ${charset}`).toBe(formerFingerprint(message, start, end, encoding, charset));
    }
  });
});

describe('the reader-text fingerprint of encoded text on either side of the size kept decoded (1 MiB encoded)', () => {
  it('is the fingerprint read whole, one text after another', () => {
    for (const encoding of ['quoted-printable', 'base64']) {
      for (const bytes of [1_500_000, 600, 700_000, 1, 1_100_000]) {
        const content = transferEncoded(Buffer.from(composingText(bytes / 2), 'utf8'), encoding);
        const message = Buffer.concat([Buffer.from('head\r\n\r\n'), content, Buffer.from('\r\n--tail--\r\n')]);
        const [start, end] = [8, 8 + content.length];
        expect(textFingerprint(message, start, end, encoding, 'utf-8'), `${encoding} ${content.length}`).toBe(formerFingerprint(message, start, end, encoding, 'utf-8'));
      }
    }
  });
});

// ASCII text decoded from quoted-printable or base64 is hashed from the decoded text kept, which
// lies in WebAssembly memory where it can: there the normalising takes the scan's word on tabs
// and runs of spaces instead of searching for them.
// Text stored as it is read, in a worker's read buffer, is scanned for bytes from 0xCC on (the
// UTF-8 of characters from U+0300 on): with none, it is its own composed form, and its stored
// fingerprint is the text's without decoding it.
describe('the reader-text fingerprint of UTF-8 stored as it is read, in a worker\'s read buffer', () => {
  it('is the fingerprint read whole, with characters from U+0300 on and without', () => {
    const memory = scannableMemory(1 << 20)!;
    const pieces = ['word ', 'caf\u00e9 ', '\u00e9t\u00e9\r\n', 'e\u0301', 'A\u030a', '\u212b', '\u0418\u0432\u0430\u043d ', '\u00ff\u02ff', '\u0300', '\u00c5', '\r\n', '  \t'];
    let fast = 0;
    for (let n = 0; n < 600; n++) {
      let text = '';
      for (let length = Math.floor(next() * 60); length > 0; length--) text += pick(next() < 0.9 ? pieces.slice(0, 3) : pieces);
      const content = Buffer.from(text, 'utf8');
      const at = 100 + (n % 40);
      memory.fill(0xcc, 0, at + content.length + 100);
      memory.write('head\r\n\r\n', at - 8, 'latin1');
      content.copy(memory, at);
      const [start, end] = [at, at + content.length];
      const stored = normalisedBodyHash(memory.subarray(start, end));
      if (!/[\u0300-\uffff]/.test(text)) fast++;
      for (const charset of ['', 'utf-8']) {
        expect(textFingerprint(memory, start, end, '8bit', charset, stored), JSON.stringify(text)).toBe(formerFingerprint(Buffer.from(memory.subarray(0, end)), start, end, '8bit', charset));
      }
    }
    expect(fast).toBeGreaterThan(100);
  });
});

describe('the reader-text fingerprint of encoded ASCII text with runs of blanks', () => {
  it('is the fingerprint read whole', () => {
    const pieces = ['word', 'a', ' ', '  ', '   ', '\t', ' \t', '\r\n', '\n', ' \r\n', '\r', 'line of words\r\n'];
    for (let n = 0; n < 400; n++) {
      let text = '';
      for (let length = Math.floor(next() * 300); length > 0; length--) text += pick(pieces);
      const encoding = n % 2 ? 'quoted-printable' : 'base64';
      const content = transferEncoded(Buffer.from(text, 'latin1'), encoding);
      const message = Buffer.concat([Buffer.from('head\r\n\r\n'), content, Buffer.from('\r\n--tail--\r\n')]);
      const [start, end] = [8, 8 + content.length];
      expect(textFingerprint(message, start, end, encoding, 'utf-8'), `${encoding} ${JSON.stringify(text)}`).toBe(formerFingerprint(message, start, end, encoding, 'utf-8'));
    }
  });
});

describe('the reader-text fingerprint of text stored as it is read, given the stored bytes\' fingerprint', () => {
  // textFingerprint hashes nothing until composing changes something, and then hashes the stored
  // bytes it let pass first: wherever the first change falls, the fingerprint must be the one
  // read whole
  const within = (content: Buffer): { message: Buffer; start: number; end: number } => ({
    message: Buffer.concat([Buffer.from('head\r\n\r\n'), content, Buffer.from('\r\n--tail--\r\n')]),
    start: 8,
    end: 8 + content.length,
  });

  it('is the fingerprint read whole, with the first change at the start, in the middle, past many pieces, or nowhere', () => {
    const composedText = (length: number): string => {
      let text = '';
      while (text.length < length) text += pick(['word ', 'caf\u00e9 ', 'na\u00efve\r\n', '\u0418\u0432\u0430\u043d ', '\uac00\u4e00 ', '  \t', 'line \r\n']);
      return text;
    };
    const decomposed = ['e\u0301', 'A\u030a', '\u1100\u1161', '\u212b', 'e\u0327\u0301'];
    let changed = 0;
    for (const before of [0, 1, 200, 32 * 1024 - 3, 32 * 1024 + 5, 70_000, 150_000]) {
      for (const after of [0, 5, 40_000]) {
        for (const change of [...decomposed, '']) {
          const text = composedText(before) + change + composedText(after);
          const { message, start, end } = within(Buffer.from(text, 'utf8'));
          for (const charset of ['', 'utf-8']) {
            const stored = normalisedBodyHash(message.subarray(start, end));
            const expected = formerFingerprint(message, start, end, '8bit', charset);
            expect(textFingerprint(message, start, end, '8bit', charset, stored), `${before}+${JSON.stringify(change)}+${after}`).toBe(expected);
            if (expected !== stored) changed++;
          }
        }
      }
    }
    // (the cases must include texts whose composed form differs, or the deferred hashing was never taken)
    expect(changed).toBeGreaterThan(40);
  });

  it('is the fingerprint read whole on generated text', () => {
    for (let n = 0; n < 300; n++) {
      const { message, start, end } = within(textBytes('utf-8', n % 30 === 0 ? 120_000 : Math.floor(next() * 400)));
      const stored = normalisedBodyHash(message.subarray(start, end));
      expect(textFingerprint(message, start, end, pick(['', '7bit', '8bit', 'binary']), pick(['', 'utf-8', 'us-ascii']), stored), `case ${n}`).toBe(
        formerFingerprint(message, start, end, '8bit', 'utf-8'),
      );
    }
  });
});
