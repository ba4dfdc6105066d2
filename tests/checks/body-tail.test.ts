import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { describeBodyTail, rawOffsetOfCanonical } from '../../src/checks/body-tail.ts';
import { SIGN_TIME, rsaKey, signed, tableLookup, type TestKey } from '../unit/support/signing.ts';
import { context, fakeSignature, headersWith, message } from './support.ts';

let key: TestKey;
beforeAll(() => {
  key = rsaKey(2048);
});
const analyze = (raw: string) =>
  analyzeMessage({ raw: Buffer.from(raw, 'latin1'), format: 'eml' }, tableLookup({ 'sel1._domainkey.example.com': key.txt }));

const MULTIPART_BODY = [
  '--b1',
  'Content-Type: text/plain; charset=us-ascii',
  '',
  'Invoice 4471: 1,200 EUR, due 30 June.',
  '--b1--',
  '',
].join('\r\n');

describe('body-tail-described', () => {
  it('describes an appended MIME part past l= (really signed)', async () => {
    const original = message(headersWith({ 'Content-Type': 'multipart/alternative; boundary="b1"' }), MULTIPART_BODY);
    const raw = await signed(original, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, maxBodyLength: Buffer.byteLength(MULTIPART_BODY) });
    const added = '--b1\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n<p>New IBAN: DE00 1234</p>\r\n--b1--\r\n';
    const a = await analyze(raw + added);
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['body-content-after-l']);
    const finding = a.findings.find((f) => f.code === 'body-tail-described');
    expect(finding).toMatchObject({
      severity: 'info',
      evidence: {
        l: Buffer.byteLength(MULTIPART_BODY),
        unsignedBytes: Buffer.byteLength(added),
        unsignedCanonicalBytes: Buffer.byteLength(added),
        unsignedLines: 5,
        startsMidLine: false,
        addsMimeParts: true,
        closesMultipart: true,
        boundaryLines: ['--b1', '--b1--'],
        contentTypes: ['text/html; charset=us-ascii'],
      },
    });
    expect(finding!.evidence['preview']).toBe('--b1\\r\\nContent-Type: text/html; charset=us-ascii\\r\\n\\r\\n<p>New IBAN: DE00 1234</p>\\r\\n--b1--\\r\\n');
    expect(finding!.text).toContain('which add a MIME part (text/html; charset=us-ascii)');
  });

  it('describes a plain appended footer without claiming MIME parts', async () => {
    const body = 'Hi Bob,\r\n\r\nThe numbers are attached.\r\n';
    const raw = await signed(message(headersWith(), body), { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, maxBodyLength: Buffer.byteLength(body) });
    const footer = '--\r\nteam mailing list\r\nhttps://lists.example.org/team\r\n';
    const a = await analyze(raw + footer);
    const finding = a.findings.find((f) => f.code === 'body-tail-described')!;
    expect(finding.evidence).toMatchObject({ unsignedBytes: footer.length, unsignedLines: 3, addsMimeParts: false, closesMultipart: false, boundaryLines: [] });
    expect(finding.text).toBe(`After the ${body.length} bytes the signature by example.com covers (l=${body.length}), the body goes on for ${footer.length} unsigned bytes on 3 lines.`);
  });

  // Red team P, P-01: simple canonicalization signs a CRLF of its own for an empty body, and keeps
  // a line of blanks; l= short of them was read as content nobody signed, a genuine message suspicious.
  it('blank lines and spaces past l=, or the CRLF simple canonicalization gives an empty body, are nothing added', async () => {
    const spec = { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, canonicalization: 'simple/simple' };
    const empty = await signed(message(headersWith(), ''), { ...spec, maxBodyLength: 0 });
    expect(empty).toMatch(/\bl=0\b/);
    const blanks = await signed(message(headersWith(), 'Hi Bob,\r\n'), { ...spec, maxBodyLength: 9 });
    for (const raw of [empty, blanks + '   \r\n\t\r\n\r\n']) {
      const a = await analyze(raw);
      expect(a.verdict.verdict).toBe('verified');
      expect(a.findings.map((f) => `${f.code}:${f.severity}`)).toContain('body-blank-after-l:info');
      expect(a.findings.map((f) => f.code)).not.toContain('body-content-after-l');
    }
    // a word after the blanks is content again
    const worded = await analyze(blanks + '   \r\nP.S. new IBAN\r\n');
    expect(worded.verdict.verdict).toBe('suspicious');
    expect(worded.verdict.reasons).toEqual(['body-content-after-l']);
  });

  it('finds the stored offset of l= under relaxed canonicalization', () => {
    // relaxed: "a  b \r\n" canonicalizes to "a b\r\n" (5 bytes) and occupies 7 stored bytes
    const body = Buffer.from('a  b \r\nc\t\td\r\n');
    expect(rawOffsetOfCanonical(body, 5, 'relaxed')).toBe(7);
    expect(rawOffsetOfCanonical(body, 5, 'simple')).toBe(5);
    expect(rawOffsetOfCanonical(body, 7, 'relaxed')).toBe(10); // "c " → just past the run "\t\t"
    expect(rawOffsetOfCanonical(body, 1000, 'relaxed')).toBe(body.length);
  });

  it('uses that offset for relaxed signatures, and notes a cut inside a line', () => {
    const raw = message(headersWith(), 'Pay    the  invoice today.\r\nThanks\r\n');
    // canonical "Pay the invoice" is 15 bytes; stored, it is "Pay    the  invoice" (19 bytes)
    const sig = fakeSignature({ tags: 'v=1; c=relaxed/relaxed; d=example.com; s=a; l=15; h=from', bodyBytesSigned: 15, bodyBytesTotal: 35 });
    const [finding] = describeBodyTail(context(raw, [sig]));
    expect(finding?.evidence).toMatchObject({ bodyCanonicalization: 'relaxed', unsignedOffset: 19, startsMidLine: true, unsignedLines: 2 });
    expect(finding?.evidence['preview']).toBe(' today.\\r\\nThanks\\r\\n');
  });

  it('escapes control characters and cuts the preview at 200 characters', () => {
    const tail = `\x01\x1b[31m${'x'.repeat(500)}`;
    const raw = message(headersWith(), `signed\r\n${tail}`);
    const sig = fakeSignature({ tags: 'v=1; c=simple/simple; d=example.com; s=a; l=8; h=from', bodyBytesSigned: 8, bodyBytesTotal: 8 + tail.length });
    const preview = describeBodyTail(context(raw, [sig]))[0]!.evidence['preview'] as string;
    expect(preview.startsWith('\\x01\\x1b[31mxxx')).toBe(true);
    expect(preview.length).toBeLessThanOrEqual(200);
  });

  it('says nothing for an l= that covers the whole body, or a signature that does not verify', async () => {
    const body = 'Hi Bob,\r\n';
    const raw = await signed(message(headersWith(), body), { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, maxBodyLength: Buffer.byteLength(body) });
    const a = await analyze(raw);
    expect(a.findings.filter((f) => f.code === 'body-tail-described')).toEqual([]);
    const failed = fakeSignature({ tags: 'v=1; d=example.com; s=a; l=3; h=from', outcome: 'body-modified', bodyBytesSigned: 3, bodyBytesTotal: 9 });
    expect(describeBodyTail(context(message(headersWith(), body), [failed]))).toEqual([]);
  });
});
