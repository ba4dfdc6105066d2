import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, verifiedDemoDatabase } from '../helpers/cli.ts';
import { plainMessage, rsaKey, SIGN_TIME, signed } from '../unit/support/signing.ts';
import { verifyOffline } from '../helpers/in-process.ts';

/**
 * `show` names one message or lists the candidates (red team 10, finding 05). It used to trim its
 * argument and take the first reading that matched: `show 'invoice.eml '` (an unsigned forgery
 * whose name ends in a blank) printed the evidence of the verified `invoice.eml`, and a forgery
 * named like the genuine mail's Message-ID hid it. Now a path is read exactly as given, every
 * reading counts (sha256, path, path#index, Message-ID), and an argument that names several
 * messages lists them all, with the reading that matched and the verdict, and exits 2.
 */

const tmp = tempDir('leakcheck-show-');
afterAll(() => tmp.cleanup());
const db = join(tmp.path, 'x.db');
const dump = join(tmp.path, 'dump');
let genuineSha256 = '';

const forgery = (messageId: string, subject: string): string => plainMessage({ messageId: `<${messageId}>`, subject });
const HOSTILE_MBOX = 'box\u001b[2J\u202e.mbox';

beforeAll(async () => {
  mkdirSync(dump);
  const key = rsaKey(2048);
  const genuine = await signed(plainMessage({ messageId: '<wire-77@example.com>', subject: 'Wire 10,000' }), { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
  genuineSha256 = createHash('sha256').update(genuine, 'latin1').digest('hex');
  writeFileSync(join(dump, 'invoice.eml'), genuine, 'latin1');
  writeFileSync(join(dump, 'invoice.eml '), forgery('forged-1@example.com', 'Wire 900,000'));
  writeFileSync(join(dump, ' invoice.eml'), forgery('forged-2@example.com', 'Wire 900,000 (leading)'));
  writeFileSync(join(dump, 'invoice.eml\u00a0'), forgery('forged-3@example.com', 'Wire 900,000 (no-break space)'));
  writeFileSync(join(dump, 'wire-77@example.com'), forgery('forged-4@example.com', 'Wire 900,000 -- urgent'));
  writeFileSync(join(dump, genuineSha256), forgery('forged-5@example.com', 'Named like a hash'));
  writeFileSync(join(dump, 'invoice.eml#0'), forgery('forged-6@example.com', 'Named like a position'));
  const separator = 'From alice@example.com Mon Mar 14 09:26:50 2016\r\n';
  writeFileSync(join(dump, HOSTILE_MBOX), `${separator}${forgery('box-0@example.com', 'First')}\r\n${separator}${forgery('box-1@example.com', 'Second')}`);
  writeFileSync(join(tmp.path, 'keys.json'), JSON.stringify({ 'sel1._domainkey.example.com': key.txt }));
  await verifyOffline(dump, db, [join(tmp.path, 'keys.json')]);
});

const show = (argument: string, ...more: string[]): ReturnType<typeof runCli> => runCli(['show', argument, '--db', db, ...more]);
const heading = (result: ReturnType<typeof runCli>): string => result.stdout.split('\n')[0]!;

describe('show: a path is read exactly, blanks included', () => {
  it('a trailing, a leading blank or a no-break space names another file, and the heading makes it visible', () => {
    const genuine = show('invoice.eml');
    expect(genuine.status).toBe(0);
    expect(heading(genuine)).toBe('invoice.eml');
    expect(genuine.stdout).toContain('Verdict: verified');
    for (const [argument, shown, messageId] of [
      ['invoice.eml ', '"invoice.eml "', 'forged-1'],
      [' invoice.eml', '" invoice.eml"', 'forged-2'],
      ['invoice.eml\u00a0', '"invoice.eml\\u00a0"', 'forged-3'],
    ]) {
      const forged = show(argument!);
      expect(forged.status, argument).toBe(0);
      expect(heading(forged)).toBe(shown);
      expect(forged.stdout).toContain(`<${messageId}@example.com>`);
      expect(forged.stdout).toContain('Verdict: unverifiable');
      expect(forged.stdout).not.toContain('Wire 10,000');
    }
    expect((JSON.parse(show('invoice.eml ', '--json').stdout) as { path: string }).path).toBe('invoice.eml ');
  });

  it('a path with blanks that names no file matches nothing: no trimming to a file that exists', () => {
    const none = show('invoice.eml  ');
    expect(none.status).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe('leakcheck: no message matches "invoice.eml  "\n');
  });
});

describe('show: an argument that names several messages lists every one, and exits 2', () => {
  const candidateLine = (sha256: string, location: string, verdict: string, reading: string, subject: string): string =>
    `  ${sha256}  ${location}  ${verdict}  matched as ${reading}  ${subject}`;
  const sha256Of = (argument: string): string => (JSON.parse(show(argument, '--json').stdout) as { sha256: string }).sha256;

  it('a path and a Message-ID: the forgery named like the genuine mail\'s Message-ID does not hide it', () => {
    const both = show('wire-77@example.com');
    expect(both.status).toBe(2);
    expect(both.stdout.split('\n')).toEqual([
      '2 messages match; name one by its path (path#index in an mbox) or sha256:',
      candidateLine(genuineSha256, 'invoice.eml', 'verified', 'Message-ID', 'Wire 10,000'),
      candidateLine(sha256Of('<forged-4@example.com>'), 'wire-77@example.com', 'unverifiable', 'path', 'Wire 900,000 -- urgent'),
      '',
    ]);
    // in angle brackets it can only be a Message-ID
    const bracketed = show('<wire-77@example.com>');
    expect(bracketed.status).toBe(0);
    expect(heading(bracketed)).toBe('invoice.eml');
  });

  it('a sha256 and a path: a file named like the hash of another message', () => {
    const both = show(genuineSha256);
    expect(both.status).toBe(2);
    expect(both.stdout).toContain(`${candidateLine(genuineSha256, 'invoice.eml', 'verified', 'sha256', 'Wire 10,000')}\n`);
    expect(both.stdout).toContain(`${candidateLine(sha256Of('<forged-5@example.com>'), genuineSha256, 'unverifiable', 'path', 'Named like a hash')}\n`);
    // upper case is a sha256 still, and names no file
    expect(heading(show(genuineSha256.toUpperCase()))).toBe('invoice.eml');
  });

  it('a path and path#index: a file named like a position in another', () => {
    const both = show('invoice.eml#0');
    expect(both.status).toBe(2);
    expect(both.stdout).toContain(`${candidateLine(genuineSha256, 'invoice.eml', 'verified', 'path#index', 'Wire 10,000')}\n`);
    // the file whose own name holds "#" is quoted, as in every report (red team 14, finding 08)
    expect(both.stdout).toContain(`${candidateLine(sha256Of('<forged-6@example.com>'), '"invoice.eml#0"', 'unverifiable', 'path', 'Named like a position')}\n`);
  });

  // Red team 27, C-04: a script that pipes `show --json` to a JSON reader got the text list
  it('with --json, the candidates are JSON, and the exit status is 2 as without', () => {
    const both = show('invoice.eml#0', '--json');
    expect(both.status).toBe(2);
    const answer = JSON.parse(both.stdout) as { error: string; candidates: Array<Record<string, unknown>> };
    expect(answer.error).toBe('ambiguous');
    expect(answer.candidates).toEqual([
      { sha256: genuineSha256, path: 'invoice.eml', index: 0, label: 'invoice.eml', labelQuoted: false, verdict: 'verified', matchedAs: ['path#index'], subject: 'Wire 10,000' },
      { sha256: sha256Of('<forged-6@example.com>'), path: 'invoice.eml#0', index: 0, label: 'invoice.eml#0', labelQuoted: true, verdict: 'unverifiable', matchedAs: ['path'], subject: 'Named like a position' },
    ]);
  });

  it('the messages of an mbox, its path escaped for the terminal', () => {
    const listed = show(HOSTILE_MBOX);
    expect(listed.status).toBe(2);
    expect(listed.stdout).not.toMatch(/[\u001b\u202e]/);
    expect(listed.stdout).toContain(`  box\\x1b[2J\\u202e.mbox#0  unverifiable  matched as path  First\n`);
    expect(listed.stdout).toContain(`  box\\x1b[2J\\u202e.mbox#1  unverifiable  matched as path  Second\n`);
    const one = show(`${HOSTILE_MBOX}#1`);
    expect(one.status).toBe(0);
    expect(heading(one)).toBe('box\\x1b[2J\\u202e.mbox#1');
  });
});

describe('show: a Message-ID and a sha256', () => {
  it('a Message-ID given with blanks around it still names its message (a Message-ID has none)', () => {
    const padded = show(' <forged-1@example.com> ');
    expect(padded.status).toBe(0);
    expect(heading(padded)).toBe('"invoice.eml "');
  });

  it('a sha256 is read exactly: with a blank it is no hash', () => {
    expect(show(` ${genuineSha256}`).status).toBe(2);
  });
});

describe('show: the custody of a file whose name ends in a blank', () => {
  it('names the file as the heading does', async () => {
    appendFileSync(join(dump, 'invoice.eml '), 'P.S. and 100,000 more\r\n');
    await verifyOffline(dump, db);
    const shown = show('invoice.eml ');
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/^ {2}custody {5}changed {2}"invoice\.eml " {2}\(run #2\)/m);
  });
});

// Red team Y, Y-04: nothing in show named what held a forwarded message or a zip entry.
describe('show names what holds a message found inside another file', () => {
  const { db } = verifiedDemoDatabase();
  it('the carrier of a forwarded message, and the archive of an entry; nothing for a file of the dump', () => {
    expect(runCli(['show', '--db', db, 'inbox/2018-10-03 Fwd- Invoice.eml#attachment-1']).stdout).toContain('\n  inside      inbox/2018-10-03 Fwd- Invoice.eml  (forwarded inside it; each has its own verdict)\n');
    expect(runCli(['show', '--db', db, 'exports/mailbox-export.zip!export/2019-05-21 Reimbursement.eml']).stdout).toContain('\n  inside      exports/mailbox-export.zip\n');
    expect(runCli(['show', '--db', db, 'inbox/2018-10-03 Fwd- Invoice.eml']).stdout).not.toContain('  inside  ');
  });
});
