import { describe, expect, it } from 'vitest';
import { inventoryParts } from '../../src/attachments/inventory.ts';
import { canonicalBodyOffsets, mimeLayout, partsWithinSignedLength } from '../../src/attachments/layout.ts';
import { base64Lines, compose, crlf, headers, sha256, sign, verify } from './support.ts';

const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(2000, 0x41), Buffer.from('\n%%EOF\n')]);

/** text body, pdf, csv: three top-level parts, CRLF line endings. */
function threeParts(csvText = 'a,b\r\n1,2'): Buffer {
  return crlf(
    ...headers('multipart/mixed; boundary="b"'),
    'preamble',
    '--b',
    'Content-Type: text/plain',
    '',
    'body text',
    '--b',
    'Content-Type: application/pdf; name="one.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    ...base64Lines(pdf),
    '--b',
    'Content-Type: text/csv; name="two.csv"',
    'Content-Disposition: attachment',
    '',
    csvText,
    '--b--',
    'epilogue',
    '',
  );
}

function bodyStartOf(message: Buffer): number {
  return message.indexOf('\r\n\r\n') + 4;
}

/** Offset (relative to the body) just past the delimiter line that follows `marker`. */
function delimiterEndAfter(message: Buffer, marker: string, delimiter: string): number {
  const at = message.indexOf(marker);
  const delimiterAt = message.indexOf(`\r\n${delimiter}\r\n`, at);
  return delimiterAt + 2 + delimiter.length + 2 - bodyStartOf(message);
}

function signatureResult(results: Awaited<ReturnType<typeof verify>>) {
  expect(results).toHaveLength(1);
  return results[0]!;
}

describe('partsWithinSignedLength, simple canonicalization', () => {
  it('covers exactly the parts whose closing delimiter line is inside l=', async () => {
    const message = threeParts();
    const { parts } = await inventoryParts(message);
    expect(parts.map((p) => [p.partIndex, p.filename])).toEqual([
      [1, 'one.pdf'],
      [2, 'two.csv'],
    ]);
    const pdfEnd = delimiterEndAfter(message, 'Content-Type: application/pdf', '--b');
    const csvEnd = delimiterEndAfter(message, 'Content-Type: text/csv', '--b--');

    expect(await partsWithinSignedLength(message, parts, pdfEnd)).toEqual(new Set([1]));
    // one byte short: the line break of the delimiter is not signed, the part could go on
    expect(await partsWithinSignedLength(message, parts, pdfEnd - 1)).toEqual(new Set());
    expect(await partsWithinSignedLength(message, parts, csvEnd - 1)).toEqual(new Set([1]));
    expect(await partsWithinSignedLength(message, parts, csvEnd)).toEqual(new Set([1, 2]));
    expect(await partsWithinSignedLength(message, parts, 10_000_000)).toEqual(new Set([1, 2]));
    expect(await partsWithinSignedLength(message, parts, 0)).toEqual(new Set());
    // no l= tag: everything the body hash covers
    expect(await partsWithinSignedLength(message, parts, null)).toEqual(new Set([1, 2]));
  });

  it('matches what mailauth signs and verifies: content after l= can be replaced, covered parts stay identical', async () => {
    const message = threeParts();
    const pdfEnd = delimiterEndAfter(message, 'Content-Type: application/pdf', '--b');
    const signed = await sign(message, { canonicalization: 'simple/simple', maxBodyLength: pdfEnd });
    const original = signatureResult(await verify(signed));
    expect(original.status.result).toBe('pass');
    expect(original.canonBodyLength).toBe(pdfEnd);

    // the attacker swaps the csv after the signed length: the signature still passes
    const tampered = Buffer.concat([signed.subarray(0, bodyStartOf(signed) + pdfEnd), threeParts('forged,numbers').subarray(bodyStartOf(message) + pdfEnd)]);
    expect(signatureResult(await verify(tampered)).status.result).toBe('pass');

    const before = await inventoryParts(signed);
    const after = await inventoryParts(tampered);
    expect(await partsWithinSignedLength(tampered, after.parts, pdfEnd)).toEqual(new Set([1]));
    expect(after.parts[0]!.sha256).toBe(before.parts[0]!.sha256);
    expect(after.parts[0]!.sha256).toBe(sha256(pdf));
    expect(after.parts[1]!.sha256).not.toBe(before.parts[1]!.sha256);

    // and it cannot touch the signed delimiter line: the signature breaks
    const broken = Buffer.from(signed);
    broken[bodyStartOf(signed) + pdfEnd - 1] = 0x20;
    expect(signatureResult(await verify(broken)).status.result).not.toBe('pass');
  });

  it('judges nested parts by their own closing delimiter', async () => {
    const message = crlf(
      ...headers('multipart/mixed; boundary="outer"'),
      '--outer',
      'Content-Type: multipart/related; boundary="rel"',
      '',
      '--rel',
      'Content-Type: text/html',
      '',
      '<img src="cid:logo">',
      '--rel',
      'Content-Type: image/png; name="logo.png"',
      'Content-ID: <logo>',
      'Content-Transfer-Encoding: base64',
      '',
      'iVBORw0KGgo=',
      '--rel--',
      '',
      '--outer',
      'Content-Type: application/pdf; name="late.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      ...base64Lines(pdf),
      '--outer--',
      '',
    );
    const { parts } = await inventoryParts(message);
    expect(parts.map((p) => [p.partIndex, p.partId, p.filename])).toEqual([
      [1, '1.2', 'logo.png'],
      [2, '2', 'late.pdf'],
    ]);
    const logoEnd = delimiterEndAfter(message, 'Content-Type: image/png', '--rel--');
    // the logo is closed by --rel--, although its enclosing part 1 is still open
    expect(await partsWithinSignedLength(message, parts, logoEnd)).toEqual(new Set([1]));
    expect(await partsWithinSignedLength(message, parts, logoEnd - 1)).toEqual(new Set());
  });

  it('never covers the body of a non-multipart message under l=', async () => {
    const message = crlf(...headers('application/pdf; name="scan.pdf"', ['Content-Transfer-Encoding: base64']), ...base64Lines(pdf), '');
    const { parts } = await inventoryParts(message);
    expect(parts).toHaveLength(1);
    expect(await partsWithinSignedLength(message, parts, message.length)).toEqual(new Set());
    expect(await partsWithinSignedLength(message, parts, null)).toEqual(new Set([1]));
  });

  it('covers nothing it cannot find: unknown part numbers, a message ending inside the part', async () => {
    const message = threeParts();
    expect(await partsWithinSignedLength(message, [{ partIndex: 7, partId: '9' }], 1_000_000)).toEqual(new Set());
    const cut = message.subarray(0, message.indexOf('--b--'));
    const { parts } = await inventoryParts(cut);
    expect(parts.map((p) => p.filename)).toEqual(['one.pdf', 'two.csv']);
    expect(await partsWithinSignedLength(cut, parts, 1_000_000)).toEqual(new Set([1]));
  });
});

