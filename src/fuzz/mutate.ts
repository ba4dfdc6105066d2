/**
 * Seeded mutation of email messages, for the fuzzer (tests/hostile/fuzz.test.ts and
 * scripts/fuzz.ts). Everything here is a pure function of its inputs and the PRNG, so that a
 * failing case is reproduced from its seed and case number alone, on any machine.
 */

/** A PRNG returning floats in [0, 1). */
export type Rng = () => number;

/** mulberry32: small, fast, and good enough to pick mutations. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One independent PRNG per (seed, case): case N can be replayed without generating cases 0..N-1. */
export function caseRng(seed: number, caseIndex: number): Rng {
  // splitmix32-style mixing of the pair, so that neighbouring cases get unrelated streams.
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(caseIndex >>> 0, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x21f0aaad) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x735a2d97) >>> 0;
  return mulberry32((h ^ (h >>> 15)) >>> 0);
}

export const randInt = (rng: Rng, n: number): number => Math.floor(rng() * n);
export const pick = <T>(rng: Rng, items: readonly T[]): T => items[randInt(rng, items.length)] as T;

const CR = 0x0d;
const LF = 0x0a;

/** A header field of a message: its byte range, continuation lines included. */
export interface FieldSpan {
  name: string;
  start: number;
  /** just past the line ending of its last line */
  end: number;
}

/** Index just past the blank line that ends the header block, or the message length. */
export function headerEnd(raw: Buffer): number {
  let lineStart = 0;
  while (lineStart < raw.length) {
    if (raw[lineStart] === LF) return lineStart + 1;
    if (raw[lineStart] === CR && raw[lineStart + 1] === LF) return lineStart + 2;
    const lf = raw.indexOf(LF, lineStart);
    if (lf === -1) return raw.length;
    lineStart = lf + 1;
  }
  return raw.length;
}

/** The header fields, as byte spans (lines that are not fields are folded into the one before). */
export function fieldSpans(raw: Buffer): FieldSpan[] {
  const end = headerEnd(raw);
  const spans: FieldSpan[] = [];
  let at = 0;
  while (at < end) {
    const lf = raw.indexOf(LF, at);
    const lineEnd = lf === -1 || lf >= end ? end : lf + 1;
    const first = raw[at];
    const blank = first === LF || (first === CR && raw[at + 1] === LF);
    if (blank) break;
    const last = spans[spans.length - 1];
    if ((first === 0x20 || first === 0x09) && last) {
      last.end = lineEnd;
    } else {
      const line = raw.toString('latin1', at, lineEnd);
      const colon = line.indexOf(':');
      spans.push({ name: colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '', start: at, end: lineEnd });
    }
    at = lineEnd;
  }
  return spans;
}

const splice = (raw: Buffer, start: number, end: number, insert: Buffer = Buffer.alloc(0)): Buffer =>
  Buffer.concat([raw.subarray(0, start), insert, raw.subarray(end)]);

/** Bytes that make parsers stumble: NUL, 8-bit, line-ending and tag-list punctuation. */
const NASTY = [0x00, 0xff, 0x80, CR, LF, 0x3a, 0x3b, 0x3d, 0x20, 0x09, 0x2d, 0x3e, 0x22, 0x5c];

export type Mutator = (raw: Buffer, rng: Rng) => Buffer;

