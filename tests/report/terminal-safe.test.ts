import { describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../src/store/queries.ts';
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

  it('leaves ordinary text, accents and non-Latin scripts alone', () => {
    expect(terminalSafe('Réunion — 東京 ✓')).toBe('Réunion — 東京 ✓');
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
