import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGenericFileName } from '../../src/attachments/generic-names.ts';
import { normalizeFileName } from '../../src/attachments/inventory.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { verifiedDocuments } from '../helpers/documents.ts';
import { DATE_HEADER, rsaKey, SIGN_TIME, signed } from '../unit/support/signing.ts';

/*
 * Mail programs name the parts their sender did not name: Outlook every inline picture
 * image001.png, Exchange a text part after an attachment ATT00001.htm. A dump of pictures
 * exported from mail beside verified emails that each carry their own image001.png made a red
 * flag of almost every picture, on evidence that says nothing. Such a name conflict is listed,
 * as a note; one on a name the sender gave (contract.pdf) stays a red flag.
 */

const PNG = (text: string): Buffer => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(text)]);
const CONTRACT = Buffer.from('%PDF-1.4\n% the signed contract\n%%EOF\n');

interface DocumentRow {
  path: string;
  status: string;
  name_conflicts: Array<{ filename: string; message: string; genericName?: true; readsLike?: true }>;
  name_conflicts_total: number;
}

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let rows: DocumentRow[];
let text: string;
let csv: string;
let html: string;
let markdown: string;
const row = (path: string): DocumentRow => rows.find((r) => r.path === path)!;

beforeAll(async () => {
  const key = rsaKey(2048);
  const dump = join(tmp.path, 'dump');
  mkdirSync(dump);
  const message = [
    'From: Alice <alice@example.com>', 'To: bob@example.org', 'Subject: the contract', `Date: ${DATE_HEADER}`, 'Message-ID: <contract@example.com>',
    'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="m"', '',
    '--m', 'Content-Type: multipart/related; boundary="r"', '',
    '--r', 'Content-Type: text/html', '', '<p>The contract.</p><img src="cid:image001.png@01D2">', '--r',
    'Content-Type: image/png; name="image001.png"', 'Content-Disposition: inline; filename="image001.png"', 'Content-ID: <image001.png@01D2>',
    'Content-Transfer-Encoding: base64', '', PNG('the sender\'s logo').toString('base64'), '--r--',
    '--m', 'Content-Type: application/pdf', 'Content-Disposition: attachment; filename="contract.pdf"', 'Content-Transfer-Encoding: base64', '',
    CONTRACT.toString('base64'),
    '--m', 'Content-Type: text/html; name="ATT00001.htm"', 'Content-Disposition: attachment; filename="ATT00001.htm"', 'Content-Transfer-Encoding: base64', '',
    Buffer.from('<p>Sent from the board.</p>').toString('base64'), '--m--', '',
  ].join('\r\n');
  writeFileSync(join(dump, 'contract.eml'), await signed(message, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME }), 'latin1');
  // A hundred and one pictures named image002.png, and one imageoo2.png, which image002.png reads
  // like (the skeleton reads "0" as "o"): the red flag is kept before a hundred notes.
  const pictures = Array.from({ length: 101 }, (_, i) => ['--p', 'Content-Type: image/png', 'Content-Disposition: inline; filename="image002.png"', 'Content-Transfer-Encoding: base64', '', PNG(`picture ${i}`).toString('base64')]).flat();
  const album = ['From: Alice <alice@example.com>', 'To: bob@example.org', 'Subject: pictures', `Date: ${DATE_HEADER}`, 'Message-ID: <album@example.com>',
    'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="p"', '', ...pictures,
    '--p', 'Content-Type: image/png', 'Content-Disposition: attachment; filename="imageoo2.png"', 'Content-Transfer-Encoding: base64', '', PNG('the named one').toString('base64'), '--p--', ''].join('\r\n');
  writeFileSync(join(dump, 'album.eml'), await signed(album, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME }), 'latin1');
  for (const [path, bytes] of [
    ['exported/image001.png', PNG('a picture from another email')],
    // a look-alike of a name mail programs make up (a Cyrillic "і"): no more telling than the name itself
    ['exported/\u0456mage001.png', PNG('another picture')],
    ['exported/ATT00001.htm', Buffer.from('<p>Sent from my phone.</p>')],
    ['burst/image002.png', PNG('yet another picture')],
    ['forged/contract.pdf', Buffer.from('%PDF-1.4\n% the forged contract\n%%EOF\n')],
  ] as const) {
    mkdirSync(join(dump, path, '..'), { recursive: true });
    writeFileSync(join(dump, path), bytes);
  }
  let db: string;
  ({ db, rows, text, html } = await verifiedDocuments<DocumentRow>(tmp.path, dump, key.txt));
  csv = runCli(['documents', '--format', 'csv', '--db', db]).stdout;
  markdown = runCli(['report', '--format', 'md', '--db', db]).stdout;
});

