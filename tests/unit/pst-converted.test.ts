/**
 * Mail converted from an Outlook PST, the form in which a hacked Exchange mailbox often leaks.
 * readpst (libpst) writes every message anew; pffexport (libpff) writes each message's header
 * fields alone (InternetHeaders.txt) and its text apart. Either way every DKIM body hash fails on
 * genuine mail: before, each such message was suspicious (dkim-body-modified, "only the body was
 * changed"), and a converted PST was suspicious from end to end.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { parseHeaders } from '../../src/read/headers.ts';
import { headerBlockOnly, rebuiltByConverter } from '../../src/read/rebuilt-by-converter.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { CORPUS_SKIP_NOTE, HAS_CORPUS, corpusFile, dnsJsonLookup } from '../helpers/corpus.ts';
import { LIBPST_BOUNDARY, readpstRebuild } from '../helpers/readpst.ts';
import { plainMessage, rsaKey, SIGN_TIME, signed, tableLookup, type TestKey } from './support/signing.ts';
import { exportRows } from '../helpers/in-process.ts';

let key: TestKey;
beforeAll(() => {
  key = rsaKey(2048);
});

const TEXT = 'Hi Bob,\n\nThe numbers are attached as promised.\n\nAlice\n';
const sign = (m: string, headerList: string) => signed(m, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, headerList });
const analyze = (m: string) => analyzeMessage({ raw: Buffer.from(m, 'latin1'), format: 'eml' }, tableLookup({ 'sel1._domainkey.example.com': key.txt }));
/** Gmail's h=: no Content-Type */
const GMAIL_LIKE = 'mime-version:from:date:message-id:subject:to';
/** outlook.com's and iCloud's h=: Content-Type too */
const WITH_CONTENT_TYPE = 'from:date:subject:message-id:content-type:mime-version';

const fieldsOf = (m: string) => parseHeaders(Buffer.from(m, 'latin1')).fields;

