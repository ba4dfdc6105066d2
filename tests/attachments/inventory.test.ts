import { describe, expect, it } from 'vitest';
import { inventoryParts, normalizeFileName } from '../../src/attachments/inventory.ts';
import { base64Lines, compose, crlf, headers, sha256 } from './support.ts';

const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1'), Buffer.alloc(3000, 7), Buffer.from('\n%%EOF\n')]);
const csv = Buffer.from('name;amount\nÉlodie;12,50\nZoë;7\n', 'utf8');
const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

describe('inventoryParts on composed mail', () => {
  it('lists documents and inline images with decoded names, sizes and hashes, and leaves the body text out', async () => {
    const message = await compose({
      from: 'Alice <alice@example.com>',
      to: 'bob@example.org',
      subject: 'Documents',
      text: 'See attached.',
      html: '<p>See attached. <img src="cid:logo@example.com"></p>',
      attachments: [
        { filename: 'Résumé de l’été 2016.pdf', content: pdf, contentType: 'application/pdf' },
        { filename: 'données  financières.csv', content: csv, contentType: 'text/csv' },
        { filename: 'logo.png', content: png, cid: 'logo@example.com', contentDisposition: 'inline' },
      ],
    });
    const { parts, error } = await inventoryParts(message);
    expect(error).toBeNull();
    expect(parts.map((p) => p.partIndex)).toEqual([1, 2, 3]);

    const byName = new Map(parts.map((p) => [p.filename, p]));
    const doc = byName.get('Résumé de l’été 2016.pdf')!;
    expect(doc).toMatchObject({
      contentType: 'application/pdf',
      normalizedName: 'résumé de l’été 2016.pdf',
      size: pdf.length,
      sha256: sha256(pdf),
      disposition: 'attachment',
      transferEncoding: 'base64',
      isMessage: false,
    });
    expect(doc.embedded).toBeUndefined();

    const table = byName.get('données  financières.csv')!;
    expect(table).toMatchObject({ contentType: 'text/csv', size: csv.length, sha256: sha256(csv) });
    expect(table.normalizedName).toBe('données financières.csv');

    const logo = byName.get('logo.png')!;
    expect(logo).toMatchObject({ contentType: 'image/png', disposition: 'inline', contentId: 'logo@example.com', sha256: sha256(png) });
    // the inline image sits inside multipart/related, inside multipart/alternative
    expect(logo.partId?.split('.').length).toBe(3);

    // text/plain and text/html are the message text, not attachments
    expect(parts.some((p) => p.contentType.startsWith('text/plain') || p.contentType === 'text/html')).toBe(false);
  });
});

