/**
 * Red team Q: the same dump and keys give the same findings, whatever the files are called. A
 * second newsroom re-runs on a copy whose files were renamed (an mbox split into Maildir files, a
 * copy made by another tool); where the checks across messages must choose among files, they
 * choose by content (docs/export.md, "What two runs share").
 */
import { createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dkimSign } from 'mailauth';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempDir } from '../helpers/cli.ts';
import { exportRows, verifyOffline } from '../helpers/in-process.ts';
import { demoMessage } from '../hostile/sign.ts';

const tmp = tempDir('leakcheck-renamed-');
afterAll(() => tmp.cleanup());

interface ExportRow {
  sha256: string;
  verdict: string;
  findings: Array<{ code: string; severity: string; text: string }>;
}

/** Writes the files (name → text, CRLF) into a fresh folder, verifies it, and gives the JSONL rows by sha256. */
async function verifyFiles(name: string, files: Record<string, string>, keys: string[] = []): Promise<Map<string, ExportRow> & { db: string }> {
  const dump = join(tmp.path, name);
  mkdirSync(dump);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dump, file), text.replace(/\r?\n/g, '\r\n'), 'latin1');
  const db = join(tmp.path, `${name}.db`);
  await verifyOffline(dump, db, keys);
  const rows = exportRows<ExportRow>(db);
  return Object.assign(new Map(rows.map((row) => [row.sha256, row])), { db });
}

/** A finding's evidence, as `show --json` gives it, written out in its own key order. */
function evidenceOf(db: string, sha256: string, code: string): string {
  const shown = JSON.parse(runCli(['show', '--db', db, '--json', sha256]).stdout) as { findings: Array<{ code: string; evidence: unknown }> };
  return JSON.stringify(shown.findings.find((f) => f.code === code)?.evidence);
}

/** The same texts under other names. */
const renamed = (files: Record<string, string>, rename: (name: string) => string): Record<string, string> =>
  Object.fromEntries(Object.entries(files).map(([name, text]) => [rename(name), text]));

const findingsOf = (rows: Map<string, ExportRow>, code: string): string[] =>
  [...rows.values()].flatMap((row) => row.findings.filter((f) => f.code === code).map((f) => `${row.sha256} ${f.severity} ${f.text}`)).sort();

describe('byte-identical dumps under other file names', () => {
  it("sender habits: the usual values are listed by how many messages have them, not by the files' order (Q-01)", async () => {
    const files: Record<string, string> = {};
    const zones = ['+0100', '+0100', '+0100', '+0100', '+0100', '+0100', '+0200', '+0200', '+0200', '+0200', '+0200', '-0500'];
    zones.forEach((zone, i) => {
      files[`msg-${String(i).padStart(2, '0')}.eml`] =
        `From: Alice <alice@x.example>\nTo: bob@y.example\nSubject: note ${i}\nDate: Mon, 1 Jul 2019 1${i % 10}:00:00 ${zone}\nMessage-ID: <n${i}@x.example>\n\nhello ${i}\n`;
    });
    // the +0200 files sort first in the second dump
    const first = await verifyFiles('habits-a', files);
    const second = await verifyFiles('habits-b', renamed(files, (name) => (files[name]!.includes('+0200') ? `0-${name}` : `1-${name}`)));
    const found = findingsOf(first, 'sender-profile-outlier');
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('use "+0100" or "+0200"');
    expect(findingsOf(second, 'sender-profile-outlier')).toEqual(found);
    const odd = found[0]!.split(' ')[0]!;
    expect(evidenceOf(first.db, odd, 'sender-profile-outlier')).toContain('"usual":{"+0100":6,"+0200":5}');
    expect(evidenceOf(second.db, odd, 'sender-profile-outlier')).toBe(evidenceOf(first.db, odd, 'sender-profile-outlier'));
  });

  it('threads: which of many unverified copies of a parent a reply is compared with does not depend on their names (Q-03)', async () => {
    const parent = (date: string, copy: string): string =>
      `From: Carol <carol@z.example>\nTo: dan@w.example\nSubject: plan\nDate: ${date}\nMessage-ID: <plan-1@z.example>\nX-Copy: ${copy}\n\nthe plan\n`;
    const files: Record<string, string> = {
      'reply.eml': 'From: Dan <dan@w.example>\nTo: carol@z.example\nSubject: Re: plan\nDate: Wed, 3 Jul 2019 12:00:00 +0000\nMessage-ID: <re-plan-1@w.example>\nIn-Reply-To: <plan-1@z.example>\n\nok\n',
    };
    for (let i = 1; i <= 16; i++) files[`parent-${String(i).padStart(2, '0')}.eml`] = parent(`Mon, 1 Jul 2019 09:${String(i).padStart(2, '0')}:00 +0000`, String(i));
    files['parent-99.eml'] = parent('Fri, 5 Jul 2019 09:00:00 +0000', 'late');
    const first = await verifyFiles('thread-a', files);
    const second = await verifyFiles('thread-b', renamed(files, (name) => (name === 'parent-99.eml' ? 'parent-00.eml' : name)));
    // the late copy is the 17th by name in the first dump: before, only the first 16 were compared
    const found = findingsOf(first, 'reply-before-parent');
    expect(found).toHaveLength(2);
    expect(found.map((f) => f.split(' ').slice(0, 2).join(' '))).toEqual(findingsOf(second, 'reply-before-parent').map((f) => f.split(' ').slice(0, 2).join(' ')));
  });

  it("the HTML report lists a selector's keys by what they are, not by the messages' paths (Q-05)", async () => {
    // a reused selector: s2048 of demo.example publishes two keys, and each signed one message
    const pem = (selector: string): string => readFileSync(join(ROOT, `fixtures/keys/${selector}._domainkey.demo.example.pem`), 'utf8');
    const signedWith = async (selector: string, id: string): Promise<string> => {
      const entry = { signingDomain: 'demo.example', selector: 's2048', privateKey: pem(selector), canonicalization: 'relaxed/relaxed' };
      const message = demoMessage({ id, subject: `signed with ${selector}` });
      const result = await dkimSign(Buffer.from(message, 'latin1'), { ...entry, signTime: new Date('2017-02-14T09:12:05Z'), signatureData: [entry] });
      return result.signatures + message;
    };
    const record = (selector: string): string => `v=DKIM1; k=rsa; p=${createPublicKey(pem(selector)).export({ type: 'spki', format: 'der' }).toString('base64')}`;
    const keys = join(tmp.path, 'reused-selector.json');
    writeFileSync(keys, JSON.stringify({ 's2048._domainkey.demo.example': [record('s2048'), record('s2016')] }));
    const [one, two] = [await signedWith('s2048', 'k1'), await signedWith('s2016', 'k2')];
    const first = await verifyFiles('keys-a', { '1.eml': one, '2.eml': two }, [keys]);
    const second = await verifyFiles('keys-b', { '1.eml': two, '2.eml': one }, [keys]);
    const table = (db: string): string => {
      const page = runCli(['report', '--format', 'html', '--db', db]).stdout;
      const start = page.indexOf('id="domains-h"');
      return page.slice(start, page.indexOf('</table>', start));
    };
    const shown = table(first.db);
    expect(new Set(shown.match(/sha256:[0-9a-f]{16}/g))).toHaveProperty('size', 2);
    expect(table(second.db)).toBe(shown);
  });
});
