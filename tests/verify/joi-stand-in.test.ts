import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkUnpaddedBase64, loadRealJoi } from '../../src/verify/joi-stand-in.ts';
import { CORPUS_SKIP_NOTE, HAS_CORPUS, corpusFiles } from '../helpers/corpus.ts';

type Schema = { validate(value: unknown): { value: unknown; error?: unknown } };
const joi = loadRealJoi() as unknown as { string(): { base64(options: object): Schema } };
const joiCheck = joi.string().base64({ paddingRequired: false });

/** Both answers to one value: whether joi and the stand-in accept it, and what value they give back. */
function answers(value: unknown): { joi: [boolean, unknown]; standIn: [boolean, unknown] } {
  const fromJoi = joiCheck.validate(value);
  const fromStandIn = checkUnpaddedBase64(value);
  return { joi: [!fromJoi.error, fromJoi.value], standIn: [!fromStandIn.error, fromStandIn.value] };
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const EXTRA = ['=', '==', '-', '_', ' ', '\t', '\r\n', '.', 'é', '\0'];

/** A deterministic stream of candidate p= values: base64 of every length, padded or not, with flaws. */
function* generated(): Generator<string> {
  let seed = 7;
  // xorshift32: small, deterministic, and well mixed in its low bits
  const next = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  for (let round = 0; round < 4000; round++) {
    const length = next(14);
    let text = '';
    for (let i = 0; i < length; i++) text += ALPHABET[next(64)];
    if (next(3) === 0) text += '='.repeat(1 + next(2));
    if (next(4) === 0) {
      const at = next(text.length + 1);
      text = text.slice(0, at) + EXTRA[next(EXTRA.length)] + text.slice(at);
    }
    yield text;
  }
}

/** Every p= of every key record in the shared corpus, as written (spaces and all) and squeezed. */
function corpusKeyValues(): string[] {
  const values: string[] = [];
  for (const path of corpusFiles((name) => /^dns.*\.json$/.test(name) || name === 'keyring-real-world.json')) {
    for (const match of readFileSync(path, 'utf8').matchAll(/(?:^|;|")\s*p=([^;"]*)/g)) {
      const raw = JSON.parse(`"${match[1]}"`) as string;
      values.push(raw, raw.replace(/\s+/g, ''));
    }
  }
  return values;
}

describe("the stand-in for mailauth's one joi check (p= is base64)", () => {
  it('answers as joi does on base64 of every length, padded, unpadded and flawed', () => {
    let accepted = 0;
    let refused = 0;
    for (const text of generated()) {
      const { joi: fromJoi, standIn } = answers(text);
      expect(standIn, JSON.stringify(text)).toEqual(fromJoi);
      if (fromJoi[0]) accepted++;
      else refused++;
    }
    // both kinds are well represented, so agreement means something
    expect(accepted).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(1000);
  });

  it.each([undefined, null, '', ' ', 'QQ', 'QQ=', 'QQ==', 'QQQ=', 'QQQQ', 'Q', 'QQQQQ', 5, {}, ['QQQQ']])('answers as joi does for %j', (value) => {
    const { joi: fromJoi, standIn } = answers(value);
    expect(standIn).toEqual(fromJoi);
  });

  it.skipIf(!HAS_CORPUS)(`answers as joi does on every key record of the shared corpus${CORPUS_SKIP_NOTE}`, () => {
    const values = corpusKeyValues();
    expect(values.length).toBeGreaterThan(100);
    for (const value of values) expect(answers(value).standIn, value.slice(0, 80)).toEqual(answers(value).joi);
  });
});

