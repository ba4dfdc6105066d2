import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { foldedSha256, type InsideLines, WhitespaceFoldHash } from '../../src/attachments/whitespace-fold.ts';
import { mulberry32 } from '../../src/fuzz/mutate.ts';

const folded = (text: string): string => foldedSha256(Buffer.from(text, 'latin1'));

describe('whitespace folded as a relaxed body signature leaves it unfixed', () => {
  it.each([
    ['CRLF and LF', 'a,b\r\nc,d\r\n', 'a,b\nc,d\n'],
    ['a missing last line end', 'a\nb', 'a\nb\n'],
    ['runs of spaces and tabs', 'a \t  b', 'a b'],
    ['blanks at the end of a line', 'a  \nb\t\n', 'a\nb\n'],
    ['empty lines at the end', 'a\n\n\r\n  \n', 'a\n'],
    ['a run at the start of a line, kept as one space', '\t  a', ' a'],
  ])('%s fold alike', (_, one, other) => {
    expect(folded(one)).toBe(folded(other));
  });

  it.each([
    ['a changed figure', 'hosting,1200\n', 'hosting,1300\n'],
    ['an added row', 'a\n', 'a\nb\n'],
    ['an empty line inside', 'a\n\nb', 'a\nb'],
    ['a space inside a word', 'ab', 'a b'],
    ['indentation added', 'a', ' a'],
  ])('%s does not', (_, one, other) => {
    expect(folded(one)).not.toBe(folded(other));
  });

  it('gives the same hash however the bytes are cut, a CRLF or a run split between pieces', () => {
    const text = 'item,amount  \r\nhosting,1200\r\n\r\ntravel, \t 300\r\n\r\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const pieces = new WhitespaceFoldHash().update(Buffer.from(text.slice(0, cut))).update(Buffer.from(text.slice(cut)));
      expect(pieces.digest(), `cut at ${cut}`).toBe(folded(text));
    }
  });

  it('folds text longer than its own buffer', () => {
    const long = 'x  y\r\n'.repeat(50_000);
    expect(folded(long)).toBe(folded('x y\n'.repeat(50_000)));
  });
});

describe('whitespace folded but for the blanks inside lines (red team 15, F-DOC-3)', () => {
  const kept = (text: string): string => foldedSha256(Buffer.from(text, 'latin1'), 'kept');

  it.each([
    ['CRLF and LF', 'a\tb\r\nc\td\r\n', 'a\tb\nc\td\n'],
    ['a missing last line end', 'a\nb', 'a\nb\n'],
    ['blanks at the end of a line', 'a  \r\nb\t\n', 'a\nb\n'],
    ['empty lines at the end', 'a\n\n\r\n  \n', 'a\n'],
  ])('%s fold alike', (_, one, other) => {
    expect(kept(one)).toBe(kept(other));
  });

  it.each([
    ['a tab moved between columns', 'hosting\t1200\t\ntravel\t\t300\n', 'hosting\t\t1200\ntravel\t300\t\n'],
    ['runs of spaces and tabs', 'a \t  b', 'a b'],
    ['a tab for a space', 'a\tb', 'a b'],
    ['indentation', '\t  a', ' a'],
    ['a carriage return inside a line', 'a\rb', 'a b'],
  ])('%s does not, though the relaxed fold reads them alike', (_, one, other) => {
    expect(folded(one)).toBe(folded(other));
    expect(kept(one)).not.toBe(kept(other));
  });

  it('gives the same hash however the bytes are cut, and keeps a run longer than what it holds', () => {
    const run = ' \t'.repeat(5_000);
    const text = `item\tq1\tq2  \r\nhosting${run}1200${run}\r\n\r\ntravel\t\t300${run}\r\n\r\n`;
    const whole = kept(text);
    expect(whole).toBe(kept(`item\tq1\tq2\nhosting${run}1200\n\ntravel\t\t300\n`));
    expect(whole).not.toBe(kept(`item\tq1\tq2\nhosting${run} 1200\n\ntravel\t\t300\n`));
    for (const cut of [0, 1, 12, 13, 14, 20, 4_100, 8_200, 10_020, 15_000, 20_040, text.length - 3, text.length]) {
      const pieces = new WhitespaceFoldHash('kept').update(Buffer.from(text.slice(0, cut), 'latin1')).update(Buffer.from(text.slice(cut), 'latin1'));
      expect(pieces.digest(), `cut at ${cut}`).toBe(whole);
    }
  });
});

/** Blanks at the end gone (a loop: the regular expression /[ \t\r]+$/ is quadratic on a long run inside a line). */
const trimBlanksEnd = (line: string): string => {
  let end = line.length;
  while (end > 0 && ' \t\r'.includes(line[end - 1]!)) end--;
  return line.slice(0, end);
};

describe('both folds against a plain reading of their definition', () => {
  /** The fold written as its definition reads, on a whole string: no pieces, no buffers. */
  const byDefinition = (text: string, insideLines: InsideLines): string => {
    const lines = text.split('\n').map((line) => {
      const trimmed = trimBlanksEnd(line);
      return insideLines === 'relaxed' ? trimmed.replace(/[ \t\r]+/g, ' ') : trimmed;
    });
    while (lines.length && lines.at(-1) === '') lines.pop();
    return createHash('sha256').update(Buffer.from(lines.map((l) => `${l}\n`).join(''), 'latin1')).digest('hex');
  };

  it('gives the same hash as the definition on generated text, runs longer than what the fold holds included, fed in random pieces', () => {
    const random = mulberry32(15);
    const alphabet = ['a', 'b', '1', ',', ' ', '\t', '\r', '\n', '\r\n', '  \t '];
    for (let n = 0; n < 300; n++) {
      let text = '';
      const length = Math.floor(random() * 200);
      for (let i = 0; i < length; i++) {
        const long = random() < 0.02;
        text += long ? ' \t'.repeat(1_000 + Math.floor(random() * 4_000)) : alphabet[Math.floor(random() * alphabet.length)];
      }
      for (const mode of ['relaxed', 'kept'] as const) {
        const fold = new WhitespaceFoldHash(mode);
        const bytes = Buffer.from(text, 'latin1');
        for (let at = 0; at < bytes.length; ) {
          const next = Math.min(bytes.length, at + 1 + Math.floor(random() * 9_000));
          fold.update(bytes.subarray(at, next));
          at = next;
        }
        expect(fold.digest(), `${mode} case ${n}`).toBe(byDefinition(text, mode));
      }
    }
  });
});
