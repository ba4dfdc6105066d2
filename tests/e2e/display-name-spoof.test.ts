/**
 * Red team 5 (04): a forger signs with a domain of their own and writes a display name that
 * reads as someone else's address, padded with blank-looking characters so that every report
 * cut the From before the real address. "verified" then stood beside "CEO ceo@bank.example".
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shownFrom } from '../../src/report/shown-from.ts';
import { plainMessage, rsaKey, SIGN_TIME, signed } from '../unit/support/signing.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { exportRows, verifyOffline } from '../helpers/in-process.ts';

const PADDINGS: Array<[string, string]> = [
  ['no-break spaces', '\u00a0'],
  ['Hangul fillers', '\u3164'],
];

describe('shownFrom', () => {
  it('keeps the address whole and counts the run of blanks that pushed it out of view', () => {
    const from = `CEO ceo@bank.example${'\u3164'.repeat(300)} <x@evil.example>`;
    expect(shownFrom(from, 'x@evil.example', 200)).toBe('CEO ceo@bank.example [300 blank characters] <x@evil.example>');
  });

  it('cuts the display name, never the address', () => {
    const shown = shownFrom(`${'A'.repeat(500)} <someone@example.com>`, 'someone@example.com', 100);
    expect(shown.endsWith('… <someone@example.com>')).toBe(true);
    expect(shown.length).toBeLessThanOrEqual(100);
  });

  it('escapes before it measures: escapes cannot push the address out either', () => {
    const shown = shownFrom(`${'\u202e'.repeat(200)} <x@evil.example>`, 'x@evil.example', 100, (t) => t.replace(/\u202e/g, '\\u202e'));
    expect(shown.endsWith(' <x@evil.example>')).toBe(true);
    expect(shown.length).toBeLessThanOrEqual(100);
  });

  it('leaves an ordinary From as it was, and shows a bare address as itself', () => {
    expect(shownFrom('Alice Example <alice@example.com>', 'alice@example.com', 200)).toBe('Alice Example <alice@example.com>');
    expect(shownFrom('alice@example.com', 'alice@example.com', 200)).toBe('alice@example.com');
    expect(shownFrom('Undisclosed', null, 200)).toBe('Undisclosed');
  });
});

describe('a padded display name hides no address from show, HTML, Markdown or the exports', () => {
  const dir = tempDir('leakcheck-spoof-');
  const db = join(dir.path, 'case.db');
  afterAll(() => dir.cleanup());

  beforeAll(async () => {
    const key = rsaKey(2048);
    mkdirSync(join(dir.path, 'dump'));
    for (const [name, pad] of PADDINGS) {
      const display = Buffer.from(`CEO ceo@bank.example${pad.repeat(300)}`, 'utf8').toString('base64');
      const message = plainMessage({ from: `=?utf-8?b?${display}?= <x@evil.example>`, subject: `Wire today (${name})` });
      writeFileSync(join(dir.path, 'dump', `${name}.eml`), await signed(message, { key, domain: 'evil.example', selector: 'sel1', signTime: SIGN_TIME }), 'latin1');
    }
    writeFileSync(join(dir.path, 'keys.json'), JSON.stringify({ 'sel1._domainkey.evil.example': key.txt }));
    await verifyOffline(join(dir.path, 'dump'), db, [join(dir.path, 'keys.json')]);
  });

  it('the messages are verified, for evil.example: the setting of the attack', () => {
    const rows = exportRows<Record<string, unknown>>(db);
    expect(rows.map((r) => [r['verdict'], r['from_address']])).toEqual(PADDINGS.map(() => ['verified', 'x@evil.example']));
  });

  it('show prints the address on the From line', () => {
    for (const [name] of PADDINGS) {
      const shown = runCli(['show', `${name}.eml`, '--db', db]).stdout;
      expect(shown, name).toMatch(/^ {2}From {8}CEO ceo@bank\.example \[300 blank characters\] <x@evil\.example>$/m);
      // (the finding's text is wrapped at 100 columns)
      expect(shown, name).toMatch(/^ {2}warning +display-name-address: The From field's display name reads as the address\s+ceo@bank\.example,\s+but\s+the\s+message\s+is\s+from\s+x@evil\.example/m);
    }
  });

  it('the HTML table and each detail summary show the address', () => {
    const html = runCli(['report', '--format', 'html', '--db', db]).stdout;
    const rows = html.match(/<tr data-verdict="verified">.*?<\/tr>/g) ?? [];
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toContain('[300 blank characters] &lt;x@evil.example&gt;</td>');
    const summaries = html.match(/<summary>.*?<\/summary>/g)?.filter((s) => s.includes('Wire today')) ?? [];
    expect(summaries).toHaveLength(2);
    for (const summary of summaries) expect(summary).toContain('&lt;x@evil.example&gt; · ');
  });

  // (from_address was added last; findings came after it, red team K, K-07)
  it('the CSV export has the address in its own column after the explanation, and the warning beside it', () => {
    const lines = runCli(['export', '--format', 'csv', '--db', db]).stdout.trim().split('\r\n');
    expect(lines[0]!.endsWith(',explanation,from_address,findings,date_zone_known,container')).toBe(true);
    for (const line of lines.slice(1)) expect(line).toMatch(/,x@evil\.example,"warning display-name-address: The From field's display name reads as the address ceo@bank\.example/);
  });
});
