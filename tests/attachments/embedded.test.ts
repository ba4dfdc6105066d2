import { describe, expect, it } from 'vitest';
import { attachmentPath, inventoryParts } from '../../src/attachments/inventory.ts';
import { base64Lines, compose, crlf, headers, sha256, sign, verify } from './support.ts';

const report = Buffer.from('%PDF-1.4\nquarterly report\n%%EOF\n');

/** A message as its author's server signed it: with a PDF, so it is multipart itself. */
async function signedOriginal(canonicalization: string): Promise<Buffer> {
  const message = await compose({
    from: 'Alice <alice@example.com>',
    to: 'carol@example.net',
    subject: 'Q1 report',
    date: new Date('2016-03-14T09:26:50Z'),
    messageId: '<q1-report@example.com>',
    text: 'Carol,\n\nThe   report   is attached.   \n\nAlice\n',
    attachments: [{ filename: 'Q1 report.pdf', content: report }],
  });
  const signed = await sign(message, { canonicalization });
  expect((await verify(signed))[0]!.status.result).toBe('pass');
  return signed;
}

describe('forwarded messages (message/rfc822)', () => {
  for (const canonicalization of ['relaxed/relaxed', 'simple/simple']) {
    it(`keeps the forwarded message byte for byte, and its DKIM signature still verifies (${canonicalization})`, async () => {
      const original = await signedOriginal(canonicalization);
      const forward = await compose({
        from: 'Carol <carol@example.net>',
        to: 'dave@example.org',
        subject: 'Fwd: Q1 report',
        text: 'FYI, see the original below.',
        attachments: [
          { filename: 'notes.txt', content: 'my notes', contentType: 'text/plain', contentDisposition: 'attachment' },
          { content: original, contentType: 'message/rfc822' },
        ],
      });
      const { parts, error } = await inventoryParts(forward);
      expect(error).toBeNull();
      const embeddedPart = parts.find((p) => p.isMessage)!;
      expect(embeddedPart.partIndex).toBe(2);
      expect(embeddedPart.embedded!.equals(original)).toBe(true);
      expect(embeddedPart.sha256).toBe(sha256(original));
      expect(attachmentPath('dump/fwd.eml', embeddedPart.partIndex)).toBe('dump/fwd.eml#attachment-2');

      const results = await verify(embeddedPart.embedded!);
      expect(results).toHaveLength(1);
      expect(results[0]!.status.result).toBe('pass');
      expect(results[0]!.signingDomain).toBe('example.com');

      // the embedded message is a message in its own right: its own attachment is found in it
      const inner = await inventoryParts(embeddedPart.embedded!);
      expect(inner.parts.map((p) => [p.filename, p.sha256])).toEqual([['Q1 report.pdf', sha256(report)]]);
    });
  }

  it('decodes a base64-encoded forwarded message to the signed bytes', async () => {
    const original = await signedOriginal('relaxed/relaxed');
    const forward = crlf(
      ...headers('multipart/mixed; boundary="fwd"'),
      '--fwd',
      'Content-Type: text/plain',
      '',
      'forwarded as base64',
      '--fwd',
      'Content-Type: message/rfc822; name="Q1 report.eml"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="Q1 report.eml"',
      '',
      ...base64Lines(original),
      '--fwd--',
      '',
    );
    const { parts } = await inventoryParts(forward);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ isMessage: true, filename: 'Q1 report.eml', transferEncoding: 'base64' });
    expect(parts[0]!.embedded!.equals(original)).toBe(true);
    expect((await verify(parts[0]!.embedded!))[0]!.status.result).toBe('pass');
  });

  it('a signed forward of a signed message: both signatures verify, each on its own bytes', async () => {
    const original = await signedOriginal('relaxed/relaxed');
    const forward = await sign(
      await compose({
        from: 'Carol <carol@example.com>',
        to: 'dave@example.org',
        subject: 'Fwd: Q1 report',
        text: 'FYI',
        attachments: [{ content: original, contentType: 'message/rfc822' }],
      }),
    );
    expect((await verify(forward))[0]!.status.result).toBe('pass');
    const { parts } = await inventoryParts(forward);
    expect(parts[0]!.embedded!.equals(original)).toBe(true);
    expect((await verify(parts[0]!.embedded!))[0]!.status.result).toBe('pass');
  });
});

// Red team Y, Y-09: mail programs open these as messages; leakcheck listed them as files, so the
// forwarded message got no verdict and its own attachments were never inventoried.
describe('forwarded messages under other types than message/rfc822', () => {
  const forwardAs = (partHeaders: string[], body: string[]): Buffer =>
    crlf(...headers('multipart/mixed; boundary="fwd"'), '--fwd', 'Content-Type: text/plain', '', 'see attached', '--fwd', ...partHeaders, '', ...body, '--fwd--', '');

  it('message/global (RFC 6532) is a forwarded message', async () => {
    const original = await signedOriginal('relaxed/relaxed');
    const { parts } = await inventoryParts(forwardAs(['Content-Type: message/global', 'Content-Disposition: attachment'], [original.toString('latin1')]));
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ isMessage: true, contentType: 'message/global' });
    expect(parts[0]!.embedded!.equals(original)).toBe(true);
  });

  it('a file named .eml sent as application/octet-stream is one when its content reads as mail', async () => {
    const original = await signedOriginal('relaxed/relaxed');
    const octet = ['Content-Type: application/octet-stream; name="fwd.eml"', 'Content-Transfer-Encoding: base64', 'Content-Disposition: attachment; filename="fwd.eml"'];
    const { parts } = await inventoryParts(forwardAs(octet, base64Lines(original)));
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ isMessage: true, contentType: 'application/octet-stream', filename: 'fwd.eml', sha256: sha256(original) });
    expect(parts[0]!.embedded!.equals(original)).toBe(true);
    expect((await verify(parts[0]!.embedded!))[0]!.status.result).toBe('pass');
  });

  it('a file named .eml that is no message stays a document, as does a message under another name or type', async () => {
    const original = await signedOriginal('relaxed/relaxed');
    const named = (name: string, type = 'application/octet-stream'): string[] => [`Content-Type: ${type}; name="${name}"`, 'Content-Transfer-Encoding: base64', `Content-Disposition: attachment; filename="${name}"`];
    const { parts } = await inventoryParts(
      crlf(
        ...headers('multipart/mixed; boundary="fwd"'),
        '--fwd', ...named('notes.eml'), '', ...base64Lines(report),
        '--fwd', ...named('fwd.bin'), '', ...base64Lines(original),
        '--fwd', ...named('fwd.eml', 'application/pdf'), '', ...base64Lines(original),
        '--fwd--', '',
      ),
    );
    expect(parts.map((p) => [p.filename, p.isMessage, p.embedded])).toEqual([
      ['notes.eml', false, undefined],
      ['fwd.bin', false, undefined],
      ['fwd.eml', false, undefined],
    ]);
  });
});
