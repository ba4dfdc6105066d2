import { describe, expect, it } from 'vitest';
import { auditPartHeaderEnds, auditUnsignedBoundary } from '../../src/checks/part-headers.ts';
import { context, fakeSignature, headersWith, message } from './support.ts';

const MULTIPART = { 'Content-Type': 'multipart/mixed; boundary="b1"' };
const RELAXED = fakeSignature({ tags: 'v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel; h=from:to:subject:date' });

/** Where, in the whole message, the line of spaces after the part headers of `body` lies. */
const offsetsIn = (raw: string): number[] => {
  const [finding] = auditPartHeaderEnds(context(raw, [RELAXED]));
  return (finding?.evidence['byteOffsets'] as number[] | undefined) ?? [];
};

describe('part-header-end-ambiguous finds delimiter lines wherever a line starts', () => {
  const part = (delimiter: string): string => `${delimiter}\r\nContent-Type: text/plain\r\n  \r\nonly after the audit clears\r\n`;

  it('a delimiter on the body\'s first line, and one after a line feed, each found at its own offset', () => {
    const raw = message(headersWith(MULTIPART), `${part('--b1')}${part('--b1')}--b1--\r\n`);
    const spaces = [...raw.matchAll(/\r\n {2}\r\n/g)].map((m) => m.index + 2);
    expect(spaces).toHaveLength(2);
    expect(offsetsIn(raw)).toEqual(spaces);
  });

  it('dashes inside a line, or in a run of three, start no delimiter line of their own', () => {
    // "x--b1" is not a line start; "---b1" starts one line, counted once
    const raw = message(headersWith(MULTIPART), `x${part('--b1')}${part('---b1')}`);
    const spaces = [...raw.matchAll(/\r\n {2}\r\n/g)].map((m) => m.index + 2);
    expect(offsetsIn(raw)).toEqual([spaces[1]]);
  });

  it('a bare line feed before the dashes starts a line too', () => {
    const raw = message(headersWith(MULTIPART), `preamble\n--b1\nContent-Type: text/plain\n \nhidden\n`);
    expect(offsetsIn(raw)).toEqual([raw.indexOf('\n \n') + 1]);
  });

  it('a base64 part, with no dash in it, hides nothing and finds nothing', () => {
    const lines = Array.from({ length: 2_000 }, () => 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0');
    const raw = message(headersWith(MULTIPART), `--b1\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n${lines.join('\r\n')}\r\n--b1--\r\n`);
    expect(auditPartHeaderEnds(context(raw, [RELAXED]))).toEqual([]);
  });
});

describe('boundary-not-the-body looks for delimiter lines in the preamble the same way', () => {
  it('a delimiter of another boundary on the body\'s first line is found', () => {
    const raw = message(headersWith({ 'Content-Type': 'multipart/mixed; boundary="outer"' }), '--inner\r\nContent-Type: text/plain\r\n\r\nforwarded text\r\n--outer\r\n');
    const [finding] = auditUnsignedBoundary(context(raw, [fakeSignature({ tags: 'v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel; h=from:to:subject:date' })]));
    expect(finding).toMatchObject({ code: 'boundary-not-the-body', evidence: { delimiterFound: '--inner', byteOffset: raw.indexOf('--inner') } });
  });
});