describe('inventoryParts on hand-written mail', () => {
  it('decodes RFC 2231 names (with continuations and charsets) and RFC 2047 names', async () => {
    const message = crlf(
      ...headers('multipart/mixed; boundary="xyz"'),
      '--xyz',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'body',
      '--xyz',
      "Content-Type: application/pdf; name*=utf-8''ignored.pdf",
      'Content-Transfer-Encoding: base64',
      "Content-Disposition: attachment; filename*0*=utf-8''%E2%82%AC%20rates%20;",
      ' filename*1*=2016%E2%80%93Q1.pdf',
      '',
      ...base64Lines(pdf),
      '--xyz',
      'Content-Type: text/csv; name="=?ISO-8859-1?Q?Gr=FC=DFe=2Ecsv?="',
      'Content-Transfer-Encoding: quoted-printable',
      'Content-Disposition: attachment; filename="=?UTF-8?B?R3LDvMOfZS5jc3Y=?="',
      '',
      'a=3Db',
      '--xyz',
      "Content-Type: application/octet-stream; name*=iso-8859-1''caf%E9.bin",
      'Content-Transfer-Encoding: base64',
      '',
      'AAEC',
      '--xyz',
      'Content-Type: application/octet-stream',
      'Content-Disposition: attachment; filename="Zoë  Report .TXT"',
      '',
      'raw utf-8 name',
      '--xyz',
      'Content-Type: application/octet-stream',
      'Content-Disposition: attachment; filename="Ã©.txt"',
      '',
      'raw utf-8 name that looks like mojibake and is not',
      '--xyz--',
      '',
    );
    const { parts, error } = await inventoryParts(message);
    expect(error).toBeNull();
    expect(parts.map((p) => p.filename)).toEqual(['€ rates 2016–Q1.pdf', 'Grüße.csv', 'café.bin', 'Zoë  Report .TXT', 'Ã©.txt']);
    expect(parts.map((p) => p.partId)).toEqual(['2', '3', '4', '5', '6']);
    expect(parts[0]).toMatchObject({ size: pdf.length, sha256: sha256(pdf), disposition: 'attachment' });
    // quoted-printable is decoded before hashing
    expect(parts[1]).toMatchObject({ size: 3, sha256: sha256('a=b'), transferEncoding: 'quoted-printable' });
    expect(parts[2]).toMatchObject({ sha256: sha256(Buffer.from([0, 1, 2])), disposition: null, contentType: 'application/octet-stream' });
    expect(parts[3]!.normalizedName).toBe('zoë report .txt');
  });

  it('normalizes names to NFC, lower case and single spaces', () => {
    expect(normalizeFileName('  Cafe\u0301\tMENU.PDF ')).toBe('café menu.pdf');
    expect(normalizeFileName('   ')).toBeNull();
    // as a reader takes it (red team 10, 14): a zero-width space, fullwidth letters, a no-break space
    expect(normalizeFileName('con\u200btract.pdf')).toBe('contract.pdf');
    expect(normalizeFileName('ｃｏｎｔｒａｃｔ．ＰＤＦ')).toBe('contract.pdf');
    // the name a mail program saves it under: the last part of a path, without trailing dots (red team 14, 02 and 07)
    expect(normalizeFileName('C:\\Users\\alice\\Desktop\\Budget.pdf')).toBe('budget.pdf');
    expect(normalizeFileName('/home/alice/budget.pdf')).toBe('budget.pdf');
    expect(normalizeFileName('contract.pdf. .')).toBe('contract.pdf');
    expect(normalizeFileName('...')).toBeNull();
    expect(normalizeFileName('board\u00a0minutes.docx')).toBe('board minutes.docx');
    expect(normalizeFileName('\u200b\u2060')).toBeNull();
    // variation selectors, Hangul fillers and annotation controls draw nothing in a name (red team 11, 04)
    for (const name of ['contract\ufe0f.pdf', 'c\u{e0100}ontract.pdf', 'contract\u3164.pdf', 'contract\u1160.pdf', 'con\ufff9tract.pdf']) {
      expect(normalizeFileName(name), JSON.stringify(name)).toBe('contract.pdf');
    }
    // another script's look-alike letter is another name
    expect(normalizeFileName('contr\u0430ct.pdf')).not.toBe('contract.pdf');
    expect(normalizeFileName(null)).toBeNull();
  });

  it('lists a text part marked as an attachment but not the text body', async () => {
    const message = crlf(
      ...headers('multipart/mixed; boundary="b"'),
      '--b',
      'Content-Type: text/plain',
      '',
      'the body',
      '--b',
      'Content-Type: text/plain; name="notes.txt"',
      'Content-Disposition: attachment; filename="notes.txt"',
      '',
      'the notes',
      '--b',
      'Content-Type: text/html',
      'Content-Disposition: attachment; filename="page.html"',
      '',
      '<p>page</p>',
      '--b--',
      '',
    );
    const { parts } = await inventoryParts(message);
    expect(parts.map((p) => [p.filename, p.sha256])).toEqual([
      ['notes.txt', sha256('the notes')],
      ['page.html', sha256('<p>page</p>')],
    ]);
  });

  it('lists the body of a non-multipart message that is a document, with no part number', async () => {
    const message = crlf(
      ...headers('application/pdf; name="scan.pdf"', ['Content-Transfer-Encoding: base64']),
      ...base64Lines(pdf),
      '',
    );
    const { parts, error } = await inventoryParts(message);
    expect(error).toBeNull();
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ partIndex: 1, partId: null, filename: 'scan.pdf', sha256: sha256(pdf) });
  });

  it('lists nothing for a plain text message, an empty buffer or garbage', async () => {
    for (const message of [crlf(...headers('text/plain'), 'hello', ''), Buffer.alloc(0), Buffer.from('\x00\xff garbage')]) {
      const result = await inventoryParts(message);
      expect(result.parts).toEqual([]);
      expect(result.error).toBeNull();
    }
  });

  it('keeps message/rfc822 parts as parts, with the embedded message byte for byte', async () => {
    const original = crlf(
      'From: carol@example.net',
      'To: alice@example.com',
      'Subject: original',
      'Content-Type: multipart/mixed; boundary="inner"',
      '',
      '--inner',
      'Content-Type: text/plain',
      '',
      'inner body',
      '--inner',
      'Content-Type: application/pdf; name="inner.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      ...base64Lines(pdf),
      '--inner--',
      '',
    );
    const parts7bit = crlf(...headers('multipart/mixed; boundary="outer"'), '--outer', 'Content-Type: message/rfc822', 'Content-Disposition: inline', '', '');
    const message = Buffer.concat([
      parts7bit.subarray(0, parts7bit.length - 2),
      Buffer.from('\r\n'),
      original,
      crlf('', '--outer', 'Content-Type: message/rfc822', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="fwd.eml"', '', ...base64Lines(original), '--outer--', ''),
    ]);
    const { parts, error } = await inventoryParts(message);
    expect(error).toBeNull();
    // the embedded messages are not opened: their own attachments are not listed here
    expect(parts).toHaveLength(2);
    for (const part of parts) {
      expect(part.isMessage).toBe(true);
      expect(part.contentType).toBe('message/rfc822');
      expect(part.embedded?.equals(original)).toBe(true);
      expect(part.sha256).toBe(sha256(original));
      expect(part.size).toBe(original.length);
    }
    expect(parts[0]!.disposition).toBe('inline');
    expect(parts[1]).toMatchObject({ filename: 'fwd.eml', transferEncoding: 'base64' });
  });

  it('hashes but does not keep an embedded message over the cap', async () => {
    const original = crlf('From: a@example.com', 'Subject: big', '', 'x'.repeat(5000), '');
    const message = crlf(...headers('multipart/mixed; boundary="o"'), '--o', 'Content-Type: message/rfc822', '', original.toString(), '--o--', '');
    const { parts } = await inventoryParts(message, { maxEmbeddedBytes: 1000 });
    expect(parts[0]).toMatchObject({ isMessage: true, tooLarge: true, size: original.length, sha256: sha256(original) });
    expect(parts[0]!.embedded).toBeUndefined();
  });
});

