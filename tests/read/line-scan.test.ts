import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import wabtFactory from 'wabt';
import { mulberry32 } from '../../src/fuzz/mutate.ts';
import { forgetLineEndings, hasBareLf, isKnownCleanLineEnds, toCrlf } from '../../src/read/line-endings.ts';
import { BLANKS, crlfCopyInPlace, LINE_SCAN, LINE_SCAN_WASM, scanAllBelow, scanBlanks, scanLineFeeds, scannableMemory, type LineScan } from '../../src/read/line-scan.ts';
import { ReusableBuffer } from '../../src/read/reusable-buffer.ts';
import { RepairMemory } from '../../src/analyze/repair-memory.ts';
import { CORPUS_SKIP_NOTE, HAS_CORPUS, corpusFiles } from '../helpers/corpus.ts';

const ROOT = join(import.meta.dirname, '../..');
const LF = 0x0a;
const CR = 0x0d;

/** The definition, a byte at a time: what scanLineEnds in line-endings.ts answers. */
function byDefinition(bytes: Uint8Array): LineScan {
  let afterBlank = false;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== LF) continue;
    if (i === 0 || bytes[i - 1] !== CR) return LINE_SCAN.bareLf;
    if (i >= 2 && (bytes[i - 2] === 0x20 || bytes[i - 2] === 0x09 || bytes[i - 2] === CR)) afterBlank = true;
  }
  return afterBlank ? LINE_SCAN.crlfAfterBlankOrCr : LINE_SCAN.clean;
}

/** The definition of blanks(), a byte at a time. */
function blanksByDefinition(bytes: Uint8Array): number {
  let flags = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x09) flags |= BLANKS.tab;
    if (bytes[i] === 0x20 && bytes[i + 1] === 0x20) flags |= BLANKS.twoSpaces;
    if (bytes[i] === CR && bytes[i + 1] !== LF) flags |= BLANKS.crEndingNoLine;
  }
  return flags;
}

/** Bytes made mostly of what the scan looks at, often with every LF made a CRLF. */
function randomCase(next: () => number): Buffer {
  const alphabet = [LF, CR, 0x20, 0x09, 0x41, 0x42, 0x3d];
  const length = Math.floor(next() * (next() < 0.2 ? 600 : 90));
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = alphabet[Math.floor(next() * (next() < 0.5 ? 2 : alphabet.length))]!;
  return next() < 0.6 ? Buffer.from(bytes.toString('latin1').replace(/\r*\n/g, '\r\n'), 'latin1') : bytes;
}

/**
 * Case `n`, written into `memory` at its start, at its end or a little way in, in turn, with
 * garbage around it: what reads the view must not look past either end.
 */
function placedCase(memory: Buffer, n: number, next: () => number): { bytes: Buffer; at: number; view: Buffer } {
  const bytes = randomCase(next);
  const at = n % 3 === 0 ? 0 : n % 3 === 1 ? memory.length - bytes.length : Math.floor(next() * 64);
  memory.fill(n % 2 ? LF : 0x20, Math.max(0, at - 32), Math.min(memory.length, at + bytes.length + 32));
  bytes.copy(memory, at);
  return { bytes, at, view: memory.subarray(at, at + bytes.length) };
}

