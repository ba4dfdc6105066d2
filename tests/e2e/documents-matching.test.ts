import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.ts';
import { verifiedDocuments } from '../helpers/documents.ts';
import { DATE_HEADER, rsaKey, SIGN_TIME, signed, type TestKey } from '../unit/support/signing.ts';

/**
 * Loose documents matched to the attachments of a verified email (red team 10, findings 03 and
 * 14): an empty file matches every empty part and so proves nothing, and a forged document named
 * so that a reader takes it for the genuine one (a zero-width space, fullwidth letters) is a
 * name conflict like one spelt the same.
 */

let key: TestKey;
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const CONTRACT = Buffer.from('%PDF-1.4\n% the signed contract\n%%EOF\n');
const REPORT = Buffer.from('%PDF-1.4\n% the forwarded report\n%%EOF\n');
const FORGED = Buffer.from('%PDF-1.4\n% the forged contract\n%%EOF\n');
/** A memo that reads as a message: leakcheck takes the loose copy for an unsigned email. */
const MEMO = Buffer.from('To: All staff\r\nFrom: The board\r\nSubject: Restructuring\r\n\r\nThe Lyon office closes in March.\r\n');
/** An empty zip archive (its end record alone): leakcheck opens a loose copy for emails. */
const PHOTOS_ZIP = Buffer.concat([Buffer.from([0x50, 0x4b, 0x05, 0x06]), Buffer.alloc(18)]);

interface DocumentRow {
  path: string;
  status: string;
  matching_messages: Array<{ message: string; verdict: string; carrier?: { message: string; signers: string[]; strength: string } }>;
  name_conflicts: Array<{ filename: string; message?: string; carrier?: { message: string } }>;
}

let text: string;
let html: string;

let rows: DocumentRow[];

