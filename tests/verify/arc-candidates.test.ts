/**
 * Red team 28, H-05 and H-06. A selector can hold several key records (a colleague's key file, an
 * archive beside DNS). DKIM tried each of them; ARC used only the one the store met first, so the
 * chain result, and the verdict it explains, changed with the order of the --keys files. And a
 * chain that passed did not say which records validated it.
 */
import { createHash } from 'node:crypto';
import { createSeal } from 'mailauth';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import type { KeyAnswer, KeyLookup, KeyRecord } from '../../src/keys/types.ts';
import { normalizeKeyName } from '../../src/keys/types.ts';
import { SIGN_TIME, plainMessage, rsaKey, signed, type TestKey } from '../unit/support/signing.ts';

let author: TestKey;
let list: TestKey;
let provider: TestKey;
let stranger: TestKey;

beforeAll(() => {
  author = rsaKey(2048);
  list = rsaKey(2048);
  provider = rsaKey(2048);
  stranger = rsaKey(2048);
});

const AUTHOR_KEY = 'sel1._domainkey.example.com';
const LIST_KEY = 'arc._domainkey.lists.example.net';
const PROVIDER_KEY = 'arc._domainkey.mail.example.org';
const fingerprint = (key: TestKey): string => createHash('sha256').update(key.spki).digest('hex');

/** A lookup that answers each name with these records, in this order, as the key store would. */
function lookupOf(table: Record<string, Array<{ key: TestKey; origin: string }>>): KeyLookup {
  return async (name: string): Promise<KeyAnswer> => {
    const entries = table[normalizeKeyName(name)];
    if (!entries) return { status: 'absent', name, detail: 'not on record' };
    const records: KeyRecord[] = entries.map(({ key, origin }) => ({ txt: key.txt, source: 'file', origin }));
    return { status: 'found', name, records };
  };
}

async function seal(message: string, by: string, key: TestKey, cv: 'none' | 'pass', authResults: string, minutes: number): Promise<string> {
  const sealed = await createSeal(Buffer.from(message, 'latin1'), {
    seal: { signingDomain: by, selector: 'arc', privateKey: key.privatePem, cv, signTime: new Date(SIGN_TIME.getTime() + minutes * 60_000), authResults },
  } as Parameters<typeof createSeal>[1]);
  expect(sealed.errors).toEqual([]);
  return `${sealed.headers.join('\r\n')}\r\n${message}`;
}

