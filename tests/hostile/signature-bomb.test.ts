/**
 * A signature bomb: thousands of DKIM-Signature fields on one message (thirty-fifth round). No
 * genuine message carries more than a handful; these are added to exhaust the verifier, and at
 * most MAX_SIGNATURES_CHECKED of them are verified (src/verify/dkim.ts): those claiming the From
 * domain first, then the others, each from the bottom up. Measured before: 19,000 junk signatures on a
 * 2 MB message took 7.3 s and 401 MB in verify, and stored 19,001 signature rows.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
// the analysis first, as in every entry point: mailauth is patched as it loads
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { offlineFileLookup } from '../../src/keys/key-lookup.ts';
const MAX_SIGNATURES_CHECKED = 50;
import { DEMO_KEYS, ROOT, runCli, tempDir } from '../helpers/cli.ts';
import { demoMessage, signWithFixtureKey } from './sign.ts';
import { hasGnuTime, readResults, verifyOneMeasured } from './support.ts';

const lookup = offlineFileLookup(DEMO_KEYS);
const analyze = (text: string): Promise<MessageAnalysis> => analyzeMessage({ raw: Buffer.from(text, 'latin1'), format: 'eml' }, lookup);
const summary = (a: MessageAnalysis): string =>
  `${a.verdict.verdict} (${a.verdict.reasons.join(', ')}), ${a.signatures.length} signature results: ${a.verdict.explanation.slice(0, 400)}`;

/** mailauth's verifier, as the analysis loaded it (patched) */
const DkimVerifier = (createRequire(import.meta.url)('mailauth/lib/dkim/dkim-verifier.js') as { DkimVerifier: { prototype: Record<string, (...args: unknown[]) => unknown> } }).DkimVerifier;

/** `count` junk DKIM-Signature fields, the i-th made by `line(i)` */
const junk = (count: number, line: (i: number) => string): string => Array.from({ length: count }, (_, i) => `${line(i)}\r\n`).join('');

/** The brief's reproducer: third parties' junk, none of it claiming the From domain. */
const thirdPartyJunk = (i: number): string =>
  `DKIM-Signature: v=1; a=rsa-sha256; d=junk${i}.example; s=s${i % 7}; c=relaxed/relaxed; h=from; bh=AAAA; b=AAAA`;

