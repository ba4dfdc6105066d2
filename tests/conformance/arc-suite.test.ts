import { describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { CORPUS_SKIP_NOTE, HAS_CORPUS, corpusFile, corpusJson, dnsJsonLookup } from '../helpers/corpus.ts';

interface ArcCase {
  scenario: string;
  description: string;
  cv: 'Pass' | 'Fail' | 'None' | '';
  file: string;
}

/**
 * Cases where our chain result differs from the ValiMail suite, each with its reason. The same
 * list, in prose, is docs/conformance.md. The test fails if a listed case starts to agree, so the
 * list never outlives the deviation.
 */
export const ARC_DEVIATIONS: Record<string, string> = {
  ams_fields_h_empty: 'mailauth 7.1 fails an AMS whose h= is empty (4.13 passed it); the suite expects Pass',
};

// The three cases with an empty cv are treated as Fail, as Mail::DKIM, mailauth and MimeKit do.
const expectedResult = (cv: ArcCase['cv']): string => (cv === 'Pass' ? 'pass' : cv === 'None' ? 'none' : 'fail');

const cases = HAS_CORPUS ? Object.entries(corpusJson<Record<string, ArcCase>>('arc_test_suite', 'expected.json')) : [];

describe.skipIf(!HAS_CORPUS)(`ValiMail ARC validation suite${CORPUS_SKIP_NOTE}`, () => {
  it('has all 171 validation cases', () => {
    expect(cases).toHaveLength(171);
  });

  it('agrees with the suite on every case but the documented deviations', async () => {
    const lookup = dnsJsonLookup('arc_test_suite');
    const disagreements: string[] = [];
    let agree = 0;
    for (const [id, testCase] of cases) {
      const analysis = await analyzeMessage({ raw: corpusFile('arc_test_suite', testCase.file), format: 'eml' }, lookup);
      if (analysis.arc.result === expectedResult(testCase.cv)) agree++;
      else disagreements.push(id);
    }
    console.log(`ARC suite: ${agree}/${cases.length} agree; deviations: ${disagreements.join(', ') || 'none'}`);
    expect(disagreements.sort()).toEqual(Object.keys(ARC_DEVIATIONS).sort());
    expect(agree).toBe(cases.length - Object.keys(ARC_DEVIATIONS).length);
  });
});
