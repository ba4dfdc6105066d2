import { describe, expect, it } from 'vitest';
import { paddedDelimiterLine } from '../../src/attachments/padded-delimiters.ts';
import { mulberry32 } from '../../src/fuzz/mutate.ts';
import { isKnownCleanLineEnds, toCrlf } from '../../src/read/line-endings.ts';

const PADDING = ['', '', '', '', '', '', '', '', '', '', ' ', '\t', '  ', ' \t', '\r'];
const TEXT = ['QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=', 'hello world', 'QUJD', '--b1x', '---', 'total', 'QUJDREVG', 'end', 'more', '--', '-- ', '--not-the-boundary ', 'x '];

/** A multipart message whose delimiter lines are padded or not, and whose last line may lack a line break. */
function message(random: () => number): Buffer {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const lines = ['From: a@example.com', 'Content-Type: multipart/mixed; boundary="b1"', ''];
  const parts = 1 + Math.floor(random() * 3);
  for (let p = 0; p < parts; p++) {
    lines.push(`--b1${pick(PADDING)}`, 'Content-Type: text/plain', '');
    for (let i = Math.floor(random() * 6); i > 0; i--) lines.push(pick(TEXT));
  }
  lines.push(`--b1--${pick(PADDING)}`);
  const text = lines.join('\r\n') + (random() < 0.5 ? '\r\n' : '');
  return Buffer.from(text, 'latin1');
}

describe('paddedDelimiterLine after the line scan', () => {
  it('gives the same answer where the scan found no blank before a line break as where nothing is known', () => {
    const random = mulberry32(15);
    let skipped = 0;
    let found = 0;
    for (let i = 0; i < 4000; i++) {
      const bytes = message(random);
      const scanned = toCrlf(bytes);
      const bodyStart = bytes.indexOf('\r\n\r\n') + 4;
      const unknown = Buffer.from(scanned);
      expect(isKnownCleanLineEnds(unknown)).toBe(false);
      const expected = paddedDelimiterLine(unknown, bodyStart);
      expect(paddedDelimiterLine(scanned, bodyStart), bytes.toString('latin1')).toEqual(expected);
      if (isKnownCleanLineEnds(scanned)) skipped++;
      if (expected) found++;
    }
    // both kinds of message were made: some the scan lets skip, some with a padded delimiter
    expect(skipped).toBeGreaterThan(400);
    expect(found).toBeGreaterThan(500);
  });
});