beforeAll(async () => {
  key = rsaKey(2048);
  const dump = join(tmp.path, 'dump');
  mkdirSync(join(dump, 'docs'), { recursive: true });
  const message = [
    'From: Alice <alice@example.com>',
    'To: bob@example.org',
    'Subject: contract',
    `Date: ${DATE_HEADER}`,
    'Message-ID: <contract@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'The contract, and an empty placeholder.',
    '--b',
    'Content-Type: application/pdf',
    'Content-Disposition: attachment; filename="contract.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    CONTRACT.toString('base64'),
    '--b',
    'Content-Type: text/plain',
    'Content-Disposition: attachment; filename="memo.txt"',
    'Content-Transfer-Encoding: base64',
    '',
    MEMO.toString('base64'),
    '--b',
    'Content-Type: application/zip',
    'Content-Disposition: attachment; filename="photos.zip"',
    'Content-Transfer-Encoding: base64',
    '',
    PHOTOS_ZIP.toString('base64'),
    '--b',
    'Content-Type: application/octet-stream',
    'Content-Disposition: attachment; filename="empty.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    '',
    // red team Y, Y-15: one byte, and a line end
    '--b',
    'Content-Type: text/plain',
    'Content-Disposition: attachment; filename="flag.txt"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('1').toString('base64'),
    '--b',
    'Content-Type: text/plain',
    'Content-Disposition: attachment; filename="newline.txt"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('\r\n').toString('base64'),
    '--b--',
    '',
  ].join('\r\n');
  writeFileSync(join(dump, 'mail.eml'), await signed(message, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME }), 'latin1');
  // Red team 10, 11: an unsigned message, forwarded as an attachment of a verified email, carries a report
  const forwarded = ['From: Carol <carol@unsigned.example>', 'Subject: report', 'Message-ID: <report@unsigned.example>', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="in"', '', '--in', 'Content-Type: application/pdf', 'Content-Disposition: attachment; filename="report.pdf"',
    'Content-Transfer-Encoding: base64', '', REPORT.toString('base64'), '--in--', ''].join('\r\n');
  for (const [name, canonicalization] of [['fwd-simple.eml', 'simple/simple'], ['fwd-relaxed.eml', 'relaxed/relaxed']] as const) {
    const carrier = ['From: Alice <alice@example.com>', 'To: bob@example.org', `Subject: Fwd: report (${canonicalization})`, `Date: ${DATE_HEADER}`,
      `Message-ID: <${name}@example.com>`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="out"', '', '--out', 'Content-Type: text/plain', '',
      'See the forwarded message.', '--out', 'Content-Type: message/rfc822', 'Content-Disposition: attachment; filename="report.eml"', '', forwarded, '--out--', ''].join('\r\n');
    writeFileSync(join(dump, name), await signed(carrier, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, canonicalization }), 'latin1');
  }
  // Red team Y, Y-11: two files of one name in one verified email, a copy of each, and a forgery
  const minutes = (text: string): string[] => ['--m', 'Content-Type: application/pdf', 'Content-Disposition: attachment; filename="minutes.pdf"', 'Content-Transfer-Encoding: base64', '', Buffer.from(`%PDF-1.4\n% ${text}\n%%EOF\n`).toString('base64')];
  const pair = ['Subject: minutes', 'From: Alice <alice@example.com>', `Date: ${DATE_HEADER}`, 'Message-ID: <minutes@example.com>', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="m"', '', ...minutes('minutes, draft'), ...minutes('minutes, as adopted'), '--m--', ''].join('\r\n');
  writeFileSync(join(dump, 'minutes.eml'), await signed(pair, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME }), 'latin1');
  for (const [dir, text] of [['m-draft', 'minutes, draft'], ['m-adopted', 'minutes, as adopted'], ['m-forged', 'minutes, as forged']] as const) {
    mkdirSync(join(dump, dir), { recursive: true });
    writeFileSync(join(dump, dir, 'minutes.pdf'), `%PDF-1.4\n% ${text}\n%%EOF\n`);
  }
  // Red team 14, 09: a relaxed signature fixes a 7bit text attachment all but its whitespace
  const budget = ['From: Alice <alice@example.com>', 'To: bob@example.org', 'Subject: budget', `Date: ${DATE_HEADER}`, 'Message-ID: <budget@example.com>',
    'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain', '', 'The budget.', '--b',
    'Content-Type: text/csv', 'Content-Disposition: attachment; filename="budget-q1.csv"', 'Content-Transfer-Encoding: 7bit', '',
    'item,amount', 'hosting,1200', 'travel,300', '--b',
    // red team 15, F-DOC-3: tab-separated, where a tab moved is a value moved to another column
    'Content-Type: text/tab-separated-values', 'Content-Disposition: attachment; filename="budget.tsv"', 'Content-Transfer-Encoding: 7bit', '',
    'item\tq1\tq2', 'hosting\t1200\t', 'travel\t\t300', '--b--', ''].join('\r\n');
  writeFileSync(join(dump, 'budget.eml'), await signed(budget, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, canonicalization: 'relaxed/relaxed' }), 'latin1');
  // Red team Y, Y-14: a simple signature pins a 7bit CSV; copies saved with LF line ends, or with
  // a last line end the part (sent as CRLF lines, the last one the delimiter's) does not have
  const quarter = ['From: Alice <alice@example.com>', 'To: bob@example.org', 'Subject: Q2', `Date: ${DATE_HEADER}`, 'Message-ID: <q2@example.com>',
    'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '', '--b', 'Content-Type: text/plain', '', 'Q2.', '--b',
    'Content-Type: text/csv', 'Content-Disposition: attachment; filename="q2.csv"', 'Content-Transfer-Encoding: 7bit', '',
    'item,amount', 'hosting,1400', '--b--', ''].join('\r\n');
  writeFileSync(join(dump, 'q2.eml'), await signed(quarter, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, canonicalization: 'simple/simple' }), 'latin1');
  // Red team Y, Y-21: a message that is one CSV, named in its Content-Type, as report generators send
  const annual = Buffer.from('year,total\r\n2016,1200\r\n');
  const oneCsv = ['From: Alice <alice@example.com>', 'To: bob@example.org', 'Subject: annual', `Date: ${DATE_HEADER}`, 'Message-ID: <annual@example.com>',
    'MIME-Version: 1.0', 'Content-Type: text/csv; charset=us-ascii; name="annual.csv"', 'Content-Transfer-Encoding: base64', '', annual.toString('base64'), ''].join('\r\n');
  writeFileSync(join(dump, 'annual.eml'), await signed(oneCsv, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME }), 'latin1');
  mkdirSync(join(dump, 'annual-saved'));
  writeFileSync(join(dump, 'annual-saved/annual.csv'), annual);
  mkdirSync(join(dump, 'annual-forged'));
  writeFileSync(join(dump, 'annual-forged/annual.csv'), 'year,total\r\n2016,9200\r\n');
  // Red team Y, Y-18: the forgery stored under a meaningless name, and reached by a link of the genuine name
  mkdirSync(join(dump, 'store'));
  writeFileSync(join(dump, 'store/0b7f3e.bin'), FORGED);
  mkdirSync(join(dump, 'linked'));
  symlinkSync('../store/0b7f3e.bin', join(dump, 'linked/contract.pdf'));
  symlinkSync('/etc/hostname', join(dump, 'linked/outside.pdf'));
  // red team AA, AA-08: read as text, `hop/../genuine.pdf` is the dump's genuine copy; the system
  // follows `hop` out of the dump first, and opens the forgery beside the folder it leads to
  mkdirSync(join(tmp.path, 'outside/dir'), { recursive: true });
  writeFileSync(join(tmp.path, 'outside/genuine.pdf'), FORGED);
  writeFileSync(join(dump, 'linked/genuine.pdf'), CONTRACT);
  symlinkSync(join(tmp.path, 'outside/dir'), join(dump, 'linked/hop'));
  symlinkSync('hop/../genuine.pdf', join(dump, 'linked/final.pdf'));
  // red team AA, AA-10: a link to the copy that differs from a relaxed-signed attachment in whitespace alone
  symlinkSync('../saved/budget-q1.csv', join(dump, 'linked/budget-q1.csv'));
  // red team AA, AA-12: the forgery read as mail (a header line in front of its %PDF-), reached by a link of the genuine name
  writeFileSync(join(dump, 'store/scan-0003.bin'), Buffer.concat([Buffer.from('Message-ID: <scan-0003@scanner.local>\r\n\r\n'), FORGED]));
  mkdirSync(join(dump, 'linked-mail'));
  symlinkSync('../store/scan-0003.bin', join(dump, 'linked-mail/contract.pdf'));
  mkdirSync(join(dump, 'q2-lf'));
  writeFileSync(join(dump, 'q2-lf/q2.csv'), 'item,amount\nhosting,1400\n');
  mkdirSync(join(dump, 'q2-crlf'));
  writeFileSync(join(dump, 'q2-crlf/q2.csv'), 'item,amount\r\nhosting,1400\r\n');
  mkdirSync(join(dump, 'q2-forged'));
  writeFileSync(join(dump, 'q2-forged/q2.csv'), 'item,amount\nhosting,14000\n');
  mkdirSync(join(dump, 'saved'));
  writeFileSync(join(dump, 'saved/budget-q1.csv'), 'item,amount  \nhosting,1200\ntravel,300\n\n');
  writeFileSync(join(dump, 'docs/budget-q1.csv'), 'item,amount\r\nhosting,1200\r\ntravel,300\r\nconsulting (J. Doe),250000\r\n');
  // saved with LF line ends and the blanks that ended lines gone: no conflict; the amounts moved to the other quarter: one
  writeFileSync(join(dump, 'saved/budget.tsv'), 'item\tq1\tq2\nhosting\t1200\ntravel\t\t300\n');
  mkdirSync(join(dump, 'moved'));
  writeFileSync(join(dump, 'moved/budget.tsv'), 'item\tq1\tq2\r\nhosting\t\t1200\r\ntravel\t300\t\r\n');
  writeFileSync(join(dump, 'docs/report.pdf'), REPORT);
  writeFileSync(join(dump, 'docs/confession.docx'), '');
  writeFileSync(join(dump, 'docs/confession-1.docx'), '1');
  writeFileSync(join(dump, 'docs/minutes.txt'), '\r\n');
  mkdirSync(join(dump, 'tiny'));
  writeFileSync(join(dump, 'tiny/flag.txt'), '0');
  writeFileSync(join(dump, 'docs/memo.txt'), MEMO);
  writeFileSync(join(dump, 'docs/photos.zip'), PHOTOS_ZIP);
  writeFileSync(join(dump, 'docs/unrelated.zip'), PHOTOS_ZIP.subarray(0, 21));
  writeFileSync(join(dump, 'docs/contract.pdf'), CONTRACT);
  // red team Y, Y-19: the genuine bytes under another name than the email sent them as
  mkdirSync(join(dump, 'renamed'));
  writeFileSync(join(dump, 'renamed/final-signed-contract.pdf'), CONTRACT);
  writeFileSync(join(dump, 'docs/con\u200btract.pdf'), Buffer.concat([CONTRACT, Buffer.from('% and one more clause\n')]));
  writeFileSync(join(dump, 'docs/\uff43\uff4f\uff4e\uff54\uff52\uff41\uff43\uff54.pdf'), Buffer.from('%PDF-1.4\n% a forged contract\n%%EOF\n'));
  // Red team 11, 03: PDF readers find "%PDF-" anywhere in the first 1024 bytes, so one header line
  // in front leaves the forgery readable while leakcheck reads the file as an unsigned message.
  mkdirSync(join(dump, 'forged'));
  writeFileSync(join(dump, 'forged/contract.pdf'), Buffer.concat([Buffer.from('Message-ID: <scan-0001@scanner.local>\r\n\r\n'), FORGED]));
  writeFileSync(join(dump, 'forged/memo.txt'), Buffer.from('To: All staff\r\nFrom: The board\r\nSubject: Restructuring\r\n\r\nThe Lyon office stays open.\r\n'));
  writeFileSync(join(dump, 'forged/other.eml'), Buffer.from('To: bob@example.org\r\nFrom: carol@example.net\r\nSubject: lunch\r\n\r\nNoon?\r\n'));
  // Red team 11, 04: a variation selector or a Hangul filler draws nothing in a name
  writeFileSync(join(dump, 'forged/contract\ufe0f.pdf'), FORGED);
  writeFileSync(join(dump, 'forged/c\u{e0100}ontract\u3164.pdf'), FORGED);
  // Red team 14, 01 and 02: letters of other scripts that read as Latin ones (Cyrillic "а",
  // Latin alpha), one read as mail (Cyrillic "о"), and a trailing dot, which Windows drops
  writeFileSync(join(dump, 'forged/contr\u0430ct.pdf'), FORGED);
  writeFileSync(join(dump, 'forged/contr\u0251ct.pdf'), FORGED);
  writeFileSync(join(dump, 'forged/c\u043entract.pdf'), Buffer.concat([Buffer.from('Message-ID: <scan-0002@scanner.local>\r\n\r\n'), FORGED]));
  writeFileSync(join(dump, 'forged/contract.pdf.'), FORGED);
  writeFileSync(join(dump, 'forged/contrast.pdf'), FORGED);
  // Red team 14, 10: a forgery named as the attachment of a message a verified email forwarded
  writeFileSync(join(dump, 'forged/report.pdf'), FORGED);
  // Red team 15, F-DOC-1 and 2: a digit zero for an O (upper and lower case), and look-alike
  // names of a forwarded attachment and of one fixed but for its whitespace
  writeFileSync(join(dump, 'forged/C0NTRACT.PDF'), FORGED);
  writeFileSync(join(dump, 'forged/rep0rt.pdf'), FORGED);
  // Red team 15, F-DOC-4: a name reversed behind a right-to-left override, drawn as contract.pdf;
  // a small capital the confusables table leaves out; a Braille blank before the extension
  writeFileSync(join(dump, 'forged/\u202efdp.tcartnoc'), FORGED);
  writeFileSync(join(dump, 'forged/cont\u0280act.pdf'), FORGED);
  writeFileSync(join(dump, 'forged/contract\u2800.pdf'), FORGED);
  writeFileSync(join(dump, 'forged/contract.pdf::$DATA'), FORGED);
  writeFileSync(join(dump, 'forged/budg\u0435t-q1.csv'), 'item,amount\r\nhosting,1200\r\ntravel,300\r\nconsulting (J. Doe),250000\r\n');
  ({ rows, text, html } = await verifiedDocuments<DocumentRow>(tmp.path, dump, key.txt));
});

