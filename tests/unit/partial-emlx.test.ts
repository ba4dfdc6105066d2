/**
 * Apple Mail's `.partial.emlx` (red team 5, finding 01): the attachment's content is kept apart
 * (Attachments/NNN/<part>/<name>), its part left empty with an X-Apple-Content-Length header.
 * The body hash of a genuine message then fails: that is no evidence of a change.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { partsStoredApart } from '../../src/attachments/stored-apart.ts';
import { readEmlx } from '../../src/read/emlx.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { DATE_HEADER, rsaKey, SIGN_TIME, signed, tableLookup, type TestKey } from './support/signing.ts';
import { exportRows } from '../helpers/in-process.ts';

let key: TestKey;
beforeAll(() => {
  key = rsaKey(2048);
});

const PDF = Buffer.alloc(3000, 7);
const PDF_BASE64 = PDF.toString('base64').replace(/(.{76})/g, '$1\r\n');
const HEADERS = 'from:to:subject:date:message-id:mime-version:content-type';

function message(text = 'Figures attached.'): string {
  return [
    'From: Alice Example <alice@example.com>',
    'To: bob@example.org',
    'Subject: Q3 figures attached',
    `Date: ${DATE_HEADER}`,
    'Message-ID: <q3-figures@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="Apple-Mail=_B1"',
    '',
    '',
    '--Apple-Mail=_B1',
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Transfer-Encoding: 7bit',
    '',
    text,
    '',
    '--Apple-Mail=_B1',
    'Content-Disposition: attachment; filename=q3.pdf',
    'Content-Type: application/pdf; name="q3.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    PDF_BASE64,
    '',
    '--Apple-Mail=_B1--',
    '',
  ].join('\r\n');
}

/** The message as Apple Mail stores it with the attachment kept apart: the part emptied, its length noted. */
const partial = (whole: string): string =>
  whole.replace(
    /Content-Transfer-Encoding: base64\r\n\r\n[\s\S]*?\r\n--Apple-Mail=_B1--/,
    `Content-Transfer-Encoding: base64\r\nX-Apple-Content-Length: ${PDF_BASE64.length}\r\n\r\n\r\n--Apple-Mail=_B1--`,
  );

const PLIST = '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>\n\t<key>flags</key>\n\t<integer>8590195713</integer>\n</dict>\n</plist>\n';
const emlx = (m: string): Buffer => Buffer.from(`${Buffer.byteLength(m, 'latin1')}       \n${m}${PLIST}`, 'latin1');

const sign = (m: string, extra: { maxBodyLength?: number } = {}): Promise<string> =>
  signed(m, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, headerList: HEADERS, ...extra });
const lookup = () => tableLookup({ 'sel1._domainkey.example.com': key.txt });
const analyze = (file: Buffer) => analyzeMessage(readEmlx(file), lookup());

