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

  // Red team 29, K-03: with the body edited too, both forms fail once; the untagged one is where the
  // signed headers verify, and the explanation said "the signed headers do not verify either"
  it('a tagged message whose body was edited: judged with the tag removed, the headers verifying, the repair named', async () => {
    const genuine = await signWithFixtureKey(demoMessage({ id: 'gateway-4', subject: 'Q1 budget' }));
    const edited = genuine.replace('Subject: Q1 budget', 'Subject: [EXTERNAL] Q1 budget').replace(/\r\n\r\n([\s\S]*)$/, '\r\n\r\nWire the money to the new account.\r\n');
    expect(edited).toContain('new account');
    const a = await analyze(edited);
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
    expect(a.repairs).toEqual(['gateway-subject-tag']);
    expect(a.signatures[0]!.headerSignatureValid).toBe(true);
    expect(a.verdict.explanation).toContain('The signed headers still verify, so only the body was changed.');
    expect(a.verdict.explanation).not.toContain('do not verify either');
    expect(a.verdict.explanation).toContain('The failure holds after repairing: the tag a recipient\'s mail gateway puts before the Subject');
    // what the cross-dump checks compare is the Subject the author signed
    expect(a.meta.subject).toBe('Q1 budget');
  });

  it('a message that verifies as found is not touched', async () => {
    const genuine = await signWithFixtureKey(demoMessage({ id: 'gateway-3', subject: '[EXTERNAL] sent with the tag' }));
    const a = await analyze(genuine);
    expect(a.verdict.verdict).toBe('verified');
    expect(a.repairs).toEqual([]);
    expect(a.meta.subject).toBe('[EXTERNAL] sent with the tag');
  });
});
