import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { inventoryParts } from '../../src/attachments/inventory.ts';
import { partsWithUnpinnedWhitespace } from '../../src/attachments/layout.ts';
import { paddedDelimiterLine } from '../../src/attachments/padded-delimiters.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { DATE_HEADER, rsaKey, SIGN_TIME, signed, tableLookup, type TestKey } from '../unit/support/signing.ts';

/**
 * What a signature proves about an attachment's bytes (red team 10, findings 01, 02 and 10):
 * relaxed canonicalization lets whitespace inside a part that is not base64 change, either
 * canonicalization lets empty lines be added at the end of a part no delimiter closes, and a
 * delimiter followed by transport padding is read one way by mail programs and another by the
 * parser the inventory follows. Only bytes the signature fixes are `verified-content`.
 */

let key: TestKey;
beforeAll(() => {
  key = rsaKey(2048);
});

const CRLF = '\r\n';
const lines = (...l: string[]): string => l.join(CRLF);
const PDF = Buffer.from('%PDF-1.4\n% a genuine contract\n%%EOF\n').toString('base64');
const TSV = 'name\tapproved\tamount\r\nAlice\t\t500\r\nBob\tyes\t20';

function multipart(parts: string[][], options: { closed?: boolean; boundary?: string } = {}): string {
  const b = options.boundary ?? 'b1';
  return lines(
    'From: Alice <alice@example.com>',
    'To: bob@example.org',
    'Subject: the ledger',
    `Date: ${DATE_HEADER}`,
    'Message-ID: <ledger@example.com>',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${b}"`,
    '',
    ...parts.flatMap((part) => [`--${b}`, ...part]),
    ...(options.closed === false ? [''] : [`--${b}--`, '']),
  );
}

const textPart = ['Content-Type: text/plain', '', 'Ledger and contract attached.'];
const tsvPart = ['Content-Type: text/tab-separated-values; name="ledger.tsv"', 'Content-Disposition: attachment; filename="ledger.tsv"', 'Content-Transfer-Encoding: 7bit', '', TSV];
const pdfPart = (name = 'contract.pdf') => ['Content-Type: application/pdf', `Content-Disposition: attachment; filename="${name}"`, 'Content-Transfer-Encoding: base64', '', PDF];

const sign = (message: string, canonicalization: string, headerList = 'from:to:subject:date:message-id:content-type:content-transfer-encoding'): Promise<string> =>
  signed(message, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, canonicalization, headerList });

const analyze = (message: string): Promise<MessageAnalysis> =>
  analyzeMessage({ raw: Buffer.from(message, 'latin1'), format: 'eml' }, tableLookup({ 'sel1._domainkey.example.com': key.txt }));

const strengths = (a: MessageAnalysis): Record<string, string> => Object.fromEntries(a.parts.map((p) => [p.filename ?? `#${p.partIndex}`, p.strength]));

