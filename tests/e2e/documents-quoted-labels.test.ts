import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handSignatureHeader } from '../helpers/hand-sign.ts';
import { DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
import { demoPrivateKey } from '../hostile/sign.ts';
import { verifyOffline } from '../helpers/in-process.ts';

/*
 * Red team 27, C-03: a file named "box.mbox#1" beside box.mbox, whose message 1 is verified. Every
 * report quotes the file's label ("box.mbox#1") since red team 14's finding 08, but the documents
 * outputs named both messages box.mbox#1: a loose document matched to the unsigned file's forged
 * attachment read as matched to the verified message.
 */
describe('documents name a file called like a message of an mbox apart from that message', () => {
  const tmp = tempDir();
  const dump = join(tmp.path, 'dump');
  const db = join(tmp.path, 'x.db');
  const genuine = 'Account: 0042 1234 5678\r\nAmount: 250,000.00\r\n';
  const forged = 'Account: 6666 6666 6666\r\nAmount: 950,000.00\r\n';
  const message = (id: string, attachment: string): string =>
    [
      'From: Alice Moreau <alice@demo.example>', 'To: Jordan Reyes <jordan@harbor.example>', 'Subject: Wire details',
      'Date: Tue, 14 Feb 2017 10:12:03 +0100', `Message-ID: <${id}@smtp.demo.example>`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="BB"', '',
      '--BB', 'Content-Type: text/plain', '', 'see attached', '--BB', 'Content-Type: text/plain; name="wire.txt"', 'Content-Disposition: attachment; filename="wire.txt"',
      'Content-Transfer-Encoding: base64', '', Buffer.from(attachment).toString('base64'), '--BB--', '',
    ].join('\r\n');
  const headers = ['from', 'to', 'subject', 'date', 'message-id', 'mime-version', 'content-type'];
  const signed = (m: string): string =>
    handSignatureHeader(m, { privateKeyPem: demoPrivateKey(), tags: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=demo.example; s=s2048; t=1487063525; h=${headers.join(':')}`, headers }) + m;

  beforeAll(async () => {
    mkdirSync(join(dump, 'docs'), { recursive: true });
    const mbox = [signed(message('m0', 'nothing\r\n')), signed(message('m1', genuine))].map((m) => `From alice@demo.example Tue Feb 14 10:12:03 2017\n${m.replaceAll('\r\n', '\n')}\n`).join('');
    writeFileSync(join(dump, 'box.mbox'), mbox);
    writeFileSync(join(dump, 'box.mbox#1'), message('f1', forged));
    writeFileSync(join(dump, 'docs', 'wire.txt'), forged);
    writeFileSync(join(dump, 'docs', 'wire-genuine.txt'), genuine);
    await verifyOffline(dump, db, [DEMO_KEYS]);
  });
  afterAll(() => tmp.cleanup());

  it('in the text, CSV and JSONL outputs and the Markdown and HTML reports', () => {
    const text = runCli(['documents', '--db', db]).stdout;
    expect(text).toContain('of box.mbox#1 (verified');
    expect(text).toContain('of "box.mbox#1" (unverifiable');
    expect(text).toContain('in box.mbox#1');

    const csv = runCli(['documents', '--format', 'csv', '--db', db]).stdout;
    expect(csv).toContain('box.mbox#1, sent as wire.txt (verified');
    expect(csv).toContain('""box.mbox#1"" (unverifiable');

    const lines = runCli(['documents', '--format', 'jsonl', '--db', db]).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const matches = lines.flatMap((d) => d.matching_messages as Array<{ message: string; messageQuoted?: boolean; verdict: string }>);
    expect(matches.map((m) => [m.message, m.messageQuoted ?? false, m.verdict]).sort()).toEqual([
      ['box.mbox#1', false, 'verified'],
      ['box.mbox#1', true, 'unverifiable'],
    ]);

    // the red flag on the forged document names the verified message, unquoted
    const md = runCli(['report', '--format', 'md', '--db', db]).stdout;
    expect(md).toMatch(/\| docs\/wire\.txt \| .*\(box\.mbox#0\)/);
    const out = join(tmp.path, 'report.html');
    expect(runCli(['report', '--format', 'html', '--db', db, '--out', out]).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('"box.mbox#1" (unverifiable');
  });
});