describe('an analysis thread and joi', () => {
  const root = resolve(import.meta.dirname, '../..');
  /** Runs a module body in a fresh Node process (the one running the tests), from the project root. */
  const inFreshProcess = (body: string): string =>
    execFileSync(process.execPath, ['--input-type=module', '-e', body], { cwd: root, encoding: 'utf8' });

  /**
   * One message signed with a fresh key, analysed with the key record as published and with its p=
   * written in base64url ('-' and '_'), which Node's decoder reads as the same key but joi's check
   * refuses; with joi loaded first (`realJoi`) or not.
   */
  const analyseTwice = (realJoi: boolean): Record<string, unknown> => {
    const out = inFreshProcess(`
      import { createRequire } from 'node:module';
      import { generateKeyPairSync } from 'node:crypto';
      const require = createRequire(import.meta.url);
      if (${realJoi}) require(createRequire(require.resolve('mailauth/lib/tools.js')).resolve('joi'));
      const { analyzeMessage } = await import('./src/analyze/analyze-message.ts');
      const { joiStandInInstalled } = await import('./src/verify/joi-stand-in.ts');
      const { dkimSign } = require('mailauth/lib/dkim/sign.js');
      let publicKey, privateKey, p = '';
      while (!/[+/]/.test(p)) {
        ({ publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 }));
        p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      }
      const message = 'From: a@example.org\\r\\nTo: b@example.org\\r\\nSubject: hi\\r\\nDate: Mon, 1 Jan 2024 00:00:00 +0000\\r\\n\\r\\nbody\\r\\n';
      const signing = await dkimSign(message, { signatureData: [{ signingDomain: 'example.org', selector: 's', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) }] });
      const raw = Buffer.from(signing.signatures + message);
      const withP = (value) => async (name) => ({ status: 'found', name, records: [{ txt: 'v=DKIM1; k=rsa; p=' + value, source: 'file', origin: 'test' }] });
      const seen = {};
      for (const [label, value] of [['base64', p], ['base64url', p.replace(/[+]/g, '-').replace(/[/]/g, '_')]]) {
        const analysis = await analyzeMessage({ raw, format: 'eml' }, withP(value));
        const { result, comment, outcome } = analysis.signatures[0];
        seen[label] = { result, comment, outcome, verdict: analysis.verdict.verdict };
      }
      const cache = require.cache;
      // in joi's place: the stand-in's own entry, which has loaded nothing, or joi and its modules
      seen.loaded = Object.keys(cache).filter((path) => /node_modules\\/(joi|@hapi)\\//.test(path)).map((path) => [path.replace(/.*node_modules\\//, ''), cache[path].children.length]);
      seen.joiStandInInstalled = joiStandInInstalled;
      console.log(JSON.stringify(seen));
    `);
    return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
  };

  it('loads no joi, and judges a key record exactly as mailauth does with joi', () => {
    const withStandIn = analyseTwice(false);
    const withJoi = analyseTwice(true);
    expect(withStandIn.joiStandInInstalled).toBe(true);
    expect(withStandIn.loaded).toEqual([['joi/lib/index.js', 0]]);
    expect(withJoi.joiStandInInstalled).toBe(false);
    expect((withJoi.loaded as unknown[]).length).toBeGreaterThan(10);
    // the published key verifies; the base64url one is refused by the check, with either
    expect(withStandIn.base64).toEqual(withJoi.base64);
    expect(withStandIn.base64url).toEqual(withJoi.base64url);
    expect(withStandIn.base64).toMatchObject({ result: 'pass', verdict: 'verified' });
    expect(withStandIn.base64url).not.toMatchObject({ result: 'pass' });
  });

  it('hands anything else asked of joi to the real joi, loaded then', () => {
    const out = inFreshProcess(`
      import { createRequire } from 'node:module';
      await import('./src/verify/joi-stand-in.ts');
      const require = createRequire(import.meta.url);
      const Joi = require(createRequire(require.resolve('mailauth/lib/tools.js')).resolve('joi'));
      const before = Object.keys(require.cache).filter((path) => /node_modules\\/joi\\//.test(path)).length;
      const schema = Joi.object({ a: Joi.number().min(2) });
      const ok = !schema.validate({ a: 3 }).error && !!schema.validate({ a: 1 }).error;
      const padded = !!Joi.string().base64().validate('QQ').error;
      const after = Object.keys(require.cache).filter((path) => /node_modules\\/joi\\//.test(path)).length;
      console.log(JSON.stringify({ before, after, ok, padded }));
    `);
    const seen = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(seen.before).toBe(1); // the stand-in's own entry
    expect(seen.after as number).toBeGreaterThan(10);
    expect(seen.ok).toBe(true);
    expect(seen.padded).toBe(true);
  });
});
