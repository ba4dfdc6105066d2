import { describe, expect, it } from 'vitest';
import { readAddressList } from '../../src/checks/address-syntax.ts';
import { collapseWhitespace } from '../../src/read/blank-characters.ts';
import { parseHeaders } from '../../src/read/headers.ts';

// parseHeaders folds a field's blanks only when it has a tab or two spaces in a row (most values
// have neither): these check that the shortcut gives what folding every value gave.
const PIECES = ['a', 'Zz', '0', ' ', '  ', '\t', ' \t ', '\u00a0', '=?utf-8?q?x?=', ':', ';', '"', '(', 'é'];
/** and whitespace a header line cannot hold, for text read out of one */
const MORE_PIECES = [...PIECES, '\r\n', '\n', '\u2003', '\ufeff', '\u3000', '\u200b'];

function randomValue(seed: number, pieces: readonly string[] = PIECES): string {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state;
  };
  let value = '';
  const length = next() % 12;
  for (let i = 0; i < length; i++) value += pieces[next() % pieces.length];
  return value;
}

describe('blanks folded in header values', () => {
  it("a field's value is its text with every run of spaces and tabs made one space, trimmed, whatever the blanks", () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const written = randomValue(seed);
      const raw = Buffer.from(`Subject:${written}\r\nX-Folded: one\r\n${seed % 2 ? '\t' : ' '}${written}\r\n\r\nbody\r\n`, 'latin1');
      const { fields } = parseHeaders(raw);
      const subject = fields.find((f) => f.name === 'subject')!;
      expect(subject.value, JSON.stringify(written)).toBe(written.replace(/[ \t]+/g, ' ').trim());
      const folded = fields.find((f) => f.name === 'x-folded')!;
      expect(folded.value, JSON.stringify(written)).toBe(` one${seed % 2 ? '\t' : ' '}${written}`.replace(/[ \t]+/g, ' ').trim());
    }
  });

  it('an addr-spec reads alike with and without the blanks obsolete syntax allows around "@" and "."', () => {
    for (const [spaced, plain] of [
      ['bob @ example . org', 'bob@example.org'],
      ['bob\t@example.org', 'bob@example.org'],
      ['jane.doe@ example.com', 'jane.doe@example.com'],
      ['<bob @ example.org>', '<bob@example.org>'],
    ] as const) {
      // (the address is kept as written; only whether it is one is read through the blanks)
      expect(readAddressList(spaced), spaced).toEqual({ addresses: [spaced.replace(/[<>]/g, '')], problem: null });
      expect(readAddressList(plain)).toEqual({ addresses: [plain.replace(/[<>]/g, '')], problem: null });
    }
    for (const broken of ['bob@', '@example.org', 'bob example.org', 'bob@@example.org', 'b ob@example.org']) {
      expect(readAddressList(broken).problem, broken).not.toBeNull();
    }
  });

  it('collapseWhitespace gives what replacing every \\s run with a space and trimming gives', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const text = randomValue(seed, MORE_PIECES);
      expect(collapseWhitespace(text), JSON.stringify(text)).toBe(text.replace(/\s+/g, ' ').trim());
    }
  });
});
