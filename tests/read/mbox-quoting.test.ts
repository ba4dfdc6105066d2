import { describe, expect, it } from 'vitest';
import { hasFromQuoting, quotedFromLineStarts, unquoteLinesAt, unquoteMboxrd } from '../../src/read/mbox-quoting.ts';

describe('hasFromQuoting', () => {
  it('finds >From at the start of any line, however deeply quoted', () => {
    expect(hasFromQuoting(Buffer.from('>From here'))).toBe(true);
    expect(hasFromQuoting(Buffer.from('a\r\n>>>From x\r\n'))).toBe(true);
    expect(hasFromQuoting(Buffer.from('From me\nx >From y\n> From z\n>Fromage\n>from a\n'))).toBe(false);
    expect(hasFromQuoting(Buffer.alloc(0))).toBe(false);
  });
});

describe('unquoteMboxrd', () => {
  it('removes exactly one > from each quoted From line and nothing else', () => {
    const input = 'Subject: x\r\n\r\n>From a\r\n>>From b\n> From c\n>Fromage\nmid >From d\n>From';
    expect(unquoteMboxrd(Buffer.from(input)).toString()).toBe(
      'Subject: x\r\n\r\nFrom a\r\n>From b\n> From c\n>Fromage\nmid >From d\n>From',
    );
  });

  it('keeps 8-bit bytes intact', () => {
    const input = Buffer.concat([
      Buffer.from([0xe9, 0xff, 0x0a]),
      Buffer.from('>From x '),
      Buffer.from([0x80, 0xc3, 0x0a, 0x3e, 0x46]),
    ]);
    const expected = Buffer.concat([
      Buffer.from([0xe9, 0xff, 0x0a]),
      Buffer.from('From x '),
      Buffer.from([0x80, 0xc3, 0x0a, 0x3e, 0x46]),
    ]);
    expect(unquoteMboxrd(input).equals(expected)).toBe(true);
  });

  it('unquotes only the lines asked for (an mboxo message with both kinds of line)', () => {
    const input = Buffer.from('Subject: x\n\n>From a\n>From b\n>>From c\n');
    const starts = quotedFromLineStarts(input);
    expect(starts).toEqual([12, 20, 28]);
    expect(unquoteLinesAt(input, [starts[1]!]).toString()).toBe('Subject: x\n\n>From a\nFrom b\n>>From c\n');
    expect(unquoteLinesAt(input, [starts[0]!, starts[2]!]).toString()).toBe('Subject: x\n\nFrom a\n>From b\n>From c\n');
    expect(unquoteLinesAt(input, [])).toBe(input);
  });

  it('returns the input itself when nothing is quoted', () => {
    const input = Buffer.from('From: a\n\nbody\n');
    expect(unquoteMboxrd(input)).toBe(input);
  });
});

/** The definition, line by line: the reference the searching implementation must match. */
function quotedLineStartsByDefinition(raw: Buffer): number[] {
  const out: number[] = [];
  for (let start = 0; start < raw.length; ) {
    let i = start;
    while (raw[i] === 0x3e) i += 1;
    if (i > start && raw.subarray(i, i + 5).toString('latin1') === 'From ') out.push(start);
    const lf = raw.indexOf(0x0a, start);
    if (lf === -1) break;
    start = lf + 1;
  }
  return out;
}

describe('the quoted-line search against its definition', () => {
  it('agrees on 20,000 random messages made of the pieces that matter', () => {
    const pieces = ['>', '>>', 'From ', 'From', 'from ', ' ', '\n', '\r\n', 'x', '>From ', '\n>From ', 'F', 'rom ', '\u00e9'];
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    let quoted = 0;
    for (let n = 0; n < 20_000; n++) {
      const raw = Buffer.from(Array.from({ length: random(40) }, () => pieces[random(pieces.length)]).join(''), 'latin1');
      const starts = quotedLineStartsByDefinition(raw);
      if (starts.length) quoted++;
      expect(hasFromQuoting(raw)).toBe(starts.length > 0);
      // unquoting drops exactly the first ">" of exactly those lines
      const expected = Buffer.concat(starts.map((s, i) => raw.subarray(i ? starts[i - 1]! + 1 : 0, s)).concat(raw.subarray(starts.length ? starts.at(-1)! + 1 : 0)));
      expect(unquoteMboxrd(raw).equals(expected)).toBe(true);
    }
    // both answers were exercised many times
    expect(quoted).toBeGreaterThan(2_000);
    expect(quoted).toBeLessThan(18_000);
  });
});
