import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { DKIMVerifyOptions, DKIMVerifyResult } from 'mailauth';
import { dkimVerifyDirect } from '../../src/verify/mailauth-direct.ts';
import { installMailauthFastPaths } from '../../src/verify/mailauth-fast-paths.ts';
import { toCrlf } from '../../src/read/line-endings.ts';
import { plainMessage, rsaKey, SIGN_TIME, signed } from '../unit/support/signing.ts';
import { CORPUS, CORPUS_SKIP_NOTE, HAS_CORPUS, corpusFiles } from '../helpers/corpus.ts';

installMailauthFastPaths();
const { dkimVerify } = await import('mailauth/lib/dkim/verify.js');

type Resolver = (name: string, type: string) => Promise<string[][]>;

/** mailauth's kind of resolver over a table: a name not in it is NXDOMAIN. */
function tableResolver(table: Record<string, string[] | string>): Resolver {
  const byName = new Map(Object.entries(table).map(([name, records]) => [name.toLowerCase().replace(/\.$/, ''), [records].flat()]));
  return async (name) => {
    const records = byName.get(name.toLowerCase().replace(/\.$/, ''));
    if (!records) throw Object.assign(new Error(`${name} not found`), { code: 'ENOTFOUND' });
    return records.map((txt) => [txt]);
  };
}

/**
 * A result as a plain value to compare: its own properties and the hidden `headers`, `arc` and
 * `seal`, with the ids mailauth makes up at random (a signature with no b=) replaced.
 */
function comparable(result: DKIMVerifyResult): unknown {
  const hidden = result as DKIMVerifyResult & { headers?: unknown; arc?: unknown; seal?: unknown };
  const value = { ...result, headers: hidden.headers, arc: hidden.arc, seal: hidden.seal };
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v) ? 'random-uuid' : v)));
}

/** mailauth's own slices of a buffer it is given (writeToStream: 64 KB). */
function slices(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 64 * 1024) out.push(bytes.subarray(at, at + 64 * 1024));
  return out;
}

/** A message with a signature field, and options under which the verifier throws on reading it. */
function refusedVerification(): { message: Buffer; options: DKIMVerifyOptions } {
  const message = Buffer.from(plainMessage().replace('\r\n\r\n', '\r\nDKIM-Signature: v=1; d=x.example; s=s; b=AAAA\r\n\r\n'), 'latin1');
  const options = {
    resolver: tableResolver({}),
    leakcheckChecked: () => {
      throw new Error('refused by the test');
    },
  } as DKIMVerifyOptions;
  return { message, options };
}

async function bothWays(chunks: Buffer[], options: DKIMVerifyOptions): Promise<[unknown, unknown]> {
  const direct = await dkimVerifyDirect(chunks, options);
  const input = chunks.length === 1 ? chunks[0]! : chunks.length ? Readable.from(chunks) : Buffer.alloc(0);
  const streamed = await dkimVerify(input, options);
  // the hidden properties are there, and hidden, in both
  for (const name of ['headers', 'arc'] as const) {
    expect(Object.getOwnPropertyDescriptor(direct, name)?.enumerable).toBe(Object.getOwnPropertyDescriptor(streamed, name)?.enumerable);
  }
  return [comparable(direct), comparable(streamed)];
}

