import { describe, expect, it } from 'vitest';
import { mayHoldMail, sniffContainer } from '../../src/discover/sniff.ts';
import { MAY_HOLD_MAIL, refusalOfHead } from '../../src/read/zip-entry.ts';
import { buildZip } from '../attachments/zip-writer.ts';

const MESSAGE = 'Return-Path: <alice@example.org>\nFrom: Alice <alice@example.org>\nTo: bob@example.com\nSubject: hi\n\nbody\n';

function sniff(content: string | Buffer, relPath = 'dump/file'): ReturnType<typeof sniffContainer> {
  return sniffContainer(typeof content === 'string' ? Buffer.from(content, 'latin1') : content, relPath);
}

describe('sniffContainer: messages', () => {
  it('recognises an RFC 5322 message whatever its name', () => {
    expect(sniff(MESSAGE, 'inbox/x.eml')).toEqual({ kind: 'eml' });
    expect(sniff(MESSAGE, 'notes.txt')).toEqual({ kind: 'eml' });
    expect(sniff(MESSAGE.replaceAll('\n', '\r\n'), 'x')).toEqual({ kind: 'eml' });
  });

  it('calls messages in cur/ or new/ Maildir messages, extension-less names included', () => {
    expect(sniff(MESSAGE, 'Maildir/cur/1490000000.M0P77.host:2,S')).toEqual({ kind: 'maildir' });
    expect(sniff(MESSAGE, 'Maildir/.Sent/new/1490000001.M1P78.host')).toEqual({ kind: 'maildir' });
    expect(sniff(MESSAGE, 'cur/1490000000.M0P77.host:2,RS')).toEqual({ kind: 'maildir' });
    expect(sniff(MESSAGE, 'Maildir/tmp/1490000000.M0P77.host')).toEqual({ kind: 'eml' });
    expect(sniff(MESSAGE, 'current/x')).toEqual({ kind: 'eml' });
  });

  it('looks past a UTF-8 BOM and leading blank lines', () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(MESSAGE)]);
    expect(sniff(bom, 'x.eml')).toEqual({ kind: 'eml' });
    expect(sniff(`\n\r\n\n${MESSAGE}`, 'x.eml')).toEqual({ kind: 'eml' });
  });

  it('reads a head whose lines end with a CR alone (classic Mac OS) as one with LFs', () => {
    const mac = (text: string): string => text.replaceAll('\n', '\r');
    expect(sniff(mac(`X-Mozilla-Status: 0001\nX-Mozilla-Status2: 00000000\n${MESSAGE}`), 'x.eml')).toEqual({ kind: 'eml' });
    expect(sniff(mac(`\n\nX-Test: 1\nFrom: a@example.org\nSubject: hi\n\nbody\n`), 'x.eml')).toEqual({ kind: 'eml' });
    expect(sniff(mac('X-Note: 1\nSubject: shopping list\n\nFrom: milk\nTo: eggs\n'))).toMatchObject({ kind: 'skip', reason: 'not-email' });
  });

  it('accepts two ordinary headers or one trace/signature header, not a lone Date or Subject', () => {
    expect(sniff('Date: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: x\n\nbody')).toEqual({ kind: 'eml' });
    expect(sniff('Received: from mx.example.org by mx.example.com\n\nbody')).toEqual({ kind: 'eml' });
    expect(sniff('DKIM-Signature: v=1; a=rsa-sha256;\n b=abc\n\nbody')).toEqual({ kind: 'eml' });
    expect(sniff('Subject: shopping list\n\nmilk\n')).toMatchObject({ kind: 'skip', reason: 'not-email' });
    expect(sniff('Date: 2024-01-01\ntitle: x\n\n')).toMatchObject({ kind: 'skip', reason: 'not-email' });
  });

  it('finds a well-known header late in a long header block, and survives a head cut mid-block', () => {
    const junk = Array.from({ length: 200 }, (_, i) => `X-Custom-${i}: value ${i}`).join('\n');
    expect(sniff(`${junk}\nMessage-ID: <1@example.org>\n\nbody`)).toEqual({ kind: 'eml' });
    const cut = `Received: from a\n${'X-Pad: ' + 'y'.repeat(100) + '\n'}`.repeat(200).slice(0, 16 * 1024);
    expect(sniff(cut)).toEqual({ kind: 'eml' });
  });

  it('tolerates obsolete whitespace before the colon and damaged header lines', () => {
    expect(sniff('From : alice@example.org\nTo : bob@example.com\n\nbody')).toEqual({ kind: 'eml' });
    expect(sniff('Received: from a\nthis line lost its name\nFrom: a@b\n\nbody')).toEqual({ kind: 'eml' });
  });

  it('recognises an mbox by its From separator line', () => {
    expect(sniff(`From alice@example.org Sat Jan  3 01:05:34 1996\n${MESSAGE}`, 'mail/inbox')).toEqual({ kind: 'mbox' });
    expect(sniff(`From - Sat Jan  3 01:05:34 1996\r\n${MESSAGE.replaceAll('\n', '\r\n')}`)).toEqual({ kind: 'mbox' });
    expect(sniff('From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n\nbody')).toEqual({ kind: 'mbox' });
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`From a@b Sat Jan  3 01:05:34 1996\n${MESSAGE}`)]);
    expect(sniff(bom)).toEqual({ kind: 'mbox' });
  });

  it('does not take prose starting with "From " for an mbox', () => {
    expect(sniff('From here on, the plan changes.\nWe leave at dawn.\n')).toEqual({
      kind: 'skip',
      reason: 'not-email',
      detail: 'text file, not an email',
    });
  });

  // Red team 6, C-06: an unsigned field on top whose name starts with a file signature took an
  // altered copy out of the verdicts as a PDF, GIF, bzip2 file, plist or PST.
  it('reads a header block as mail whatever file signature its first field name starts with', () => {
    for (const name of ['%PDF-1.7', '%PDF', 'GIF89a', 'GIF87a', 'BZh', 'BZh91AY&SY', 'bplist00', '!BDN']) {
      expect(sniff(`${name}: 1\n${MESSAGE}`, 'x.eml'), name).toEqual({ kind: 'eml' });
      expect(sniff(`${name}: 1\r\n${MESSAGE.replaceAll('\n', '\r\n')}`, 'Maildir/cur/1.host:2,S'), name).toEqual({ kind: 'maildir' });
    }
    // a header block too long for the head, recognised by its shape alone
    const fields = Array.from({ length: 2000 }, (_, i) => `X-Field-${i}: ${'v'.repeat(20)}`).join('\n');
    expect(sniff(`%PDF-1.7: 1\n${fields}`.slice(0, 16 * 1024))).toEqual({ kind: 'eml' });
  });

  it('recognises an emlx by its byte-count line, padded or not', () => {
    expect(sniff(`1234\n${MESSAGE}`, 'Messages/1.emlx')).toEqual({ kind: 'emlx' });
    expect(sniff(`   97  \n${MESSAGE}`, 'Messages/2.partial.emlx')).toEqual({ kind: 'emlx' });
    expect(sniff(`1234\n${MESSAGE}`, 'no-extension')).toEqual({ kind: 'emlx' });
    expect(sniff('42\n')).toMatchObject({ kind: 'skip', reason: 'not-email' });
  });
});

