/**
 * The keys a message's signatures name are asked for at once (red team W2, W2-05). mailauth asks
 * its resolver one signature at a time, so a name server that never answers (live DNS: 5 s, two
 * tries) cost each signature its timeout in turn: three signatures added by a forger, naming a
 * domain whose server drops queries, ran a message past the analysis' time limit, and its red flag
 * became analysis-failed.
 */
import { describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { offlineFileLookup } from '../../src/keys/key-lookup.ts';
import type { KeyAnswer, KeyLookup } from '../../src/keys/types.ts';
import { DEMO_KEYS } from '../helpers/cli.ts';
import { demoMessage, signWithFixtureKey } from '../hostile/sign.ts';

const BH = Buffer.alloc(32, 1).toString('base64');
const B = Buffer.alloc(256, 2).toString('base64');
const planted = (i: number) => `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=d${i}.example; s=s1; h=from; bh=${BH}; b=${B}\r\n`;

describe('key lookups of one message', () => {
  it('are made at once, not one signature after another; the verdict is as before', async () => {
    const demoKeys = offlineFileLookup(DEMO_KEYS);
    let inFlight = 0;
    let most = 0;
    const asked: string[] = [];
    // a name server that takes its time for the planted domains
    const slow: KeyLookup = async (name): Promise<KeyAnswer> => {
      asked.push(name);
      if (!name.endsWith('.example') || name.includes('demo.example')) return demoKeys(name);
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 100));
      inFlight--;
      return { status: 'error', name, code: 'ETIMEOUT', detail: 'queryTxt ETIMEOUT' };
    };
    const genuine = await signWithFixtureKey(demoMessage({ id: 'slow-dns' }));
    const forged = `${planted(0)}${planted(1)}${planted(2)}${genuine.replace('see you on Friday', 'see you on Monday')}`;
    const a = await analyzeMessage({ raw: Buffer.from(forged, 'latin1'), format: 'eml' }, slow);
    expect(most).toBe(3);
    expect(new Set(asked)).toEqual(new Set(['s1._domainkey.d0.example', 's1._domainkey.d1.example', 's1._domainkey.d2.example', 's2048._domainkey.demo.example']));
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toContain('dkim-body-modified');
  });
});