describe('which covered parts a signature pins byte for byte', () => {
  it('relaxed: a part that is not base64 is covered except its whitespace, and an edit of its whitespace still verifies', async () => {
    const genuine = await sign(multipart([textPart, tsvPart, pdfPart()]), 'relaxed/relaxed');
    const a = await analyze(genuine);
    expect(a.verdict.verdict).toBe('verified');
    expect(strengths(a)).toEqual({ 'ledger.tsv': 'covered-except-whitespace', 'contract.pdf': 'verified-content' });
    // the forger's edit: 500 moves under "approved"; the signature does not see it
    const edited = genuine.replace('Alice\t\t500', 'Alice\t500  ');
    const b = await analyze(edited);
    expect(b.verdict.verdict).toBe('verified');
    expect(b.parts.find((p) => p.filename === 'ledger.tsv')!.sha256).not.toBe(a.parts.find((p) => p.filename === 'ledger.tsv')!.sha256);
    expect(strengths(b)['ledger.tsv']).toBe('covered-except-whitespace');
  });

  it('simple: a closed part is pinned, whatever its encoding; the same edit breaks the signature', async () => {
    const genuine = await sign(multipart([textPart, tsvPart, pdfPart()]), 'simple/simple');
    const a = await analyze(genuine);
    expect(a.verdict.verdict).toBe('verified');
    expect(strengths(a)).toEqual({ 'ledger.tsv': 'verified-content', 'contract.pdf': 'verified-content' });
    expect((await analyze(genuine.replace('Alice\t\t500', 'Alice\t500  '))).verdict.verdict).toBe('suspicious');
  });

  it('simple: a last part no delimiter closes, and the body of a single-part message, may gain empty lines', async () => {
    const unclosed = await sign(multipart([textPart, pdfPart(), tsvPart], { closed: false }), 'simple/simple');
    const a = await analyze(`${unclosed}\r\n\r\n`);
    expect(a.verdict.verdict).toBe('verified');
    expect(strengths(a)).toEqual({ 'contract.pdf': 'verified-content', 'ledger.tsv': 'covered-except-whitespace' });

    const single = await sign(
      lines('From: Alice <alice@example.com>', 'Subject: pay', `Date: ${DATE_HEADER}`, 'Content-Type: text/csv; name="pay.csv"', 'Content-Disposition: attachment; filename="pay.csv"', 'Content-Transfer-Encoding: 7bit', '', 'to,amount', 'Bob,20', ''),
      'simple/simple',
    );
    const b = await analyze(`${single}\r\n\r\n\r\n`);
    expect(b.verdict.verdict).toBe('verified');
    expect(strengths(b)).toEqual({ 'pay.csv': 'covered-except-whitespace' });

    const singlePdf = await sign(
      lines('From: Alice <alice@example.com>', 'Subject: pdf', `Date: ${DATE_HEADER}`, 'Content-Type: application/pdf; name="c.pdf"', 'Content-Transfer-Encoding: base64', '', PDF, ''),
      'simple/simple',
    );
    expect(strengths(await analyze(singlePdf))).toEqual({ 'c.pdf': 'verified-content' });
  });

  it('a single-part message: its Content-Transfer-Encoding must be signed, or the same signed body decodes to other bytes', async () => {
    const message = lines('From: Alice <alice@example.com>', 'Subject: pdf', `Date: ${DATE_HEADER}`, 'Content-Type: application/pdf; name="c.pdf"', 'Content-Transfer-Encoding: base64', '', PDF, '');
    const unsigned = await sign(message, 'simple/simple', 'from:subject:date:content-type');
    expect(strengths(await analyze(unsigned))).toEqual({ 'c.pdf': 'not-covered' });
    const swapped = await analyze(unsigned.replace('Content-Transfer-Encoding: base64', 'Content-Transfer-Encoding: 7bit'));
    expect(swapped.verdict.verdict).toBe('verified');
    expect(strengths(swapped)).toEqual({ 'c.pdf': 'not-covered' });
    expect(swapped.parts[0]!.sha256).not.toBe((await analyze(unsigned)).parts[0]!.sha256);
    // absent and so not in h=: anyone may add one ("base64" over a 7bit body)
    const absent = await sign(message.replace('Content-Transfer-Encoding: base64\r\n', ''), 'simple/simple');
    expect(absent.slice(0, absent.indexOf('\r\nFrom:'))).not.toMatch(/transfer-encoding/i);
    expect(strengths(await analyze(absent))).toEqual({ 'c.pdf': 'not-covered' });
  });

  it('two proving signatures: a part is as strong as the best makes it, whichever field is on top (red team Y, Y-20)', async () => {
    const message = multipart([textPart, pdfPart()]);
    const withCt = { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, headerList: 'from:to:subject:date:message-id:content-type' };
    const withoutCt = { ...withCt, selector: 'sel2', headerList: 'from:to:subject:date:message-id' };
    const lookup = tableLookup({ 'sel1._domainkey.example.com': key.txt, 'sel2._domainkey.example.com': key.txt });
    for (const [first, top] of [[withoutCt, withCt], [withCt, withoutCt]]) {
      const both = await signed(await signed(message, first!), top!);
      const a = await analyzeMessage({ raw: Buffer.from(both, 'latin1'), format: 'eml' }, lookup);
      expect(a.verdict.verdict).toBe('verified');
      expect(a.verdict.provenBy).toHaveLength(2);
      expect(strengths(a)).toEqual({ 'contract.pdf': 'verified-content' });
    }
  });

  it('partsWithUnpinnedWhitespace reads the declared encoding in any case, and only base64 counts as pinned', async () => {
    const message = Buffer.from(multipart([pdfPart().map((l) => l.replace('base64', 'BASE64')), ['Content-Type: application/octet-stream; name="q.bin"', 'Content-Transfer-Encoding: quoted-printable', '', 'a=3Db']]), 'latin1');
    const { parts } = await inventoryParts(message);
    expect(parts.map((p) => p.transferEncoding)).toEqual(['base64', 'quoted-printable']);
    expect(await partsWithUnpinnedWhitespace(message, parts, 'relaxed')).toEqual(new Set([2]));
    expect(await partsWithUnpinnedWhitespace(message, parts, 'simple')).toEqual(new Set());
  });
});

