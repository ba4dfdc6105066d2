/**
 * The fast path's decoders against the decoder streams mailsplit uses (libbase64's and libqp's
 * Decoder, from mailsplit's own dependencies), on awkward encoded content: the fast path reads
 * chunks of its own choosing and decodes clean ones natively, so it is checked here with tiny
 * chunks, which put chunk ends everywhere, against the streams fed in slices of random size.
 */
import { createRequire } from 'node:module';
import type { Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeQuotedPrintable, quotedPrintableDecoded } from '../../src/attachments/content-decode.ts';
import { loadMimeLibraries } from '../../src/attachments/parser-config.ts';
import { decodeQuotedPrintableInMemory, QP_ROOM, scannableMemory } from '../../src/read/line-scan.ts';
import { seededRandom } from './equivalence-messages.ts';
import type { Random } from './equivalence-messages.ts';

type DecoderClass = new () => Transform;

function mailsplitDecoders(): { Base64Decoder: DecoderClass; QpDecoder: DecoderClass } {
  const here = createRequire(import.meta.url);
  const fromMailparser = createRequire(here.resolve('mailparser'));
  const fromMailsplit = createRequire(fromMailparser.resolve('@zone-eu/mailsplit'));
  return {
    Base64Decoder: (fromMailsplit('libbase64') as { Decoder: DecoderClass }).Decoder,
    QpDecoder: (fromMailsplit('libqp') as { Decoder: DecoderClass }).Decoder,
  };
}

async function throughStream(Decoder: DecoderClass, input: Buffer, random: Random): Promise<Buffer> {
  const decoder = new Decoder();
  const out: Buffer[] = [];
  decoder.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    decoder.on('end', resolve);
    decoder.on('error', reject);
  });
  for (let pos = 0; pos < input.length; ) {
    const size = 1 + random(random(4) === 0 ? 4000 : 200);
    decoder.write(input.subarray(pos, pos + size));
    pos += size;
  }
  decoder.end();
  await ended;
  return Buffer.concat(out);
}

