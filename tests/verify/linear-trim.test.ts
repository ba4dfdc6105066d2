import { describe, expect, it } from 'vitest';
// the analysis first, as in every entry point: the stand-in must load before mailauth does
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { linearTrimPatched, trimFoldingWhitespace } from '../../src/verify/linear-trim-stand-in.ts';

const FWS_EDGES = /^[ \t\r\n]+|[ \t\r\n]+$/g;

describe("mailauth's tag trimming, made linear", () => {
  it('gives what the regular expression gives, on every short string of the characters that matter', () => {
    const alphabet = [' ', '\t', '\r', '\n', 'a', '=', ';', '\u00a0'];
    let checked = 0;
    const visit = (prefix: string): void => {
      expect(trimFoldingWhitespace(prefix), JSON.stringify(prefix)).toBe(prefix.replace(FWS_EDGES, ''));
      checked++;
      if (prefix.length < 5) for (const c of alphabet) visit(prefix + c);
    };
    visit('');
    expect(checked).toBe(1 + 8 + 64 + 512 + 4096 + 32768);
  });

  it('replaces the trim in both mailauth files that use it (a new mailauth version must be looked at again)', () => {
    expect(linearTrimPatched.sort()).toEqual(['mailauth/lib/dkim/dkim-verifier.js', 'mailauth/lib/parse-dkim-headers.js']);
  });

  // Found by the fuzzer (seed 1204, case 1090): over 60 s for one message before.
  it('60 KB of spaces inside a signature tag, and inside h=, are read in well under a second (seconds before)', async () => {
    const spaces = ' '.repeat(60_000);
    const message = [
      `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel1; h=from:${spaces}:to; bh=abc; b=abc${spaces}def`,
      'From: a@example.com',
      'To: b@example.com',
      '',
      'body',
      '',
    ].join('\r\n');
    const started = performance.now();
    const analysis = await analyzeMessage({ raw: Buffer.from(message, 'latin1'), format: 'eml' }, async (name) => ({ status: 'absent', name, detail: 'test' }));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(analysis.verdict.verdict).not.toBe('verified');
    expect(analysis.signatures).toHaveLength(1);
  });
});