describe('line-feed scan in WebAssembly', () => {
  it('is what wabt compiles line-scan.wat to', async () => {
    const wabt = await wabtFactory();
    const source = readFileSync(join(ROOT, 'src/read/line-scan.wat'), 'utf8');
    const module = wabt.parseWat('line-scan.wat', source, { simd: true });
    try {
      expect(Buffer.from(module.toBinary({}).buffer).toString('base64')).toBe(LINE_SCAN_WASM);
    } finally {
      module.destroy();
    }
  });

  it('scans memory it handed out, and leaves any other memory to JavaScript', () => {
    const memory = scannableMemory(100_000)!;
    expect(memory.length).toBe(100_000);
    memory.write('a\r\nb\r\n', 10, 'latin1');
    expect(scanLineFeeds(memory.subarray(10, 16))).toBe(LINE_SCAN.clean);
    expect(scanLineFeeds(Buffer.from(memory.subarray(10, 16)))).toBeNull();
    // a worker's read buffer is such memory
    const read = new ReusableBuffer(1 << 20, { scannable: true }).take(64);
    expect(scanLineFeeds(read)).not.toBeNull();
    expect(scanLineFeeds(new ReusableBuffer(1 << 20).take(64))).toBeNull();
  });

  it('finds tabs, two spaces in a row and CRs that end no line as the definition does, on 40,000 generated cases, at every alignment and at both ends of its memory', () => {
    const memory = scannableMemory(64 * 1024)!;
    const next = mulberry32(52);
    const seen = new Set<number>();
    for (let n = 0; n < 40_000; n++) {
      const { bytes, at, view } = placedCase(memory, n, next);
      const expected = blanksByDefinition(bytes);
      seen.add(expected);
      const scanned = scanBlanks(view);
      if (scanned !== expected) expect({ bytes: bytes.toString('latin1'), at, scanned }).toEqual({ bytes: bytes.toString('latin1'), at, scanned: expected });
    }
    // (every answer, each flag alone and together, came up)
    expect(seen.size).toBe(8);
    for (const [text, flags] of [['a b\r\n', 0], ['a  b', BLANKS.twoSpaces], ['a\tb', BLANKS.tab], ['ab\r', BLANKS.crEndingNoLine], ['\rb', BLANKS.crEndingNoLine], ['', 0]] as const) {
      const at = 40;
      memory.fill(0x20, 0, 100);
      memory.write(text, at, 'latin1');
      memory[at + text.length] = LF;
      expect(scanBlanks(memory.subarray(at, at + text.length)), JSON.stringify(text)).toBe(flags);
    }
    expect(scanBlanks(Buffer.from('a  b'))).toBeNull();
  });

  it('says whether every byte is below a limit as the definition does, on 40,000 generated cases, at every alignment and at both ends of its memory', () => {
    const memory = scannableMemory(64 * 1024)!;
    const next = mulberry32(53);
    let below = 0;
    for (let n = 0; n < 40_000; n++) {
      const limit = n % 2 ? 0xcc : 1 + Math.floor(next() * 255);
      const bytes = Buffer.from(Array.from({ length: Math.floor(next() * 70) }, () => Math.floor(next() * limit)));
      // now and then one byte at or over the limit, anywhere
      if (bytes.length && next() < 0.5) bytes[Math.floor(next() * bytes.length)] = limit + Math.floor(next() * (256 - limit));
      const at = n % 3 === 0 ? 0 : n % 3 === 1 ? memory.length - bytes.length : Math.floor(next() * 64);
      // (bytes over every limit just outside the view)
      memory.fill(0xff, Math.max(0, at - 32), Math.min(memory.length, at + bytes.length + 32));
      bytes.copy(memory, at);
      const expected = bytes.every((b) => b < limit);
      if (expected) below++;
      expect(scanAllBelow(memory.subarray(at, at + bytes.length), limit), `${bytes.toString('hex')} < ${limit} at ${at}`).toBe(expected);
    }
    expect(below).toBeGreaterThan(15_000);
    expect(scanAllBelow(Buffer.from('caf\u00e9', 'utf8'), 0xcc)).toBeNull();
  });

  it('answers as the definition on 40,000 generated cases, at every alignment and at both ends of its memory', () => {
    const memory = scannableMemory(64 * 1024)!;
    const next = mulberry32(8);
    for (let n = 0; n < 40_000; n++) {
      const { bytes, at, view } = placedCase(memory, n, next);
      const scanned = scanLineFeeds(view);
      if (scanned !== byDefinition(bytes)) expect({ bytes: bytes.toString('latin1'), at, scanned }).toEqual({ bytes: bytes.toString('latin1'), at, scanned: byDefinition(bytes) });
    }
  });

  it('makes the copies toCrlf makes in JavaScript, on 40,000 generated cases, at every alignment and at both ends of its memory', () => {
    const memory = scannableMemory(64 * 1024)!;
    const next = mulberry32(9);
    for (let n = 0; n < 40_000; n++) {
      const { bytes, at, view } = placedCase(memory, n, next);
      forgetLineEndings(memory.buffer);
      const copy = toCrlf(view);
      const expected = toCrlf(Buffer.from(bytes)).toString('latin1');
      if (copy.toString('latin1') !== expected) expect({ bytes: bytes.toString('latin1'), at, copy: copy.toString('latin1') }).toEqual({ bytes: bytes.toString('latin1'), at, copy: expected });
      // (made by WebAssembly, in the memory's room, whenever there was a bare LF to put a CR before;
      // bytes with CRs and no LF at all are classic Mac OS line ends, made CRLF in JavaScript)
      if (bytes.includes(LF)) expect(copy.buffer === memory.buffer).toBe(true);
    }
  });

  it('keeps one copy in its room until the memory holds other bytes: the same view gets it again, another view none', () => {
    const read = new ReusableBuffer(1 << 20, { scannable: true });
    const first = read.take(8);
    first.write('a\nb\nc\nd\n', 'latin1');
    const copy = crlfCopyInPlace(first)!;
    expect(copy.toString('latin1')).toBe('a\r\nb\r\nc\r\nd\r\n');
    expect(crlfCopyInPlace(first)!.toString('latin1')).toBe('a\r\nb\r\nc\r\nd\r\n');
    // a copy still in use is never written over
    expect(crlfCopyInPlace(first.subarray(2))).toBeNull();
    expect(copy.toString('latin1')).toBe('a\r\nb\r\nc\r\nd\r\n');
    // the next message read: its copy takes the room
    const second = read.take(4);
    second.write('x\ny\n', 'latin1');
    expect(crlfCopyInPlace(second)!.toString('latin1')).toBe('x\r\ny\r\n');
    // memory that is not scannable, and the room itself, are not copied this way
    expect(crlfCopyInPlace(Buffer.from('x\n'))).toBeNull();
    expect(crlfCopyInPlace(copy)).toBeNull();
  });

  it('gives toCrlf and its fast paths the same answers as the scan in JavaScript, on every demo-dump file', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(join(ROOT, 'fixtures/demo-dump'));
    expect(sameAnswers(files)).toBe(files.length);
  });

  it.skipIf(!HAS_CORPUS)(`gives the same answers as the scan in JavaScript on every file of the shared corpus${CORPUS_SKIP_NOTE}`, () => {
    const files = corpusFiles();
    expect(files.length).toBeGreaterThan(400);
    expect(sameAnswers(files)).toBe(files.length);
  });
});

