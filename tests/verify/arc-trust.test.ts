import { createSeal } from 'mailauth';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { dkimResultsIn } from '../../src/verify/auth-results.ts';
import { readSignatureTags } from '../../src/verify/signature-tags.ts';
import { SIGN_TIME, plainMessage, rsaKey, signed, tableLookup, type LookupTable, type TestKey } from '../unit/support/signing.ts';

/*
 * What a chain that validates may vouch for (red team L). A sealer's record explains a failed
 * signature only when it is about that signature (header.d, the domain of header.i, header.s,
 * header.b), when the keys that validated the chain prove anything, and when the seal signs what
 * the signature claims to have covered, its own DKIM-Signature field included.
 */

let author: TestKey;
let sealerKey: TestKey;

beforeAll(() => {
  author = rsaKey(2048);
  sealerKey = rsaKey(2048);
});

const SEALER = 'google.com';
const SEAL_NAME = `arc._domainkey.${SEALER}`;
const keys = (extra: LookupTable = {}): ReturnType<typeof tableLookup> => tableLookup({ 'sel1._domainkey.example.com': author.txt, [SEAL_NAME]: sealerKey.txt, ...extra });

/** `message` with an ARC set by google.com on top, recording `saw`; its ARC-Message-Signature signs `amsHeaders` (mailauth's list, DKIM-Signature included, by default). */
async function sealed(message: string, saw: string, amsHeaders?: string): Promise<string> {
  const seal = await createSeal(Buffer.from(message, 'latin1'), {
    seal: {
      signingDomain: SEALER,
      selector: 'arc',
      privateKey: sealerKey.privatePem,
      cv: 'none',
      signTime: new Date(SIGN_TIME.getTime() + 60_000),
      authResults: `mx.google.com; ${saw}`,
      ...(amsHeaders ? { headerList: amsHeaders } : {}),
    },
  } as Parameters<typeof createSeal>[1]);
  expect(seal.errors).toEqual([]);
  return `${seal.headers.join('\r\n')}\r\n${message}`;
}

const analyze = (message: string, lookup = keys()): Promise<MessageAnalysis> => analyzeMessage({ raw: Buffer.from(message, 'latin1'), format: 'eml' }, lookup);
const codes = (a: MessageAnalysis): string[] => a.findings.map((f) => f.code);

/** The author's message as a list changed it (a footer) before google.com sealed it. */
async function listed(identity?: string): Promise<{ message: string; b: string }> {
  const original = await signed(plainMessage(), { key: author, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, ...(identity ? { identity } : {}) });
  const b = readSignatureTags(original.slice('DKIM-Signature:'.length, original.indexOf('\r\nFrom:'))).b;
  expect(b).toMatch(/^[A-Za-z0-9+/]{100,}/);
  return { message: `${original}--\r\nnumbers mailing list\r\n`, b };
}

describe('a trusted sealer\'s record is read for the signature it names', () => {
  it('keeps header.d and the domain of header.i apart, with header.b', () => {
    expect(dkimResultsIn('i=1; mx.google.com; dkim=pass header.i=@news.demo.example header.s=s2048 header.b=FqlRF+uG; dkim=neutral header.d=Demo.Example')).toEqual([
      { result: 'pass', domain: null, identityDomain: 'news.demo.example', selector: 's2048', b: 'FqlRF+uG' },
      { result: 'neutral', domain: 'demo.example' },
    ]);
  });

  // red team L, L-03: Gmail and Google Groups record header.i alone, and the AUID may be a subdomain of d=
  it('a pass recorded by header.i for a signature whose i= is a subdomain of d= explains its failure; one for another signature does not', async () => {
    const { message, b } = await listed('@news.example.com');
    const explained = await analyze(await sealed(message, `dkim=pass header.i=@news.example.com header.s=sel1 header.b=${b.slice(0, 8)}`));
    expect(explained.signatures[0]!.outcome).toBe('body-modified');
    expect(codes(explained)).toContain('dkim-broken-by-intermediary');
    expect(explained.verdict.verdict).toBe('unverifiable');
    // header.b that does not begin this signature's b= is a record of another signature
    const other = await analyze(await sealed(message, 'dkim=pass header.i=@news.example.com header.s=sel1 header.b=AAAAAAAA'));
    expect(other.verdict.verdict).toBe('suspicious');
    // the AUID recorded is not this signature's
    const elsewhere = await analyze(await sealed(message, 'dkim=pass header.i=@other.example.com header.s=sel1'));
    expect(elsewhere.verdict.verdict).toBe('suspicious');
  });
});

