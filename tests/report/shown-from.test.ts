/**
 * Red team 6, A-01 and A-05: padding in a From address's local part cut the domain (what the
 * signature speaks for) out of every report, and padding in a Subject cut its signed end.
 */
import { describe, expect, it } from 'vitest';
import { collapseUnseenRuns } from '../../src/read/blank-characters.ts';
import { escapeHtml } from '../../src/report/html/escape.ts';
import { markdownSafe } from '../../src/report/markdown.ts';
import { shownFrom, shownText } from '../../src/report/shown-from.ts';
import { terminalSafe } from '../../src/report/terminal-safe.ts';

const SMALL_AT = '\ufe6b';
const paddedLocal = (pad: string): string => `ceo${SMALL_AT}bank.example${pad.repeat(330)}`;
const escapeUncut = (text: string): string => terminalSafe(text, Number.MAX_SAFE_INTEGER);

describe('collapseUnseenRuns', () => {
  it('counts invisible runs as it counts blank ones, by characters (tags are two UTF-16 units each)', () => {
    expect(collapseUnseenRuns(`a${'\u00ad'.repeat(330)}b`)).toBe('a [330 invisible characters] b');
    // the flag of Scotland is a black flag and six tags: a flag, not a run (red team 14); other tags after it are counted
    const scotland = '\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}';
    expect(collapseUnseenRuns(`Q1 report ${scotland}`)).toBe(`Q1 report ${scotland}`);
    expect(collapseUnseenRuns(`x \u{1f3f4}${'\u{e0061}'.repeat(20)}\u{e007f}`)).toBe('x \u{1f3f4} [21 invisible characters] ');
    expect(collapseUnseenRuns(`a${'\u3164'.repeat(300)}b`)).toBe('a [300 blank characters] b');
    expect(collapseUnseenRuns(`a${'\u{e0041}'.repeat(12)}b`)).toBe('a [12 invisible characters] b');
    expect(collapseUnseenRuns(`a\u200b\u2060\ufeff\u034f\u180e${'\u00a0'.repeat(3)}b`)).toBe('a [8 blank or invisible characters] b');
  });

  it('leaves ordinary spacing, a lone blank and a lone invisible character (which outputs escape) as they read', () => {
    expect(collapseUnseenRuns('Quarterly   numbers')).toBe('Quarterly numbers');
    expect(collapseUnseenRuns('a \u00a0b')).toBe('a b');
    expect(collapseUnseenRuns('pay \u200bpal')).toBe('pay \u200bpal');
    expect(collapseUnseenRuns('pay\u200bpal')).toBe('pay\u200bpal');
  });

  it('counts a run of variation selectors as padding, except one that picks the form of the character before it', () => {
    // after "a", the first selects a's form (it draws nothing); the other 329 have nothing to select
    expect(collapseUnseenRuns(`a${'\ufe0f'.repeat(330)}b`)).toBe('a\ufe0f [329 invisible characters] b');
    expect(collapseUnseenRuns(`${'\ufe00'.repeat(5)}x`)).toBe(' [5 invisible characters] x');
    expect(collapseUnseenRuns(`x${'\u{e0100}'.repeat(20)}`)).toBe('x\u{e0100} [19 invisible characters] ');
    expect(collapseUnseenRuns(`a\u00ad\ufe0f\u00ad\ufe0f\u00ad\ufe0fb`)).toBe('a [6 invisible characters] b');
    expect(collapseUnseenRuns(`\u2764\ufe0f${'\u00ad'.repeat(300)}b`)).toBe('\u2764\ufe0f [300 invisible characters] b');
    // the Mongolian free variation selectors are variation selectors too (red team 8, 06)
    expect(collapseUnseenRuns(`x${'\u180b'.repeat(300)}y`)).toBe('x\u180b [299 invisible characters] y');
    // in an address no selector picks a form: every one is counted
    expect(collapseUnseenRuns(`a${'\ufe0f'.repeat(40)}`, true)).toBe('a [40 invisible characters] ');
  });

  it('ordinary blanks around a single invisible character still collapse (red team 8, 05: 300 spaces and one U+FE0F or U+200B hid what followed)', () => {
    expect(collapseUnseenRuns(`Invoice paid${' '.repeat(300)}\ufe0fHIDDEN`)).toBe('Invoice paid \ufe0fHIDDEN');
    expect(collapseUnseenRuns(`Invoice paid${' '.repeat(300)}\u200b${'\t'.repeat(40)}HIDDEN`)).toBe('Invoice paid \u200b HIDDEN');
    expect(collapseUnseenRuns(`Invoice paid${'\t'.repeat(300)}\ufe0e HIDDEN`)).toBe('Invoice paid \ufe0e HIDDEN');
  });

  it('every character Unicode lets a font draw as nothing (Default_Ignorable_Code_Point) is counted as padding (red team 9, 01)', () => {
    const uncounted: string[] = [];
    const ignorable = /^\p{Default_Ignorable_Code_Point}$/u;
    for (let cp = 0; cp < 0x110000; cp++) {
      if (cp >= 0xd800 && cp < 0xe000) continue;
      const ch = String.fromCodePoint(cp);
      if (ignorable.test(ch) && !/ \[\d+ (blank|invisible|blank or invisible) characters\] b$/.test(collapseUnseenRuns(`a${ch.repeat(3)}b`))) uncounted.push(cp.toString(16));
    }
    expect(uncounted).toEqual([]);
  });

  it('a selector with one character after it is no run: the text stays as it is', () => {
    for (const text of ['\u845b\u{e0100}\u3000\u8449', 'x\ufe0f\u00a0y']) expect(collapseUnseenRuns(text)).toBe(text);
  });

  it('leaves emoji as they are: a variation selector with a zero-width joiner after it, or a space', () => {
    for (const text of ['\u2764\ufe0f\u200d\u{1f525} hot', 'the \u{1f3f3}\ufe0f\u200d\u{1f308} flag', 'I \u2764\ufe0f you', '\u{1f3f3}\ufe0f\u200d\u26a7\ufe0f', 'keycap 1\ufe0f\u20e3']) {
      expect(collapseUnseenRuns(text)).toBe(text);
    }
  });
});