describe('documents: what a match proves', () => {
  it('an empty file is never matched, though a verified email carries an empty part', () => {
    expect(rows.find((r) => r.path === 'docs/confession.docx')).toMatchObject({ status: 'no-email-match', name_conflicts: [] });
  });

  it('nor is a file of one or two bytes, which many unrelated parts share; its name is still compared (red team Y, Y-15)', () => {
    expect(rows.find((r) => r.path === 'docs/confession-1.docx')).toMatchObject({ status: 'no-email-match', matching_messages: [], name_conflicts: [] });
    expect(rows.find((r) => r.path === 'docs/minutes.txt')).toMatchObject({ status: 'no-email-match', matching_messages: [] });
    expect(rows.find((r) => r.path === 'tiny/flag.txt')!.name_conflicts).toEqual([expect.objectContaining({ filename: 'flag.txt', message: 'mail.eml' })]);
  });

  it('two files of one name in one verified email: a copy of each is verified, not a name conflict with the other; a forgery conflicts with both (red team Y, Y-11)', () => {
    for (const path of ['m-draft/minutes.pdf', 'm-adopted/minutes.pdf']) {
      expect(rows.find((r) => r.path === path), path).toMatchObject({ status: 'verified-by-email', name_conflicts: [] });
    }
    expect(rows.find((r) => r.path === 'm-forged/minutes.pdf')!.name_conflicts.map((c) => [c.filename, c.message])).toEqual([
      ['minutes.pdf', 'minutes.eml'],
      ['minutes.pdf', 'minutes.eml'],
    ]);
  });

  it('the genuine document is verified by the email', () => {
    expect(rows.find((r) => r.path === 'docs/contract.pdf')).toMatchObject({ status: 'verified-by-email', name_conflicts: [] });
  });

  it('a file read as a message, or as a zip of mail, is a document when a verified email carried its bytes, and not otherwise', () => {
    expect(rows.find((r) => r.path === 'docs/memo.txt')).toMatchObject({ status: 'verified-by-email', name_conflicts: [] });
    expect(rows.find((r) => r.path === 'docs/photos.zip')).toMatchObject({ status: 'verified-by-email', name_conflicts: [] });
    expect(rows.find((r) => r.path === 'docs/unrelated.zip')).toBeUndefined();
    expect(rows.find((r) => r.path === 'mail.eml')).toBeUndefined();
  });

  it('a name with a zero-width space or in fullwidth letters is the same name to a reader: a name conflict', () => {
    const named = rows.filter((r) => r.path.startsWith('docs/') && r.path.endsWith('.pdf') && !['docs/contract.pdf', 'docs/report.pdf'].includes(r.path));
    expect(named).toHaveLength(2);
    for (const row of named) {
      expect(row.status, row.path).toBe('no-email-match');
      expect(row.name_conflicts.map((c) => c.filename), row.path).toEqual(['contract.pdf']);
    }
  });

  it('a forged document read as a message is still a name conflict, and so is a forged memo; another message file is no document (red team 11, 03)', () => {
    expect(rows.find((r) => r.path === 'forged/contract.pdf')).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'contract.pdf' }] });
    expect(rows.find((r) => r.path === 'forged/memo.txt')).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'memo.txt' }] });
    expect(rows.find((r) => r.path === 'forged/other.eml')).toBeUndefined();
  });

  it('a variation selector or a Hangul filler in a name changes nothing a reader sees: a name conflict (red team 11, 04)', () => {
    for (const path of ['forged/contract\ufe0f.pdf', 'forged/c\u{e0100}ontract\u3164.pdf']) {
      expect(rows.find((r) => r.path === path), path).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'contract.pdf' }] });
    }
  });

  it('a name spelt with letters that read alike is a look-alike name conflict, and says so; a name that only resembles is none (red team 14, 01)', () => {
    for (const path of ['forged/contr\u0430ct.pdf', 'forged/contr\u0251ct.pdf', 'forged/c\u043entract.pdf']) {
      expect(rows.find((r) => r.path === path), path).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'contract.pdf', readsLike: true }] });
    }
    expect(rows.find((r) => r.path === 'forged/contrast.pdf')).toMatchObject({ status: 'no-email-match', name_conflicts: [] });
    expect(text).toContain('forged/contr\u0430ct.pdf  no-email-match  RED FLAG: look-alike name');
    expect(text).toContain('! a document whose name reads like this one but is spelt with other characters (contract.pdf) was sent in a verified email');
  });

  it('a digit zero for an O reads alike in any case; look-alike names of a forwarded attachment and of one fixed but for its whitespace are flagged too (red team 15, F-DOC-1, 2)', () => {
    expect(rows.find((r) => r.path === 'forged/C0NTRACT.PDF')).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'contract.pdf', readsLike: true }] });
    expect(rows.find((r) => r.path === 'forged/rep0rt.pdf')).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'report.pdf', readsLike: true, carrier: { message: 'fwd-simple.eml' } }] });
    expect(rows.find((r) => r.path === 'forged/budg\u0435t-q1.csv')).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'budget-q1.csv', message: 'budget.eml', readsLike: true, exceptWhitespace: true }] });
  });

  it('a trailing dot, which Windows drops when it opens the file, is the same name: a name conflict (red team 14, 02)', () => {
    const row = rows.find((r) => r.path === 'forged/contract.pdf.');
    expect(row).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'contract.pdf' }] });
    expect(row!.name_conflicts[0]).not.toHaveProperty('readsLike');
  });

  it('a document named as an attachment of a forwarded message whose bytes a verified email fixes, with other bytes, is a name conflict naming that email (red team 14, 10)', () => {
    const row = rows.find((r) => r.path === 'forged/report.pdf');
    // only the simple-signed carrier fixes the forwarded bytes; the relaxed one leaves their whitespace
    expect(row).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'report.pdf', message: 'fwd-simple.eml#attachment-1', carrier: { message: 'fwd-simple.eml' } }] });
    expect(row!.name_conflicts).toHaveLength(1);
    expect(text).toContain('! a document with this name was forwarded inside the verified email fwd-simple.eml, with different content: report.pdf in fwd-simple.eml#attachment-1');
  });

  it('against an attachment a relaxed signature fixes all but the whitespace of: a copy that differs in whitespace alone is none, one with a row added is a name conflict (red team 14, 09)', () => {
    expect(rows.find((r) => r.path === 'saved/budget-q1.csv')).toMatchObject({ status: 'no-email-match', name_conflicts: [] });
    const forged = rows.find((r) => r.path === 'docs/budget-q1.csv');
    expect(forged).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'budget-q1.csv', message: 'budget.eml', exceptWhitespace: true }] });
    expect(text).toContain('! a document with this name was sent in a verified email whose signature fixes all of it but its whitespace, with different content: budget-q1.csv in budget.eml');
  });

  it('against a tab-separated attachment a relaxed signature fixes all but the whitespace of: other line ends are no conflict, tabs moved between columns are one of their own (red team 15, F-DOC-3)', () => {
    expect(rows.find((r) => r.path === 'saved/budget.tsv')).toMatchObject({ status: 'no-email-match', name_conflicts: [] });
    const moved = rows.find((r) => r.path === 'moved/budget.tsv')!;
    expect(moved).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'budget.tsv', message: 'budget.eml', exceptWhitespace: true, blanksMoved: true }] });
    expect(moved.name_conflicts).toHaveLength(1);
    // a row added is a conflict of content, not of blanks
    expect(rows.find((r) => r.path === 'docs/budget-q1.csv')!.name_conflicts[0]).not.toHaveProperty('blanksMoved');
    expect(text).toContain('moved/budget.tsv  no-email-match  RED FLAG: spaces or tabs moved');
    expect(text).toContain('! a document with this name was sent in a verified email whose signature fixes all of it but its whitespace, with the same content but for spaces and tabs inside its lines, which the signature does not fix (in tab-separated or aligned text, values moved to other columns): budget.tsv in budget.eml');
    expect(html).toMatch(/<strong class="flag">Red flag:<\/strong> a document with this name was sent in a verified email whose signature fixes all of it but its whitespace \([^)]*budget\.eml[^)]*\), with the same content but for spaces and tabs inside its lines/);
  });

  it('a name drawn or opened as the verified one (reversed behind a right-to-left override, a small capital, a blank before the extension, an NTFS stream suffix) is flagged (red team 15, F-DOC-4)', () => {
    expect(rows.find((r) => r.path === 'forged/\u202efdp.tcartnoc')).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'contract.pdf' }] });
    expect(rows.find((r) => r.path === 'forged/\u202efdp.tcartnoc')!.name_conflicts[0]).not.toHaveProperty('readsLike');
    // Windows opens a file's unnamed data stream by this name too
    expect(rows.find((r) => r.path === 'forged/contract.pdf::$DATA')).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'contract.pdf' }] });
    for (const path of ['forged/cont\u0280act.pdf', 'forged/contract\u2800.pdf']) {
      expect(rows.find((r) => r.path === path), path).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'contract.pdf', readsLike: true }] });
    }
  });

  it('an attachment of a forwarded message names the verified email that carried it, without being verified by it (red team 10, 11)', () => {
    const report = rows.find((r) => r.path === 'docs/report.pdf')!;
    expect(report.status).toBe('seen-in-unverified-email');
    expect(report.matching_messages.map((m) => [m.message, m.verdict, m.carrier?.message, m.carrier?.signers, m.carrier?.strength])).toEqual([
      ['fwd-relaxed.eml#attachment-1', 'unverifiable', 'fwd-relaxed.eml', ['example.com'], 'covered-except-whitespace'],
      ['fwd-simple.eml#attachment-1', 'unverifiable', 'fwd-simple.eml', ['example.com'], 'verified-content'],
    ]);
    expect(text).toContain('forwarded inside fwd-simple.eml (signed by example.com, dated 2016-03-14T09:26:50.000Z), whose signature covers the forwarded message holding these bytes');
    expect(text).toContain('forwarded inside fwd-relaxed.eml (signed by example.com, dated 2016-03-14T09:26:50.000Z), whose signature covers all but the whitespace of the forwarded message');
    // an attachment of the verified email itself has no carrier
    expect(rows.find((r) => r.path === 'docs/contract.pdf')!.matching_messages.every((m) => m.carrier === undefined)).toBe(true);
  });
});

