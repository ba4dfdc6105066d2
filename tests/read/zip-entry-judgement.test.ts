/**
 * A zip entry is judged as the same bytes loose are (red team 27). Three ways it was not:
 * - B-03: an mbox in an entry named `.eml` was read as one message: the genuine first message was
 *   called altered, the others had no row;
 * - B-02: an entry not named `.eml` whose first 4 KB held no From/Date/Received/Message-ID line
 *   (an X-Spam-Report, Exchange's X-MS-* fields, padding on top of an altered copy) was "not
 *   email", with no row and no verdict;
 * - B-05: a compressed mbox, UTF-16 text or a zip behind a prefix had no row, where its loose twin
 *   has one that says what it is.
 * The messages are the demo dump's, signed (fixtures/demo-keys.json), so a wrong cut shows as a
 * changed verdict.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readZipEntryAt } from '../../src/read/zip-entry.ts';
import { locateZipEntries, readZipEmails, type ZipLimits } from '../../src/read/zip.ts';
import { sha256 } from '../attachments/support.ts';
import { buildZip, type ZipEntrySpec } from '../attachments/zip-writer.ts';
import { ROOT } from '../helpers/cli.ts';
import { readResults, runCliMeasured, type FileRow, type MessageRow } from '../hostile/support.ts';

const dir = mkdtempSync(join(tmpdir(), 'leakcheck-zip-judgement-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEYS = join(ROOT, 'fixtures', 'demo-keys.json');
const DEMO = join(ROOT, 'fixtures', 'demo-dump');
/** Signed by demo.example, CRLF: verifies. */
const budget = readFileSync(join(DEMO, 'inbox', '2017-02-14 Q1 budget.eml'));
/** Four messages, CRLF: two verify, two are unverifiable. */
const mbox2017 = readFileSync(join(DEMO, 'archive', '2017.mbox'));