describe('a chain validated only under a key that proves nothing', () => {
  const compromised = (): LookupTable => ({
    [SEAL_NAME]: { status: 'found', name: SEAL_NAME, records: [{ txt: sealerKey.txt, source: 'file', origin: 'test-keys.json', compromised: 'listed in leaked.txt' }] },
  });

  // red team L, L-04: the sealer's private key is public, so anyone can make its chain say the signature passed
  it('explains no failed signature, and the finding names the key', async () => {
    const { message } = await listed();
    const delivered = await sealed(message, 'dkim=pass header.d=example.com header.s=sel1');
    expect((await analyze(delivered)).verdict.verdict).toBe('unverifiable');
    const a = await analyze(delivered, keys(compromised()));
    expect(a.arc.result).toBe('pass');
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified']);
    expect(codes(a)).not.toContain('dkim-broken-by-intermediary');
    const finding = a.findings.find((f) => f.code === 'arc-key-compromised');
    expect(finding).toMatchObject({ severity: 'warning', text: expect.stringContaining(`the record of ${SEAL_NAME} (RSA 2048-bit key sha256:`) });
    expect(finding!.text).toMatch(/listed in leaked\.txt: its private half is public/);
  });

  it('earns no arc-only for an unsigned message', async () => {
    const a = await analyze(await sealed(plainMessage(), 'dkim=none'), keys(compromised()));
    expect(a.verdict.reasons).toEqual(['unsigned']);
    expect(codes(a)).toContain('arc-key-compromised');
    expect(a.verdict.explanation).not.toMatch(/vouches/);
  });
});

// red team L, L-07: Microsoft 365's ARC-Message-Signature never signs DKIM-Signature, so the
// failed signature's h=, c= and l= could have been edited since, To taken out of h= after To was changed
describe("a seal that does not sign the failed signature's DKIM-Signature field", () => {
  const MICROSOFT_AMS = 'From:Date:Subject:Message-ID:Content-Type:MIME-Version';

  it('does not account for the failure, and says why', async () => {
    const original = await signed(plainMessage(), { key: author, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, headerList: 'from:to:subject:date:message-id' });
    const delivered = await sealed(original, 'dkim=pass header.d=example.com header.s=sel1', MICROSOFT_AMS);
    const edited = delivered.replace('To: Bob <bob@example.org>', 'To: Mallory <mallory@example.net>').replace('Subject: To: From;', 'Subject: From;');
    expect(edited).not.toContain('Subject: To: From;');
    const a = await analyze(edited);
    expect(a.signatures[0]!.tags.signedHeaders).not.toContain('to');
    expect(a.arc.result).toBe('pass');
    expect(a.signatures[0]!.outcome).toBe('signature-mismatch');
    expect(a.verdict.verdict).toBe('suspicious');
    expect(codes(a)).not.toContain('dkim-broken-by-intermediary');
    expect(a.findings.find((f) => f.code === 'arc-seal-covers-less')!.text).toMatch(/does not sign the DKIM-Signature field of this signature/);
  });

  it('a seal that signs it still accounts for a list\'s change (the control)', async () => {
    const { message } = await listed();
    const a = await analyze(await sealed(message, 'dkim=pass header.d=example.com header.s=sel1', `DKIM-Signature:${MICROSOFT_AMS}:To`));
    expect(codes(a)).toContain('dkim-broken-by-intermediary');
    expect(a.verdict.verdict).toBe('unverifiable');
  });
});

