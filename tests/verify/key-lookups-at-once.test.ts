/**
 * The keys a message's signatures name are asked for at once (red team W2, W2-05). mailauth asks
 * its resolver one signature at a time, so a name server that never answers (live DNS: 5 s, two
 * tries) cost each signature its timeout in turn: three signatures added by a forger, naming a
 * domain whose server drops queries, ran a message past the analysis' time limit, and its red flag
 * became analysis-failed. An ARC chain's keys are asked with them: mailauth asks for the newest
 * ARC-Message-Signature's key after the signatures', and for the seals' after that, three timeouts
 * in turn.
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

/** A lookup whose name server takes 100 ms for every name outside demo.example, counting how many it holds at once. */
function slowForPlanted(): { lookup: KeyLookup; asked: string[]; most: () => number } {
  const demoKeys = offlineFileLookup(DEMO_KEYS);
  let inFlight = 0;
  let most = 0;
  const asked: string[] = [];
  const lookup: KeyLookup = async (name): Promise<KeyAnswer> => {
    asked.push(name);
    if (!name.endsWith('.example') || name.includes('demo.example')) return demoKeys(name);
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 100));
    inFlight--;
    return { status: 'error', name, code: 'ETIMEOUT', detail: 'queryTxt ETIMEOUT' };
  };
  return { lookup, asked, most: () => most };
}

/** An ARC set a forger adds, its seal and message signature each naming a domain of theirs. */
const plantedSet = (i: number) =>
  `ARC-Seal: i=${i}; a=rsa-sha256; cv=${i === 1 ? 'none' : 'pass'}; d=seal${i}.example; s=s1; t=1487063523; b=${B}\r\n` +
  `ARC-Message-Signature: i=${i}; a=rsa-sha256; c=relaxed/relaxed; d=ams${i}.example; s=s1; t=1487063523; h=from; bh=${BH}; b=${B}\r\n` +
  `ARC-Authentication-Results: i=${i}; seal${i}.example; dkim=pass\r\n`;

describe('key lookups of one message', () => {
  it('an ARC chain\'s keys are asked with the signatures\', not after them: one wait, not three', async () => {
    const { lookup, asked, most } = slowForPlanted();
    const genuine = await signWithFixtureKey(demoMessage({ id: 'slow-dns-arc' }));
    const sets = [3, 2, 1].map(plantedSet).join('');
    const forged = `${sets}${planted(0)}${genuine.replace('see you on Friday', 'see you on Monday')}`;
    const a = await analyzeMessage({ raw: Buffer.from(forged, 'latin1'), format: 'eml' }, lookup);
    // the planted signature's key, the newest message signature's and the three seals', at once
    expect(most()).toBe(5);
    expect(new Set(asked)).toEqual(new Set(['s1._domainkey.d0.example', 's2048._domainkey.demo.example', 's1._domainkey.ams3.example', 's1._domainkey.seal1.example', 's1._domainkey.seal2.example', 's1._domainkey.seal3.example']));
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toContain('dkim-body-modified');
  });

  it('three selectors of one domain that is not the author\'s are asked at once: anyone can run its name servers', async () => {
    const { lookup, asked, most } = slowForPlanted();
    const planted3 = [1, 2, 3].map((s) => `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=d0.example; s=s${s}; h=from; bh=${BH}; b=${B}\r\n`).join('');
    const message = `${planted3}${demoMessage({ id: 'slow-dns-one-domain' })}`;
    const a = await analyzeMessage({ raw: Buffer.from(message, 'latin1'), format: 'eml' }, lookup);
    expect(most()).toBe(3);
    expect(new Set(asked)).toEqual(new Set(['s1._domainkey.d0.example', 's2._domainkey.d0.example', 's3._domainkey.d0.example']));
    expect(a.verdict.verdict).toBe('unverifiable');
  });

  it('are made at once, not one signature after another; the verdict is as before', async () => {
    const { lookup: slow, asked, most } = slowForPlanted();
    const genuine = await signWithFixtureKey(demoMessage({ id: 'slow-dns' }));
    const forged = `${planted(0)}${planted(1)}${planted(2)}${genuine.replace('see you on Friday', 'see you on Monday')}`;
    const a = await analyzeMessage({ raw: Buffer.from(forged, 'latin1'), format: 'eml' }, slow);
    expect(most()).toBe(3);
    expect(new Set(asked)).toEqual(new Set(['s1._domainkey.d0.example', 's1._domainkey.d1.example', 's1._domainkey.d2.example', 's2048._domainkey.demo.example']));
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toContain('dkim-body-modified');
  });
});