describe('readpst: a message rebuilt from an Outlook PST', () => {
  it('is recognised by the boundary readpst writes on the message, and by nothing less', () => {
    const rebuilt = readpstRebuild(plainMessage(), { text: TEXT });
    expect(rebuiltByConverter(fieldsOf(rebuilt))).toMatchObject({ boundary: LIBPST_BOUNDARY, rewrittenFields: expect.arrayContaining(['content-type', 'mime-version']) });
    const near = [
      rebuilt.replace(LIBPST_BOUNDARY, 'boundary-LibPST-iamunique-1804289383_-_-'),
      rebuilt.replace(LIBPST_BOUNDARY, '--boundary-LibPST-iamunique-x_-_-'),
      rebuilt.replace('Content-Type: multipart/mixed;', 'Content-Type: text/plain;'),
      plainMessage(),
    ];
    for (const m of near) expect(rebuiltByConverter(fieldsOf(m))).toBeNull();
  });

  it('a genuine message whose signed headers still verify is unverifiable, not suspicious', async () => {
    const a = await analyze(readpstRebuild(await sign(plainMessage(), GMAIL_LIKE), { text: TEXT }));
    expect(a.signatures[0]).toMatchObject({ outcome: 'body-modified', headerSignatureValid: true });
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['message-rebuilt-by-converter']);
    expect(a.verdict.explanation).toContain('readpst');
    expect(a.verdict.explanation).toContain('The signed headers still verify');
    const finding = a.findings.find((f) => f.code === 'message-rebuilt-by-converter');
    expect(finding).toMatchObject({
      severity: 'warning',
      evidence: { signature: '#1 d=example.com s=sel1', boundary: LIBPST_BOUNDARY, headerSignatureValid: true, rewrittenFieldsSigned: ['mime-version'] },
    });
  });

  it('a signature over Content-Type, which readpst writes anew, cannot verify its headers either: unverifiable, and the text says why', async () => {
    const a = await analyze(readpstRebuild(await sign(plainMessage(), WITH_CONTENT_TYPE), { text: TEXT }));
    expect(a.signatures[0]).toMatchObject({ outcome: 'body-modified', headerSignatureValid: false });
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['message-rebuilt-by-converter']);
    expect(a.verdict.explanation).toContain('the signature covers mime-version and content-type, which the converter writes anew');
    expect(a.findings.find((f) => f.code === 'message-rebuilt-by-converter')?.evidence['rewrittenFieldsSigned']).toEqual(['mime-version', 'content-type']);
  });

  it('a signed header readpst keeps, changed, is still evidence: suspicious', async () => {
    const rebuilt = readpstRebuild(await sign(plainMessage(), 'from:date:message-id:subject:to'), { text: TEXT });
    const a = await analyze(rebuilt.replace('Subject: Quarterly numbers', 'Subject: Quarterly numbers (revised)'));
    expect(a.signatures[0]).toMatchObject({ outcome: 'body-modified', headerSignatureValid: false });
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-signature-mismatch']);
    expect(a.verdict.explanation).toContain('they cover none of the fields the converter writes anew: a header field it keeps was changed');
  });

  // readpst keeps Bcc since libpst 0.6.55 (red team X, X-06): a signature over it is judged as over any field readpst keeps
  it('a changed signed header under a signature that also covers Bcc, which readpst keeps, is suspicious', async () => {
    const withBcc = plainMessage({ extraHeaders: ['Bcc: carol@example.org'] });
    const rebuilt = readpstRebuild(await sign(withBcc, 'from:to:subject:date:message-id:bcc'), { text: TEXT });
    expect(rebuilt).toContain('Bcc: carol@example.org');
    const a = await analyze(rebuilt.replace('Subject: Quarterly numbers', 'Subject: Quarterly numbers (revised)'));
    expect(a.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-signature-mismatch'] });
  });

  it('the same body change under any other boundary stays suspicious', async () => {
    const rebuilt = readpstRebuild(await sign(plainMessage(), GMAIL_LIKE), { text: TEXT }, '----=_Part_0_1804289383');
    const a = await analyze(rebuilt);
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
    expect(a.findings.map((f) => f.code)).not.toContain('message-rebuilt-by-converter');
  });

  it('the CLI: beside a verified copy of the same message, the rebuilt copy is told apart, not called altered', async () => {
    const dir = tempDir();
    try {
      const genuine = await sign(plainMessage(), GMAIL_LIKE);
      mkdirSync(join(dir.path, 'dump'));
      writeFileSync(join(dir.path, 'dump/sent.eml'), genuine, 'latin1');
      writeFileSync(join(dir.path, 'dump/from-pst.eml'), readpstRebuild(genuine, { text: TEXT, html: '<p>Hi Bob,</p><p>The numbers are attached as promised.</p><p>Alice</p>' }), 'latin1');
      // readpst's copy with its Subject changed: a visible header differs from the verified copy's
      const changed = readpstRebuild(genuine, { text: TEXT }, '--boundary-LibPST-iamunique-42_-_-').replace('Subject: Quarterly numbers', 'Subject: Quarterly numbers (revised)');
      writeFileSync(join(dir.path, 'dump/changed.eml'), changed, 'latin1');
      writeFileSync(join(dir.path, 'keys.json'), JSON.stringify({ 'sel1._domainkey.example.com': key.txt }));
      const db = join(dir.path, 'case.db');
      const run = runCli(['verify', join(dir.path, 'dump'), '--keys', join(dir.path, 'keys.json'), '--offline', '--db', db, '--quiet']);
      expect(run.stderr).toBe('');
      const rows = exportRows<Record<string, unknown>>(db);
      const byName = (name: string) => rows.find((r) => r['path'] === name)!;
      expect(byName('sent.eml')).toMatchObject({ verdict: 'verified' });
      expect(byName('from-pst.eml')).toMatchObject({ verdict: 'unverifiable', reasons: ['message-rebuilt-by-converter'] });
      const codes = (name: string) => (byName(name)['findings'] as Array<{ code: string }>).map((f) => f.code);
      expect(codes('from-pst.eml')).toContain('copy-rebuilt-by-converter');
      expect(codes('from-pst.eml')).not.toContain('conflicting-copy');
      expect(byName('changed.eml')).toMatchObject({ verdict: 'suspicious' });
      expect(codes('changed.eml')).toContain('conflicting-copy');
      const shown = runCli(['show', 'from-pst.eml', '--db', db]).stdout;
      expect(shown).toContain('message-rebuilt-by-converter');
      expect(shown).toContain('still verifies; the body was written anew by a converter');
    } finally {
      dir.cleanup();
    }
  });
});

