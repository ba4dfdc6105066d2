import { describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { offlineFileLookup } from '../../src/keys/key-lookup.ts';
import { DEMO_KEYS } from '../helpers/cli.ts';
import { demoMessage, signWithFixtureKey } from '../hostile/sign.ts';

/*
 * Red team 27, E-03: a recipient's mail gateway (Microsoft 365, Proofpoint, Mimecast…) puts a tag
 * before the Subject of outside mail. It breaks the author's signature over Subject, and most
 * external mail of a corporate mailbox has it: each such genuine message read as forged. The tag
 * is tried away like the other storage repairs, and the verdict names the repair.
 */
const lookup = offlineFileLookup(DEMO_KEYS);
const analyze = (text: string): Promise<MessageAnalysis> => analyzeMessage({ raw: Buffer.from(text, 'latin1'), format: 'eml' }, lookup);

describe('the tag a mail gateway puts before the Subject', () => {
  it.each(['[EXTERNAL] ', '[EXT] ', '[External Email] ', 'EXTERNAL: ', '*EXTERNAL* ', '[CAUTION] '])('%s: verified, naming the repair', async (tag) => {
    const genuine = await signWithFixtureKey(demoMessage({ id: 'gateway', subject: 'Q1 budget' }));
    const tagged = genuine.replace('Subject: Q1 budget', `Subject: ${tag}Q1 budget`);
    expect(tagged).not.toBe(genuine);
    const a = await analyze(tagged);
    expect(a.verdict.verdict).toBe('verified');
    expect(a.repairs).toEqual(['gateway-subject-tag']);
    expect(a.verdict.explanation).toContain('mail gateway puts before the Subject');
    // the message's sha256 is of the bytes as stored, tag and all
    expect(a.size).toBe(tagged.length);
  });

  it('any other change to the Subject stays evidence of tampering, tag or no tag', async () => {
    const genuine = await signWithFixtureKey(demoMessage({ id: 'gateway-2', subject: 'Q1 budget' }));
    for (const subject of ['[EXTERNAL] Q1 budget approved', 'Q1 budget approved', '[SPAM] Q1 budget', 'RE: [EXTERNAL] Q1 budget']) {
      const a = await analyze(genuine.replace('Subject: Q1 budget', `Subject: ${subject}`));
      expect(a.verdict.verdict, subject).toBe('suspicious');
      expect(a.repairs, subject).not.toContain('gateway-subject-tag');
    }
  });

  it('a message that verifies as found is not touched', async () => {
    const genuine = await signWithFixtureKey(demoMessage({ id: 'gateway-3', subject: '[EXTERNAL] sent with the tag' }));
    const a = await analyze(genuine);
    expect(a.verdict.verdict).toBe('verified');
    expect(a.repairs).toEqual([]);
    expect(a.meta.subject).toBe('[EXTERNAL] sent with the tag');
  });
});
