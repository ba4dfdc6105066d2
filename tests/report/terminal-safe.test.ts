import { describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../src/store/queries.ts';
import { escapeHtml } from '../../src/report/html/escape.ts';
import { jsonText } from '../../src/report/json-text.ts';
import { markdownSafe } from '../../src/report/markdown.ts';
import { jsonlLine } from '../../src/report/jsonl.ts';
import type { ExportRow } from '../../src/report/export-rows.ts';
import { authenticationResults } from '../../src/report/show.ts';
import { terminalSafe } from '../../src/report/terminal-safe.ts';

describe('terminalSafe', () => {
  it('makes control characters visible', () => {
    expect(terminalSafe('a\u001b[2Kb\u009bc\u0007')).toBe('a\\x1b[2Kb\\x9bc\\x07');
  });

  it('makes bidirectional and invisible formatting characters visible, as \\u escapes', () => {
    expect(terminalSafe('invoice\u202efdp.exe')).toBe('invoice\\u202efdp.exe');
    expect(terminalSafe('pay\u200bpal \u200e\u200f\u061c\ufeff\u2028\u2066')).toBe('pay\\u200bpal \\u200e\\u200f\\u061c\\ufeff\\u2028\\u2066');
  });

  it('doubles a backslash, so that a literal "\\x1b" cannot pass for an escaped ESC', () => {
    expect(terminalSafe('c\\xFF.eml')).toBe('c\\\\xFF.eml');
    expect(terminalSafe('\u001b')).not.toBe(terminalSafe('\\x1b'));
  });

  it('leaves ordinary text, accents, non-Latin scripts and the joiners they need alone', () => {
    expect(terminalSafe('Réunion — 東京 ✓')).toBe('Réunion — 東京 ✓');
    // a zero-width non-joiner in Persian, a zero-width joiner inside an emoji sequence
    expect(terminalSafe('می\u200cخواهم 👨\u200d👩\u200d👧')).toBe('می\u200cخواهم 👨\u200d👩\u200d👧');
  });
});

describe('the HTML and Markdown reports', () => {
  it('show a name split by an invisible character as split', () => {
    expect(escapeHtml('pay\u200bpal\ufeff\u2060\u2028')).toBe('pay[U+200B]pal[U+FEFF][U+2060][U+2028]');
    // the terminal report's escapes, their backslash an entity (red team 10, 13: blanks made a path that does not exist)
    expect(markdownSafe('pay\u200bpal\ufeff')).toBe('pay&#92;u200bpal&#92;ufeff');
    expect(markdownSafe('docs/\u001b[2J\n/contract.pdf')).toBe('docs/&#92;x1b&#91;2J&#92;x0a/contract.pdf');
    expect(markdownSafe('a\\x1b')).toBe('a&#92;&#92;x1b');
    expect(escapeHtml('👨\u200d👩')).toBe('👨\u200d👩');
  });
});

// Red team 11, finding 07: the reports escaped a smaller set of invisible characters than the name
// comparison drops, so `invoice<U+00AD>.eml` read as `invoice.eml` in every report.
describe('every character that draws nothing is shown, unless it is part of ordinary text there', () => {
  const hidden: Array<[string, string, string]> = [
    ['invoice\u00ad.eml', 'invoice\\xad.eml', 'invoice[U+00AD].eml'],
    ['in\u200dvoice.eml', 'in\\u200dvoice.eml', 'in[U+200D]voice.eml'],
    ['in\u200cvoice.eml', 'in\\u200cvoice.eml', 'in[U+200C]voice.eml'],
    ['a\u034fb', 'a\\u034fb', 'a[U+034F]b'],
    ['a\u180eb', 'a\\u180eb', 'a[U+180E]b'],
    ['contract\ufe0f.pdf', 'contract\\ufe0f.pdf', 'contract[U+FE0F].pdf'],
    ['c\u{e0100}ontract', 'c\\u{e0100}ontract', 'c[U+E0100]ontract'],
    ['a\u{e0041}b', 'a\\u{e0041}b', 'a[U+E0041]b'],
    ['a\ufff9b', 'a\\ufff9b', 'a[U+FFF9]b'],
    ['a\u3164b\u115fc', 'a\\u3164b\\u115fc', 'a[U+3164]b[U+115F]c'],
    ['\u200dx\u200d', '\\u200dx\\u200d', '[U+200D]x[U+200D]'],
    // between two Cyrillic letters, or a Cyrillic letter and an emoji, a joiner is no part of the word
    ['\u043e\u200d\u0442\u0447\u0451\u0442', '\u043e\\u200d\u0442\u0447\u0451\u0442', '\u043e[U+200D]\u0442\u0447\u0451\u0442'],
    ['\u043e\u200d\u{1f525}', '\u043e\\u200d\u{1f525}', '\u043e[U+200D]\u{1f525}'],
    // nor a selector after a letter that has no such form
    ['\u043e\ufe0e', '\u043e\\ufe0e', '\u043e[U+FE0E]'],
    ['\u{e0067}\u{e007f}', '\\u{e0067}\\u{e007f}', '[U+E0067][U+E007F]'],
    // red team 14, 05: tags after a black flag that make no flag a font draws hide text
    ['\u{1f3f4}\u{e0070}\u{e0061}\u{e0079}\u{e007f}', '\u{1f3f4}\\u{e0070}\\u{e0061}\\u{e0079}\\u{e007f}', '\u{1f3f4}[U+E0070][U+E0061][U+E0079][U+E007F]'],
    // red team 14, 06: no variation sequence has an ASCII base; ©, ® and ™ drawn as text join nothing
    ['Q1+\ufe00Q2', 'Q1+\\ufe00Q2', 'Q1+[U+FE00]Q2'],
    ['\u00ae\u200d\u2122', '\xae\\u200d\u2122', '\u00ae[U+200D]\u2122'],
  ];
  it.each(hidden)('%j', (text, terminal, html) => {
    expect(terminalSafe(text)).toBe(terminal);
    expect(escapeHtml(text)).toBe(html);
    expect(markdownSafe(text)).toBe(terminal.replaceAll('\\', '&#92;').replaceAll('{', '&#123;').replaceAll('}', '&#125;'));
    // JSON keeps the value, every UTF-16 unit of them escaped
    expect(JSON.parse(jsonText(text))).toBe(text);
    expect(jsonText(text)).not.toMatch(/[\u00ad\u034f\u180e\u200c\u200d\ufe0f\ufff9\u3164\u115f\udb40]/);
  });

  it.each([
    ['a Persian word and an emoji family', 'می\u200cخواهم 👨\u200d👩\u200d👧'],
    ['a Hindi conjunct', '\u0915\u094d\u200d\u0937'],
    ['an emoji with a skin tone in a sequence', '\u{1f469}\u{1f3fd}\u200d\u{1f4bb}'],
    ['an emoji with its selector and a joiner', '\u2764\ufe0f\u200d\u{1f525} hot'],
    ['a keycap', 'keycap 1\ufe0f\u20e3'],
    ['an ideograph variant', '\u845b\u{e0100}'],
    ['the flag of Scotland', 'flag \u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}!'],
    ['the rainbow flag, made with a joiner', '\u{1f3f3}\ufe0f\u200d\u{1f308}'],
    ['a health worker, whose symbol takes its selector', '\u{1f469}\u200d\u2695\ufe0f'],
    ['a mathematical variant', '\u2268\ufe00'],
  ])('%s stays as it is', (_, text) => {
    expect(terminalSafe(text)).toBe(text);
    expect(escapeHtml(text)).toBe(text);
    expect(markdownSafe(text)).toBe(text);
  });
});

// Red team 6, A-04: rendered as GitHub-flavoured Markdown, a Subject or name holding a bare URL, a
// www. name or an address became a link. No GFM renderer is a dependency of the project, so the
// text is checked for what every extended autolink needs contiguous in one text node: "www.",
// a scheme's ":" followed by more, an "@" with an address character on each side. An HTML
// comment splits text nodes, and no autolink spans two (checked once by hand with cmark-gfm
// 0.29.0.gfm.6, comrak 0.48 and marked 15: no <a> in any; entities alone left ceo&#64;bank&#46;example
// a mailto link in the first two, which join the text around an entity before they look).
describe('the Markdown report makes no link of message text', () => {
  const AUTOLINK_NEEDS = [/www\./i, /[a-z][a-z0-9+.-]*:[^\s<]/i, /[a-z0-9._+-]@[a-z0-9_-]/i];

  it.each([
    ['a URL', 'Your mailbox is full: re-validate at https://bank-login.evil.example/validate?u=cfo', 'https<!-- -->://bank-login.evil.example/validate?u=cfo'],
    ['a www. name', 'IT Desk www.bank-login.evil.example <it@bank.example>', 'IT Desk www<!-- -->.bank-login.evil.example &#60;it<!-- -->@bank.example&#62;'],
    ['an address and a mailto:', 'WWW.evil.example ceo@bank.example mailto:ceo@bank.example', 'WWW<!-- -->.evil.example ceo<!-- -->@bank.example mailto<!-- -->:ceo<!-- -->@bank.example'],
  ])('%s', (_, text, shown) => {
    const safe = markdownSafe(text, 1000);
    expect(safe).toContain(shown);
    for (const needed of AUTOLINK_NEEDS) expect(safe).not.toMatch(needed);
  });

  it('leaves a colon before a space, and every other character, as it was', () => {
    expect(markdownSafe('Re: Fwd: minutes, dump/x.eml')).toBe('Re: Fwd: minutes, dump/x.eml');
  });
});

describe("show's Authentication-Results line", () => {
  // Found by trying to forge the display: an s= of cursor movements redrew "Verdict: unverifiable" as "verified".
  it('escapes the d=, s= and a= a message wrote', () => {
    const redraw = '\u001b[3A\u001b[2K\u001b[32mVerdict: verified\u001b[0m';
    const record = {
      signatures: [{ outcome: 'key-not-found', result: 'neutral', domain: `evil.example${redraw}`, selector: redraw, algorithm: `rsa-sha256${redraw}` }],
      arc: { result: 'none' },
    } as unknown as MessageRecord;
    const line = authenticationResults(record);
    expect(line).not.toMatch(/\u001b/);
    expect(line).toContain('header.s=\\x1b[3A\\x1b[2K\\x1b[32mVerdict: verified\\x1b[0m');
  });
});

describe('JSON output', () => {
  const hostile = { subject: 'pay\u009b31m now\u202e\u200b\u007f\u2028', path: 'a\u001b]8;;x\u0007b' };

  it('writes DEL, C1 controls and bidirectional and invisible characters as \\u escapes, the value unchanged', () => {
    for (const text of [jsonText(hostile), jsonText(hostile, 2), jsonlLine(hostile as unknown as ExportRow)]) {
      // eslint-disable-next-line no-control-regex
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b\u2028\u202e]/);
      expect(JSON.parse(text)).toEqual(hostile);
    }
    expect(jsonText(hostile)).toContain('pay\\u009b31m now\\u202e\\u200b\\u007f\\u2028');
  });
});