describe('documents: a name conflict on a name mail programs make up is a note, not a red flag', () => {
  it("image001.png differing from a verified email's image001.png is listed, marked genericName; contract.pdf keeps its red flag", () => {
    expect(row('exported/image001.png')).toMatchObject({ status: 'no-email-match', name_conflicts_total: 1, name_conflicts: [{ filename: 'image001.png', message: 'contract.eml', genericName: true }] });
    expect(row('exported/ATT00001.htm').name_conflicts).toEqual([expect.objectContaining({ filename: 'ATT00001.htm', genericName: true })]);
    expect(row('exported/\u0456mage001.png').name_conflicts).toEqual([expect.objectContaining({ filename: 'image001.png', readsLike: true, genericName: true })]);
    const forged = row('forged/contract.pdf').name_conflicts;
    expect(forged).toEqual([expect.objectContaining({ filename: 'contract.pdf', message: 'contract.eml' })]);
    expect(forged[0]).not.toHaveProperty('genericName');
  });

  it('a red flag is kept before a hundred conflicts on names mail programs make up, never hidden past them', () => {
    const burst = row('burst/image002.png');
    expect(burst.name_conflicts_total).toBe(102);
    expect(burst.name_conflicts).toHaveLength(100);
    expect(burst.name_conflicts[0]).toEqual(expect.objectContaining({ filename: 'imageoo2.png', readsLike: true }));
    expect(burst.name_conflicts[0]).not.toHaveProperty('genericName');
    expect(burst.name_conflicts.slice(1).every((c) => c.genericName === true)).toBe(true);
    expect(text).toContain('burst/image002.png  no-email-match  RED FLAG: look-alike name\n');
    expect(markdown).toContain('| burst/image002.png |');
  });

  it('the documents listing says so as a note, and still flags the forged contract', () => {
    expect(text).toContain('exported/image001.png  no-email-match  note: a name mail programs make up\n');
    expect(text).toContain(
      '  note: a document with this name, one mail programs give to parts their sender did not name, was sent in a verified email, with different content, as is expected under such a name: not a red flag',
    );
    expect(text).toContain('forged/contract.pdf  no-email-match  RED FLAG: name conflict\n');
    expect(text).toContain('  ! a document with this name was sent in a verified email, with different content: contract.pdf in contract.eml');
    expect(text.match(/RED FLAG/g)).toHaveLength(2);
  });

  it('the CSV keeps its columns and says it in the name_conflict cell', () => {
    const [header, ...lines] = csv.trim().split(/\r?\n/);
    expect(header).toBe('path,sha256,size,status,matching_messages,name_conflict,as_email');
    expect(lines.find((l) => l.startsWith('exported/image001.png,'))).toContain('(a name mail programs give to unnamed parts: not a red flag)');
    expect(lines.find((l) => l.startsWith('forged/contract.pdf,'))).not.toContain('not a red flag');
  });

  it('the HTML report lists it as a note; the Markdown summary lists only the red flag and counts the notes', () => {
    expect(html.match(/Red flag:/g)).toHaveLength(2);
    // image001.png, its look-alike, ATT00001.htm, and the 19 notes shown beside the red flag of burst/image002.png
    expect(html.match(/<strong>Note:<\/strong>/g)).toHaveLength(22);
    expect(html).toContain('<strong>Note:</strong> a document with this name, one mail programs give to parts their sender did not name, was sent in a verified email (');
    expect(html).toContain('…and 82 more name conflicts on names mail programs make up, not red flags');
    expect(markdown).toContain('| forged/contract.pdf |');
    expect(markdown).not.toContain('| exported/image001.png |');
    expect(markdown).toContain('3 more share only a name mail programs give to unnamed parts');
  });
});

describe('which names mail programs make up', () => {
  it('the names of generic-names.ts, and not names a sender chose', () => {
    const generic = ['image001.png', 'IMAGE002.JPG', 'image123.emz', 'ATT00001.htm', 'ATT00012.txt', 'winmail.dat', 'smime.p7s', 'smime.p7m', 'signature.asc',
      'noname', 'unnamed', 'Untitled attachment 00012.txt', 'Outlook-pwxxv2xa.png', 'image.png'];
    const chosen = ['contract.pdf', 'image1.png', 'image0001.png', 'image001.pdf', 'ATT1.txt', 'my-signature.asc', 'Outlook-logo.png', 'image.jpg', 'winmail.dat.pdf'];
    for (const name of generic) expect(isGenericFileName(normalizeFileName(name)), name).toBe(true);
    for (const name of chosen) expect(isGenericFileName(normalizeFileName(name)), name).toBe(false);
  });
});