export const MUTATORS: Readonly<Record<string, Mutator>> = {
  byteFlip(raw, rng) {
    if (raw.length === 0) return raw;
    const out = Buffer.from(raw);
    for (let n = 1 + randInt(rng, 4); n > 0; n--) {
      out[randInt(rng, out.length)] = rng() < 0.5 ? randInt(rng, 256) : pick(rng, NASTY);
    }
    return out;
  },

  bitFlip(raw, rng) {
    if (raw.length === 0) return raw;
    const out = Buffer.from(raw);
    for (let n = 1 + randInt(rng, 8); n > 0; n--) {
      const at = randInt(rng, out.length);
      out[at] = (out[at] as number) ^ (1 << randInt(rng, 8));
    }
    return out;
  },

  truncate(raw, rng) {
    return raw.subarray(0, randInt(rng, raw.length + 1));
  },

  insertBytes(raw, rng) {
    const at = randInt(rng, raw.length + 1);
    const bytes = Buffer.from(Array.from({ length: 1 + randInt(rng, 16) }, () => pick(rng, NASTY)));
    return splice(raw, at, at, bytes);
  },

  deleteRange(raw, rng) {
    const start = randInt(rng, raw.length + 1);
    return splice(raw, start, Math.min(raw.length, start + 1 + randInt(rng, 64)));
  },

  duplicateHeader(raw, rng) {
    const spans = fieldSpans(raw);
    if (spans.length === 0) return raw;
    const field = pick(rng, spans);
    const target = pick(rng, spans);
    const at = rng() < 0.5 ? target.start : target.end;
    return splice(raw, at, at, raw.subarray(field.start, field.end));
  },

  deleteHeader(raw, rng) {
    const spans = fieldSpans(raw);
    if (spans.length === 0) return raw;
    const field = pick(rng, spans);
    return splice(raw, field.start, field.end);
  },

  duplicateDkimSignature(raw, rng) {
    const spans = fieldSpans(raw).filter((s) => s.name === 'dkim-signature');
    if (spans.length === 0) return MUTATORS['duplicateHeader']!(raw, rng);
    const field = pick(rng, spans);
    const all = fieldSpans(raw);
    const at = rng() < 0.5 ? 0 : pick(rng, all).end;
    return splice(raw, at, at, raw.subarray(field.start, field.end));
  },

  mangleTagList(raw, rng) {
    const spans = fieldSpans(raw).filter((s) => s.name === 'dkim-signature' || s.name.startsWith('arc-'));
    if (spans.length === 0) return MUTATORS['byteFlip']!(raw, rng);
    const field = pick(rng, spans);
    const text = raw.toString('latin1', field.start, field.end);
    const colon = text.indexOf(':');
    const lineEnd = /\r?\n$/.exec(text)?.[0] ?? '';
    const tags = text.slice(colon + 1, text.length - lineEnd.length).split(';');
    const i = randInt(rng, tags.length);
    const absurd = ['99999999999999999999', '-1', '0', '1e3', '0x10', '', ' ', '18446744073709551616', '9'.repeat(400)];
    switch (randInt(rng, 9)) {
      case 0: tags.splice(i, 1); break;
      case 1: tags.splice(i, 0, tags[i] ?? ''); break;
      case 2: tags.splice(i, 0, ''); break;
      case 3: tags[i] = (tags[i] ?? '').replace('=', ''); break;
      case 4: tags[i] = `${(tags[i] ?? '').split('=')[0]}=${pick(rng, absurd)}`; break;
      case 5: tags.push(` l=${pick(rng, absurd)}`); break;
      case 6: tags.push(` ${pick(rng, ['d', 's', 'a', 'c', 'h', 'bh', 'b', 'v', 'x', 't', 'i', 'q', 'z'])}=${pick(rng, absurd)}`); break;
      case 7: tags.reverse(); break;
      default: tags[i] = `${tags[i] ?? ''}==;=;;\x00\xff`;
    }
    const rebuilt = Buffer.from(`${text.slice(0, colon + 1)}${tags.join(';')}${lineEnd}`, 'latin1');
    return splice(raw, field.start, field.end, rebuilt);
  },

  boundaryDamage(raw, rng) {
    const text = raw.toString('latin1');
    const lines: Array<{ start: number; end: number }> = [];
    for (const match of text.matchAll(/^--[^\r\n]*/gm)) lines.push({ start: match.index, end: match.index + match[0].length });
    if (lines.length === 0) {
      // No multipart: make one up, with a boundary that never closes.
      const at = headerEnd(raw);
      return splice(raw, at, at, Buffer.from('--unclosed-boundary\r\nContent-Type: text/plain\r\n\r\n'));
    }
    const line = pick(rng, lines);
    const content = text.slice(line.start, line.end);
    const replacements = [
      '',
      content.slice(0, Math.max(0, content.length - 1 - randInt(rng, 4))),
      `${content}--`,
      content.replace(/--$/, ''),
      `${content}\r\n${content}`,
      `-${content}`,
      `${content}${'x'.repeat(1 + randInt(rng, 200))}`,
    ];
    return splice(raw, line.start, line.end, Buffer.from(pick(rng, replacements), 'latin1'));
  },

  lineEndings(raw, rng) {
    const text = raw.toString('latin1');
    const variants = [
      () => text.replace(/\r\n/g, '\n'),
      () => text.replace(/\r?\n/g, '\r\n'),
      () => text.replace(/\r?\n/g, '\r'),
      () => text.replace(/\r?\n/g, (eol) => (rng() < 0.5 ? '\n' : eol === '\n' ? '\r\n' : eol)),
      () => text.replace(/\n/g, '\n\r'),
    ];
    return Buffer.from(pick(rng, variants)(), 'latin1');
  },

  longLine(raw, rng) {
    const length = pick(rng, [1000, 998, 999, 10_000, 100_000, 1_000_000]);
    const inHeader = rng() < 0.5;
    const at = inHeader ? pick(rng, fieldSpans(raw))?.start ?? 0 : randInt(rng, raw.length + 1);
    const filler = rng() < 0.5 ? 'a'.repeat(length) : ' '.repeat(length);
    const line = inHeader ? `X-Long: ${filler}\r\n` : `${filler}\r\n`;
    return splice(raw, at, at, Buffer.from(line, 'latin1'));
  },

  foldEverything(raw, rng) {
    const end = headerEnd(raw);
    const header = raw.toString('latin1', 0, end).replace(/; /g, () => (rng() < 0.5 ? ';\r\n\t' : '; '));
    return Buffer.concat([Buffer.from(header, 'latin1'), raw.subarray(end)]);
  },

  manyHeaders(raw, rng) {
    const count = pick(rng, [100, 1000, 5000]);
    const fields = Array.from({ length: count }, (_, i) => `X-Field-${i}: ${i}\r\n`).join('');
    const at = rng() < 0.5 ? 0 : headerEnd(raw);
    return splice(raw, at, at, Buffer.from(fields));
  },

  spliceBody(raw, rng) {
    const end = headerEnd(raw);
    const body = raw.subarray(end);
    return Buffer.concat([raw.subarray(0, end), body, body.subarray(randInt(rng, body.length + 1))]);
  },
};