describe('sniffContainer: everything else', () => {
  it('names common file types by their magic bytes, whatever the extension', () => {
    const cases: Array<[Buffer, string]> = [
      [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), 'PDF document'],
      [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), 'PNG image'],
      [Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]), 'JPEG image'],
      [Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'), 'GIF image'],
      [Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0]), 'ZIP archive (or an OOXML office document)'],
    ];
    for (const [head, detail] of cases) {
      expect(sniff(head, 'attachment.eml')).toEqual({ kind: 'skip', reason: 'not-email', detail });
    }
    const ole2 = sniff(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]), 'mail.msg');
    expect(ole2).toMatchObject({ kind: 'skip', reason: 'not-email' });
    expect(ole2.kind === 'skip' && ole2.detail).toMatch(/OLE2.*Outlook \.msg/);
  });

  // The signatures that are text could start a field name (see the C-06 test above); real files
  // must still be named, even when what follows the signature contains a colon or mail's fields.
  it('still names real files whose signature is text, mail-like bytes after it included', () => {
    const cases: Array<[Buffer, string]> = [
      [Buffer.from('%PDF-1.7\r\n%\xe2\xe3\xcf\xd3\r\n1 0 obj\r\n<< /Type /Catalog /Pages 2 0 R >>\r\nendobj\r\n', 'latin1'), 'PDF document'],
      [Buffer.from('%PDF-1.4\nFrom: a@b\nMessage-ID: <1@b>\n\n', 'latin1'), 'PDF document'],
      // a GIF 58 pixels wide: its width's low byte is a colon
      [Buffer.from('GIF89a:\x00\x10\x00\xf7\x00\x00\n\x00\x00\n', 'latin1'), 'GIF image'],
      [Buffer.from('GIF87a\x01\x00\x01\x00\x80\x00\x00', 'latin1'), 'GIF image'],
      [Buffer.from('BZh91AY&SY:\x8e\x0f\x9d\x00\x00\x01\x81\x80\n', 'latin1'), 'bzip2-compressed file (decompress it first)'],
      [Buffer.from('bplist00\xd1\x01\x02Received:\x00\x08\x0b', 'latin1'), 'binary property list'],
      [Buffer.from('!BDN\x8c\x2a\x0e\x01SM\x17\x00\x01\x01', 'latin1'), 'Outlook PST/OST mailbox (not supported)'],
    ];
    for (const [head, detail] of cases) {
      expect(sniff(head, 'x.eml'), detail).toEqual({ kind: 'skip', reason: 'not-email', detail });
    }
  });

  // Zips are opened and their entries verified, so neither may pass for the other. A zip's
  // signature starts with a byte no field name holds: a stored message right after the local
  // header does not make the archive mail, and a message behind those four bytes is not mail to
  // any reader (its first line is no field), as with any other first line that is none.
  it('keeps a zip a zip, a stored message at its start included, and reads no mail behind a zip signature', () => {
    const zip = buildZip([{ name: 'm.eml', data: Buffer.from(MESSAGE), method: 0 }]);
    expect(zip.toString('latin1')).toContain(MESSAGE);
    expect(sniff(zip, 'export.zip')).toEqual({ kind: 'skip', reason: 'not-email', detail: 'ZIP archive (or an OOXML office document)' });
    expect(sniff(`PK\x03\x04: 1\n${MESSAGE}`, 'x.eml')).toEqual({ kind: 'skip', reason: 'not-email', detail: 'ZIP archive (or an OOXML office document)' });
  });

  it('reports an empty head as empty', () => {
    expect(sniff(Buffer.alloc(0))).toEqual({ kind: 'skip', reason: 'empty', detail: 'empty file' });
  });

  it('reports NUL bytes as binary, unless they come after or inside a message header block', () => {
    expect(sniff(Buffer.from([0x13, 0x00, 0x42, 0x99, 0x00]))).toMatchObject({ kind: 'skip', reason: 'binary' });
    expect(sniff(Buffer.alloc(512))).toMatchObject({ kind: 'skip', reason: 'binary' });
    expect(sniff(`${MESSAGE}raw \0 byte in the body\n`)).toEqual({ kind: 'eml' });
    // Red team, round 4 (14): one NUL in an unsigned header took an altered copy out of the
    // verdicts. Mail programs open it; the check header-nul reports it.
    expect(sniff(`From: a@b\nTo: c@d\nX-Bad: \0\n\nbody`)).toEqual({ kind: 'eml' });
    // lines only shaped like fields, with a NUL among them, are not taken for a message
    expect(sniff(`X-A: 1\nX-B: \0\nX-C: 3\n\nbody`)).toMatchObject({ kind: 'skip', reason: 'binary' });
  });

  it('reports control-byte soup without NULs as binary', () => {
    const soup = Buffer.from(Array.from({ length: 256 }, (_, i) => (i % 31) + 1));
    expect(sniff(soup)).toEqual({ kind: 'skip', reason: 'binary', detail: 'binary data' });
  });

  it('reports plain text, XML and HTML as not-email with a readable detail', () => {
    expect(sniff('Dear diary,\n\ntoday nothing happened.\n')).toEqual({
      kind: 'skip',
      reason: 'not-email',
      detail: 'text file, not an email',
    });
    expect(sniff('<?xml version="1.0"?>\n<!DOCTYPE plist>\n<plist version="1.0"><dict/></plist>\n')).toEqual({
      kind: 'skip',
      reason: 'not-email',
      detail: 'XML property list',
    });
    expect(sniff('<!DOCTYPE html>\n<html></html>')).toMatchObject({ detail: 'HTML document' });
    const yaml = sniff('name: leakcheck\nversion: 1\n');
    expect(yaml.kind === 'skip' && yaml.detail).toContain('"name:"');
    expect(sniff('\n\n\r\n')).toMatchObject({ kind: 'skip', reason: 'not-email' });
  });

  it('reports UTF-16 text as not-email rather than binary', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('From: a\n', 'utf16le')]);
    expect(sniff(utf16)).toMatchObject({ kind: 'skip', reason: 'not-email' });
  });
});

// Red team G-06: an MMDF mailbox was "text file, not an email", and inside a zip it had no row
describe('sniffContainer: an MMDF mailbox', () => {
  const MMDF = `\x01\x01\x01\x01\n${MESSAGE}\x01\x01\x01\x01\n\x01\x01\x01\x01\n${MESSAGE}\x01\x01\x01\x01\n`;

  it('is named, as a mailbox leakcheck does not read, that may hold mail', () => {
    const sniffed = sniff(MMDF, 'mail/inbox.mmdf');
    expect(sniffed).toEqual({ kind: 'skip', reason: 'not-email', detail: 'MMDF mailbox (messages between ^A^A^A^A lines; not supported)' });
    expect(mayHoldMail(sniffed as { reason: 'not-email'; detail: string })).toBe(true);
  });

  it('gets a row inside a zip archive', () => {
    const head = Buffer.from(MMDF, 'latin1');
    expect(refusalOfHead(head, head.length, 1 << 20, false)).toEqual({ code: MAY_HOLD_MAIL, reason: 'MMDF mailbox (messages between ^A^A^A^A lines; not supported)' });
  });
});