describe('shownFrom: the From address keeps its domain whole in every report (A-01)', () => {
  it.each([
    ['soft hyphens', '\u00ad', 'invisible'],
    ['Hangul fillers', '\u3164', 'blank'],
  ])('a local part padded with 330 %s shows its count and "@evil.example"', (_, pad, kind) => {
    const address = `${paddedLocal(pad)}@evil.example`;
    const expected = `CEO <ceo${SMALL_AT}bank.example [330 ${kind} characters] @evil.example>`;
    for (const max of [80, 200, 300, 2000]) expect(shownFrom(`CEO <${address}>`, address, max)).toBe(expected);
    expect(shownFrom(`CEO <${address}>`, address, 300, escapeUncut)).toBe(expected);
  });

  it('cuts a long local part, with an ellipsis before the "@", and never the domain', () => {
    const address = `${'a'.repeat(500)}@evil.example`;
    const shown = shownFrom(`CEO <${address}>`, address, 200);
    expect(shown).toBe(`CEO <${'a'.repeat(127)}…@evil.example>`);
    const longDomain = `x@${'d'.repeat(600)}.example`;
    expect(shownFrom(`CEO <${longDomain}>`, longDomain, 80).endsWith(`@${'d'.repeat(600)}.example>`)).toBe(true);
  });

  it('escapes before it cuts the local part: escapes cannot push the domain out either', () => {
    const address = `${'\u202e'.repeat(1)}ceo${'\u0007'.repeat(200)}@evil.example`;
    const shown = shownFrom(address, address, 100, escapeUncut);
    expect(shown.endsWith('…@evil.example')).toBe(true);
    expect(shown).not.toMatch(/[\u0007\u202e]/);
  });

  it('reaches every output with the domain: HTML and Markdown escape what shownFrom gives them', () => {
    const address = `${paddedLocal('\u00ad')}@evil.example`;
    expect(escapeHtml(shownFrom(`CEO <${address}>`, address, 200))).toContain(' [330 invisible characters] @evil.example&gt;');
    expect(markdownSafe(shownFrom(`CEO <${address}>`, address, 80), Infinity)).toContain(' &#91;330 invisible characters&#93; <!-- -->@evil.example&#62;');
  });

  it('counts padding in the name that the field writes before its address, and keeps a bare address whole', () => {
    const from = `CEO ceo@bank.example${'\u00a0'.repeat(300)} <x@evil.example>`;
    expect(shownFrom(from, 'x@evil.example', 200)).toBe('CEO ceo@bank.example [300 blank characters] <x@evil.example>');
    expect(shownFrom(`${'\u00a0'.repeat(300)}<x@evil.example>`, 'x@evil.example', 200)).toBe('[300 blank characters] <x@evil.example>');
    expect(shownFrom(' X@Evil.Example ', 'x@evil.example', 200)).toBe('x@evil.example');
    expect(shownFrom('<x@evil.example>', 'x@evil.example', 200)).toBe('<x@evil.example>');
  });
});

describe('shownText: a padded Subject keeps its end in view (A-05)', () => {
  const tail = ' only after legal review, do NOT send yet';

  it.each([
    ['Hangul fillers', '\u3164', 'blank'],
    ['soft hyphens', '\u00ad', 'invisible'],
  ])('counts 300 %s, and shows the text after them', (_, pad, kind) => {
    const subject = `Transfer 2.4M approved${pad.repeat(300)}${tail}`;
    const expected = `Transfer 2.4M approved [300 ${kind} characters] ${tail.trimStart()}`;
    expect(shownText(subject, 300)).toBe(expected);
    expect(shownText(subject, 300, escapeUncut)).toBe(expected);
    expect(shownText(subject, 100)).toBe(expected);
  });

  it('says where it cuts', () => {
    expect(shownText('x'.repeat(400), 300)).toBe(`${'x'.repeat(299)}…`);
    expect(shownText(null, 300)).toBe('');
  });
});
