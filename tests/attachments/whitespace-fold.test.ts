import { describe, expect, it } from 'vitest';
import { foldedSha256, WhitespaceFoldHash } from '../../src/attachments/whitespace-fold.ts';

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
