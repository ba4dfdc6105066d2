import { describe, expect, it } from 'vitest';
import { cutText } from '../../src/report/cut-text.ts';
import { clip } from '../../src/report/html/escape.ts';
import { markdownSafe } from '../../src/report/markdown.ts';
import { shownText } from '../../src/report/shown-from.ts';
import { terminalSafe } from '../../src/report/terminal-safe.ts';

/** A half of a character beyond U+FFFF, alone: what prints as "�". */
const LONE_SURROGATE = /[\ud800-\udfff]/u;

describe('cutText: every report cuts text between characters, never inside one (red team 9)', () => {
  it('keeps text that fits, and cuts the rest to max units, an ellipsis last', () => {
    expect(cutText('Quarterly numbers', 17)).toBe('Quarterly numbers');
    expect(cutText('Quarterly numbers', 10)).toBe('Quarterly…');
  });

  it('steps back before a character beyond U+FFFF that would be cut in two', () => {
    expect(cutText('a\u{1f600}b', 3)).toBe('a…');
    expect(cutText('ab\u{1f600}', 3)).toBe('ab…');
    const emoji = `${'\u{1d173}\u{1f600}'.repeat(10)}x`;
    for (let max = 1; max <= emoji.length; max++) expect(cutText(emoji, max), String(max)).not.toMatch(LONE_SURROGATE);
  });

  it('is the cut of the terminal, Markdown, HTML and shown-text escapers', () => {
    const subject = `${'x'.repeat(58)}\u{1f600}y`;
    for (const shown of [terminalSafe(subject, 60), markdownSafe(subject, 60), clip(subject, 60), shownText(subject, 60)]) {
      expect(shown).toBe(`${'x'.repeat(58)}…`);
    }
  });
});
