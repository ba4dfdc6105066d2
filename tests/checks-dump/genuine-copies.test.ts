import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import { MIGRATIONS, SCHEMA_VERSION, APPLICATION_ID } from '../../src/store/schema.ts';
import { tempDir } from '../helpers/cli.ts';
import { verifiedDumpRows, type DumpRow } from '../helpers/dump-rows.ts';
import { rsaKey, signatureFor, type TestKey } from '../unit/support/signing.ts';

/*
 * The cross-dump checks compare messages with each other, and a red flag from them makes a
 * message suspicious: an accusation of forgery. Here, in one real run, genuine messages that the
 * comparison used to accuse, beside altered ones it must still catch:
 * - A: a copy a mailing list changed (Subject tag, footer, From rewritten, re-signed) against the
 *   untouched direct copy, and a proven copy whose signature does not sign the header that differs;
 * - B: a Sent copy stored quoted-printable (and multipart, re-encoded) against the received one;
 * - C: a "reply" signed by a forger's own domain, dated before a genuine message;
 * - D: two copies verified by the same domain that differ, which nothing reported.
 */

const keys = { corp: rsaKey(2048), corpRotated: rsaKey(2048), lists: rsaKey(2048), partner: rsaKey(2048), evil: rsaKey(2048) };
const SIGN_TIME = new Date('2017-02-14T09:00:00Z');
const ALL = 'from:to:cc:subject:date:message-id:in-reply-to:content-type:list-id';

interface Mail {
  from: string;
  subject: string;
  date: string;
  id: string;
  to?: string;
  extra?: string[];
  /** the header fields describing the body, when not plain 7bit text */
  content?: string[];
  body: string;
}

/** The Received field a receiving server puts on top of a message, at `time`. */
const stampedAt = (time: string): string => `Received: from smtp.corp.example by mx.partner.example; ${time}\r\n`;
function mail(m: Mail): string {
  const headers = [
    `From: ${m.from}`,
    `To: ${m.to ?? 'Bob <bob@partner.example>'}`,
    `Subject: ${m.subject}`,
    `Date: ${m.date}`,
    `Message-ID: ${m.id}`,
    ...(m.extra ?? []),
    'MIME-Version: 1.0',
    ...(m.content ?? ['Content-Type: text/plain; charset=us-ascii']),
  ];
  return `${headers.join('\r\n')}\r\n\r\n${m.body}`;
}

async function signedBy(message: string, key: TestKey, domain: string, selector: string, headerList = ALL): Promise<string> {
  return (await signatureFor(message, { key, domain, selector, signTime: SIGN_TIME, headerList })) + message;
}

const corpRotated = (m: string): Promise<string> => signedBy(m, keys.corpRotated, 'corp.example', 'old'); // its key is not in the key file
const corp = (m: string, headerList?: string): Promise<string> => signedBy(m, keys.corp, 'corp.example', 's2017', headerList);

