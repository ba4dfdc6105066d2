import { describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { CORPUS_SKIP_NOTE, GENUINE, GENUINE_THIRD_PARTY, HAS_CORPUS, corpusFile, dnsJsonLookup } from '../helpers/corpus.ts';

/**
 * Genuine mail must not get red flags from the header forensics. The first lists are the GENUINE
 * and GENUINE_THIRD_PARTY lists of tests/conformance/real-world.test.ts (test vectors included); the
 * last adds the other unaltered real messages of the shared corpus, whose keys are not all
 * available (so they are not verified), but which are what real Gmail, Outlook, iCloud, GitHub,
 * mailing-list and bulk mail look like.
 */

const OTHER_REAL: Array<[string, string]> = [
  ['zk-email', 'messages/multi-dkim-sig.eml'],
  ['mailauth', 'messages/arc-pass.eml'],
  ['mailauth', 'messages/arc-pass2.eml'],
  ['mailauth', 'messages/authtest.eml'],
  ['mailauth', 'messages/bimi.eml'],
  ['mailauth', 'messages/message3.eml'],
  ['mailauth', 'messages/zbimi.eml'],
  ['mailauth', 'messages/zproov.eml'],
  ...['001', '002', '003', '004', '005', '006', '007', '008'].map((n): [string, string] => ['ocaml-arc', `messages/${n}.mail`]),
];

const analyze = (set: string, path: string) => analyzeMessage({ raw: corpusFile(set, path), format: 'eml' }, dnsJsonLookup(set));

describe.skipIf(!HAS_CORPUS)(`genuine corpus mail gets no red flag${CORPUS_SKIP_NOTE}`, () => {
  it.each([...GENUINE, ...GENUINE_THIRD_PARTY, ...OTHER_REAL])('%s %s', async (set, path) => {
    const analysis = await analyze(set, path);
    const redFlags = analysis.findings.filter((f) => f.severity === 'red-flag');
    expect(redFlags, redFlags.map((f) => f.text).join('\n')).toEqual([]);
    expect(analysis.verdict.verdict).not.toBe('suspicious');
  });

  it('the verified ones stay verified', async () => {
    for (const [set, path] of GENUINE) expect((await analyze(set, path)).verdict.verdict, `${set} ${path}`).toBe('verified');
  });

  it('test vectors signed years after their Date get a warning, not a red flag', async () => {
    const analysis = await analyze('mailauth', 'messages/rfc8463-signed.eml');
    const late = analysis.findings.filter((f) => f.code === 'signature-time-far-from-date');
    expect(late.length).toBe(2);
    expect(late.every((f) => f.severity === 'warning' && f.evidence['dateSigned'] === true)).toBe(true);
  });

  it("Gmail's boundaries in the corpus decode to within a minute of their Date", async () => {
    for (const [set, path] of [['hamcrest-mail', 'messages/message-gmail.txt'], ['mailauth', 'messages/zproov.eml'], ['podesta-driusan', 'messages/podesta-edgar-mitchell.eml']] as const) {
      const analysis = await analyze(set, path);
      expect(analysis.findings.map((f) => f.code), `${set} ${path}`).not.toContain('gmail-boundary-time-mismatch');
    }
  });
});