function collect(run: (sink: (bytes: Buffer) => void) => void): Buffer {
  const out: Buffer[] = [];
  // the sink may be handed a reused buffer: copy, as the inventory does
  run((bytes) => out.push(Buffer.from(bytes)));
  return Buffer.concat(out);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64-ish content: mostly regular lines, with padding, junk, masked high bytes and odd line breaks mixed in. */
function awkwardBase64(random: Random): Buffer {
  const bytes: number[] = [];
  const width = [76, 64, 72, 4, 0, 74, 57][random(7)]!;
  const lineBreak = random(2) === 0 ? [0x0d, 0x0a] : [0x0a];
  const length = random(3000);
  const oddness = random(3) === 0 ? 0 : 1 + random(12);
  let column = 0;
  for (let i = 0; i < length; i++) {
    if (oddness && random(120) < oddness) {
      const odd = [[0x3d], [0x3d, 0x3d], [0x20], [0x09], [0x2d], [0x5f], [0x21], [0xc1], [0xbd], [0x8a], [0xad], [0xdf], [0x0d], [0x0a], [0x0d, 0x0a]][random(15)]!;
      bytes.push(...odd);
    }
    bytes.push(ALPHABET.charCodeAt(random(64)));
    if (width && ++column === width) {
      bytes.push(...lineBreak);
      column = 0;
    }
  }
  if (random(3) === 0) bytes.push(0x3d);
  if (random(4) === 0) bytes.push(0x3d);
  return Buffer.from(bytes);
}

/** Quoted-printable-ish content: soft line breaks (some followed by whitespace), escapes, bare CRs, trailing whitespace. */
function awkwardQuotedPrintable(random: Random): Buffer {
  const pieces = ['abc', 'Zo', '=3D', '=C3=A9', '=', '=\r\n', '=\n', '= \r\n', '=\t\n', '\r\n', '\n', ' ', '\t', '  \r\n', '\r', '=4', '=G1', '=\r\r\n', '==', 'x= ', '\xe9'];
  let text = '';
  for (let n = random(400); n > 0; n--) text += pieces[random(pieces.length)];
  return Buffer.from(text, 'latin1');
}

/** A short text of the characters and pairs quoted-printable decoding's passes turn on. */
function passesText(random: Random): string {
  const alphabet = ['=', '=', ' ', '\t', '\r', '\n', '\r\n', 'A', '4', '1', 'g', 'f', '=\r\n', '= \r\n', '\r \n', '=\r'];
  let text = '';
  for (let length = 1 + random(30); length > 0; length--) text += alphabet[random(alphabet.length)];
  return text;
}

describe('base64 decoding matches libbase64', () => {
  const { Base64Decoder } = mailsplitDecoders();
  const { decodeBase64: libbase64Decode } = loadMimeLibraries();

  it('on awkward content, with chunk ends everywhere', async () => {
    for (let seed = 1; seed <= 400; seed++) {
      const random = seededRandom(seed);
      const input = awkwardBase64(random);
      const expected = await throughStream(Base64Decoder, input, random);
      const chunk = 4 + random(300);
      const got = collect((sink) => decodeBase64(input, 0, input.length, libbase64Decode, sink, chunk));
      expect(got.toString('hex'), `seed ${seed}, chunks of ${chunk}`).toBe(expected.toString('hex'));
      const whole = collect((sink) => decodeBase64(input, 0, input.length, libbase64Decode, sink));
      expect(whole.toString('hex'), `seed ${seed}, one chunk`).toBe(expected.toString('hex'));
    }
  });

  it('on a large regular attachment, across the real chunk size', async () => {
    const random = seededRandom(7);
    const data = Buffer.alloc(2_500_003);
    for (let i = 0; i < data.length; i += 997) data[i] = random(256);
    const lines = data.toString('base64').match(/.{1,76}/g)!;
    const input = Buffer.from(lines.join('\r\n'), 'latin1');
    const got = collect((sink) => decodeBase64(input, 0, input.length, libbase64Decode, sink));
    expect(got.equals(data)).toBe(true);
    // one long line, no line breaks at all
    const oneLine = Buffer.from(data.toString('base64'), 'latin1');
    expect(collect((sink) => decodeBase64(oneLine, 0, oneLine.length, libbase64Decode, sink)).equals(data)).toBe(true);
    expect((await throughStream(Base64Decoder, input, random)).equals(data)).toBe(true);
  });
});

describe('base64 that decoders read alike (red team Y, Y-07)', () => {
  const { decodeBase64: libbase64Decode } = loadMimeLibraries();
  const agreed = (text: string, chunk?: number): boolean => decodeBase64(Buffer.from(text, 'latin1'), 0, text.length, libbase64Decode, () => {}, chunk);
  const regular = Buffer.alloc(3000, 7).toString('base64').replace(/.{76}/g, '$&\r\n');

  it('is regular base64, padded at its end only, whitespace allowed, wherever the chunks end', () => {
    for (const chunk of [undefined, 5, 77, 1000]) {
      expect(agreed(`${regular}\r\n`, chunk)).toBe(true);
      expect(agreed('QUJDRA==\r\n\r\n', chunk)).toBe(true);
      expect(agreed('QUJD RA=\t\r\n', chunk)).toBe(true);
      expect(agreed('', chunk)).toBe(true);
    }
  });

  it('is not data after padding, or characters decoders drop or read otherwise, wherever the chunks end', () => {
    const a = Buffer.from('%PDF-1.4 A\n').toString('base64');
    for (const chunk of [undefined, 5, 77, 1000]) {
      expect(agreed(a + Buffer.from('%PDF-1.4 B: the real terms\n').toString('base64'), chunk), 'on one line').toBe(false);
      expect(agreed(`QUI=\r\nQUJD\r\n`, chunk), 'on the next line').toBe(false);
      expect(agreed(`${regular}=\r\n${regular}`, chunk), 'far after').toBe(false);
      for (const junk of ['!', '-', '_', '.', '\u00c1', '\u0000']) expect(agreed(`${regular.slice(0, 200)}${junk}${regular.slice(200)}`, chunk), JSON.stringify(junk)).toBe(false);
    }
  });
});

describe('quoted-printable decoding matches libqp', () => {
  const { QpDecoder } = mailsplitDecoders();
  const { decodeQuotedPrintable: libqpDecode } = loadMimeLibraries();

  it('on awkward content, cut at many hard line breaks', async () => {
    for (let seed = 1; seed <= 400; seed++) {
      const random = seededRandom(seed);
      const input = awkwardQuotedPrintable(random);
      const expected = await throughStream(QpDecoder, input, random);
      const chunk = 1 + random(100);
      const got = collect((sink) => decodeQuotedPrintable(input, 0, input.length, sink, chunk));
      expect(got.toString('hex'), `seed ${seed}, chunks of ${chunk}`).toBe(expected.toString('hex'));
    }
  });

  // Red team BB, BB-01: a part of soft line breaks only was one piece, decoded by libqp whole.
  it('on content cut at soft line breaks and inside lines, wherever the cut falls', () => {
    const cases = [
      '=C3=A9=C3=A9=\r\n=C3=A9=C3=A9=\r\n=C3=A9',
      'abc=\r\ndef=\r\n',
      'ab=4=\r\n1cd=4=\n1=\n=\n=41',
      '=\r\n=\n=\r\n=',
      'x=  \r\ny= \t\ny=\t\r \nz= \r',
      '==\r\n41==\n4=\n1===\r\nA',
      'line=\nline=\nline=\nend=',
      'a =\r\n  b\t=\n\tc  \r\n  \r\r\n= \r=\r\r\n',
      '=4',
      '=\r\n\r\n=3D=3d=\n3=\n=\nD',
    ];
    for (const text of cases) {
      const input = Buffer.from(text, 'latin1');
      const expected = libqpDecode(input).toString('hex');
      for (let chunk = 1; chunk <= input.length + 1; chunk++) {
        const got = collect((sink) => decodeQuotedPrintable(input, 0, input.length, sink, chunk));
        expect(got.toString('hex'), `${JSON.stringify(text)}, chunks of ${chunk}`).toBe(expected);
      }
    }
  });

  // The first two passes are made as one, segment by segment between CRs and LFs: what each
  // pass does to what the other left (blanks between a CR and an LF make a CRLF once gone, a
  // "=" before a CR alone stays) is where such a merge goes wrong.
  it('on short texts of the characters the passes turn on, inside a larger buffer, cut anywhere', () => {
    const random = seededRandom(52);
    for (let n = 0; n < 20_000; n++) {
      const text = passesText(random);
      const framed = Buffer.from(`x=\r\n \t${text}=41 \r\n`, 'latin1');
      const chunk = 1 + random(text.length + 1);
      const got = collect((sink) => decodeQuotedPrintable(framed, 6, 6 + text.length, sink, chunk));
      expect(got.toString('hex'), `${JSON.stringify(text)}, chunks of ${chunk}`).toBe(libqpDecode(Buffer.from(text, 'latin1')).toString('hex'));
    }
  });

  // libqp's /[\t ]+$/gm tried a match from every blank of a run: 50 KB of spaces took 12 s, 200 KB minutes.
  it('on a long run of blanks that no line end follows, in time linear in the run', () => {
    const input = Buffer.from(`${' \t'.repeat(100_000)}x=20 \r\n${' '.repeat(100_000)}`, 'latin1');
    const got = collect((sink) => decodeQuotedPrintable(input, 0, input.length, sink));
    expect(got.toString('latin1')).toBe(`${' \t'.repeat(100_000)}x \r\n`);
    // as the multipart check decodes a text part
    expect(quotedPrintableDecoded(input).equals(got)).toBe(true);
  }, 5_000);

  it('on a large part of soft line breaks only, across the real chunk size', () => {
    const random = seededRandom(11);
    let text = '';
    while (text.length < 400_000) {
      let line = '';
      while (line.length < 72) line += random(3) === 0 ? String.fromCharCode(0x61 + random(26)) : `=${random(256).toString(16).toUpperCase().padStart(2, '0')}`;
      text += `${line}=${random(2) === 0 ? '\r\n' : '\n'}`;
    }
    const input = Buffer.from(text, 'latin1');
    const got = collect((sink) => decodeQuotedPrintable(input, 0, input.length, sink));
    expect(got.equals(libqpDecode(input))).toBe(true);
  });
});

// A worker's read buffer is WebAssembly memory, and quoted-printable text there is decoded by
// line-scan.wat's qp(), whole, where the JavaScript above decodes it in pieces: the same inputs
// again, placed in such memory at every alignment, and texts long enough for its sixteen-byte
// copies to meet blanks, "=" and line ends at their edges.
describe('quoted-printable decoding in a read buffer (WebAssembly) matches libqp', () => {
  const { QpDecoder } = mailsplitDecoders();
  const { decodeQuotedPrintable: libqpDecode } = loadMimeLibraries();
  const memory = scannableMemory(4 << 20)!;
  /** `input` copied into the memory at `at`, a view of it there, decoded through decodeQuotedPrintable (which must take the WebAssembly path). */
  const decodedInMemory = (input: Buffer, at: number): Buffer => {
    memory.fill(0x3d, Math.max(0, at - 64), at + input.length + 64);
    input.copy(memory, at);
    const view = memory.subarray(at, at + input.length);
    expect(decodeQuotedPrintableInMemory(view, 0, view.length), 'decoded in WebAssembly').not.toBeNull();
    return collect((sink) => decodeQuotedPrintable(view, 0, view.length, sink));
  };

  it('is available here', () => {
    expect(memory).not.toBeNull();
  });

  it('on awkward content, against the stream of libqp', async () => {
    for (let seed = 1; seed <= 400; seed++) {
      const random = seededRandom(seed);
      const input = awkwardQuotedPrintable(random);
      const expected = await throughStream(QpDecoder, input, random);
      const at = random(64);
      expect(decodedInMemory(input, at).toString('hex'), `seed ${seed} at ${at}`).toBe(expected.toString('hex'));
    }
  });

  it('on fixed cases of what each pass does to what the others left, at every alignment', () => {
    const cases = [
      '', '=', '==', '= ', ' ', '\r', '\n', '=\r', '=\n', '==\n\n', '==\r\n\r\n', '=\r\r\n', '=\r  \n', '=\r  x', '=\r  ',
      '=C3=A9=C3=A9=\r\n=C3=A9=C3=A9=\r\n=C3=A9', 'ab=4=\r\n1cd=4=\n1=\n=\n=41', 'x=  \r\ny= \t\ny=\t\r \nz= \r',
      '==\r\n41==\n4=\n1===\r\nA', 'a =\r\n  b\t=\n\tc  \r\n  \r\r\n= \r=\r\r\n', '=4', '=4f', '=\r\n\r\n=3D=3d=\n3=\n=\nD',
      `${'x'.repeat(15)}${' '.repeat(17)}\r\n`, `${'x'.repeat(31)} \t${' '.repeat(32)}=\r\n${'y'.repeat(40)}`, `${' '.repeat(48)}\n`,
      `${'a'.repeat(14)}=\r\n${'b'.repeat(14)}=\n${'c'.repeat(16)}=`, `${'=41'.repeat(20)}=4`, `${'q'.repeat(16)}=${'\t'.repeat(16)}\r \t\n`,
    ];
    for (const text of cases) {
      const input = Buffer.from(text, 'latin1');
      const expected = libqpDecode(input).toString('hex');
      for (let at = 0; at < 20; at++) expect(decodedInMemory(input, 4096 + at).toString('hex'), `${JSON.stringify(text)} at ${at}`).toBe(expected);
    }
  });

  it('on short texts of the characters the passes turn on', () => {
    const random = seededRandom(53);
    for (let n = 0; n < 20_000; n++) {
      const text = passesText(random);
      const input = Buffer.from(text, 'latin1');
      expect(decodedInMemory(input, random(48)).toString('hex'), JSON.stringify(text)).toBe(libqpDecode(input).toString('hex'));
    }
  });

  it('on longer texts of words, runs of blanks of any length, escapes and line ends of every kind', () => {
    const random = seededRandom(530);
    const ends = ['\r\n', '\n', '\r', '=\r\n', '=\n', '= \r\n', '\r \t\n', '=\r'];
    for (let n = 0; n < 3_000; n++) {
      let text = '';
      for (let pieces = random(120); pieces > 0; pieces--) {
        const kind = random(10);
        if (kind < 4) text += 'abcdefghijklmnopqrstuvwxyz'.slice(random(20)).slice(0, 1 + random(20));
        else if (kind < 6) text += (random(2) ? ' ' : '\t').repeat(1 + random(3)) + ' '.repeat(random(2) ? 0 : random(40));
        else if (kind < 8) text += `=${'0123456789ABCDEFabcdefG'[random(23)]}${'0123456789ABCDEFabcdefG'[random(23)]}`;
        else text += ends[random(ends.length)];
      }
      const input = Buffer.from(text, 'latin1');
      expect(decodedInMemory(input, random(32)).toString('hex'), JSON.stringify(text)).toBe(libqpDecode(input).toString('hex'));
    }
  });

  it('as JavaScript does, past the room it decodes into, and with the room itself as the text', () => {
    let text = '';
    while (text.length < QP_ROOM + 100) text += `${'=C3=A9 caf'.repeat(6)}=\r\n  \t \r\n`;
    const at = 1000;
    for (const length of [QP_ROOM, QP_ROOM + 1]) {
      const input = Buffer.from(text.slice(0, length), 'latin1');
      input.copy(memory, at);
      const view = memory.subarray(at, at + length);
      const expected = libqpDecode(input);
      expect(decodeQuotedPrintableInMemory(view, 0, length) === null, `${length} bytes`).toBe(length > QP_ROOM);
      expect(collect((sink) => decodeQuotedPrintable(view, 0, length, sink)).equals(expected)).toBe(true);
    }
    // what a decode answers is a view of the room: given back as the text, it is decoded in JavaScript
    const input = Buffer.from('a=3D3D=\r\nb=41\r\n', 'latin1');
    input.copy(memory, at);
    const once = decodeQuotedPrintableInMemory(memory, at, at + input.length)!;
    expect(once.toString('latin1')).toBe('a=3DbA\r\n');
    expect(decodeQuotedPrintableInMemory(once, 0, once.length)).toBeNull();
    expect(collect((sink) => decodeQuotedPrintable(once, 0, once.length, sink)).toString('latin1')).toBe('a=bA\r\n');
  });

  it('on a long run of blanks that no line end follows, in time linear in the run', () => {
    const input = Buffer.from(`${' \t'.repeat(100_000)}x=20 \r\n${' '.repeat(100_000)}`, 'latin1');
    expect(decodedInMemory(input, 3).toString('latin1')).toBe(`${' \t'.repeat(100_000)}x \r\n`);
  }, 5_000);
});