/** The author's message, changed by a list (Subject tag, footer) that saw its signature pass and sealed it. */
async function listCopy(): Promise<string> {
  const original = await signed(plainMessage(), { key: author, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
  const [head, ...rest] = original.split('\r\n\r\n');
  const listed = `${head!.replace('Subject: Quarterly numbers', 'Subject: [numbers] Quarterly numbers')}\r\n\r\n${rest.join('\r\n\r\n')}--\r\nnumbers mailing list\r\n`;
  return seal(listed, 'lists.example.net', list, 'none', 'mx.lists.example.net; dkim=pass header.d=example.com header.s=sel1', 1);
}

const analyze = (message: string, lookup: KeyLookup): Promise<MessageAnalysis> =>
  analyzeMessage({ raw: Buffer.from(message, 'latin1'), format: 'eml' }, lookup, { trustedArcSealers: ['lists.example.net'] });

describe('ARC is validated under every key record of its names, whatever their order', () => {
  it("a second record under the sealer's selector changes neither the chain result nor the verdict, in either order", async () => {
    const message = await listCopy();
    const author_ = { key: author, origin: 'keys.json' };
    const genuine = { key: list, origin: 'keys.json' };
    const colleagues = { key: stranger, origin: 'colleague.json' };
    const genuineFirst = await analyze(message, lookupOf({ [AUTHOR_KEY]: [author_], [LIST_KEY]: [genuine, colleagues] }));
    const colleaguesFirst = await analyze(message, lookupOf({ [AUTHOR_KEY]: [author_], [LIST_KEY]: [colleagues, genuine] }));
    const only = await analyze(message, lookupOf({ [AUTHOR_KEY]: [author_], [LIST_KEY]: [genuine] }));
    for (const a of [genuineFirst, colleaguesFirst, only]) {
      expect(a.arc.result).toBe('pass');
      expect(a.verdict.verdict).toBe('unverifiable');
      expect(a.findings.map((f) => f.code)).toContain('dkim-broken-by-intermediary');
    }
    expect(colleaguesFirst.arc).toEqual(genuineFirst.arc);
    expect(colleaguesFirst.verdict).toEqual(genuineFirst.verdict);
  });

  it("a chain of two sealers passes when each one's genuine record comes at another place in its name's list", async () => {
    const delivered = await seal(
      await listCopy(),
      'mail.example.org',
      provider,
      'pass',
      'mx.mail.example.org; dkim=neutral (body hash did not verify) header.d=example.com header.s=sel1; arc=pass (i=1 dkim=pass dkdomain=example.com)',
      2,
    );
    const records = (listOrder: TestKey[], providerOrder: TestKey[]) =>
      lookupOf({
        [AUTHOR_KEY]: [{ key: author, origin: 'keys.json' }],
        [LIST_KEY]: listOrder.map((key, i) => ({ key, origin: `list-${i}.json` })),
        [PROVIDER_KEY]: providerOrder.map((key, i) => ({ key, origin: `provider-${i}.json` })),
      });
    // the first record of one name and the second of the other: no single position serves both
    for (const [listOrder, providerOrder] of [
      [[list, stranger], [stranger, provider]],
      [[stranger, list], [provider, stranger]],
    ]) {
      const a = await analyze(delivered, records(listOrder!, providerOrder!));
      expect(a.arc.result).toBe('pass');
      expect(a.arc.instances.map((i) => [i.sealDomain, i.sealKey?.fingerprint])).toEqual([
        ['lists.example.net', fingerprint(list)],
        ['mail.example.org', fingerprint(provider)],
      ]);
      expect(a.arc.instances[1]!.amsKey?.fingerprint).toBe(fingerprint(provider));
    }
  });

  it('a chain no record validates fails, with the same reason in either order', async () => {
    const message = await listCopy();
    const strangers = [{ key: stranger, origin: 'a.json' }, { key: provider, origin: 'b.json' }];
    const one = await analyze(message, lookupOf({ [AUTHOR_KEY]: [{ key: author, origin: 'keys.json' }], [LIST_KEY]: strangers }));
    const other = await analyze(message, lookupOf({ [AUTHOR_KEY]: [{ key: author, origin: 'keys.json' }], [LIST_KEY]: [...strangers].reverse() }));
    expect(one.arc.result).toBe('fail');
    expect(other.arc).toEqual(one.arc);
    expect(one.arc.instances.every((i) => i.sealKey === undefined && i.amsKey === undefined)).toBe(true);
    expect(one.verdict.verdict).toBe('suspicious');
  });
});

describe('a chain that passes records the key records that validated it', () => {
  it('names the seal and message-signature key with its fingerprint, source, origin and record', async () => {
    const a = await analyze(await listCopy(), lookupOf({ [AUTHOR_KEY]: [{ key: author, origin: 'keys.json' }], [LIST_KEY]: [{ key: stranger, origin: 'colleague.json' }, { key: list, origin: 'keys.json' }] }));
    const expected = { name: LIST_KEY, txt: list.txt, source: 'file', origin: 'keys.json', keyType: 'rsa', bits: 2048, fingerprint: fingerprint(list), revoked: false, strong: true };
    expect(a.arc.instances).toHaveLength(1);
    expect(a.arc.instances[0]!.sealKey).toMatchObject(expected);
    expect(a.arc.instances[0]!.amsKey).toMatchObject(expected);
  });

  it('names the same record whatever order two records of the same key came in', async () => {
    const message = await listCopy();
    const copies = [{ key: list, origin: 'b-archive.json' }, { key: list, origin: 'a-colleague.json' }];
    const runs = await Promise.all(
      [copies, [...copies].reverse()].map((order) => analyze(message, lookupOf({ [AUTHOR_KEY]: [{ key: author, origin: 'keys.json' }], [LIST_KEY]: order }))),
    );
    expect(runs.map((a) => [a.arc.instances[0]!.sealKey?.origin, a.arc.instances[0]!.amsKey?.origin])).toEqual([
      ['a-colleague.json', 'a-colleague.json'],
      ['a-colleague.json', 'a-colleague.json'],
    ]);
  });
});