/** Each file scanned in place in scannable memory and as a plain copy: how many agree on everything. */
function sameAnswers(files: string[]): number {
  const buffer = new ReusableBuffer(32 * 1024 * 1024, { scannable: true });
  let same = 0;
  for (const file of files) {
    const bytes = readFileSync(file);
    const view = buffer.take(bytes.length);
    bytes.copy(view);
    expect(scanLineFeeds(view)).toBe(byDefinition(bytes));
    const plain = Buffer.from(bytes);
    const inPlace = { bareLf: hasBareLf(view), clean: isKnownCleanLineEnds(toCrlf(view)), crlf: toCrlf(view).toString('latin1') };
    forgetLineEndings(view.buffer);
    const copied = { bareLf: hasBareLf(plain), clean: isKnownCleanLineEnds(toCrlf(plain)), crlf: toCrlf(plain).toString('latin1') };
    if (inPlace.bareLf === copied.bareLf && inPlace.clean === copied.clean && inPlace.crlf === copied.crlf) same++;
  }
  return same;
}

describe('a message with CRs alone as line ends', () => {
  /** The conversion toCrlf made before red team BB, BB-03: through latin1 strings. */
  const throughStrings = (raw: Buffer): Buffer =>
    raw.indexOf(LF) < 0 && raw.indexOf(CR) >= 0 ? toCrlf(Buffer.from(raw.toString('latin1').replaceAll('\r', '\r\n'), 'latin1')) : toCrlf(raw);

  it('is made CRLF byte for byte as through strings, in memory of its own and in repair memory, with the same clean-ends answer', () => {
    const next = mulberry32(34);
    const memory = new RepairMemory();
    try {
      for (let n = 0; n < 5_000; n++) {
        let bytes = randomCase(next);
        // most cases CR-only: each LF (or CRLF) made a CR, a few left mixed
        if (next() < 0.8) bytes = Buffer.from(bytes.toString('latin1').replace(/\r?\n/g, '\r'), 'latin1');
        const expected = throughStrings(bytes);
        for (const copy of [toCrlf(bytes), toCrlf(bytes, memory)]) {
          expect(copy.toString('latin1'), `case ${n}: ${JSON.stringify(bytes.toString('latin1'))}`).toBe(expected.toString('latin1'));
          expect(isKnownCleanLineEnds(copy), `case ${n}`).toBe(isKnownCleanLineEnds(expected));
        }
        memory.giveBack();
      }
    } finally {
      memory.giveBack();
    }
  });
});
