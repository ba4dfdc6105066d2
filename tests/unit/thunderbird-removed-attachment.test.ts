/**
 * Red team N, N-04: Thunderbird's "Delete Attachment" and "Detach" rewrite the attachment's part
 * in the mailbox and mark it X-Mozilla-Altered. The body hash of a genuine message then fails:
 * in Thunderbird's form that is no evidence of a change. The marker alone, on a part not in that
 * form, changes nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { DATE_HEADER, rsaKey, SIGN_TIME, signed, tableLookup, type TestKey } from './support/signing.ts';
import { exportRows, verifyOffline } from '../helpers/in-process.ts';

let key: TestKey;
beforeAll(() => {
  key = rsaKey(2048);
});

const PDF_BASE64 = Buffer.alloc(3000, 7).toString('base64').replace(/(.{76})/g, '$1\r\n');
const ATTACHMENT_HEADER = 'Content-Type: application/pdf; name="q3.pdf"\r\nContent-Disposition: attachment; filename="q3.pdf"\r\nContent-Transfer-Encoding: base64';
const DATE = 'Wed Mar 01 09:00:00 2017';
const NOTICE = `You deleted an attachment from this message. The original MIME headers for the attachment were:\r\n${ATTACHMENT_HEADER}\r\n\r\n`;

function message(messageId = '<tb-q3@example.com>'): string {
  return [
    'From: Alice Moreau <alice@example.com>',
    'To: jordan@example.org',
    'Subject: Q3 figures',
    `Date: ${DATE_HEADER}`,
    `Message-ID: ${messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Jordan, figures attached.',
    '',
    '--b1',
    ATTACHMENT_HEADER,
    '',
    PDF_BASE64,
    '--b1--',
    '',
  ].join('\r\n');
}

/** The attachment's part replaced by `part` (header and content), as Thunderbird rewrites it. */
const replaced = (whole: string, part: string): string => whole.replace(/--b1\r\nContent-Type: application\/pdf[\s\S]*?\r\n--b1--/, `--b1\r\n${part}\r\n--b1--`);
const deleted = (whole: string): string =>
  replaced(
    whole,
    'Content-Type: text/x-moz-deleted; name="Deleted: q3.pdf"\r\nContent-Transfer-Encoding: 8bit\r\nContent-Disposition: inline; filename="Deleted: q3.pdf"\r\n' +
      `X-Mozilla-Altered: AttachmentDeleted; date="${DATE}"\r\n\r\n${NOTICE}`,
  );
const detached = (whole: string): string =>
  replaced(
    whole,
    'Content-Type: application/pdf; name="q3.pdf"\r\nContent-Disposition: attachment; filename="q3.pdf"\r\n' +
      `X-Mozilla-External-Attachment-URL: file:///home/jordan/Documents/q3.pdf\r\nX-Mozilla-Altered: AttachmentDetached; date="${DATE}"\r\n\r\n${NOTICE}`,
  );