/** quoted-printable as a mail client writes it: soft line breaks at 76 */
function quotedPrintable(text: string): string {
  const encoded = [...Buffer.from(text, 'utf8')].map((b) => (b === 0x0d || b === 0x0a ? String.fromCharCode(b) : b < 0x20 || b > 0x7e || b === 0x3d ? `=${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b))).join('');
  return encoded.split('\r\n').map((line) => line.replace(/(.{72}[^=]{0,2})(?=.)/g, '$1=\r\n')).join('\r\n');
}
const base64Lines = (bytes: Buffer, width: number): string => bytes.toString('base64').replace(new RegExp(`.{${width}}`, 'g'), '$&\r\n').replace(/(\r\n)?$/, '\r\n');

const TEXT = 'Hi Bob,\r\n\r\nThe fee is 10 000 \u20ac, payable on signature. Please confirm that the first instalment goes out before the end of the month.\r\n\r\nCarol\r\n';
const HTML = '<p>Hi Bob,</p><p>The fee is 10 000 &euro;, payable on signature.</p>';
const PDF = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256));

/** A multipart/mixed message: a text/html alternative and a PDF, encoded as `style` says. */
function multipart(style: { boundary: string; plain: 'qp' | '8bit'; html: 'qp' | 'base64'; pdfWidth: number; pdf?: Buffer }): { content: string[]; body: string } {
  const outer = `mixed-${style.boundary}`;
  const inner = `alt-${style.boundary}`;
  const plain = style.plain === 'qp' ? ['Content-Transfer-Encoding: quoted-printable', '', quotedPrintable(TEXT)] : ['Content-Transfer-Encoding: 8bit', '', Buffer.from(TEXT, 'utf8').toString('latin1')];
  const html = style.html === 'qp' ? ['Content-Transfer-Encoding: quoted-printable', '', quotedPrintable(HTML)] : ['Content-Transfer-Encoding: base64', '', base64Lines(Buffer.from(HTML), 76)];
  const body = [
    `--${outer}`, `Content-Type: multipart/alternative; boundary="${inner}"`, '',
    `--${inner}`, 'Content-Type: text/plain; charset=utf-8', ...plain,
    `--${inner}`, 'Content-Type: text/html; charset=utf-8', ...html,
    `--${inner}--`, '',
    `--${outer}`, 'Content-Type: application/pdf; name="contract.pdf"', 'Content-Disposition: attachment; filename="contract.pdf"', 'Content-Transfer-Encoding: base64', '',
    base64Lines(style.pdf ?? PDF, style.pdfWidth), `--${outer}--`, '',
  ].join('\r\n');
  return { content: [`Content-Type: multipart/mixed; boundary="${outer}"`], body };
}

const tmp = tempDir('leakcheck-genuine-copies-');
const files: Record<string, string> = {};

async function buildDump(): Promise<void> {
  // A1. Alice writes to the team list and Bob; the list tags the Subject, adds a footer, rewrites
  // From to its own address (DMARC mitigation) and signs as itself. corp.example's key is gone.
  const a1 = { from: 'Alice <alice@corp.example>', to: 'team@lists.example, Bob <bob@partner.example>', subject: 'Budget freeze', date: 'Tue, 14 Feb 2017 10:12:03 +0100', id: '<a1@corp.example>', body: 'The budget is frozen until March.\r\n' };
  const a1Direct = await corpRotated(mail(a1));
  files['A1/INBOX/budget.eml'] = a1Direct;
  const a1Listed = a1Direct
    .replace('From: Alice <alice@corp.example>', 'From: "Alice via Team" <team@lists.example>\r\nReply-To: Alice <alice@corp.example>')
    .replace('Subject: Budget freeze', 'Subject: [team] Budget freeze\r\nList-Id: Team <team.lists.example>\r\nList-Post: <mailto:team@lists.example>')
    .concat('-- \r\nYou received this message because you are subscribed to the team list.\r\n');
  files['A1/lists/team/budget.eml'] = await signedBy(a1Listed, keys.lists, 'lists.example', 'l1');

  // A2. The organisation's own list: From kept, re-signed by corp.example with a current key.
  const a2 = { from: 'Carol <carol@corp.example>', to: 'all-staff@corp.example', subject: 'Office closed Friday', date: 'Tue, 14 Feb 2017 11:00:00 +0100', id: '<a2@corp.example>', body: 'The office is closed on Friday.\r\n' };
  files['A2/INBOX/office.eml'] = await corpRotated(mail(a2));
  const a2Listed = (await corpRotated(mail(a2)))
    .replace('Subject: Office closed Friday', 'Subject: [all-staff] Office closed Friday\r\nList-Id: <all-staff.corp.example>')
    .concat('_______________________________________________\r\nall-staff mailing list\r\n');
  files['A2/lists/all-staff/office.eml'] = await corp(a2Listed);

  // A3 (must still be caught). The same list copy, beside a direct copy whose Subject a forger
  // changed otherwise than by a tag, and one whose To was changed.
  const a3 = { ...a2, id: '<a3@corp.example>' };
  files['A3/lists/all-staff/office.eml'] = await corp(mail({ ...a3, subject: '[all-staff] Office closed Friday', extra: ['List-Id: <all-staff.corp.example>'], body: `${a3.body}-- \r\nall-staff\r\n` }));
  files['A3/INBOX/office-subject.eml'] = mail({ ...a3, subject: 'Office open Friday' });
  files['A3/INBOX/office-to.eml'] = mail({ ...a3, to: 'all-staff@corp.example, press@paper.example' });

  // A5 (must still be caught). A forger alters a proven message, strips its signature, and adds
  // a List-Id and a tagged Subject to pass the changes off as a list's.
  const a5 = { from: 'Eve <eve@corp.example>', subject: 'Budget', date: 'Tue, 14 Feb 2017 13:00:00 +0100', id: '<a5@corp.example>', body: 'The budget is frozen.\r\n' };
  files['A5/INBOX/budget.eml'] = await corp(mail(a5));
  files['A5/lists/budget.eml'] = mail({ ...a5, subject: '[all-staff] Budget', extra: ['List-Id: <all-staff.corp.example>'], body: 'The budget is doubled.\r\n-- \r\nall-staff\r\n' });

  // A4. A verified copy whose signature does not sign Subject, and a copy with another Subject.
  const a4 = { from: 'Dan <dan@corp.example>', subject: 'Minutes', date: 'Tue, 14 Feb 2017 12:00:00 +0100', id: '<a4@corp.example>', body: 'Minutes attached.\r\n' };
  files['A4/INBOX/minutes.eml'] = await corp(mail(a4), 'from:to:date:message-id');
  files['A4/archive/minutes.eml'] = mail({ ...a4, subject: 'Minutes (final)' });

  // B1. Dan's copy (8bit, signed by partner.example) and Carol's own Sent copy (never signed:
  // DKIM is added on the way out), which her client stored quoted-printable, its Subject encoded
  // as base64 words where the received copy has quoted-printable ones, and To folded.
  const b1 = { from: 'Carol <carol@partner.example>', to: 'Dan <dan@corp.example>, Erin <erin@corp.example>', date: 'Wed, 15 Feb 2017 11:00:00 +0100', id: '<b1@partner.example>' };
  files['B1/dan/INBOX/contract.eml'] = await signedBy(
    mail({ ...b1, subject: '=?UTF-8?Q?Contrat_sign=C3=A9?=', content: ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'], body: Buffer.from(TEXT, 'utf8').toString('latin1') }),
    keys.partner, 'partner.example', 's1',
  );
  files['B1/carol/Sent/contract.eml'] = mail({
    ...b1,
    to: 'Dan <dan@corp.example>,\r\n Erin <erin@corp.example>',
    subject: `=?UTF-8?B?${Buffer.from('Contrat signé').toString('base64')}?=`,
    content: ['Content-Type: text/plain; charset="UTF-8"', 'Content-Transfer-Encoding: quoted-printable'],
    body: quotedPrintable(TEXT),
  });
  // B3 (must still be caught): a quoted-printable copy in which a figure was changed.
  const b3 = { ...b1, id: '<b3@partner.example>', subject: 'Contract' };
  files['B3/dan/INBOX/contract.eml'] = await signedBy(
    mail({ ...b3, content: ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'], body: Buffer.from(TEXT, 'utf8').toString('latin1') }),
    keys.partner, 'partner.example', 's1',
  );
  files['B3/carol/Sent/contract.eml'] = mail({ ...b3, content: ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable'], body: quotedPrintable(TEXT.replace('10 000', '90 000')) });

  // B2. The same, multipart: the Sent copy has other boundaries, other transfer encodings for
  // both texts, and the PDF's base64 wrapped at 64 columns instead of 76.
  const b2 = { ...b1, id: '<b2@partner.example>', subject: 'Contract attached' };
  const received = multipart({ boundary: 'r1', plain: '8bit', html: 'base64', pdfWidth: 76 });
  files['B2/dan/INBOX/contract.eml'] = await signedBy(mail({ ...b2, ...received }), keys.partner, 'partner.example', 's1');
  files['B2/carol/Sent/contract.eml'] = mail({ ...b2, ...multipart({ boundary: 's9', plain: 'qp', html: 'qp', pdfWidth: 64 }) });
  // B4 (must still be caught): the same Sent copy, its PDF's bytes changed.
  const b4 = { ...b1, id: '<b4@partner.example>', subject: 'Contract attached' };
  files['B4/dan/INBOX/contract.eml'] = await signedBy(mail({ ...b4, ...received }), keys.partner, 'partner.example', 's1');
  const changedPdf = Buffer.from(PDF);
  changedPdf[1000] = 0xff - PDF[1000]!;
  files['B4/carol/Sent/contract.eml'] = mail({ ...b4, ...multipart({ boundary: 's9', plain: 'qp', html: 'qp', pdfWidth: 64, pdf: changedPdf }) });

  // C1. A genuine message (key gone) and a forged "reply" a day older, written from the forger's
  // own domain and signed there: verified, and aligned with its own From.
  files['C1/erin/INBOX/offer.eml'] = await corpRotated(mail({ from: 'Erin <erin@corp.example>', to: 'Frank <frank@partner.example>', subject: 'Offer', date: 'Thu, 16 Feb 2017 09:00:00 +0100', id: '<c1@corp.example>', body: 'Our offer stands.\r\n' }));
  files['C1/erin/INBOX/reply.eml'] = await signedBy(
    mail({ from: 'Frank <frank@evil.example>', to: 'Erin <erin@corp.example>', subject: 'Re: Offer', date: 'Wed, 15 Feb 2017 09:00:00 +0100', id: '<c1-reply@evil.example>', extra: ['In-Reply-To: <c1@corp.example>'], body: 'Thanks.\r\n' }),
    keys.evil, 'evil.example', 's1',
  );
  // (The replies below are dated two days before their parents: within 27 h a sender's wrong clock
  // explains a reply before its parent, and the finding is a warning; red team 27, E-01.)
  // C3 (must still be caught): the reply is signed by the parent's own domain. (Each accused
  // message below has a trace that agrees with its Date: one that contradicts it, or none, makes
  // the finding a warning; red team R, R-05.)
  files['C3/gina/INBOX/memo.eml'] = stampedAt('Fri, 17 Feb 2017 08:00:20 +0000') + await corpRotated(mail({ from: 'Gina <gina@corp.example>', to: 'Hal <hal@corp.example>', subject: 'Memo', date: 'Fri, 17 Feb 2017 09:00:00 +0100', id: '<c3@corp.example>', body: 'See the memo.\r\n' }));
  files['C3/gina/INBOX/reply.eml'] = await corp(mail({ from: 'Hal <hal@corp.example>', to: 'Gina <gina@corp.example>', subject: 'Re: Memo', date: 'Wed, 15 Feb 2017 09:00:00 +0100', id: '<c3-reply@corp.example>', extra: ['In-Reply-To: <c3@corp.example>'], body: 'Read it.\r\n' }));

  // C4 (must still be caught; red team 6, C-01). C3's forged reply, with a decoy planted under
  // the parent's Message-ID at a path that sorts first: an unsigned message of the forger's own.
  files['C4/0-archive/decoy.eml'] = mail({ from: 'X <x@evil.example>', subject: 'hello', date: 'Fri, 01 Jan 2016 00:00:00 +0000', id: '<c4@corp.example>', body: 'hi\r\n' });
  files['C4/gina/INBOX/memo.eml'] = await corp(mail({ from: 'Gina <gina@corp.example>', to: 'Hal <hal@corp.example>', subject: 'Memo', date: 'Fri, 17 Feb 2017 09:00:00 +0100', id: '<c4@corp.example>', body: 'See the memo.\r\n' }));
  files['C4/gina/INBOX/reply.eml'] = stampedAt('Wed, 15 Feb 2017 08:00:20 +0000') + mail({ from: 'Hal <hal@corp.example>', to: 'Gina <gina@corp.example>', subject: 'Re: Memo', date: 'Wed, 15 Feb 2017 09:00:00 +0100', id: '<c4-reply@corp.example>', extra: ['In-Reply-To: <c4@corp.example>'], body: 'Wire it all today.\r\n' });

  // C6 (must still be caught; red team 7, 05). A verified reply (its signature covers Date and
  // In-Reply-To) answers a forged, unsigned "parent" dated after it; 17 unsigned decoys under the
  // parent's Message-ID, first in path order, once pushed the forgery past the copies compared.
  for (let i = 0; i < 17; i++) {
    files[`C6/0-archive/${String(i).padStart(4, '0')}.eml`] = mail({ from: 'X <x@evil.example>', subject: 'hello', date: 'Fri, 01 Jan 2016 00:00:00 +0000', id: '<c6@corp.example>', body: `hi ${i}\r\n` });
  }
  files['C6/hal/INBOX/memo.eml'] = stampedAt('Sat, 18 Feb 2017 08:00:20 +0000') + mail({ from: 'Gina <gina@corp.example>', to: 'Hal <hal@corp.example>', subject: 'Memo', date: 'Sat, 18 Feb 2017 09:00:00 +0100', id: '<c6@corp.example>', body: 'Forged memo.\r\n' });
  files['C6/hal/Sent/reply.eml'] = await corp(mail({ from: 'Hal <hal@corp.example>', to: 'Gina <gina@corp.example>', subject: 'Re: Memo', date: 'Thu, 16 Feb 2017 09:00:00 +0100', id: '<c6-reply@corp.example>', extra: ['In-Reply-To: <c6@corp.example>'], body: 'Read it.\r\n' }));

  // C5 (red team 6, C-04). An older verified message of the domain, its signature not covering
  // In-Reply-To, with one added on top that names a genuine (key gone) message dated after it.
  files['C5/ivy/INBOX/plan.eml'] = await corpRotated(mail({ from: 'Ivy <ivy@corp.example>', subject: 'Plan', date: 'Sat, 18 Feb 2017 09:00:00 +0100', id: '<c5@corp.example>', body: 'The plan.\r\n' }));
  files['C5/ivy/INBOX/replayed.eml'] = `In-Reply-To: <c5@corp.example>\r\n${await corp(mail({ from: 'Hal <hal@corp.example>', subject: 'Lunch', date: 'Fri, 17 Feb 2017 12:00:00 +0100', id: '<c5-old@corp.example>', body: 'Lunch?\r\n' }), 'from:to:subject:date:message-id')}`;

  // E1 (red team 6, C-05). A verified message of the domain whose signature does not cover
  // Message-ID, given the Message-ID of a genuine (key gone) message.
  files['E1/ivy/INBOX/terms.eml'] = await corpRotated(mail({ from: 'Ivy <ivy@corp.example>', subject: 'Terms', date: 'Sat, 18 Feb 2017 10:00:00 +0100', id: '<e1@corp.example>', body: 'The terms stand.\r\n' }));
  files['E1/bob/INBOX/terms.eml'] = await corp(mail({ from: 'Ivy <ivy@corp.example>', subject: 'Terms', date: 'Sat, 18 Feb 2017 10:00:00 +0100', id: '<e1@corp.example>', body: 'The terms are void.\r\n' }), 'from:to:subject:date');

  // D1. Two copies, both verified by corp.example, that say different things.
  const d1 = { from: 'Ivy <ivy@corp.example>', subject: 'Payment', date: 'Fri, 17 Feb 2017 10:00:00 +0100', id: '<d1@corp.example>' };
  files['D1/ivy/Sent/payment.eml'] = await corp(mail({ ...d1, body: 'Approved: 10,000 EUR.\r\n' }));
  files['D1/bob/INBOX/payment.eml'] = await corp(mail({ ...d1, body: 'Approved: 90,000 EUR.\r\n' }));

}

type Row = DumpRow;
let rows = new Map<string, Row>();
const row = (path: string): Row => rows.get(path) ?? expect.fail(`${path} was not stored`);
const dumpFindings = (path: string): string[] => row(path).findings.map((f) => `${f.code}:${f.severity}`);

beforeAll(async () => {
  await buildDump();
  rows = await verifiedDumpRows(tmp.path, files, {
    's2017._domainkey.corp.example': [keys.corp.txt],
    'l1._domainkey.lists.example': [keys.lists.txt],
    's1._domainkey.partner.example': [keys.partner.txt],
    's1._domainkey.evil.example': [keys.evil.txt],
  });
}, 120_000);

afterAll(() => tmp.cleanup());

describe('E: a verified copy accuses only under a Message-ID its proof signs', () => {
  it('a verified message whose signature does not cover Message-ID, given a genuine message\'s, does not make it suspicious', () => {
    expect(row('E1/bob/INBOX/terms.eml').verdict).toBe('verified');
    expect(row('E1/ivy/INBOX/terms.eml').verdict).toBe('unverifiable');
    expect(dumpFindings('E1/ivy/INBOX/terms.eml')).toEqual(['divergent-copies:warning']);
    expect(row('E1/ivy/INBOX/terms.eml').findings[0]!.text).toMatch(/does not sign the Message-ID/);
  });
});

describe('A: a copy a mailing list changed does not make the direct copy altered', () => {
  it('a list that rewrote From and signed as itself: the direct copy is not accused, and the warning names the list copy', () => {
    expect(row('A1/lists/team/budget.eml').verdict).toBe('verified');
    const direct = row('A1/INBOX/budget.eml');
    expect(direct.verdict).toBe('unverifiable');
    expect(dumpFindings('A1/INBOX/budget.eml')).toEqual(['copy-changed-by-list:warning']);
    expect(direct.findings[0]!.text).toContain('A1/lists/team/budget.eml');
    expect(direct.findings[0]!.text).toContain('team.lists.example');
    expect(direct.findings[0]!.text).toMatch(/the list changed that copy/);
  });

  it("the organisation's own list, re-signing with the From domain after tagging the Subject and adding a footer: a warning, no red flag", () => {
    expect(row('A2/lists/all-staff/office.eml').verdict).toBe('verified');
    expect(row('A2/INBOX/office.eml').verdict).toBe('unverifiable');
    expect(dumpFindings('A2/INBOX/office.eml')).toEqual(['copy-changed-by-list:warning']);
    expect(row('A2/INBOX/office.eml').findings[0]!.text).toMatch(/body and Subject/);
  });

  it('a list does not change To, nor a Subject otherwise than by a tag: those copies are still altered', () => {
    expect(row('A3/lists/all-staff/office.eml').verdict).toBe('verified');
    for (const [path, field] of [['A3/INBOX/office-subject.eml', 'Subject'], ['A3/INBOX/office-to.eml', 'To']] as const) {
      expect(row(path).verdict, path).toBe('suspicious');
      expect(row(path).reasons[0]).toBe('conflicting-copy');
      expect(row(path).findings.find((f) => f.code === 'conflicting-copy')!.text).toContain(`in its ${field}`);
    }
  });

  it('a List-Id a forger added to an altered copy of a proven message excuses nothing', () => {
    expect(row('A5/INBOX/budget.eml').verdict).toBe('verified');
    expect(row('A5/lists/budget.eml').verdict).toBe('suspicious');
    expect(dumpFindings('A5/lists/budget.eml')).toEqual(['conflicting-copy:red-flag']);
  });

  it("a header the verified copy's signature does not sign proves nothing: a copy that differs there gets a warning", () => {
    expect(row('A4/INBOX/minutes.eml').verdict).toBe('verified');
    expect(row('A4/archive/minutes.eml').verdict).toBe('unverifiable');
    expect(dumpFindings('A4/archive/minutes.eml')).toEqual(['divergent-copies:warning']);
    expect(row('A4/archive/minutes.eml').findings[0]!.text).toMatch(/Subject, which its signature \(d=corp\.example\) does not sign/);
  });
});

describe('B: copies are compared as a reader sees them', () => {
  it('a Sent copy stored quoted-printable, its Subject encoded otherwise and To folded, is not altered', () => {
    expect(row('B1/dan/INBOX/contract.eml').verdict).toBe('verified');
    expect(row('B1/carol/Sent/contract.eml').verdict).toBe('unverifiable');
    expect(dumpFindings('B1/carol/Sent/contract.eml')).toEqual([]);
  });

  it('nor is a multipart Sent copy with other boundaries, transfer encodings and base64 line length', () => {
    expect(row('B2/dan/INBOX/contract.eml').verdict).toBe('verified');
    expect(row('B2/carol/Sent/contract.eml').verdict).toBe('unverifiable');
    expect(dumpFindings('B2/carol/Sent/contract.eml')).toEqual([]);
  });

  it('a changed figure in the decoded text, or changed attachment bytes, is still a red flag', () => {
    for (const path of ['B3/carol/Sent/contract.eml', 'B4/carol/Sent/contract.eml']) {
      expect(row(path).verdict, path).toBe('suspicious');
      expect(dumpFindings(path), path).toEqual(['conflicting-copy:red-flag']);
      expect(row(path).findings[0]!.text).toContain('in its body');
    }
  });
});

describe('C: a reply accuses its parent only with a Date signed by the parent\'s own domain', () => {
  it('a decoy planted under the proven parent\'s Message-ID, first in path order, does not hide the parent from a forged reply', () => {
    expect(row('C4/gina/INBOX/memo.eml').verdict).toBe('verified');
    expect(row('C4/gina/INBOX/reply.eml').verdict).toBe('suspicious');
    expect(dumpFindings('C4/gina/INBOX/reply.eml')).toEqual(['reply-before-parent:red-flag']);
  });

  it('decoys past the number of copies compared do not hide a forged parent from the verified reply that accuses it', () => {
    expect(row('C6/hal/Sent/reply.eml').verdict).toBe('verified');
    expect(row('C6/hal/INBOX/memo.eml').verdict).toBe('suspicious');
    expect(dumpFindings('C6/hal/INBOX/memo.eml')).toContain('reply-before-parent:red-flag');
  });

  it('a verified message with an unsigned In-Reply-To added does not make the genuine message it names suspicious', () => {
    expect(row('C5/ivy/INBOX/replayed.eml').verdict).toBe('verified');
    expect(row('C5/ivy/INBOX/plan.eml').verdict).toBe('unverifiable');
    expect(dumpFindings('C5/ivy/INBOX/plan.eml')).toEqual(['reply-before-parent:warning']);
    expect(row('C5/ivy/INBOX/plan.eml').findings[0]!.text).toMatch(/In-Reply-To or References header that makes it a reply to this message is not/);
  });

  it("a reply written from the forger's own domain and signed there, dated before a genuine message, does not make it suspicious", () => {
    expect(row('C1/erin/INBOX/reply.eml').verdict).toBe('verified');
    const parent = row('C1/erin/INBOX/offer.eml');
    expect(parent.verdict).toBe('unverifiable');
    expect(dumpFindings('C1/erin/INBOX/offer.eml')).toEqual(['reply-before-parent:warning']);
    expect(parent.findings[0]!.text).toMatch(/d=evil\.example\), which is not the parent's/);
    expect(dumpFindings('C1/erin/INBOX/reply.eml')).toEqual(['reply-before-parent:warning']);
  });

  it("a reply signed by the parent's own domain still makes an unproven parent dated after it suspicious", () => {
    expect(row('C3/gina/INBOX/reply.eml').verdict).toBe('verified');
    expect(row('C3/gina/INBOX/memo.eml').verdict).toBe('suspicious');
    expect(dumpFindings('C3/gina/INBOX/memo.eml')).toEqual(['reply-before-parent:red-flag']);
  });
});

describe('D: two verified copies that differ are reported', () => {
  it('each gets a warning naming the other; both stay verified', () => {
    for (const [path, other] of [['D1/ivy/Sent/payment.eml', 'D1/bob/INBOX/payment.eml'], ['D1/bob/INBOX/payment.eml', 'D1/ivy/Sent/payment.eml']] as const) {
      expect(row(path).verdict).toBe('verified');
      expect(dumpFindings(path)).toEqual(['verified-copies-differ:warning']);
      expect(row(path).findings[0]!.text).toContain(other);
      expect(row(path).findings[0]!.text).toMatch(/in its body/);
    }
  });
});

describe('schema 7', () => {
  it('a database of version 6 gains the columns, and every file is read again on the next run (its analysis lacks them)', () => {
    const path = join(tmp.path, 'v6.db');
    const v6 = new Database(path);
    for (const migration of MIGRATIONS.slice(0, 6)) v6.exec(migration);
    v6.pragma(`application_id = ${APPLICATION_ID}`);
    v6.pragma('user_version = 6');
    v6.prepare("INSERT INTO runs (started_at, status, dump_root, command_line, tool_version, mailauth_version, node_version, sqlite_version, options_json, key_files_json) VALUES ('t', 'completed', '/d', 'c', 'v', 'v', 'v', 'v', '{}', '[]')").run();
    v6.prepare("INSERT INTO source_files (path, kind, status, run_id, analyzed_at, analysis_context) VALUES ('a.eml', 'eml', 'ok', 1, 't', 'context-of-version-6')").run();
    v6.close();
    const db = openStore(path);
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const columns = (db.prepare('PRAGMA table_info(messages)').all() as Array<{ name: string }>).map((c) => c.name);
      expect(columns).toEqual(expect.arrayContaining(['text_sha256', 'visible_fields_json', 'mailing_list']));
      expect(db.prepare("SELECT analysis_context FROM source_files WHERE path = 'a.eml'").get()).toEqual({ analysis_context: null });
    } finally {
      db.close();
    }
  });
});