describe('documents: what the listings say of the email that carried them (red team Y)', () => {
  it('a document the email sent under another name says so, in the CSV and the HTML report (Y-19)', () => {
    expect(rows.find((r) => r.path === 'renamed/final-signed-contract.pdf')).toMatchObject({ status: 'verified-by-email' });
    const csv = runCli(['documents', '--format', 'csv', '--db', join(tmp.path, 'x.db')]).stdout;
    expect(csv).toMatch(/renamed\/final-signed-contract\.pdf,[0-9a-f]{64},\d+,verified-by-email,"?mail\.eml, sent as contract\.pdf \(verified/);
    expect(csv).toMatch(/docs\/contract\.pdf,[0-9a-f]{64},\d+,verified-by-email,"?mail\.eml \(verified/);
    expect(html).toContain('<tr><td>renamed/final-signed-contract.pdf</td><td>verified-by-email</td><td>mail.eml, sent as contract.pdf (verified,');
  });

  it('a conflict with an attachment of an unsigned forwarded message says it is not signed, never "signed by ?" (Y-13)', () => {
    expect(text).not.toContain('signed by ?');
    expect(text).toMatch(/report\.pdf in fwd-simple\.eml#attachment-1 \(not signed itself\)/);
  });

  it('a copy of a text attachment a simple signature pins that differs in its line ends alone is no conflict; one with other text is (Y-14)', () => {
    for (const path of ['q2-lf/q2.csv', 'q2-crlf/q2.csv']) expect(rows.find((r) => r.path === path), path).toMatchObject({ status: 'no-email-match', name_conflicts: [] });
    expect(rows.find((r) => r.path === 'q2-forged/q2.csv')).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'q2.csv', message: 'q2.eml' }] });
  });

  it('a message that is one named CSV part is inventoried: its saved copy is verified, a forged one a name conflict (Y-21)', () => {
    expect(rows.find((r) => r.path === 'annual-saved/annual.csv')).toMatchObject({ status: 'verified-by-email' });
    expect(rows.find((r) => r.path === 'annual-forged/annual.csv')).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'annual.csv', message: 'annual.eml' }] });
  });

  it('a symbolic link inside the dump is the document it leads to, under the link\'s name; one out of the dump is none (Y-18)', () => {
    const linked = rows.find((r) => r.path === 'linked/contract.pdf') as (DocumentRow & { symlink_to: string | null }) | undefined;
    expect(linked).toMatchObject({ status: 'no-email-match', symlink_to: '../store/0b7f3e.bin', name_conflicts: [{ filename: 'contract.pdf', message: 'mail.eml' }] });
    expect(rows.find((r) => r.path === 'linked/outside.pdf')).toBeUndefined();
    // (AA-08) resolved as the system opens it: out of the dump, so no document, never the genuine one's bytes
    expect(rows.find((r) => r.path === 'linked/final.pdf')).toBeUndefined();
    expect(rows.find((r) => r.path === 'linked/genuine.pdf')).toMatchObject({ status: 'verified-by-email' });
    // (AA-10) its whitespace read from the target, as for the file itself: no conflict
    expect(rows.find((r) => r.path === 'linked/budget-q1.csv')).toMatchObject({ status: 'no-email-match', name_conflicts: [] });
    // (AA-12) to bytes read as mail: a document too, as the same bytes under the name would be
    expect(rows.find((r) => r.path === 'linked-mail/contract.pdf')).toMatchObject({ status: 'no-email-match', name_conflicts: [{ filename: 'contract.pdf' }] });
    expect(text).toContain('bytes, a symbolic link to ../store/0b7f3e.bin');
  });
});
