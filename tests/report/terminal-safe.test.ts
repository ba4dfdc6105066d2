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