describe('readpst copies across the dump: the attachments are still compared, the text is not', () => {
  const PDF = Buffer.from('%PDF-1.4 genuine contract: price 100,000 EUR\n');
  const FORGED = Buffer.from('%PDF-1.4 FORGED contract: price 900,000 EUR, paid offshore\n');
  const withAttachment = (): string =>
    plainMessage({ extraHeaders: [] })
      .replace('Content-Type: text/plain; charset=us-ascii', 'Content-Type: multipart/mixed; boundary="b1"')
      .replace(/\r\n\r\n[\s\S]*$/, `\r\n\r\n--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n${TEXT.replace(/\n/g, '\r\n')}--b1\r\nContent-Type: application/pdf; name="contract.pdf"\r\nContent-Disposition: attachment; filename="contract.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${PDF.toString('base64')}\r\n--b1--\r\n`);

  it('a readpst-shaped copy carrying another document is altered; one carrying the same is not; copies from several PSTs are not told apart for their bodies', async () => {
    const dir = tempDir();
    try {
      const genuine = await sign(withAttachment(), GMAIL_LIKE);
      mkdirSync(join(dir.path, 'dump/verified'), { recursive: true });
      mkdirSync(join(dir.path, 'dump/unproven'), { recursive: true });
      writeFileSync(join(dir.path, 'dump/verified/sent.eml'), genuine, 'latin1');
      const attachment = (content: Buffer) => [{ filename: 'contract.pdf', contentType: 'application/pdf', content }];
      // (with the HTML Outlook kept, the text reads otherwise than the sent copy's: only the attachments can be compared)
      writeFileSync(join(dir.path, 'dump/verified/same.eml'), readpstRebuild(genuine, { text: TEXT, html: '<p>Hi Bob</p>', attachments: attachment(PDF) }), 'latin1');
      writeFileSync(join(dir.path, 'dump/verified/forged.eml'), readpstRebuild(genuine, { text: TEXT, attachments: attachment(FORGED) }, '--boundary-LibPST-iamunique-7_-_-'), 'latin1');
      // another message, only in PSTs: two readpst copies (one with HTML kept) and pffexport's header block
      const other = (await sign(withAttachment().replace('<20160314092650.1234@example.com>', '<only-in-psts@example.com>'), GMAIL_LIKE)).replace(/\r\n/g, '\n');
      writeFileSync(join(dir.path, 'dump/unproven/a.eml'), readpstRebuild(other, { text: TEXT, html: '<p>Hi Bob</p>', attachments: attachment(PDF) }), 'latin1');
      writeFileSync(join(dir.path, 'dump/unproven/b.eml'), readpstRebuild(other, { text: TEXT, attachments: attachment(PDF) }, '--boundary-LibPST-iamunique-9_-_-'), 'latin1');
      writeFileSync(join(dir.path, 'dump/unproven/InternetHeaders.txt'), other.slice(0, other.indexOf('\n\n') + 1), 'latin1');
      writeFileSync(join(dir.path, 'keys.json'), JSON.stringify({ 'sel1._domainkey.example.com': key.txt }));
      const db = join(dir.path, 'case.db');
      expect(runCli(['verify', join(dir.path, 'dump'), '--keys', join(dir.path, 'keys.json'), '--offline', '--db', db, '--quiet']).stderr).toBe('');
      const rows = exportRows<{ path: string; verdict: string; findings: Array<{ code: string }> }>(db);
      const codes = (path: string) => rows.find((r) => r.path === path)!.findings.map((f) => f.code);
      expect(rows.find((r) => r.path === 'verified/same.eml')).toMatchObject({ verdict: 'unverifiable' });
      expect(codes('verified/same.eml')).toContain('copy-rebuilt-by-converter');
      expect(rows.find((r) => r.path === 'verified/forged.eml')).toMatchObject({ verdict: 'suspicious' });
      expect(codes('verified/forged.eml')).toContain('conflicting-copy');
      for (const path of ['unproven/a.eml', 'unproven/b.eml', 'unproven/InternetHeaders.txt']) {
        expect(rows.find((r) => r.path === path), path).toMatchObject({ verdict: 'unverifiable' });
        expect(codes(path), path).not.toContain('divergent-copies');
      }
    } finally {
      dir.cleanup();
    }
  });
});

describe.skipIf(!HAS_CORPUS)(`readpst: real Gmail and outlook.com mail rebuilt from a PST${CORPUS_SKIP_NOTE}`, () => {
  for (const name of ['message-gmail.txt', 'message-outlook.txt']) {
    it(`${name}: verified as received, unverifiable once rebuilt`, async () => {
      const raw = corpusFile('hamcrest-mail', `messages/${name}`);
      const lookup = () => dnsJsonLookup('hamcrest-mail');
      expect((await analyzeMessage({ raw, format: 'eml' }, lookup())).verdict.verdict).toBe('verified');
      const rebuilt = readpstRebuild(raw.toString('latin1'), { text: 'The text Outlook kept.\n', html: '<p>The text Outlook kept.</p>' });
      const a = await analyzeMessage({ raw: Buffer.from(rebuilt, 'latin1'), format: 'eml' }, lookup());
      expect(a.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['message-rebuilt-by-converter'] });
    });
  }
});