describe('delimiters with transport padding', () => {
  it('a verified message whose delimiter gained padding counts none of its parts as verified content, and says why', async () => {
    const genuine = await sign(multipart([textPart, pdfPart(), pdfPart('annex.pdf')]), 'relaxed/relaxed');
    expect(strengths(await analyze(genuine))).toEqual({ 'contract.pdf': 'verified-content', 'annex.pdf': 'verified-content' });
    // after the contract: a mail program still saves two files, mailsplit reads one
    const at = genuine.lastIndexOf('--b1\r\nContent-Type: application/pdf');
    const padded = `${genuine.slice(0, at)}--b1  ${genuine.slice(at + 4)}`;
    const a = await analyze(padded);
    expect(a.verdict.verdict).toBe('verified');
    expect(a.parts.every((p) => p.strength === 'not-covered')).toBe(true);
    const finding = a.findings.find((f) => f.code === 'mime-delimiter-padded');
    expect(finding).toMatchObject({ severity: 'info', evidence: { delimiter: '--b1  ' } });
    expect(padded.split('\r\n')[(finding!.evidence['line'] as number) - 1]).toBe('--b1  ');
  });

  it('paddedDelimiterLine: only a declared boundary, plain or closing, followed by spaces or tabs', () => {
    const find = (body: string[], boundary = 'b1'): string | null => {
      const message = Buffer.from(lines(`Content-Type: multipart/mixed;\r\n boundary=${boundary}`, '', ...body, ''), 'latin1');
      return paddedDelimiterLine(message, message.indexOf('\r\n\r\n') + 4)?.text ?? null;
    };
    expect(find(['--b1', 'x', '--b1--'])).toBeNull();
    expect(find(['--b1 ', 'x', '--b1--'])).toBe('--b1 ');
    expect(find(['--b1', 'x', '--b1--\t'])).toBe('--b1--\t');
    expect(find(['--b1', 'x', '--b1--  '], 'b1--')).toBe('--b1--  ');
    // a signature separator, a dashed rule, a boundary the message does not declare
    expect(find(['--b1', '-- ', 'Alice', '---------- ', '--other ', '--b1--'])).toBeNull();
    // padding of any length (red team 11, 02: 1,200 spaces passed a bound on the whole line)
    expect(find(['--b1' + ' '.repeat(1200), 'x', '--b1--'])).toBe('--b1[1200 blanks]');
    expect(find(['--b1' + '\t'.repeat(5000) + '\r', 'x', '--b1--'])).toBe('--b1[5001 blanks]');
    // the first line of the body counts too
    expect(find(['--b1\t', 'x', '--b1--'])).toBe('--b1\t');
    // a boundary of regular-expression characters is matched as text
    expect(find(['--a.b+ ', 'x', '--a.b+--'], '"a.b+"')).toBe('--a.b+ ');
    expect(find(['--axb+ ', 'x', '--a.b+--'], '"a.b+"')).toBeNull();
    // RFC 2231 spellings of the parameter
    const declaredAs = (parameter: string): string | null => {
      const message = Buffer.from(lines(`Content-Type: multipart/mixed; ${parameter}`, '', '--b1 ', 'x', '--b1--', ''), 'latin1');
      return paddedDelimiterLine(message, message.indexOf('\r\n\r\n') + 4)?.text ?? null;
    };
    expect(declaredAs("boundary*=''b1")).toBe('--b1 ');
    expect(declaredAs("boundary*0*=us-ascii'en'b1")).toBe('--b1 ');
    expect(declaredAs('BOUNDARY = "b1"')).toBe('--b1 ');
    expect(declaredAs('boundary="b12"')).toBeNull();
    // a boundary spelt in segments, joined (plain, quoted, extended with %XX, folded across lines)
    expect(declaredAs('boundary*0=b; boundary*1=1')).toBe('--b1 ');
    expect(declaredAs('boundary*0="b";\r\n boundary*1="1"')).toBe('--b1 ');
    expect(declaredAs("boundary*0*=us-ascii''%62; boundary*1*=%31")).toBe('--b1 ');
    expect(declaredAs('boundary*0=b; boundary*1=12')).toBeNull();
    expect(declaredAs('boundary*1=b1')).toBeNull();
  });
});