describe('soundness: what anyone may append after l= never changes a covered part', () => {
  it('holds for every l= at a line end of a composed message, against hostile tails', async () => {
    const message = await compose({
      from: 'a@example.com',
      to: 'b@example.org',
      subject: 'soundness',
      text: 'text body',
      html: '<p>html body <img src="cid:logo@x"></p>',
      attachments: [
        { filename: 'logo.png', content: Buffer.from('89504e470d0a1a0a', 'hex'), cid: 'logo@x' },
        { filename: 'a.pdf', content: pdf },
        { filename: 'b.csv', content: 'x,y\n1,2\n', contentType: 'text/csv' },
        { content: crlf('From: c@example.com', 'Subject: inner', '', 'inner body', ''), contentType: 'message/rfc822' },
      ],
    });
    const { parts } = await inventoryParts(message);
    expect(parts).toHaveLength(4);
    const bodyStart = bodyStartOf(message);
    const boundaries = [...message.toString('latin1').matchAll(/boundary="([^"]+)"/g)].map((m) => m[1]!);
    const tails = [
      Buffer.from('AAAA\r\nQUJD\r\n'),
      Buffer.from('X'),
      Buffer.from('\r\n'),
      ...boundaries.flatMap((b) => [
        Buffer.from(`\r\n--${b}\r\nContent-Type: application/pdf\r\n\r\nQUJD\r\n--${b}--\r\n`),
        Buffer.from(`--${b}--\r\n`),
        Buffer.from(`-${b}\r\n`),
      ]),
    ];
    let checked = 0;
    for (let lf = message.indexOf(0x0a, bodyStart); lf !== -1; lf = message.indexOf(0x0a, lf + 1)) {
      const signedLength = lf + 1 - bodyStart;
      const covered = await partsWithinSignedLength(message, parts, signedLength);
      if (covered.size === 0) continue;
      for (const tail of tails) {
        const tampered = Buffer.concat([message.subarray(0, lf + 1), tail]);
        const after = new Map((await inventoryParts(tampered)).parts.map((p) => [p.partId, p.sha256]));
        for (const part of parts.filter((p) => covered.has(p.partIndex))) {
          expect(after.get(part.partId), `part ${part.partId} with l=${signedLength}`).toBe(part.sha256);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});

describe('canonical offsets agree with mailauth', () => {
  // whitespace runs, trailing whitespace, tabs, bare LF line ends, a lone CR
  const messyBody = [
    '--b',
    'Content-Type:   text/plain  ',
    '',
    'a  b\t\tc   ',
    '\t leading',
    'lone\rCR',
    '--b',
    'Content-Type: application/octet-stream; name="x.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    'AAEC AwQF  ',
    '--b',
    'Content-Type: application/octet-stream; name="y.bin"',
    '',
    'tail',
    '--b--',
    'end',
  ];
  const messy = (lineEnd: string): Buffer =>
    Buffer.from([...headers('multipart/mixed; boundary="b"'), ...messyBody].join(lineEnd) + lineEnd, 'latin1');

  for (const canonicalization of ['simple', 'relaxed'] as const) {
    for (const [label, lineEnd] of [
      ['CRLF', '\r\n'],
      ['bare LF', '\n'],
    ] as const) {
      it(`${canonicalization}, ${label}: total canonical body length`, async () => {
        const message = messy(lineEnd);
        const signed = await sign(message, { canonicalization: `${canonicalization}/${canonicalization}` });
        const result = signatureResult(await verify(signed));
        expect(result.status.result).toBe('pass');
        const layout = await mimeLayout(signed);
        const offsets = canonicalBodyOffsets(signed, layout.bodyStart, [signed.length], canonicalization);
        expect(offsets.get(signed.length)).toBe(result.canonBodyLengthTotal);
      });

      it(`${canonicalization}, ${label}: l= at a covered part's end signs exactly up to its delimiter`, async () => {
        const message = messy(lineEnd);
        const { parts } = await inventoryParts(message);
        expect(parts.map((p) => p.filename)).toEqual(['x.bin', 'y.bin']);
        const layout = await mimeLayout(message);
        const leaf = layout.leaves.find((l) => l.partId === '2')!;
        const end = canonicalBodyOffsets(message, layout.bodyStart, [leaf.closedAt!], canonicalization).get(leaf.closedAt!)!;
        expect(await partsWithinSignedLength(message, parts, end, canonicalization)).toEqual(new Set([1]));
        expect(await partsWithinSignedLength(message, parts, end - 1, canonicalization)).toEqual(new Set());

        const signed = await sign(message, { canonicalization: `${canonicalization}/${canonicalization}`, maxBodyLength: end });
        const shift = signed.length - message.length;
        expect(signatureResult(await verify(signed)).status.result).toBe('pass');
        // the first byte after the delimiter line is outside the signature...
        const outside = Buffer.from(signed);
        outside[shift + leaf.closedAt!] = 0x58;
        expect(signatureResult(await verify(outside)).status.result).toBe('pass');
        // ...and the line break ending it is inside
        const inside = Buffer.from(signed);
        inside[shift + leaf.closedAt! - 1] = 0x58;
        expect(signatureResult(await verify(inside)).status.result).not.toBe('pass');
      });
    }
  }
});

describe('mimeLayout', () => {
  it('locates every leaf part: header start, content start, end of its closing delimiter', async () => {
    const message = threeParts();
    const layout = await mimeLayout(message);
    expect(layout.error).toBeNull();
    expect(layout.bodyStart).toBe(bodyStartOf(message));
    expect(layout.leaves.map((l) => l.partId)).toEqual(['1', '2', '3']);
    const csv = layout.leaves[2]!;
    expect(message.subarray(csv.headerStart!, csv.contentStart!).toString()).toBe(
      'Content-Type: text/csv; name="two.csv"\r\nContent-Disposition: attachment\r\n\r\n',
    );
    expect(message.subarray(csv.contentStart!, csv.closedAt!).toString()).toBe('a,b\r\n1,2\r\n--b--\r\n');
  });
});