describe('pffexport: a message whose file holds its header fields and no body', () => {
  const headerBlock = (m: string) => m.slice(0, m.indexOf('\r\n\r\n') + 2);
  const only = (m: string) => {
    const headers = parseHeaders(Buffer.from(m, 'latin1'));
    return headerBlockOnly(Buffer.from(m, 'latin1'), headers.headerBytes, headers.hasBody);
  };

  it('is told by the bytes: no blank line, or nothing after it but line ends and blanks', () => {
    const m = plainMessage();
    expect(only(headerBlock(m))).toBe(true);
    expect(only(`${headerBlock(m)}\r\n`)).toBe(true);
    expect(only(`${headerBlock(m)}\r\n \r\n\t\r\n`)).toBe(true);
    expect(only(`${headerBlock(m)}\r\nx`)).toBe(false);
    expect(only(m)).toBe(false);
    // a line that is no header field, with no blank line above it, is where mail programs begin
    // the body (red team X, X-02); Exchange's first line is allowed
    expect(only(`${headerBlock(m)}Jordan,\r\nwire the money today.\r\n`)).toBe(false);
    expect(only(`Microsoft Mail Internet Headers Version 2.0\r\n${headerBlock(m)}`)).toBe(true);
  });

  it('a forged text written with no blank line above it is a body: suspicious', async () => {
    const a = await analyze(`${headerBlock(await sign(plainMessage(), GMAIL_LIKE))}Bob,\r\nwire the money today.\r\n`);
    expect(a.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-body-modified'] });
    expect(a.findings.map((f) => f.code)).not.toContain('body-not-in-file');
  });

  for (const [shape, ending] of [['with no blank line', ''], ['ending in a blank line', '\r\n']] as const) {
    it(`a genuine header block ${shape} is unverifiable (body-not-in-file), its signed headers named as verifying`, async () => {
      const a = await analyze(headerBlock(await sign(plainMessage(), GMAIL_LIKE)) + ending);
      expect(a.signatures[0]).toMatchObject({ outcome: 'body-modified', headerSignatureValid: true });
      expect(a.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['body-not-in-file'] });
      expect(a.verdict.explanation).toContain('holds the message\'s header fields and no body');
      expect(a.findings.find((f) => f.code === 'body-not-in-file')).toMatchObject({ severity: 'warning', evidence: { headerSignatureValid: true } });
    });
  }

  it('a changed signed header in a header block is still suspicious', async () => {
    const block = headerBlock(await sign(plainMessage(), GMAIL_LIKE)).replace('Subject: Quarterly numbers', 'Subject: Quarterly numbers (revised)');
    const a = await analyze(block);
    expect(a.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-signature-mismatch'] });
  });

  it('a body cut to a single line is not "no body": suspicious', async () => {
    const a = await analyze(`${headerBlock(await sign(plainMessage(), GMAIL_LIKE))}\r\nHi Bob,\r\n`);
    expect(a.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-body-modified'] });
  });

  it('the CLI: a PST exported by pffexport, beside a verified copy of one of its messages', async () => {
    const dir = tempDir();
    try {
      const genuine = await sign(plainMessage(), GMAIL_LIKE);
      const item = join(dir.path, 'dump/mailbox.export/Top of Personal Folders/Inbox/Message00001');
      mkdirSync(item, { recursive: true });
      // pffexport writes LF line ends, the header fields as Outlook stored them
      writeFileSync(join(item, 'InternetHeaders.txt'), headerBlock(genuine).replace(/\r\n/g, '\n'), 'latin1');
      writeFileSync(join(item, 'Message.txt'), TEXT);
      writeFileSync(join(dir.path, 'dump/sent.eml'), genuine, 'latin1');
      writeFileSync(join(dir.path, 'keys.json'), JSON.stringify({ 'sel1._domainkey.example.com': key.txt }));
      const db = join(dir.path, 'case.db');
      const run = runCli(['verify', join(dir.path, 'dump'), '--keys', join(dir.path, 'keys.json'), '--offline', '--db', db, '--quiet']);
      expect(run.stderr).toBe('');
      const rows = exportRows<Record<string, unknown>>(db);
      const headers = rows.find((r) => String(r['path']).endsWith('InternetHeaders.txt'))!;
      expect(headers).toMatchObject({ verdict: 'unverifiable', reasons: ['body-not-in-file'] });
      const codes = (headers['findings'] as Array<{ code: string }>).map((f) => f.code);
      expect(codes).toContain('copy-body-not-in-file');
      expect(codes).not.toContain('conflicting-copy');
      expect(rows.find((r) => r['path'] === 'sent.eml')).toMatchObject({ verdict: 'verified' });
    } finally {
      dir.cleanup();
    }
  });
});
