/**
 * Red team, round 4 (13, 15, 16): a line in the header block that is neither a field nor a
 * continuation. Verifiers join it to the field above (relaxed canonicalization deletes the line
 * break, so the signature still verifies); readers drop it. What was signed and what is shown
 * then differ.
 */
import { describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { offlineFileLookup } from '../../src/keys/key-lookup.ts';
import { DEMO_KEYS } from '../helpers/cli.ts';
import { demoMessage, signWithFixtureKey } from '../hostile/sign.ts';

const lookup = offlineFileLookup(DEMO_KEYS);
const analyze = (text: string): Promise<MessageAnalysis> => analyzeMessage({ raw: Buffer.from(text, 'latin1'), format: 'eml' }, lookup);
const genuine = (): Promise<string> => signWithFixtureKey(demoMessage({ id: 'stray-line', subject: 'Payment approved only after legal review' }));

describe('a header line that is neither a field nor a continuation', () => {
  it('control: the genuine message is verified, with no such finding', async () => {
    const a = await analyze(await genuine());
    expect(a.verdict.verdict).toBe('verified');
    expect(a.findings.map((f) => f.code)).not.toContain('header-line-not-a-field');
  });

  it('a signed Subject cut short by a line break: the signature still verifies, the message is suspicious', async () => {
    const cut = (await genuine()).replace('Subject: Payment approved only', 'Subject: Payment approved \r\nonly');
    const a = await analyze(cut);
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.meta.subject).toBe('Payment approved');
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toContain('header-line-not-a-field');
    expect(a.findings.find((f) => f.code === 'header-line-not-a-field')!.evidence).toMatchObject({ text: 'only after legal review' });
  });

  it('a signed Subject cut between its name and its colon, with a forged one above: suspicious, not verified', async () => {
    const message = await genuine();
    const forged = `Subject: Pay the Acme invoice today\r\n${message.replace('Subject: Payment', 'Subject\r\n: Payment')}`;
    const a = await analyze(forged);
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toContain('header-line-not-a-field');
  });

  it('unsigned mail with such a line gets a warning, not a red flag', async () => {
    const a = await analyze(demoMessage({ id: 'stray-unsigned' }).replace('Subject: Hostile input', 'Subject: Hostile\r\ninput'));
    expect(a.findings.find((f) => f.code === 'header-line-not-a-field')).toMatchObject({ severity: 'warning' });
    expect(a.verdict.verdict).toBe('unverifiable');
  });

  it('an mbox envelope line at the top of a file is not one', async () => {
    const a = await analyze(`From alice@demo.example Tue Feb 14 10:12:03 2017\r\n${await genuine()}`);
    expect(a.findings.map((f) => f.code)).not.toContain('header-line-not-a-field');
  });

  // Red team, round 4 (14): the same family, a byte readers disagree on.
  it('a NUL byte in an unsigned header of a signed message is a red flag (header-nul)', async () => {
    const a = await analyze(`X-Mailer: Outlook 16.0\0\r\n${await genuine()}`);
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.findings.find((f) => f.code === 'header-nul')).toMatchObject({ severity: 'red-flag' });
    expect(a.verdict.verdict).toBe('suspicious');
  });
});

// Red team 28, I-03: Python's email package reads a field only as a name directly followed by a
// colon. An unsigned `Bob :` field added to a verified message ends its header there: the field's
// continuation lines read as a forged note above the genuine signed body.
describe('a field name written apart from its colon', () => {
  const note = 'Bob :\r\n change of plan: wire the money today, and ignore my earlier note below.\r\n -----Original Message-----\r\n';

  it('an unsigned field so written, added to a verified message: suspicious (header-name-space)', async () => {
    const message = await genuine();
    const added = message.replace('\r\nMIME-Version:', `\r\n${note}MIME-Version:`);
    expect(added).not.toBe(message);
    const a = await analyze(added);
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toContain('header-name-space');
    expect(a.findings.find((f) => f.code === 'header-name-space')).toMatchObject({ severity: 'red-flag', evidence: { text: 'Bob :' } });
  });

  it('a signed field spaced so, on the first line or below, with nothing added: suspicious', async () => {
    const message = await genuine();
    for (const spaced of [message.replace('\r\nFrom:', '\r\nFrom :'), `X-Note\t: x\r\n${message}`]) {
      expect(spaced).not.toBe(message);
      const a = await analyze(spaced);
      expect(a.signatures.some((s) => s.outcome === 'pass')).toBe(true);
      expect(a.verdict.reasons).toContain('header-name-space');
    }
  });

  it('unsigned mail so written gets a warning; an mbox envelope line is no such field', async () => {
    const a = await analyze(demoMessage({ id: 'spaced-unsigned' }).replace('Subject:', 'Subject :'));
    expect(a.findings.find((f) => f.code === 'header-name-space')).toMatchObject({ severity: 'warning' });
    expect(a.verdict.verdict).toBe('unverifiable');
    const envelope = await analyze(`From alice@demo.example Tue Feb 14 10:12:03 2017\r\n${await genuine()}`);
    expect(envelope.findings.map((f) => f.code)).not.toContain('header-name-space');
  });
});
