/**
 * Red team K, K-07: a verified message whose findings qualify the proof (here a display name that
 * reads as another address) showed its warning only in JSONL, HTML and show. The CSV had no
 * column for it, the text and Markdown summaries listed only suspicious messages, and headed the
 * verified count with "covers what the reader sees".
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainMessage, rsaKey, SIGN_TIME, signed } from '../unit/support/signing.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { verifyOffline } from '../helpers/in-process.ts';

describe('a verified message with a warning', () => {
  const dir = tempDir('leakcheck-warned-');
  const db = join(dir.path, 'case.db');
  afterAll(() => dir.cleanup());

  beforeAll(async () => {
    const key = rsaKey(2048);
    mkdirSync(join(dir.path, 'dump'));
    const sign = (message: string, headerList?: string): Promise<string> => signed(message, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, headerList });
    const warned = plainMessage({ from: '"ceo@bank.example" <alice@example.com>', subject: 'Wire today', messageId: '<warned@example.com>' });
    writeFileSync(join(dir.path, 'dump', 'warned.eml'), await sign(warned), 'latin1');
    writeFileSync(join(dir.path, 'dump', 'plain.eml'), await sign(plainMessage({ messageId: '<plain@example.com>' })), 'latin1');
    // an info finding, but one that names a shown header the signature leaves out
    const subjectUnsigned = plainMessage({ subject: 'New bank details', messageId: '<subject@example.com>' });
    writeFileSync(join(dir.path, 'dump', 'subject.eml'), await sign(subjectUnsigned, 'from:to:date:message-id'), 'latin1');
    writeFileSync(join(dir.path, 'keys.json'), JSON.stringify({ 'sel1._domainkey.example.com': key.txt }));
    await verifyOffline(join(dir.path, 'dump'), db, [join(dir.path, 'keys.json')]);
  });

  it('has its findings in the CSV, in a column added after the others', () => {
    const out = runCli(['export', '--format', 'csv', '--db', db]);
    const records = parse(out.stdout, { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(records[0]!).slice(-5)).toEqual(['explanation', 'from_address', 'findings', 'date_zone_known', 'container']);
    const byPath = new Map(records.map((r) => [r['path'], r]));
    expect(byPath.get('warned.eml')).toMatchObject({ verdict: 'verified', from_address: 'alice@example.com' });
    expect(byPath.get('warned.eml')!['findings']).toMatch(/^warning display-name-address: The From field's display name reads as the address ceo@bank\.example, but the message is from alice@example\.com/);
    expect(byPath.get('plain.eml')).toMatchObject({ verdict: 'verified', findings: '' });
  });

  it('is listed, with its warning, in the text summary; the verified line no longer says it covers what the reader sees', () => {
    const text = runCli(['report', '--db', db]).stdout;
    expect(text).toContain('Verified, with warnings (2)');
    expect(text).toMatch(/~ subject\.eml {2}New bank details\n {6}visible-headers-unsigned: The body, From, To and Date are verified, but no verifying signature by the From domain covers Subject/);
    expect(text).toMatch(/~ warned\.eml {2}Wire today\n {6}display-name-address: The From field's display name reads as the address ceo@bank\.example/);
    expect(text).not.toContain('plain.eml');
    expect(text).not.toContain('covers what the reader sees');
    expect(text).toContain('covers the From header and the whole body (a warning says what else it leaves unproven)');
  });

  it('is listed, with its warning made inert, in the Markdown summary', () => {
    const md = runCli(['report', '--format', 'md', '--db', db]).stdout;
    expect(md).toContain('## Verified, with warnings (2)');
    expect(md).toContain('| subject.eml |');
    const row = md.split('\n').find((line) => line.startsWith('| warned.eml |'));
    expect(row).toContain('| Wire today | `display-name-address` The From field&#39;s display name reads as the address ceo<!-- -->@bank.example');
    expect(md).not.toContain('plain.eml');
    expect(md).not.toContain('covers what the reader sees');
  });

  it('is listed, with its warning escaped, in the HTML report, and marked in its table row and details', () => {
    const html = runCli(['report', '--format', 'html', '--db', db]).stdout;
    expect(html).toContain('<li><a href="#warned">Verified, with warnings</a></li>');
    const section = html.slice(html.indexOf('<section class="block" id="warned"'), html.indexOf('</section>', html.indexOf('id="warned"')));
    expect(section).toContain('<h2 id="warned-h">Verified, with warnings (2)</h2>');
    expect(section).toMatch(/<a href="#msg-\d+">New bank details<\/a>[^]*<code>visible-headers-unsigned<\/code>: The body, From, To and Date are verified/);
    expect(section).toContain('<code>display-name-address</code>: The From field&#39;s display name reads as the address ceo@bank.example');
    expect(section).not.toContain('plain.eml');
    const row = (file: string): string => html.split('\n').find((line) => line.startsWith('<tr data-verdict=') && line.includes(`>${file}<`))!;
    expect(row('warned.eml')).toContain('<span class="badge verified">verified</span> <span class="badge warned"');
    expect(row('subject.eml')).toContain('class="badge warned"');
    expect(row('plain.eml')).toContain('<span class="badge verified">verified</span></td>');
    expect(html.match(/<summary><span class="badge verified">verified<\/span> <span class="badge warned"/g)).toHaveLength(2);
    expect(runCli(['report', '--format', 'html', '--db', db, '--verdict', 'suspicious']).stdout).not.toContain('id="warned"');
  });

  it('is not listed when the summary keeps to another verdict', () => {
    expect(runCli(['report', '--db', db, '--verdict', 'suspicious']).stdout).not.toContain('Verified, with warnings');
    const json = JSON.parse(runCli(['report', '--format', 'json', '--db', db]).stdout) as { verifiedWithWarnings: { total: number; messages: Array<{ path: string; warnings: Array<{ code: string }> }> } };
    expect(json.verifiedWithWarnings.total).toBe(2);
    expect(json.verifiedWithWarnings.messages.map((m) => [m.path, m.warnings.map((w) => w.code)])).toEqual([
      ['subject.eml', ['visible-headers-unsigned']],
      ['warned.eml', ['display-name-address']],
    ]);
  });
});
