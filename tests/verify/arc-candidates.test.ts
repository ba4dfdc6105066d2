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
import { parseHeaders } from '../../src/read/headers.ts';
import { verifyDkim } from '../../src/verify/dkim.ts';
import { keyImportStats } from '../../src/verify/mailauth-fast-paths.ts';
import { handResealed } from '../helpers/hand-sign.ts';
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

describe('the cost of a chain whose names have one record each', () => {
  it('is the DKIM pass alone: no pass is made again for ARC', async () => {
    const original = await signed(plainMessage(), { key: author, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const message = await seal(original, 'lists.example.net', list, 'none', 'mx.lists.example.net; dkim=pass header.d=example.com header.s=sel1', 1);
    const lookup = lookupOf({ [AUTHOR_KEY]: [{ key: author, origin: 'keys.json' }], [LIST_KEY]: [{ key: list, origin: 'keys.json' }] });
    // every DKIM pass asks mailauth's key cache for the key of each signature it verifies
    const keysAsked = (): number => keyImportStats.imports + keyImportStats.reused;
    let before = keysAsked();
    await verifyDkim(Buffer.from(message, 'latin1'), parseHeaders(Buffer.from(message, 'latin1')).fields, { lookup, curTime: SIGN_TIME });
    const onePass = keysAsked() - before;
    expect(onePass).toBeGreaterThan(0);
    before = keysAsked();
    const a = await analyze(message, lookup);
    expect(a.verdict.verdict).toBe('verified');
    expect(a.arc.result).toBe('pass');
    expect(keysAsked() - before).toBe(onePass);
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
  it('credits a key file before a DNS copy of the key with other tags, as DKIM does, whatever their texts', async () => {
    const message = await listCopy();
    // the DNS text sorts first (it is a prefix of the file's), the order ARC once credited by
    const records: KeyRecord[] = [
      { txt: list.txt, source: 'dns', origin: 'resolver 192.0.2.53' },
      { txt: `${list.txt}; n=copied from the list's DNS`, source: 'file', origin: '/cases/x/keys.json' },
    ];
    const lookup = (order: KeyRecord[]): KeyLookup => async (name) =>
      normalizeKeyName(name) === LIST_KEY
        ? { status: 'found', name, records: order }
        : { status: 'found', name, records: [{ txt: author.txt, source: 'file', origin: 'keys.json' }] };
    for (const order of [records, [...records].reverse()]) {
      const a = await analyze(message, lookup(order));
      expect(a.arc.result).toBe('pass');
      expect(a.arc.instances[0]).toMatchObject({ sealKey: { source: 'file', origin: '/cases/x/keys.json' }, amsKey: { source: 'file', origin: '/cases/x/keys.json' } });
    }
  });
});

describe('the strictest record of a key applies to ARC, as to DKIM', () => {
  /** the list's key, published with h=sha1: a record that forbids every ARC signature (all are sha256) */
  const strict = (key: TestKey): string => key.txt.replace('k=rsa;', 'k=rsa; h=sha1;');
  const lookupWith = (names: Record<string, Array<{ txt: string; origin: string }>>): KeyLookup => async (name) => {
    const table: Record<string, Array<{ txt: string; origin: string }>> = { [AUTHOR_KEY]: [{ txt: author.txt, origin: 'keys.json' }], ...names };
    const entries = table[normalizeKeyName(name)];
    if (!entries) return { status: 'absent', name, detail: 'not on record' };
    return { status: 'found', name, records: entries.map(({ txt, origin }) => ({ txt, source: 'file', origin })) };
  };

  it("a copy of the sealer's key without its h= does not validate a chain the domain's record forbids, in either order", async () => {
    const message = await listCopy();
    const records = [{ txt: list.txt, origin: 'copied.json' }, { txt: strict(list), origin: 'domain.json' }];
    const runs = await Promise.all([records, [...records].reverse()].map((order) => analyze(message, lookupWith({ [LIST_KEY]: order }))));
    for (const a of runs) {
      expect(a.arc.result).toBe('fail');
      expect(a.arc.reason).toBe(
        `i=1 ARC-Message-Signature: inappropriate hash algorithm for ${LIST_KEY} under its record file from domain.json; ` +
          'the same key is also on record (file from copied.json) with a laxer record; the strictest record of the key applies',
      );
      expect(a.verdict.verdict).toBe('suspicious');
    }
    expect(runs[1]!.arc).toEqual(runs[0]!.arc);
    // the control: the lax copy alone validates it
    expect((await analyze(message, lookupWith({ [LIST_KEY]: [records[0]!] }))).arc.result).toBe('pass');
  });

  it("the same for an ARC-Seal under a selector of its own", async () => {
    const sealTime = Math.floor(SIGN_TIME.getTime() / 1000) + 60;
    const message = handResealed(await listCopy(), { privateKeyPem: provider.privatePem, tags: `i=1; a=rsa-sha256; t=${sealTime}; cv=none; d=lists.example.net; s=seal` });
    const SEAL_KEY = 'seal._domainkey.lists.example.net';
    const records = [{ txt: provider.txt, origin: 'copied.json' }, { txt: strict(provider), origin: 'domain.json' }];
    const lax = await analyze(message, lookupWith({ [LIST_KEY]: [{ txt: list.txt, origin: 'keys.json' }], [SEAL_KEY]: [records[0]!] }));
    expect(lax.arc.result).toBe('pass');
    expect(lax.arc.instances[0]).toMatchObject({ sealKey: { name: SEAL_KEY, origin: 'copied.json' }, amsKey: { name: LIST_KEY, origin: 'keys.json' } });
    for (const order of [records, [...records].reverse()]) {
      const a = await analyze(message, lookupWith({ [LIST_KEY]: [{ txt: list.txt, origin: 'keys.json' }], [SEAL_KEY]: order }));
      expect(a.arc.result).toBe('fail');
      expect(a.arc.reason).toBe(
        `inappropriate hash algorithm for ${SEAL_KEY} under its record file from domain.json; ` +
          'the same key is also on record (file from copied.json) with a laxer record; the strictest record of the key applies',
      );
    }
  });
});