export const MUTATOR_NAMES = Object.keys(MUTATORS);

export interface Mutation {
  bytes: Buffer;
  /** the mutators applied, in order */
  ops: string[];
}

/** One to three random mutations of `raw`. */
export function mutate(raw: Buffer, rng: Rng): Mutation {
  let bytes = raw;
  const ops: string[] = [];
  for (let n = 1 + (rng() < 0.3 ? randInt(rng, 3) : 0); n > 0; n--) {
    const name = pick(rng, MUTATOR_NAMES);
    bytes = MUTATORS[name]!(bytes, rng);
    ops.push(name);
  }
  return { bytes, ops };
}

const isWsp = (byte: number): boolean => byte === 0x20 || byte === 0x09 || byte === CR || byte === LF;
/** Bytes a substitution may write: printable ASCII other than space and colon. */
const SUBSTITUTES = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => 0x21 + i).filter((b) => b !== 0x3a);

export interface SignedByteChange {
  bytes: Buffer;
  /** where the changed byte is, for the failure report */
  offset: number;
  region: 'body' | 'from';
}

/**
 * Changes one byte that every DKIM canonicalization keeps (not whitespace, not a line ending)
 * into a different such byte, either in the body or in the value of the (single) From field.
 * Whatever signature covered the original byte can no longer verify: the caller checks that a
 * verified message so changed is no longer verified. Returns null when there is no such byte.
 */
export function changeSignedByte(raw: Buffer, rng: Rng, region: 'body' | 'from'): SignedByteChange | null {
  let start: number;
  let end: number;
  if (region === 'body') {
    start = headerEnd(raw);
    end = raw.length;
  } else {
    const froms = fieldSpans(raw).filter((s) => s.name === 'from');
    if (froms.length !== 1) return null;
    const from = froms[0]!;
    start = raw.indexOf(0x3a, from.start) + 1;
    const lf = raw.indexOf(LF, start);
    end = lf === -1 || lf > from.end ? from.end : lf;
  }
  const candidates: number[] = [];
  for (let i = start; i < end; i++) if (!isWsp(raw[i] as number)) candidates.push(i);
  if (candidates.length === 0) return null;
  const offset = pick(rng, candidates);
  const original = raw[offset] as number;
  const choices = SUBSTITUTES.filter((b) => b !== original);
  const bytes = Buffer.from(raw);
  bytes[offset] = pick(rng, choices);
  return { bytes, offset, region };
}
