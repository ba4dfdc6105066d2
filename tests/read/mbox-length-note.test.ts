/**
 * Red team G-01, the note: an mbox is cut at a dated separator above a header line even where an
 * unsigned Content-Length declares a body reaching past it (so that a forger cannot hide a
 * genuine message in another's body). The file said otherwise, and its row, loose or inside a
 * zip, must say that the reader did not follow it, and where.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
import { buildZip } from '../attachments/zip-writer.ts';

const tmp = tempDir('leakcheck-cl-note-');
afterAll(() => tmp.cleanup());

const env = (n: number): string => `From alice@demo.example Fri Feb  ${n} 10:00:00 2019\n`;
const message = (n: number): string => `From: alice@demo.example\nTo: bob@demo.example\nSubject: test ${n}\nDate: Fri, 0${n} Feb 2019 10:00:00 +0000\nMessage-ID: <m${n}@demo.example>\n\nbody ${n}\n`;
/** The red team's mailbox: message 0's unsigned length reaches exactly to the third separator, across the whole of message 1. */
const body1 = `an unsigned note\n\n${env(2)}${message(2)}\n`;
const head1 = `From: mallory@else.example\nTo: bob@other.example\nSubject: one\nDate: Fri, 01 Feb 2019 09:00:00 +0000\nMessage-ID: <m1@else.example>\nContent-Length: ${Buffer.byteLength(body1)}\n\n`;
const SWALLOW = `${env(1)}${head1}${body1}${env(3)}${message(3)}\n`;
const DECLARED_END = env(1).length + head1.length + body1.length;

describe('an mbox whose Content-Length the reader overruled', () => {
  it('says so on its row, loose and inside a zip, and the reports name it', async () => {
    const dump = join(tmp.path, 'dump');
    mkdirSync(dump);
    writeFileSync(join(dump, 'swallow.mbox'), SWALLOW);
    writeFileSync(join(dump, 'takeout.zip'), buildZip([{ name: 'Takeout/Mail/All mail.mbox', data: Buffer.from(SWALLOW) }]));
    const db = join(tmp.path, 'r.db');
    await runVerify({ dumpRoot: dump, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });

    const store = new Database(db, { readonly: true });
    const rows = store.prepare("SELECT path, status, reason, detail, message_count FROM source_files WHERE path LIKE '%mbox' ORDER BY path").all();
    store.close();
    const note =
      'Content-Length overruled at 1 separator line (a "From " line with a date, above a header line), where the messages were cut and read on their own: ' +
      `message 0's declares a body up to byte ${DECLARED_END}, which would have held message 1`;
    expect(rows).toEqual([
      { path: 'swallow.mbox', status: 'ok', reason: 'content-length-overruled', detail: note, message_count: 3 },
      { path: 'takeout.zip!Takeout/Mail/All mail.mbox', status: 'ok', reason: 'content-length-overruled', detail: note, message_count: 3 },
    ]);

    const text = runCli(['report', '--db', db]).stdout;
    expect(text).toMatch(/read, noted\s+2\s+files read whole, with a note on how \(2 content-length-overruled\):/);
    expect(text).toContain(`      swallow.mbox  content-length-overruled: ${note}`);
    // (an mbox read whole is no archive with parts unread)
    expect(text).not.toContain('not all read');
    const md = runCli(['report', '--format', 'md', '--db', db]).stdout;
    expect(md).toContain('; 2 files were read whole with a note on how (2 content-length-overruled).');
    expect(md).toContain('## Files read with a note (2)');
    // (Markdown has the note's quotes and parentheses as entities)
    expect(md).toMatch(new RegExp(`\\| takeout\\.zip!Takeout/Mail/All mail\\.mbox \\| content-length-overruled: Content-Length overruled at 1 separator line .*, which would have held message 1 \\|`));
    const html = runCli(['report', '--format', 'html', '--db', db]).stdout;
    expect(html).toContain('2 files were read whole with a note on how (2 content-length-overruled).');
    expect(html).toContain('<summary>Files read with a note</summary>');
    const json = JSON.parse(runCli(['report', '--format', 'json', '--db', db]).stdout) as { files: { readWithNotes: unknown; noted: unknown } };
    expect(json.files.readWithNotes).toEqual([{ reason: 'content-length-overruled', count: 2 }]);
    expect(json.files.noted).toEqual([
      { path: 'swallow.mbox', reason: 'content-length-overruled', detail: note },
      { path: 'takeout.zip!Takeout/Mail/All mail.mbox', reason: 'content-length-overruled', detail: note },
    ]);
  });
});