describe('loose documents against attachments whose bytes are not pinned (the CLI)', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('a document equal to a whitespace-edited attachment is only seen in an email; a genuine one beside a padded copy has no name conflict', async () => {
    const dump = join(tmp.path, 'dump');
    mkdirSync(join(dump, 'docs'), { recursive: true });
    const ledger = await sign(multipart([textPart, tsvPart]), 'relaxed/relaxed');
    const edited = 'name\tapproved\tamount\r\nAlice\t500  \r\nBob\tyes\t20';
    writeFileSync(join(dump, 'ledger.eml'), ledger.replace(TSV, edited), 'latin1');
    writeFileSync(join(dump, 'docs/ledger.tsv'), edited, 'latin1');
    const contract = await sign(multipart([textPart, pdfPart(), pdfPart('annex.pdf')], { boundary: 'b2' }), 'relaxed/relaxed');
    const at = contract.lastIndexOf('--b2\r\nContent-Type: application/pdf');
    writeFileSync(join(dump, 'padded.eml'), `${contract.slice(0, at)}--b2 \t${contract.slice(at + 4)}`, 'latin1');
    writeFileSync(join(dump, 'docs/contract.pdf'), Buffer.from(PDF, 'base64'));
    const keys = join(tmp.path, 'keys.json');
    writeFileSync(keys, JSON.stringify({ 'sel1._domainkey.example.com': [key.txt] }));
    const db = join(tmp.path, 'x.db');
    const verify = runCli(['verify', dump, '--keys', keys, '--offline', '--db', db, '--quiet', '--json']);
    expect(verify.status, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout).verdicts).toMatchObject({ verified: 2 });

    const rows = runCli(['documents', '--format', 'jsonl', '--db', db]).stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; status: string; name_conflicts: unknown[]; matching_messages: Array<{ strength: string }> });
    expect(rows.map((r) => [r.path, r.status, r.name_conflicts.length, r.matching_messages.map((m) => m.strength)])).toEqual([
      // mailsplit reads the two PDFs as one part of merged bytes, which no longer counts: no red flag
      ['docs/contract.pdf', 'no-email-match', 0, []],
      ['docs/ledger.tsv', 'seen-in-unverified-email', 0, ['covered-except-whitespace']],
    ]);
    const text = runCli(['documents', '--db', db]).stdout;
    expect(text).toContain('its signature does not fix the whitespace of this attachment');
    expect(text).not.toContain('RED FLAG');
    // show lists each part with what the verdict proves of it
    const shown = runCli(['show', 'ledger.eml', '--db', db]).stdout;
    expect(shown).toMatch(/Attachments \(1\)\n {2}#1 ledger\.tsv {2}text\/tab-separated-values, \d+ bytes, 7bit {2}covered-except-whitespace\n {5}sha256 [0-9a-f]{64}\n/);
    const json = JSON.parse(runCli(['show', 'padded.eml', '--json', '--db', db]).stdout) as { attachments: Array<{ filename: string; strength: string }> };
    expect(json.attachments.map((a) => [a.filename, a.strength])).toEqual([['contract.pdf', 'not-covered']]);
    const html = runCli(['report', '--format', 'html', '--db', db]).stdout;
    expect(html).toContain('signed by example.com, 2016-03-14; its signature does not fix the whitespace of this attachment)');
  });
});