describe('a message with thousands of DKIM signatures', () => {
  afterEach(() => vi.restoreAllMocks());

  it('19,000 junk signatures on top of a genuine one: verified by it, with the finding, at most the cap verified by mailauth', async () => {
    const genuine = await signWithFixtureKey(demoMessage({ id: 'signature-bomb' }));
    const verified = vi.spyOn(DkimVerifier.prototype, 'verifySignature');
    const a = await analyze(junk(19_000, thirdPartyJunk) + genuine);
    expect([a.verdict.verdict, a.verdict.reasons], summary(a)).toEqual(['verified', ['dkim-verified']]);
    // the genuine signature keeps its place among the fields: the 19,001st, named so
    expect(a.verdict.provenBy).toEqual([19_000]);
    expect(a.signatures.length).toBeLessThanOrEqual(MAX_SIGNATURES_CHECKED);
    expect(a.signatures.find((s) => s.index === 19_000)?.outcome).toBe('pass');
    // one pass over the message (nothing failed), so at most the cap's verifications (19,001 before)
    expect(verified.mock.calls.length).toBeLessThanOrEqual(MAX_SIGNATURES_CHECKED);
    const finding = a.findings.find((f) => f.code === 'signatures-not-checked');
    expect(finding?.severity).toBe('warning');
    expect(finding?.evidence).toMatchObject({ fields: 19_001, checked: MAX_SIGNATURES_CHECKED, notChecked: 19_001 - MAX_SIGNATURES_CHECKED, notCheckedClaimingFromDomain: 0 });
    // bounded whatever the message carries
    expect((finding?.evidence['firstNotChecked'] as string[]).length).toBeLessThanOrEqual(10);
    expect(JSON.stringify(finding).length).toBeLessThan(3_000);
  }, 60_000);

  // well-formed, under the domain's real selector: the key is found, and each fails against it
  const claiming = (): string =>
    `DKIM-Signature: v=1; a=rsa-sha256; d=demo.example; s=s2048; c=relaxed/relaxed; h=from:to:subject; bh=${randomBytes(32).toString('base64')}; b=${randomBytes(256).toString('base64')}`;

  it('junk claiming the From domain slipped in below the genuine signature pushes it out: unverifiable with the finding, never suspicious', async () => {
    const message = demoMessage({ id: 'signature-bomb-claiming' });
    const signature = (await signWithFixtureKey(message)).slice(0, -message.length);
    const a = await analyze(junk(2_000, thirdPartyJunk) + signature + junk(MAX_SIGNATURES_CHECKED + 10, claiming) + message);
    expect(a.verdict.verdict, summary(a)).toBe('unverifiable');
    expect(a.verdict.reasons).toContain('signatures-not-checked');
    expect(a.signatures.every((s) => s.tags.domain === 'demo.example' && s.index > 2_000)).toBe(true);
    const finding = a.findings.find((f) => f.code === 'signatures-not-checked');
    expect(finding?.evidence).toMatchObject({ fields: MAX_SIGNATURES_CHECKED + 2_011, notCheckedClaimingFromDomain: 11 });
    expect(a.verdict.explanation).toContain('claim the From domain');
  }, 60_000);

  it('the same junk added on top of the genuine signature does not push it out: verified', async () => {
    const genuine = await signWithFixtureKey(demoMessage({ id: 'signature-bomb-claiming-on-top' }));
    const a = await analyze(junk(2_000, thirdPartyJunk) + junk(MAX_SIGNATURES_CHECKED + 10, claiming) + genuine);
    expect([a.verdict.verdict, a.verdict.reasons], summary(a)).toEqual(['verified', ['dkim-verified']]);
    expect(a.findings.find((f) => f.code === 'signatures-not-checked')?.evidence).toMatchObject({ notCheckedClaimingFromDomain: 11 });
  }, 60_000);

  it('2,000 signatures each with its own l= over a 1 MB body: at most the cap of body hashes, and the genuine signature still proves', async () => {
    const body = `${'The quarterly figures are attached, see the notes.\r\n'.repeat(20_000)}Alice\r\n`;
    const genuine = await signWithFixtureKey(demoMessage({ id: 'signature-bomb-lengths', body }));
    const hashes = vi.spyOn(DkimVerifier.prototype, 'addBodyHash');
    const lengths = junk(2_000, (i) => `DKIM-Signature: v=1; a=rsa-sha256; d=junk${i}.example; s=s; c=relaxed/${i % 2 ? 'relaxed' : 'simple'}; l=${1_000_000 - i}; h=from; bh=AAAA; b=AAAA`);
    const a = await analyze(lengths + genuine);
    expect([a.verdict.verdict, a.verdict.reasons], summary(a)).toEqual(['verified', ['dkim-verified']]);
    // every signature checked claims a body hash of its own; 2,000 of them before, each over the body
    expect(hashes.mock.calls.length).toBeLessThanOrEqual(MAX_SIGNATURES_CHECKED);
  }, 60_000);
});

describe('a signature bomb through the CLI', () => {
  const tmp = tempDir('leakcheck-signature-bomb-');
  afterAll(() => tmp.cleanup());

  // Measured on 2026-12-06 (thirty-fifth round): 401 MB peak RSS and 19,001 signature rows
  // (5.6 MB of database) for this message, which `show` printed whole.
  it.runIf(hasGnuTime())('the 19,000-junk message is verified within 300 MB, with at most the cap of rows and the finding in show and export', () => {
    const fixture = readFileSync(join(ROOT, 'fixtures/demo-dump/inbox/2017-02-14 Q1 budget.eml'));
    const message = Buffer.concat([Buffer.from(junk(19_000, thirdPartyJunk).replace(/\r\n/g, '\n'), 'latin1'), fixture]);
    const { rssMb, db } = verifyOneMeasured(tmp.path, 'bomb', message);
    process.stdout.write(`memory: peak RSS ${rssMb.toFixed(0)} MB for 19,000 junk DKIM signatures on one message\n`);
    const [row] = readResults(db).messages;
    expect([row?.verdict, JSON.parse(row?.reasons_json ?? '[]')]).toEqual(['verified', ['dkim-verified']]);
    expect(rssMb).toBeLessThan(300);
    const store = new Database(db, { readonly: true });
    try {
      const { rows } = store.prepare('SELECT COUNT(*) AS rows FROM signatures').get() as { rows: number };
      expect(rows).toBeLessThanOrEqual(MAX_SIGNATURES_CHECKED);
    } finally {
      store.close();
    }
    const show = runCli(['show', '--db', db, 'one.eml']);
    expect(show.stdout).toContain('signatures-not-checked');
    expect(show.stdout.length).toBeLessThan(50_000);
    const exported = runCli(['export', '--db', db, '--format', 'jsonl']);
    expect(exported.stdout).toContain('"signatures-not-checked"');
  }, 120_000);
});