describe('partial emlx: a body stored apart', () => {
  it('finds the emptied part, its name, type and X-Apple-Content-Length', async () => {
    const found = await partsStoredApart(Buffer.from(partial(message()), 'latin1'));
    expect(found?.parts).toEqual([
      expect.objectContaining({ partId: '2', filename: 'q3.pdf', contentType: 'application/pdf', appleContentLength: PDF_BASE64.length }),
    ]);
    // a whole message, and a part that keeps its content beside the header, are not stored apart
    expect(await partsStoredApart(Buffer.from(message(), 'latin1'))).toBeNull();
    const kept = message().replace('Content-Transfer-Encoding: base64\r\n\r\n', 'Content-Transfer-Encoding: base64\r\nX-Apple-Content-Length: 4104\r\n\r\n');
    expect(await partsStoredApart(Buffer.from(kept, 'latin1'))).toBeNull();
  });

  it('a genuine message stored as a .partial.emlx is unverifiable (body-stored-apart), never suspicious', async () => {
    const a = await analyze(emlx(partial(await sign(message()))));
    expect(a.signatures[0]).toMatchObject({ outcome: 'body-modified', headerSignatureValid: true });
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['body-stored-apart']);
    expect(a.verdict.explanation).toContain('part 2 (q3.pdf, application/pdf');
    expect(a.verdict.explanation).toContain('Attachments/N/2/q3.pdf');
    const finding = a.findings.find((f) => f.code === 'body-stored-apart');
    expect(finding).toMatchObject({ severity: 'warning', evidence: { signature: '#1 d=example.com s=sel1', headerSignatureValid: true } });
    expect(finding!.evidence['parts']).toEqual([{ partId: '2', filename: 'q3.pdf', contentType: 'application/pdf', appleContentLength: PDF_BASE64.length }]);
  });

  it('the same message stored whole still verifies', async () => {
    const a = await analyze(emlx(await sign(message())));
    expect(a.verdict.verdict).toBe('verified');
    expect(a.findings.map((f) => f.code)).not.toContain('body-stored-apart');
  });

  it('a changed signed header on the partial file stays suspicious', async () => {
    const changed = partial(await sign(message())).replace('Subject: Q3 figures attached', 'Subject: Q4 figures attached');
    const a = await analyze(emlx(changed));
    expect(a.signatures[0]).toMatchObject({ outcome: 'body-modified', headerSignatureValid: false });
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-signature-mismatch']);
    expect(a.verdict.explanation).toContain('signed headers were changed');
  });

  it('a body hash whose l= ends before the emptied part is not explained by it', async () => {
    // the signed length ends inside the text part: the emptied attachment was never hashed
    const whole = message();
    const textStart = whole.indexOf('Figures attached.');
    const bodyStart = whole.indexOf('\r\n\r\n') + 4;
    const genuine = partial(await sign(whole, { maxBodyLength: textStart - bodyStart + 5 }));
    const changed = genuine.replace('Figures attached.', 'Fiddled attached.');
    const a = await analyze(emlx(changed));
    expect(a.signatures[0]).toMatchObject({ outcome: 'body-modified' });
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
  });

  it('the CLI: a partial emlx beside its Attachments folder is unverifiable', async () => {
    const dir = tempDir();
    try {
      const messages = join(dir.path, 'dump/Mail/V6/INBOX.mbox/Messages');
      const attachments = join(dir.path, 'dump/Mail/V6/INBOX.mbox/Attachments/123/2');
      mkdirSync(messages, { recursive: true });
      mkdirSync(attachments, { recursive: true });
      writeFileSync(join(messages, '123.partial.emlx'), emlx(partial(await sign(message()))));
      writeFileSync(join(attachments, 'q3.pdf'), PDF);
      writeFileSync(join(messages, '124.emlx'), emlx(await sign(message('Other figures.').replace('q3-figures@', 'q4-figures@'))));
      writeFileSync(join(dir.path, 'keys.json'), JSON.stringify({ 'sel1._domainkey.example.com': key.txt }));
      const db = join(dir.path, 'case.db');
      const run = runCli(['verify', join(dir.path, 'dump'), '--keys', join(dir.path, 'keys.json'), '--offline', '--db', db, '--quiet']);
      expect(run.stderr).toBe('');
      const rows = exportRows<Record<string, unknown>>(db);
      const byName = (name: string) => rows.find((r) => String(r['path']).endsWith(name))!;
      expect(byName('123.partial.emlx')).toMatchObject({ verdict: 'unverifiable', reasons: ['body-stored-apart'] });
      expect(byName('124.emlx')).toMatchObject({ verdict: 'verified' });
      const shown = runCli(['show', 'Mail/V6/INBOX.mbox/Messages/123.partial.emlx', '--db', db]).stdout;
      expect(shown).toContain('Verdict: unverifiable');
      expect(shown).toContain('body-stored-apart');
      expect(shown).not.toContain('only the body changed');
    } finally {
      dir.cleanup();
    }
  });

  // A whole copy of the same message elsewhere in the dump (the Sent copy, another mailbox) made
  // the partial one suspicious: its attachment decodes to nothing, so the copies "differed".
  it('the CLI: a whole verified copy elsewhere does not make the partial copy suspicious; a changed Subject still does', async () => {
    const dir = tempDir();
    try {
      const inbox = join(dir.path, 'dump/Mail/V6/INBOX.mbox/Messages');
      const sent = join(dir.path, 'dump/Mail/V6/Sent.mbox/Messages');
      mkdirSync(inbox, { recursive: true });
      mkdirSync(sent, { recursive: true });
      const genuine = await sign(message());
      writeFileSync(join(inbox, '123.partial.emlx'), emlx(partial(genuine)));
      writeFileSync(join(sent, '200.emlx'), emlx(genuine));
      // a partial copy whose Subject was changed (its headers no longer verify either)
      writeFileSync(join(inbox, '124.partial.emlx'), emlx(partial(genuine).replace('Subject: Q3 figures attached', 'Subject: Q3 figures: pay now')));
      writeFileSync(join(dir.path, 'keys.json'), JSON.stringify({ 'sel1._domainkey.example.com': key.txt }));
      const db = join(dir.path, 'case.db');
      const run = runCli(['verify', join(dir.path, 'dump'), '--keys', join(dir.path, 'keys.json'), '--offline', '--db', db, '--quiet']);
      expect(run.stderr).toBe('');
      const rows = exportRows<{ path: string; verdict: string; reasons: string[]; findings: Array<{ code: string; severity: string }> }>(db);
      const byName = (name: string) => rows.find((r) => r.path.endsWith(name))!;
      expect(byName('200.emlx').verdict).toBe('verified');
      const kept = byName('123.partial.emlx');
      expect(kept).toMatchObject({ verdict: 'unverifiable', reasons: ['body-stored-apart'] });
      expect(kept.findings).toContainEqual(expect.objectContaining({ code: 'copy-parts-stored-apart', severity: 'warning' }));
      expect(byName('124.partial.emlx')).toMatchObject({ verdict: 'suspicious' });
      expect(byName('124.partial.emlx').reasons).toContain('conflicting-copy');
    } finally {
      dir.cleanup();
    }
  });
});