describe('dkimVerifyDirect: mailauth dkimVerify without its stream', () => {
  it.skipIf(!HAS_CORPUS)(`gives what dkimVerify gives on every file of the shared corpus, as read and repaired, whole and in two${CORPUS_SKIP_NOTE}`, async () => {
    const sets = readdirSync(CORPUS).filter((set) => existsSync(join(CORPUS, set, 'dns.json')));
    expect(sets.length).toBeGreaterThan(10);
    let compared = 0;
    let passed = 0;
    for (const set of sets) {
      const resolver = tableResolver(JSON.parse(readFileSync(join(CORPUS, set, 'dns.json'), 'utf8')) as Record<string, string[] | string>);
      for (const file of corpusFiles().filter((path) => path.startsWith(join(CORPUS, set) + '/') && !path.endsWith('.json'))) {
        const options: DKIMVerifyOptions = { resolver, minBitLength: 1, curTime: new Date('2024-01-01T00:00:00Z') };
        for (const bytes of [readFileSync(file), toCrlf(readFileSync(file))]) {
          const end = bytes.indexOf('\r\n\r\n');
          const ways = [slices(bytes), end > 0 ? [bytes.subarray(0, end + 2), bytes.subarray(end + 2)] : null];
          for (const chunks of ways) {
            if (!chunks) continue;
            const [direct, streamed] = await bothWays(chunks, options);
            expect(direct, file).toEqual(streamed);
            compared++;
            if ((direct as DKIMVerifyResult).results.some((r) => r.status.result === 'pass')) passed++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(600);
    // (signatures that verify are among them: an input that never reached the verifier passes none)
    expect(passed).toBeGreaterThan(100);
  });

  it('gives what dkimVerify gives on a signed message, an altered copy, a header alone and nothing at all', async () => {
    const key = rsaKey(1024);
    const message = Buffer.from(await signed(plainMessage(), { key, domain: 'example.org', selector: 'direct', signTime: SIGN_TIME }), 'latin1');
    const altered = Buffer.from(message.toString('latin1').replace('\r\n\r\n', '\r\n\r\nAdded.\r\n'), 'latin1');
    const headerOnly = message.subarray(0, message.indexOf('\r\n\r\n') + 2);
    const options: DKIMVerifyOptions = { resolver: tableResolver({ 'direct._domainkey.example.org': key.txt }), curTime: SIGN_TIME };
    const outcomes: string[] = [];
    for (const chunks of [[message], [altered], [headerOnly], []]) {
      const [direct, streamed] = await bothWays(chunks, options);
      expect(direct).toEqual(streamed);
      outcomes.push((direct as DKIMVerifyResult).results.map((r) => r.status.result).join());
    }
    expect(outcomes).toEqual(['pass', 'neutral', 'neutral', 'none']);
  });

  it('rejects with the error the verifier throws, as dkimVerify does', async () => {
    const { message, options } = refusedVerification();
    await expect(dkimVerify(message, options)).rejects.toThrow('refused by the test');
    await expect(dkimVerifyDirect([message], options)).rejects.toThrow('refused by the test');
  });

  // Node's Writable keeps a closure of every stream it makes, which V8 allocates in the old
  // generation (mailauth-direct.ts, releaseVerifier): whatever the spent verifier still held
  // outlived the message by as long as that closure lives.
  it('leaves the spent verifier holding nothing, after a result and after an error, and the result whole', async () => {
    const { DkimVerifier } = createRequire(import.meta.url)('mailauth/lib/dkim/dkim-verifier.js') as { DkimVerifier: { prototype: { writeAsync: (chunk: Buffer) => Promise<void> } } };
    const spent: object[] = [];
    const writeAsync = DkimVerifier.prototype.writeAsync;
    DkimVerifier.prototype.writeAsync = function (this: object, chunk: Buffer) {
      if (!spent.includes(this)) spent.push(this);
      return writeAsync.call(this, chunk);
    };
    const held = (verifier: object): PropertyKey[] => Reflect.ownKeys(verifier).filter((key) => Reflect.get(verifier, key) !== undefined);
    try {
      const key = rsaKey(1024);
      const message = Buffer.from(await signed(plainMessage(), { key, domain: 'example.org', selector: 'direct', signTime: SIGN_TIME }), 'latin1');
      const result = await dkimVerifyDirect([message], { resolver: tableResolver({ 'direct._domainkey.example.org': key.txt }), curTime: SIGN_TIME });
      expect(spent).toHaveLength(1);
      expect(held(spent[0]!)).toEqual([]);
      // what was returned was not taken back with it
      expect(result.results.map((r) => r.status.result)).toEqual(['pass']);
      const hidden = result as DKIMVerifyResult & { headers?: { parsed?: unknown[] }; arc?: { keyCache?: unknown } };
      expect(hidden.headers?.parsed?.length).toBeGreaterThan(3);
      expect(hidden.arc?.keyCache).toBeDefined();

      const refused = refusedVerification();
      await expect(dkimVerifyDirect([refused.message], refused.options)).rejects.toThrow('refused by the test');
      expect(spent).toHaveLength(2);
      expect(held(spent[1]!)).toEqual([]);
    } finally {
      DkimVerifier.prototype.writeAsync = writeAsync;
    }
  });
});