/** `message` (CRLF) with an unsigned, folded X-Spam-Report of at least `bytes` on top: no field of mail in its first `bytes`. */
function padded(message: Buffer, bytes: number): Buffer {
  const lines = ['X-Spam-Report: Content analysis details:   (-2.0 points, 5.0 required)'];
  for (let i = 0; lines.join('\r\n').length < bytes; i++) lines.push(`\t* -0.0 RULE_${String(i).padStart(3, '0')} rule description text that is long enough to fill`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n`), message]);
}

/** The message with one word of its signed body changed. */
function altered(message: Buffer): Buffer {
  const text = message.toString('latin1');
  expect(text).toContain('travel is down');
  return Buffer.from(text.replace('travel is down', 'travel is up!!'), 'latin1');
}

let counter = 0;
function writeZip(entries: ZipEntrySpec[]): string {
  const path = join(dir, `archive-${++counter}.zip`);
  writeFileSync(path, buildZip(entries));
  return path;
}

function newDump(name: string, files: Record<string, Buffer>): string {
  const dump = join(dir, name);
  for (const [file, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(dump, file)), { recursive: true });
    writeFileSync(join(dump, file), bytes);
  }
  return dump;
}

/** A verify run of `dump` with the demo keys, offline; its rows. */
function verify(dump: string): { files: FileRow[]; messages: MessageRow[] } {
  const db = `${dump}.db`;
  const run = runCliMeasured(['verify', dump, '--keys', KEYS, '--offline', '--db', db, '--quiet']);
  expect(run.status, run.stderr).toBe(0);
  return readResults(db);
}

/** The verdicts of the messages of the row `path`, as they compare across containers. */
const verdictsOf = (messages: MessageRow[], path: string): Array<[number, string | null, string | null, number]> =>
  messages.filter((m) => m.path === path).map((m) => [m.idx, m.verdict, m.reasons_json, m.size]);

/** Each entry's outcome for both readers of archives: the one `verify` uses, and readZipEmails. */
async function outcomes(path: string, limits?: ZipLimits): Promise<{ located: string[]; streamed: string[] }> {
  const located: string[] = [];
  for await (const item of locateZipEntries(path, limits)) {
    if ('skipped' in item) {
      located.push(`${item.entryName}: ${item.code}`);
      continue;
    }
    try {
      located.push(`${item.entryName}: message ${sha256(readZipEntryAt(path, item.location))}`);
    } catch (err) {
      located.push(`${item.entryName}: ${(err as { code?: string }).code}`);
    }
  }
  const streamed: string[] = [];
  for await (const item of readZipEmails(path, limits)) streamed.push(`${item.entryName}: ${'raw' in item ? `message ${sha256(item.raw)}` : item.code}`);
  return { located, streamed };
}

describe('B-03: an mbox in an entry named .eml', () => {
  it('is cut into its messages, as the same file loose is, stored or deflated', () => {
    const { files, messages } = verify(
      newDump('named-mbox', {
        'export.zip': buildZip([
          { name: 'Mail/Inbox.eml', data: mbox2017 },
          { name: 'Mail/Stored.eml', data: mbox2017, method: 0 },
        ]),
        'loose-inbox.eml': mbox2017,
      }),
    );
    const loose = verdictsOf(messages, 'loose-inbox.eml');
    expect(loose.map(([, verdict]) => verdict)).toEqual(['verified', 'verified', 'unverifiable', 'unverifiable']);
    for (const entry of ['export.zip!Mail/Inbox.eml', 'export.zip!Mail/Stored.eml']) {
      expect(files.find((f) => f.path === entry), entry).toMatchObject({ kind: 'zip-entry', status: 'ok', reason: null, message_count: 4 });
      expect(verdictsOf(messages, entry), entry).toEqual(loose);
    }
    expect(files.find((f) => f.path === 'export.zip')).toMatchObject({ status: 'ok', detail: '8 email(s) inside' });
  });

  it('is an mbox to both readers past the size a message may have; a message so large and so named is still refused', async () => {
    const path = writeZip([
      { name: 'Mail/Inbox.eml', data: mbox2017 },
      { name: 'big.eml', data: budget },
      { name: 'small.eml', data: budget.subarray(0, 900) },
    ]);
    const { located, streamed } = await outcomes(path, { maxEntryBytes: 1000 });
    expect(located).toEqual(['Mail/Inbox.eml: mbox-entry', 'big.eml: too-large', `small.eml: message ${sha256(budget.subarray(0, 900))}`]);
    expect(streamed).toEqual(located);
  });
});

describe('B-02: an entry whose first kilobytes hold no field of mail', () => {
  const long = padded(budget, 5 * 1024);
  // past the head the sniff reads: judged by its shape, as the loose file is
  const longer = padded(budget, 20 * 1024);
  const forged = padded(altered(budget), 5 * 1024);

  it('is read as mail, as the same bytes loose are: a Maildir entry, an export without extension, an altered copy', () => {
    const { files, messages } = verify(
      newDump('long-headers', {
        'maildir.zip': buildZip([
          { name: 'Maildir/cur/1487063523.M1P1.host:2,S', data: long },
          { name: 'export/00017', data: longer, method: 0 },
          { name: 'export/00018', data: longer },
          { name: 'Maildir/cur/1487063599.M9P9.host:2,S', data: forged },
        ]),
        'loose/long': long,
        'loose/longer': longer,
        'loose/forged': forged,
      }),
    );
    const twins: Array<[string, string, string]> = [
      ['maildir.zip!Maildir/cur/1487063523.M1P1.host:2,S', 'loose/long', 'verified'],
      ['maildir.zip!export/00017', 'loose/longer', 'verified'],
      ['maildir.zip!export/00018', 'loose/longer', 'verified'],
      ['maildir.zip!Maildir/cur/1487063599.M9P9.host:2,S', 'loose/forged', 'suspicious'],
    ];
    for (const [entry, twin, verdict] of twins) {
      expect(verdictsOf(messages, twin)[0]?.[1], twin).toBe(verdict);
      expect(verdictsOf(messages, entry), entry).toEqual(verdictsOf(messages, twin));
    }
    expect(files.find((f) => f.path === 'maildir.zip')).toMatchObject({ status: 'ok', reason: null, detail: '4 email(s) inside' });
  });

  it('reads an mbox entry whose separator has no time and whose first header block runs past 4 KB', () => {
    const firstLine = mbox2017.indexOf('\r\n');
    expect(mbox2017.subarray(0, firstLine).toString()).toBe('From alice@demo.example Thu Jan 12 14:45:18 2017');
    const mbox = Buffer.concat([Buffer.from('From alice@demo.example\r\n'), padded(mbox2017.subarray(firstLine + 2), 5 * 1024)]);
    const { files, messages } = verify(newDump('long-mbox-header', { 'takeout.zip': buildZip([{ name: 'Takeout/Mail/Inbox', data: mbox }]), 'loose-inbox': mbox }));
    expect(files.find((f) => f.path === 'loose-inbox')).toMatchObject({ kind: 'mbox', message_count: 4 });
    expect(files.find((f) => f.path === 'takeout.zip!Takeout/Mail/Inbox')).toMatchObject({ kind: 'zip-entry', status: 'ok', message_count: 4 });
    expect(verdictsOf(messages, 'takeout.zip!Takeout/Mail/Inbox')).toEqual(verdictsOf(messages, 'loose-inbox'));
    expect(verdictsOf(messages, 'loose-inbox')[0]?.[1]).toBe('verified');
  });
});

describe('B-05: entries that are no mail but may hold some', () => {
  const gzipped = gzipSync(mbox2017);
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(budget.toString('latin1'), 'utf16le')]);
  // a self-extracting archive: a program, then a zip
  const selfExtracting = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(100), buildZip([{ name: 'budget.eml', data: budget }])]);
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(2000, 0x30), Buffer.from('%%EOF\n')]);

  it('get the row their loose twins get, with what they are; so do documents and text (red team Y, Y-06)', () => {
    const { files, messages } = verify(
      newDump('may-hold-mail', {
        'old-mail.zip': buildZip([
          { name: 'archive/2017.mbox.gz', data: gzipped, method: 0 },
          { name: 'inbox/budget.eml.txt', data: utf16 },
          { name: 'tools/inbox-sfx.exe', data: selfExtracting },
          { name: 'inbox/budget.eml', data: budget },
          { name: 'report.pdf', data: pdf },
          { name: 'notes.txt', data: Buffer.from('Dear diary,\n\nnothing happened.\n') },
        ]),
        'loose/2017.mbox.gz': gzipped,
        'loose/budget.eml.txt': utf16,
        'loose/inbox-sfx.exe': selfExtracting,
      }),
    );
    const row = (path: string): FileRow | undefined => files.find((f) => f.path === path);
    const twins: Array<[string, string]> = [
      ['old-mail.zip!archive/2017.mbox.gz', 'loose/2017.mbox.gz'],
      ['old-mail.zip!inbox/budget.eml.txt', 'loose/budget.eml.txt'],
      ['old-mail.zip!tools/inbox-sfx.exe', 'loose/inbox-sfx.exe'],
    ];
    for (const [entry, twin] of twins) {
      const { status, reason, detail } = row(twin)!;
      expect(status, twin).toBe('skipped');
      expect(row(entry), entry).toMatchObject({ kind: 'zip-entry', status, reason, detail, message_count: 0 });
    }
    expect(row('loose/2017.mbox.gz')).toMatchObject({ reason: 'not-email', detail: 'gzip-compressed file (decompress it first)' });
    expect(row('loose/budget.eml.txt')?.detail).toMatch(/^UTF-16 text/);
    // not "binary data": what it is, and that other tools open it
    expect(row('loose/inbox-sfx.exe')).toMatchObject({ reason: 'binary' });
    expect(row('loose/inbox-sfx.exe')?.detail).toMatch(/^binary data with a zip archive's local file header at offset 102 \(a self-extracting archive, or a zip behind a prefix\)/);
    // they are no emails; the one email is verified; the document and the note are documents, as loose
    expect(row('old-mail.zip')).toMatchObject({ status: 'ok', detail: '1 email(s) inside' });
    expect(verdictsOf(messages, 'old-mail.zip!inbox/budget.eml').map(([, verdict]) => verdict)).toEqual(['verified']);
    expect(row('old-mail.zip!report.pdf')).toMatchObject({ status: 'skipped', reason: 'not-email', message_count: 0 });
    expect(row('old-mail.zip!notes.txt')).toMatchObject({ status: 'skipped', reason: 'not-email', message_count: 0 });
  });

  it('gets the same outcome from both readers of archives, stored or deflated', async () => {
    const entries = (method: 0 | 8): ZipEntrySpec[] => [
      { name: 'a.gz', data: gzipped, method },
      { name: 'b.txt', data: utf16, method },
      { name: 'c.exe', data: selfExtracting, method },
      { name: 'd.pdf', data: pdf, method },
      { name: 'e', data: padded(budget, 20 * 1024), method },
      { name: 'f.eml', data: mbox2017, method },
    ];
    for (const method of [0, 8] as const) {
      const { located, streamed } = await outcomes(writeZip(entries(method)));
      expect(located, `method ${method}`).toEqual([
        'a.gz: may-hold-mail',
        'b.txt: may-hold-mail',
        'c.exe: binary',
        'd.pdf: not-email',
        `e: message ${sha256(padded(budget, 20 * 1024))}`,
        'f.eml: mbox-entry',
      ]);
      expect(streamed, `method ${method}`).toEqual(located);
    }
  });
});