const sign = (m: string): Promise<string> => signed(m, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
const analyze = (m: string) => analyzeMessage({ raw: Buffer.from(m, 'latin1'), format: 'eml' }, tableLookup({ 'sel1._domainkey.example.com': key.txt }));

describe('an attachment Thunderbird deleted or detached', () => {
  it('deleted (text/x-moz-deleted): unverifiable, the explanation names Thunderbird\'s record and its date', async () => {
    const a = await analyze(deleted(await sign(message())));
    expect(a.signatures[0]).toMatchObject({ outcome: 'body-modified', headerSignatureValid: true });
    expect(a.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['attachment-removed-by-client'] });
    expect(a.verdict.explanation).toContain("Thunderbird's record in the message (X-Mozilla-Altered)");
    expect(a.verdict.explanation).toContain(`part 2 (Deleted: q3.pdf, text/x-moz-deleted): attachment deleted on ${DATE}`);
    const finding = a.findings.find((f) => f.code === 'attachment-removed-by-client');
    expect(finding).toMatchObject({ severity: 'warning', evidence: { signature: '#1 d=example.com s=sel1', headerSignatureValid: true } });
    expect(finding!.evidence['parts']).toEqual([
      { partId: '2', removal: 'deleted', date: DATE, url: null, filename: 'Deleted: q3.pdf', contentType: 'text/x-moz-deleted' },
    ]);
  });

  it('detached (X-Mozilla-External-Attachment-URL): unverifiable, naming where the file was saved', async () => {
    const a = await analyze(detached(await sign(message())));
    expect(a.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['attachment-removed-by-client'] });
    expect(a.verdict.explanation).toContain(`attachment detached on ${DATE}, saving it to file:///home/jordan/Documents/q3.pdf`);
  });

  it('the marker alone, on an attachment not in Thunderbird\'s form, stays suspicious', async () => {
    // a forger's edited attachment with the marker written in: neither the deleted type nor the URL
    const marked = (await sign(message())).replace(ATTACHMENT_HEADER, `${ATTACHMENT_HEADER}\r\nX-Mozilla-Altered: AttachmentDeleted; date="${DATE}"`).replace('AAAA', 'AAAB');
    const detachedWithoutUrl = detached(await sign(message())).replace(/X-Mozilla-External-Attachment-URL: [^\r]*\r\n/, '');
    for (const m of [marked, detachedWithoutUrl]) {
      const a = await analyze(m);
      expect(a.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-body-modified'] });
      expect(a.findings.map((f) => f.code)).not.toContain('attachment-removed-by-client');
    }
  });

  it('a changed signed header on a message in Thunderbird\'s form stays suspicious', async () => {
    const a = await analyze(deleted(await sign(message())).replace('Subject: Q3 figures', 'Subject: Q4 figures'));
    expect(a.signatures[0]).toMatchObject({ outcome: 'body-modified', headerSignatureValid: false });
    expect(a.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-signature-mismatch'] });
    expect(a.verdict.explanation).toContain('signed headers were changed');
  });

  describe('the CLI, on the LF files Thunderbird keeps', () => {
    const dir = tempDir('leakcheck-thunderbird-removed-');
    const db = join(dir.path, 'case.db');
    afterAll(() => dir.cleanup());

    type Row = { path: string; verdict: string; reasons: string[]; findings: Array<{ code: string; severity: string; text: string }> };
    let rows: Row[] = [];
    const row = (name: string): Row => rows.find((r) => r.path.endsWith(name))!;

    // Thunderbird keeps the altered copy beside others of the same message (the Sent copy,
    // another account's), and the verified one made the altered one "altered" (conflicting-copy)
    it('beside its verified copy (same Message-ID), the deleted or detached copy is unverifiable with a warning; one edited besides is suspicious', async () => {
      mkdirSync(join(dir.path, 'dump'));
      const genuine = await sign(message());
      const lf = (m: string): string => `X-Mozilla-Status: 0001\nX-Mozilla-Status2: 00000000\n${m.replace(/\r\n/g, '\n')}`;
      writeFileSync(join(dir.path, 'dump', 'intact.eml'), lf(genuine), 'latin1');
      writeFileSync(join(dir.path, 'dump', 'deleted.eml'), lf(deleted(genuine)), 'latin1');
      writeFileSync(join(dir.path, 'dump', 'detached.eml'), lf(detached(genuine)), 'latin1');
      // the attachment deleted in Thunderbird's form, and the text changed too: the signed headers still verify
      writeFileSync(join(dir.path, 'dump', 'edited.eml'), lf(deleted(genuine).replace('figures attached', 'figures attached, pay to IBAN FR76 0000')), 'latin1');
      writeFileSync(join(dir.path, 'keys.json'), JSON.stringify({ 'sel1._domainkey.example.com': key.txt }));
      await verifyOffline(join(dir.path, 'dump'), db, [join(dir.path, 'keys.json')]);
      rows = exportRows<Row>(db);
      expect(row('intact.eml')).toMatchObject({ verdict: 'verified' });
      for (const name of ['deleted.eml', 'detached.eml']) {
        expect(row(name), name).toMatchObject({ verdict: 'unverifiable', reasons: ['attachment-removed-by-client'] });
        const codes = row(name).findings.map((f) => f.code);
        expect(codes, name).not.toContain('conflicting-copy');
        const copy = row(name).findings.find((f) => f.code === 'copy-attachment-removed-by-client');
        expect(copy, name).toMatchObject({ severity: 'warning' });
        expect(copy!.text).toContain("Thunderbird's record in this copy (X-Mozilla-Altered) says its user deleted or detached");
        expect(copy!.text).toContain('intact.eml');
        expect(copy!.text).not.toContain('Apple Mail');
      }
      expect(row('edited.eml').verdict).toBe('suspicious');
      expect(row('edited.eml').reasons).toContain('conflicting-copy');
      expect(row('edited.eml').findings.map((f) => f.code)).not.toContain('copy-attachment-removed-by-client');
    });

    it('show says the signed headers verify and why the body hash cannot be checked', () => {
      const shown = runCli(['show', 'deleted.eml', '--db', db]);
      expect(shown.status, shown.stderr).toBe(0);
      expect(shown.stdout).toContain("header signature still verifies; Thunderbird's record says an attachment was deleted or detached (attachment-removed-by-client)");
      expect(shown.stdout).not.toContain('only the body changed');
    });
  });
});