describe('what the texts say of the chain', () => {
  // red team L, L-05: the seal proves only that the holder of that record's key made it
  it('the explanation of a failure names the keys that validated the chain, and where they came from', async () => {
    const { message } = await listed();
    const a = await analyze(await sealed(message, 'dkim=pass header.d=example.com header.s=sel1'));
    const finding = a.findings.find((f) => f.code === 'dkim-broken-by-intermediary')!;
    expect(finding.text).toMatch(
      new RegExp(`The seal of ${SEALER} and the newest ARC-Message-Signature validate with the record of ${SEAL_NAME.replace(/\./g, '\\.')} \\(RSA 2048-bit key sha256:[0-9a-f]{16}… from file test-keys\\.json\\)`),
    );
    expect(finding.evidence['sealKey']).toMatchObject({ name: SEAL_NAME, source: 'file', origin: 'test-keys.json', fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(finding.evidence['amsKey']).toEqual(finding.evidence['sealKey']);
  });

  // red team L, L-05: a colleague's key file holds a record of google.com's selector that google.com's own contradicts
  it('another record of the sealer\'s selector, with another key, that does not validate the chain is named beside the one that does', async () => {
    const { message } = await listed();
    const delivered = await sealed(message, 'dkim=pass header.d=example.com header.s=sel1');
    const other = rsaKey(2048);
    const twoRecords = keys({
      [SEAL_NAME]: {
        status: 'found',
        name: SEAL_NAME,
        records: [
          { txt: other.txt, source: 'file', origin: 'keys.json' },
          { txt: sealerKey.txt, source: 'file', origin: 'colleague.json' },
        ],
      },
    });
    const a = await analyze(delivered, twoRecords);
    expect(a.arc.instances[0]!.sealKeysNotValidating?.map((k) => k.origin)).toEqual(['keys.json']);
    expect(a.arc.instances[0]!.amsKeysNotValidating?.map((k) => k.origin)).toEqual(['keys.json']);
    const finding = a.findings.find((f) => f.code === 'dkim-broken-by-intermediary')!;
    expect(finding.text).toMatch(
      /validate with the record of arc\._domainkey\.google\.com \(RSA 2048-bit key sha256:[0-9a-f]{16}… from file colleague\.json\), while the record of arc\._domainkey\.google\.com \(RSA 2048-bit key sha256:[0-9a-f]{16}… from file keys\.json\), also on record, does not validate the chain/,
    );
    expect(finding.evidence['keysNotValidating']).toEqual([expect.objectContaining({ name: SEAL_NAME, origin: 'keys.json' })]);
    // one record: nothing more is said
    const alone = (await analyze(delivered)).findings.find((f) => f.code === 'dkim-broken-by-intermediary')!;
    expect(alone.text).not.toMatch(/does not validate/);
    expect(alone.evidence['keysNotValidating']).toBeUndefined();
  });

  // red team L, L-02: anyone can seal with a key of their own
  it('arc-only is worded by who sealed last', async () => {
    const trusted = await analyze(await sealed(plainMessage(), 'dkim=none'));
    expect(trusted.verdict.reasons).toEqual(['unsigned', 'arc-only']);
    expect(trusted.verdict.explanation).toMatch(/google\.com, a well-known ARC sealer, sealed it last and so vouches that it handled this message/);
    const own = rsaKey(2048);
    const seal = await createSeal(Buffer.from(plainMessage(), 'latin1'), {
      seal: { signingDomain: 'evil.example', selector: 'arc', privateKey: own.privatePem, cv: 'none', signTime: SIGN_TIME, authResults: 'mx.evil.example; dkim=none' },
    } as Parameters<typeof createSeal>[1]);
    const untrusted = await analyze(`${seal.headers.join('\r\n')}\r\n${plainMessage()}`, keys({ 'arc._domainkey.evil.example': own.txt }));
    expect(untrusted.verdict.reasons).toEqual(['unsigned', 'arc-only']);
    expect(untrusted.verdict.explanation).toMatch(/sealed last by evil\.example, which is not a well-known ARC sealer: anyone can seal/);
    expect(untrusted.verdict.explanation).not.toMatch(/vouches/);
  });
});

// red team L, L-02: a validator checks the newest ARC-Message-Signature only, so a forger's own set
// on top of Google's hid the edit Google's still shows
describe('a set a trusted sealer sealed, beneath a newer set sealed by a sealer not trusted', () => {
  const EDITED = (message: string): string => message.replace('The numbers are attached', 'Wire the money today');
  let own: TestKey;
  beforeAll(() => {
    own = rsaKey(2048);
  });
  const withOwn = (): ReturnType<typeof tableLookup> => keys({ 'arc._domainkey.relay.example': own.txt });
  async function resealed(message: string): Promise<string> {
    const seal = await createSeal(Buffer.from(message, 'latin1'), {
      seal: { signingDomain: 'relay.example', selector: 'arc', privateKey: own.privatePem, cv: 'pass', signTime: new Date(SIGN_TIME.getTime() + 120_000), authResults: 'mx.relay.example; arc=pass (i=1 google.com)' },
    } as Parameters<typeof createSeal>[1]);
    expect(seal.errors).toEqual([]);
    return `${seal.headers.join('\r\n')}\r\n${message}`;
  }

  it('whose ARC-Message-Signature fails over the body: the chain passes, and the warning names both sealers', async () => {
    const delivered = await sealed(plainMessage(), 'dkim=none');
    expect(EDITED(delivered)).not.toBe(delivered);
    // the control: Google's set alone, edited, is a red flag
    expect((await analyze(EDITED(delivered))).verdict.reasons).toEqual(['arc-body-modified']);
    const a = await analyze(await resealed(EDITED(delivered)), withOwn());
    expect(a.arc.result).toBe('pass');
    expect(a.arc.failureUnderneath).toMatchObject({ i: 1, what: 'body', headersVerify: true, sealDomain: SEALER });
    const finding = a.findings.find((f) => f.code === 'arc-body-modified-untrusted-after')!;
    expect(finding).toMatchObject({ severity: 'warning', evidence: { instance: 1, sealer: SEALER, sealedAfterBy: ['relay.example'], key: SEAL_NAME } });
    expect(finding.text).toMatch(/sealed last by relay\.example, not a well-known ARC sealer\. Beneath, the body no longer matches the body hash of google\.com's ARC-Message-Signature of set i=1/);
    expect(a.verdict.explanation).toContain(finding.text);
    expect(a.verdict.verdict).toBe('unverifiable');
  });

  it('whose ARC-Message-Signature still verifies (the control): no finding; nor when the newer sealer is trusted', async () => {
    const genuine = await analyze(await resealed(await sealed(plainMessage(), 'dkim=none')), withOwn());
    expect(genuine.arc.result).toBe('pass');
    expect(genuine.arc.failureUnderneath).toBeUndefined();
    expect(codes(genuine)).toEqual([]);
    const vouched = await analyzeMessage({ raw: Buffer.from(await resealed(EDITED(await sealed(plainMessage(), 'dkim=none'))), 'latin1'), format: 'eml' }, withOwn(), {
      trustedArcSealers: ['relay.example'],
    });
    expect(vouched.arc.failureUnderneath).toBeUndefined();
    expect(vouched.findings.map((f) => f.code)).not.toContain('arc-body-modified-untrusted-after');
  });
});