describe('inventoryParts on hostile mail', () => {
  it('survives invalid base64 and hashes what the decoder makes of it', async () => {
    const message = crlf(
      ...headers('multipart/mixed; boundary="b"'),
      '--b',
      'Content-Type: application/pdf; name="broken.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      'JVBERi0x!!!@@@ not base64 at all \u0000\u0001 ====',
      'QUJD=EFG',
      '--b--',
      '',
    );
    const { parts, error } = await inventoryParts(message);
    expect(error).toBeNull();
    expect(parts).toHaveLength(1);
    expect(parts[0]!.filename).toBe('broken.pdf');
    expect(parts[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('survives missing boundaries: no boundary parameter, no closing delimiter, unknown boundary', async () => {
    const cases = [
      crlf(...headers('multipart/mixed'), '--b', 'Content-Type: application/pdf', '', 'AAAA', '--b--', ''),
      crlf(...headers('multipart/mixed; boundary="b"'), '--b', 'Content-Type: application/pdf; name="cut.pdf"', 'Content-Transfer-Encoding: base64', '', 'QUJD'),
      crlf(...headers('multipart/mixed; boundary="nowhere"'), '--b', 'Content-Type: application/pdf', '', 'AAAA', '--b--', ''),
      crlf(...headers('multipart/mixed; boundary="b"'), '--b', 'Content-Type: application/pdf; name="header-only.pdf"'),
    ];
    for (const message of cases) {
      const result = await inventoryParts(message);
      expect(Array.isArray(result.parts)).toBe(true);
    }
    // a part cut off by the end of the message is still read to that end
    const cut = await inventoryParts(cases[1]!);
    expect(cut.parts.map((p) => [p.filename, p.sha256])).toEqual([['cut.pdf', sha256('ABC')]]);
  });

  it('returns on 1,000 levels of nesting, in bounded time, with an error marker', async () => {
    const lines = [...headers('multipart/mixed; boundary="b0"')];
    for (let depth = 0; depth < 1000; depth++) {
      lines.push(`--b${depth}`, `Content-Type: multipart/mixed; boundary="b${depth + 1}"`, '');
    }
    lines.push('--b1000', 'Content-Type: application/pdf; name="deep.pdf"', '', 'AAAA');
    for (let depth = 1000; depth >= 0; depth--) lines.push(`--b${depth}--`);
    lines.push('');
    const started = performance.now();
    const result = await inventoryParts(crlf(...lines));
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(result.parts).toEqual([]);
    expect(result.error).toMatch(/child nodes|nested/i);
  });

  it('stops at maxDepth with what was inventoried before', async () => {
    const lines = [...headers('multipart/mixed; boundary="b0"'), '--b0', 'Content-Type: application/pdf; name="top.pdf"', '', 'AAAA'];
    for (let depth = 0; depth < 10; depth++) lines.push(`--b${depth}`, `Content-Type: multipart/mixed; boundary="b${depth + 1}"`, '');
    lines.push('--b10', 'Content-Type: application/pdf; name="deep.pdf"', '', 'AAAA', '');
    const result = await inventoryParts(crlf(...lines), { maxDepth: 5 });
    expect(result.parts.map((p) => p.filename)).toEqual(['top.pdf']);
    expect(result.error).toMatch(/nested 11 levels deep, deeper than 5 levels/);
  });

  it('stops at maxParts with what was inventoried before', async () => {
    const lines = [...headers('multipart/mixed; boundary="b"')];
    for (let i = 0; i < 20; i++) lines.push('--b', `Content-Type: application/octet-stream; name="f${i}.bin"`, '', `content ${i}`);
    lines.push('--b--', '');
    const result = await inventoryParts(crlf(...lines), { maxParts: 5 });
    expect(result.parts.map((p) => p.filename)).toEqual(['f0.bin', 'f1.bin', 'f2.bin', 'f3.bin', 'f4.bin']);
    expect(result.error).toMatch(/more than 5 parts/);
  });

  it('never throws nor hangs on mangled messages', async () => {
    const base = await compose({
      from: 'a@example.com',
      to: 'b@example.org',
      subject: 'fuzz',
      text: 'text',
      html: '<b>html</b>',
      attachments: [
        { filename: 'a.pdf', content: pdf },
        { filename: 'b.csv', content: csv },
        { content: crlf('From: x@example.com', 'Subject: inner', '', 'inner', ''), contentType: 'message/rfc822' },
      ],
    });
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const alphabet = Buffer.from('-\r\n:;="\\ \tabcAB=?*%\u0000\u00ff');
    for (let round = 0; round < 150; round++) {
      const mangled = Buffer.from(base);
      const edits = 1 + random(40);
      for (let i = 0; i < edits; i++) mangled[random(mangled.length)] = alphabet[random(alphabet.length)]!;
      const cut = random(4) === 0 ? mangled.subarray(0, random(mangled.length)) : mangled;
      const result = await inventoryParts(cut);
      expect(Array.isArray(result.parts)).toBe(true);
      for (const part of result.parts) expect(part.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});
