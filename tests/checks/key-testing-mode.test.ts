/**
 * key-testing-mode: a signature that verifies with a key record flagged t=y (the domain is
 * testing DKIM, RFC 6376 section 3.6.1). It stays verified, with a warning saying so, in the
 * analysis, across the worker boundary, and in what the database and the exports keep.
 * Red-team finding 07.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { auditKeyTestingMode } from '../../src/checks/key-testing-mode.ts';
import { postAnalysis, receiveAnalysis } from '../../src/pipeline/posted-analysis.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { plainMessage, rsaKey, SIGN_TIME, signed, tableLookup, type TestKey } from '../unit/support/signing.ts';
import { fakeSignature } from './support.ts';
import { exportJsonl, verifyOffline } from '../helpers/in-process.ts';

let key: TestKey;
beforeAll(() => {
  key = rsaKey(2048);
});

const NAME = 'sel._domainkey.example.com';
const withFlags = (flags: string | null): string => (flags === null ? key.txt : key.txt.replace('k=rsa;', `k=rsa; t=${flags};`));
const analyze = async (message: string, txt: string): Promise<MessageAnalysis> =>
  analyzeMessage({ raw: Buffer.from(message, 'latin1'), format: 'eml' }, tableLookup({ [NAME]: txt }));
const genuine = (): Promise<string> => signed(plainMessage(), { key, domain: 'example.com', selector: 'sel', signTime: SIGN_TIME });

describe('key-testing-mode', () => {
  it('a signature verifying with a t=y key stays verified, flagged testing, with a warning that says what t=y means', async () => {
    const a = await analyze(await genuine(), withFlags('y'));
    expect(a.signatures[0]!.testing).toBe(true);
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.reasons).toEqual(['dkim-verified']);
    expect(a.findings).toEqual([
      {
        code: 'key-testing-mode',
        severity: 'warning',
        text: expect.stringContaining('published in testing mode (t=y in its key record)'),
        evidence: expect.objectContaining({ keyName: NAME, signature: expect.stringContaining('example.com') }),
      },
    ]);
    expect(a.findings[0]!.text).toContain('still proves that the holder of this key signed these bytes');
  });

  it('reads t=y among other flags, in any case, and nothing else as testing', async () => {
    const message = await genuine();
    for (const flags of ['y:s', ' s : Y ']) {
      const a = await analyze(message, withFlags(flags));
      expect(a.findings.map((f) => f.code), flags).toEqual(['key-testing-mode']);
    }
    for (const flags of ['s', null]) {
      const a = await analyze(message, withFlags(flags));
      expect(a.signatures[0]!.testing, String(flags)).toBe(false);
      expect(a.findings, String(flags)).toEqual([]);
      expect(a.verdict.verdict).toBe('verified');
    }
    // only a signature that verifies is said to verify with a key in testing mode
    const altered = await analyze(message.replace('Subject: Quarterly numbers', 'Subject: Quarterly numbers (revised)'), withFlags('y'));
    expect(altered.signatures[0]!.outcome).toBe('signature-mismatch');
    expect(altered.signatures[0]!.testing).toBe(true);
    expect(altered.findings.map((f) => f.code)).not.toContain('key-testing-mode');
    // results made without a verifier carry no flag, and are not in testing mode
    expect(auditKeyTestingMode([fakeSignature({ tags: 'v=1; a=rsa-sha256; d=example.com; s=sel; h=from' })])).toEqual([]);
  });

  // Red team 29, K-08: beside "too weak to prove anything" in the explanation, the warning said the
  // signature "still proves that the holder of this key signed these bytes"
  it('a signature that proves nothing anyway (a 512-bit key, a domain not the From\'s) is not said to prove anything', async () => {
    const weak = rsaKey(512);
    const weakSigned = await signed(plainMessage(), { key: weak, domain: 'example.com', selector: 'sel', signTime: SIGN_TIME });
    const a = await analyze(weakSigned, weak.txt.replace('k=rsa;', 'k=rsa; t=y;'));
    expect(a.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['key-too-weak'] });
    const [onWeak] = a.findings.filter((f) => f.code === 'key-testing-mode');
    expect(onWeak!.text).not.toMatch(/proves/);
    expect(onWeak!.text).toContain('Its key is too weak for a signature made with it to count as proof, so the message is not verified by it in any case');

    const thirdParty = await signed(plainMessage(), { key, domain: 'esp.example', selector: 'sel', signTime: SIGN_TIME });
    const b = await analyzeMessage({ raw: Buffer.from(thirdParty, 'latin1'), format: 'eml' }, tableLookup({ 'sel._domainkey.esp.example': withFlags('y') }));
    expect(b.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['signature-not-aligned'] });
    const [onThirdParty] = b.findings.filter((f) => f.code === 'key-testing-mode');
    expect(onThirdParty!.text).not.toMatch(/proves/);
    expect(onThirdParty!.text).toContain('esp.example is not the From domain, so the message is not verified by it in any case');
  });

  it('the flag and the finding cross the worker boundary (JSON) unchanged', async () => {
    const a = await analyze(await genuine(), withFlags('y'));
    const received = receiveAnalysis(postAnalysis(a));
    expect(received.signatures[0]!.testing).toBe(true);
    expect(received.findings).toEqual(a.findings);
  });
});

describe('key-testing-mode end to end (verify, then export and show)', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('is stored with the message and shown by export and show', async () => {
    const dump = join(tmp.path, 'dump');
    mkdirSync(dump);
    writeFileSync(join(dump, 'test-mode.eml'), Buffer.from(await genuine(), 'latin1'));
    const keys = join(tmp.path, 'keys.json');
    writeFileSync(keys, JSON.stringify({ [NAME]: [withFlags('y')] }));
    const db = join(tmp.path, 'x.db');
    await verifyOffline(dump, db, [keys]);
    const row = JSON.parse(exportJsonl(db)) as { verdict: string; findings: Array<{ code: string; severity: string }> };
    expect(row.verdict).toBe('verified');
    expect(row.findings).toEqual([expect.objectContaining({ code: 'key-testing-mode', severity: 'warning' })]);
    const shown = runCli(['show', 'test-mode.eml', '--db', db]);
    expect(shown.stdout).toContain('key-testing-mode');
  });
});
