/**
 * The repaired forms an ARC chain is judged on hold no copy of the message while they wait. The
 * form as found and the first form the chain passes on were kept with their copies to the end
 * of the analysis: a forged 50 MB message sealed by ARC, stored with bare LFs, a `>From ` line
 * and NUL padding, had four forms alive beside it at once and peaked at 360 MB (the issue's
 * bound is 300 MB for a 50 MB message). And the chain's older set, checked beneath a newer one
 * (failureUnderneath), was checked on a copy of the whole message with the newer sets' fields
 * taken out: 309 MB for the same message sealed again by a forger. Both 261 MB with those two
 * fixed. And the best form's copy, kept while the other forms were tried, is given back meanwhile
 * and made again at the end (one copy of the message alive beside it at a time, not two).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sealMessage } from 'mailauth/lib/arc/index.js';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { parseHeaders, findHeaderEnd } from '../../src/read/headers.ts';
import { toCrlf } from '../../src/read/line-endings.ts';
import { verifyDkim } from '../../src/verify/dkim.ts';
import { offlineFileLookup } from '../../src/keys/key-lookup.ts';
import { DEMO_DUMP, DEMO_KEYS } from '../helpers/cli.ts';
import { handSignatureHeader } from '../helpers/hand-sign.ts';
import { formSize, repairCopies } from '../helpers/repair-copies.ts';
import { SIGN_TIME, plainMessage, rsaKey, tableLookup, type TestKey } from '../unit/support/signing.ts';

let author: TestKey;
let sealer: TestKey;
let forger: TestKey;

beforeAll(() => {
  author = rsaKey(2048);
  sealer = rsaKey(2048);
  forger = rsaKey(2048);
});
afterEach(() => vi.restoreAllMocks());

const SIGNED = ['from', 'to', 'subject', 'date', 'message-id'];
const LINE = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit - sed do eiusmod.';
/** About 1.5 MB of text, with a line an mbox writer quotes and one an SMTP client stuffs. */
const BODY = Array.from({ length: 20_000 }, (_, i) => (i === 5 ? 'From the desk of the editor' : i === 9 ? '..an ellipsis' : LINE)).join('\r\n') + '\r\n';

const sign = (message: string, key: TestKey, d: string, h = SIGNED): string =>
  handSignatureHeader(message, { privateKeyPem: key.privatePem, tags: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=${d}; s=sel1; h=${h.join(':')}`, headers: h }) + message;

async function sealed(message: string, by: string, key: TestKey, cv: 'none' | 'pass'): Promise<string> {
  const seal = await sealMessage(Buffer.from(message, 'latin1'), {
    signingDomain: by,
    selector: 'arc',
    privateKey: key.privatePem,
    cv,
    authResults: `mx.${by}; dkim=pass header.d=example.com`,
    signTime: new Date(SIGN_TIME.getTime() + 60_000),
  } as never);
  return seal.toString('latin1') + message;
}

/** As stored by a tool that wrote bare LFs and padded the file with NULs. */
const stored = (message: string): Buffer => Buffer.concat([Buffer.from(message.replace(/\r\n/g, '\n'), 'latin1'), Buffer.alloc(4096)]);

describe('the forms an ARC chain is judged on', () => {
  it('a sealed message needing repairs: the form tried is the only copy alive, whatever the chain keeps', async () => {
    // The author signed the body with "From the desk"; the sealer saw it quoted. As found, both
    // fail; with the padding gone the chain passes (the form it keeps); unquoted too, the
    // author's signature passes (the best form). A junk signature that fails under every form
    // keeps the search going past both, to the dots and the gateway's tag.
    const signedMessage = sign(plainMessage({ subject: '[EXTERNAL] quarterly', body: BODY }), author, 'example.com');
    const sealedMessage = await sealed(signedMessage.replace('\r\nFrom the desk', '\r\n>From the desk'), 'example.net', sealer, 'none');
    const junk = handSignatureHeader(sealedMessage.replace('Lorem', 'LOREM'), { privateKeyPem: author.privatePem, tags: 'v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel1; h=from', headers: ['from'] });
    const message = stored(junk + sealedMessage);
    const lookup = tableLookup({ 'sel1._domainkey.example.com': author.txt, 'arc._domainkey.example.net': sealer.txt });

    const counted = repairCopies(message);
    const a = await analyzeMessage({ raw: message, format: 'eml' }, lookup);
    expect(a.signatures.map((s) => s.outcome)).toEqual(['body-modified', 'pass']);
    expect(a.repairs).toEqual(['strip-trailing-padding', 'mboxrd-unquote', 'crlf']);
    expect(a.arc.result).toBe('pass');
    // one form alive at once, the one tried: the best one's copy is given back meanwhile
    const form = formSize(message);
    expect(counted.peak()).toBeGreaterThan(0.9 * form);
    expect(counted.peak()).toBeLessThanOrEqual(form);
    expect(counted.outside).toEqual([]);
  });

  it("the older set of a chain a forger sealed again is checked on the form as it is, its header rewritten, never on a copy of the whole message", async () => {
    const trusted = await sealed(sign(plainMessage({ body: BODY }), author, 'example.com'), 'google.com', sealer, 'none');
    const forged = await sealed(trusted.replace('Lorem ipsum', 'Wire EUR 5M'), 'evil.example', forger, 'pass');
    const message = stored(forged);
    const lookup = tableLookup({ 'sel1._domainkey.example.com': author.txt, 'arc._domainkey.google.com': sealer.txt, 'arc._domainkey.evil.example': forger.txt });

    const counted = repairCopies(message);
    const a = await analyzeMessage({ raw: message, format: 'eml' }, lookup);
    expect(a.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-body-modified'] });
    expect(a.arc.result).toBe('pass');
    expect(a.arc.failureUnderneath).toMatchObject({ i: 1, what: 'body' });
    expect(a.findings.map((f) => f.code)).toContain('arc-body-modified-untrusted-after');
    const form = formSize(message);
    expect(counted.peak()).toBeLessThanOrEqual(form);
    expect(counted.outside).toEqual([]);
  });
});

describe('verifyDkim given the header block and the body apart', () => {
  it('gives every message of the demo dump the results it gives the message whole', async () => {
    const lookup = offlineFileLookup(DEMO_KEYS);
    const files = readdirSync(join(DEMO_DUMP, 'inbox')).filter((f) => f.endsWith('.eml'));
    expect(files.length).toBeGreaterThan(10);
    let signed = 0;
    for (const file of files) {
      const bytes = Buffer.from(toCrlf(readFileSync(join(DEMO_DUMP, 'inbox', file))));
      const end = findHeaderEnd(bytes);
      const { fields } = parseHeaders(bytes);
      const at = new Date('2018-01-01T00:00:00Z');
      const whole = await verifyDkim(bytes, fields, { lookup, curTime: at });
      const apart = await verifyDkim([bytes.subarray(0, end), bytes.subarray(end)], fields, { lookup, curTime: at });
      // (as the analysis posts it: the key objects inside are made afresh for each verification)
      expect(JSON.stringify(apart), file).toBe(JSON.stringify(whole));
      signed += whole.signatures.length;
    }
    expect(signed).toBeGreaterThan(10);
  });
});
