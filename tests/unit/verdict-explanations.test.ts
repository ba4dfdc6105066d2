/**
 * Red team K: what a verdict's explanation tells the reader. The explanation is what the CSV, the
 * text and the Markdown reports carry, so it must name the signature, key and tag at fault, say
 * what a proof leaves out, and never claim more than the evidence shows.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import type { KeyLookup } from '../../src/keys/types.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import { handSignatureHeader } from '../helpers/hand-sign.ts';
import { REASONS } from '../../src/verdict/reasons.ts';
import { handSignature, plainMessage, rsaKey, SIGN_TIME, signed, tableLookup, type TestKey } from './support/signing.ts';
import { verifyOffline } from '../helpers/in-process.ts';

let key: TestKey;
let forger: TestKey;

beforeAll(() => {
  key = rsaKey(2048);
  forger = rsaKey(2048);
});

const NAME = 'sel1._domainkey.example.com';
const analyze = (message: string, lookup: KeyLookup): Promise<MessageAnalysis> => analyzeMessage({ raw: Buffer.from(message, 'latin1'), format: 'eml' }, lookup);
const sign = (message: string, overrides: Partial<Parameters<typeof signed>[1]> = {}): Promise<string> =>
  signed(message, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, ...overrides });
const withB = (message: string, change: (b: string) => string): string => message.replace(/(\bb=)([^;]+)(?=\r\nFrom:)/, (_, tag: string, b: string) => tag + change(b));

// K-02: "does not decode under the key" shows that this key did not make the signature, not that
// the domain replaced it. A forger's own key and a corrupted b= give the same result.
describe('key-not-signer never says the key was replaced', () => {
  it('a forger who signs an altered message with their own key under the selector, and a corrupted b=', async () => {
    const forged = (await sign(plainMessage({ body: 'Please wire the money to account 666.\r\n' }), { key: forger })).replace('account 666', 'account 667');
    const corrupted = withB(await sign(plainMessage()), (b) => `${b.slice(0, 20)}${b[20] === 'Q' ? 'R' : 'Q'}${b.slice(21)}`);
    for (const message of [forged, corrupted]) {
      const a = await analyze(message, tableLookup({ [NAME]: key.txt }));
      expect(a.signatures[0]!.signedByKey).toBe(false);
      expect(a.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['key-not-signer'] });
      expect(a.verdict.explanation).not.toMatch(/was replaced/);
      expect(a.verdict.explanation).toContain('or the signature was made by someone else (forged) or corrupted: nothing is proven either way');
      const finding = a.verdict.findings.find((f) => f.code === 'key-not-signer');
      expect(finding).toMatchObject({ severity: 'warning', evidence: { signature: '#1 d=example.com s=sel1', outcome: a.signatures[0]!.outcome } });
      expect(finding!.text).toContain('says nothing about the body or the headers');
    }
  });

  it('signatures that fail alike are told once in the explanation, with how many more; the findings still name each', async () => {
    let message = plainMessage({ body: 'Please wire the money to account 666.\r\n' });
    for (let i = 0; i < 3; i++) message = await sign(message, { key: forger });
    const a = await analyze(message, tableLookup({ [NAME]: key.txt }));
    expect(a.signatures.map((s) => s.signedByKey)).toEqual([false, false, false]);
    expect(a.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['key-not-signer'] });
    const sentence = 'The signature by example.com was checked against the key on record for selector sel1';
    expect(a.verdict.explanation.split(sentence)).toHaveLength(2);
    expect(a.verdict.explanation).toContain('which did not make it. The same holds for 2 more signatures on this message.');
    expect(a.verdict.findings.filter((f) => f.code === 'key-not-signer').map((f) => f.evidence['signature'])).toEqual(['#1 d=example.com s=sel1', '#2 d=example.com s=sel1', '#3 d=example.com s=sel1']);
  });

  describe('show, its Authentication-Results line and the HTML report label the outcome as saying nothing', () => {
    const dir = tempDir('leakcheck-not-signer-');
    const db = join(dir.path, 'case.db');
    afterAll(() => dir.cleanup());
    beforeAll(async () => {
      mkdirSync(join(dir.path, 'dump'));
      const forged = (await sign(plainMessage({ subject: 'Wire' }), { key: forger })).replace('are attached', 'are revised');
      writeFileSync(join(dir.path, 'dump', 'forged.eml'), forged, 'latin1');
      writeFileSync(join(dir.path, 'keys.json'), JSON.stringify({ [NAME]: key.txt }));
      await verifyOffline(join(dir.path, 'dump'), db, [join(dir.path, 'keys.json')]);
    });

    it('show', () => {
      const shown = runCli(['show', 'forged.eml', '--db', db]).stdout;
      expect(shown).toMatch(/#1 d=example\.com s=sel1 .* body-modified: the key on record did not make this signature, so its failure says nothing about the content \(key-not-signer\)/);
      expect(shown).not.toContain('header signature does not verify either');
      expect(shown).toContain('dkim=fail (key-not-signer) header.d=example.com');
      expect(shown).not.toContain('dkim=fail (body-modified)');
    });

    it('HTML', () => {
      const html = runCli(['report', '--format', 'html', '--db', db]).stdout;
      expect(html).toContain('<span class="outcome other">body-modified</span>');
      expect(html).toContain('the key on record did not make this signature, so its failure says nothing about the content (key-not-signer)');
      expect(html).not.toContain('signed headers alone: do not verify');
      // the domain table counts it apart from the failures, under its own name
      const row = /<table class="data" id="domain-table">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1]!;
      expect(row).toMatch(/<td class="num zero">0<\/td>\s*<td class="num">1<span class="sub">key-not-signer<\/span><\/td>/);
    });
  });
});

// K-09: x= before t= is invalid whatever the time; the text said it had expired "at the time the
// message claims to have been sent", which was false.
describe('signature-expired says which case it is', () => {
  it('x= before t= is invalid whatever the time', async () => {
    const early = await analyze(await sign(plainMessage(), { expires: new Date(SIGN_TIME.getTime() - 1000) }), tableLookup({ [NAME]: key.txt }));
    expect(early.verdict.reasons).toEqual(['signature-expired']);
    expect(early.verdict.explanation).toContain(
      'The signature by example.com (selector sel1) is invalid: its expiry (x=, 2016-03-14T09:26:52Z) is before its own signing time (t=, 2016-03-14T09:26:53Z).',
    );
    expect(early.verdict.explanation).not.toContain('at the time the message claims to have been sent');
  });

  // R-10: the text said "before the time the message is judged at (its Date, or its signing time
  // where that Date is not signed)" without saying which, and the reason ended "The explanation says which."
  it('x= passed at the time it is judged at: the earliest t= of the message, named with its time', async () => {
    // a list's signature gives the time; the author's, without t=, had expired a minute before it
    const message = await sign(plainMessage(), { domain: 'lists.example', selector: 'list' });
    const x = Math.floor((SIGN_TIME.getTime() - 60_000) / 1000);
    const noT = handSignatureHeader(message, {
      privateKeyPem: key.privatePem,
      tags: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel1; x=${x}; h=from:subject`,
      headers: ['from', 'subject'],
    });
    const a = await analyze(noT + message, tableLookup({ [NAME]: key.txt, 'list._domainkey.lists.example': key.txt }));
    expect(a.signatures.map((s) => s.outcome)).toEqual(['expired', 'pass']);
    expect(a.judgedAt).toBe(SIGN_TIME.toISOString());
    expect(a.verdict.explanation).toContain(
      "The signature by example.com (selector sel1) expired at 2016-03-14T09:25:53Z (x=), before the earliest signing time (t=) among the message's signatures, 2016-03-14T09:26:53Z, the earliest it can have been received.",
    );
    expect(a.verdict.explanation).not.toContain('judged at (its Date');
    expect(REASONS['signature-expired'].text).not.toContain('The explanation says which');
  });
});

// x= was judged at the signed Date. The Date is the author's clock, written before signing:
// a signed Date after x= shows the clock was wrong, and made a genuine signature "expired".
describe('signature expiry is judged at the signing time (t=), not at a signed Date', () => {
  it('a short-lived signature (x= = t= + 1 h) on a message whose signed Date is a day fast verifies', async () => {
    const a = await analyze(
      await sign(plainMessage({ date: 'Tue, 15 Mar 2016 09:26:50 +0000' }), { expires: new Date(SIGN_TIME.getTime() + 3600_000) }),
      tableLookup({ [NAME]: key.txt }),
    );
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.reasons).not.toContain('signature-expired');
    expect(a).toMatchObject({ judgedAt: SIGN_TIME.toISOString(), judgedAtSource: 'signature-t' });
  });

  it('a signature without t= is not judged at its signed Date, however far past x= that Date is', async () => {
    const message = plainMessage({ date: 'Tue, 22 Mar 2016 09:26:50 +0000' });
    const x = Math.floor(SIGN_TIME.getTime() / 1000);
    const noT = handSignatureHeader(message, {
      privateKeyPem: key.privatePem,
      tags: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel1; x=${x}; h=from:date:subject`,
      headers: ['from', 'date', 'subject'],
    });
    const a = await analyze(noT + message, tableLookup({ [NAME]: key.txt }));
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.verdict.verdict).toBe('verified');
    expect(a).toMatchObject({ judgedAt: null, judgedAtSource: 'none' });
    expect(a.findings.map((f) => f.code)).toContain('expiry-not-judged');
  });
});

// K-10: the explanation carried the reason's general sentence alone, naming no signature or key.
describe('an unverifiable explanation names the signature, the key and the tag', () => {
  it('key-not-found names the domain, the selector and the key name looked for', async () => {
    const a = await analyze(await sign(plainMessage()), tableLookup({}));
    expect(a.verdict.reasons).toEqual(['key-not-found']);
    expect(a.verdict.explanation).toMatch(/^The signature by example\.com \(selector sel1\) cannot be checked: no key for it was found under sel1\._domainkey\.example\.com; a key archive/);
  });

  it('key-invalid names the key record and the tag that forbids the signature', async () => {
    const a = await analyze(await sign(plainMessage()), tableLookup({ [NAME]: key.txt.replace('k=rsa;', 'k=rsa; h=sha1;') }));
    expect(a.verdict.reasons).toEqual(['key-invalid']);
    expect(a.verdict.explanation).toContain('cannot be checked with the record of its key (file test-keys.json): its h= tag (h=sha1) does not allow the hash of this rsa-sha256 signature');
  });

  it('key-revoked names the record', async () => {
    const a = await analyze(await sign(plainMessage()), tableLookup({ [NAME]: 'v=DKIM1; k=rsa; p=' }));
    expect(a.verdict.reasons).toEqual(['key-revoked']);
    expect(a.verdict.explanation).toContain('The signature by example.com (selector sel1) cannot be checked: the record of its key (file test-keys.json) is revoked (an empty p=)');
  });

  it('signature-malformed names the missing tag; signature-not-covering-from the tags signed', async () => {
    const malformed = await analyze((await sign(plainMessage())).replace(/d=example\.com;\s*/, ''), tableLookup({ [NAME]: key.txt }));
    expect(malformed.verdict.reasons).toEqual(['signature-malformed']);
    expect(malformed.verdict.explanation).toContain('The DKIM-Signature #1 cannot be read as a signature: it has no d= (the signing domain).');
    const message = plainMessage();
    const noFrom = await analyze(handSignature(message, { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, headers: ['subject', 'date', 'to'] }) + message, tableLookup({ [NAME]: key.txt }));
    expect(noFrom.verdict.reasons).toEqual(['signature-not-covering-from']);
    expect(noFrom.verdict.explanation).toContain('The signature by example.com (selector sel1) signs subject:date:to (h=), not From.');
  });
});

// K-12: relaxed alignment proves mail from example.com with mail.example.com's signature; the
// text called mail.example.com "the From domain".
describe('a proof by a domain aligned with the From domain, not the From domain itself, says so', () => {
  it('mail.example.com for a From at example.com', async () => {
    const sub = await analyze(await sign(plainMessage(), { domain: 'mail.example.com' }), tableLookup({ 'sel1._domainkey.mail.example.com': key.txt }));
    expect(sub.verdict.verdict).toBe('verified');
    expect(sub.verdict.explanation).toMatch(/^Signature by mail\.example\.com, aligned with the From domain example\.com, selector sel1, rsa-sha256, verifies with RSA 2048-bit key/);
    const same = await analyze(await sign(plainMessage()), tableLookup({ [NAME]: key.txt }));
    expect(same.verdict.explanation).toMatch(/^Signature by the From domain example\.com, selector sel1/);
  });
});

// K-07: "covers From and the whole body" alone, on a message whose Subject nobody signs or whose
// display name reads as another address, is all the CSV and the summaries tell.
describe('a verified explanation names what the proof does not cover', () => {
  it('an unsigned Subject and Date', async () => {
    const a = await analyze(await sign(plainMessage(), { headerList: 'from:to:message-id' }), tableLookup({ [NAME]: key.txt }));
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.explanation).toContain('The proof does not cover the Subject and Date shown, which no signature by the From domain signs, so they could have been changed without breaking the proof.');
  });

  it('a display name that reads as another address', async () => {
    const a = await analyze(await sign(plainMessage({ from: '"ceo@bank.example" <alice@example.com>' })), tableLookup({ [NAME]: key.txt }));
    expect(a.verdict.verdict).toBe('verified');
    expect(a.verdict.explanation).toContain('The proof does not cover the display name of the From field, which reads as the address ceo@bank.example, while the message is from alice@example.com.');
  });

  it('nothing is added when the proof covers what is shown', async () => {
    const a = await analyze(await sign(plainMessage()), tableLookup({ [NAME]: key.txt }));
    expect(a.verdict.explanation).not.toContain('does not cover');
  });
});

// K-13: a verdict other than verified reached on repaired bytes did not say so.
describe('a suspicious or unverifiable verdict reached after a repair says so', () => {
  const lf = (message: string): string => message.replace(/\r\n/g, '\n');

  it('a tampered message stored with LF: the failure holds after CRLF was restored', async () => {
    const a = await analyze(lf((await sign(plainMessage())).replace('are attached', 'are fabricated')), tableLookup({ [NAME]: key.txt }));
    expect(a.repairs).toEqual(['crlf']);
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.explanation).toMatch(/The failure holds after repairing: line endings restored to CRLF, from bare LFs/);
  });

  it('an unverifiable one: checked after the repair', async () => {
    const a = await analyze(lf(await sign(plainMessage())), tableLookup({}));
    expect(a.repairs).toEqual(['crlf']);
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.explanation).toMatch(/Checked after repairing: line endings restored to CRLF, from bare LFs .*\. Unverifiable is not the same as fake\.$/);
  });
});

// N-05: under c=simple a failure is also what software makes of genuine mail (stripped trailing
// spaces, re-folded headers, lower-cased names); the explanation says so, and only for the part
// that failed under simple canonicalization.
describe('a failure under simple canonicalization says software breaks it too', () => {
  const SIMPLE_NOTE = 'so the failure shows that the signed bytes changed, not that anyone meant to change them';
  const body = 'Figures for Q3 are attached.   \r\nRegards,\t\r\nAlice\r\n';
  const stripTrailingBlanks = (message: string): string => message.replace(/[ \t]+\r\n/g, '\r\n');
  const lowerCaseSubjectName = (message: string): string => message.replace(/\r\nSubject:/, '\r\nsubject:');

  it('simple/simple with its trailing spaces stripped: body modified, and the explanation names simple canonicalization', async () => {
    const a = await analyze(stripTrailingBlanks(await sign(plainMessage({ body }), { canonicalization: 'simple/simple' })), tableLookup({ [NAME]: key.txt }));
    expect(a.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-body-modified'] });
    expect(a.verdict.explanation).toContain('The signature uses simple canonicalization for the body (c=simple/simple)');
    expect(a.verdict.explanation).toContain('software that strips trailing spaces or turns tabs into spaces breaks it too');
    expect(a.verdict.explanation).toContain(SIMPLE_NOTE);
  });

  it('simple/simple with a header name lower-cased: signature mismatch, and the explanation names simple canonicalization for the headers', async () => {
    const a = await analyze(lowerCaseSubjectName(await sign(plainMessage({ body }), { canonicalization: 'simple/simple' })), tableLookup({ [NAME]: key.txt }));
    expect(a.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-signature-mismatch'] });
    expect(a.verdict.explanation).toContain('the signed headers were changed or the signature is forged. The signature uses simple canonicalization for the headers (c=simple/simple)');
    expect(a.verdict.explanation).toContain('re-folds or re-indents headers or changes the case of their names');
    expect(a.verdict.explanation).not.toContain('for the headers and body');
  });

  it('relaxed/relaxed whose body words changed, and relaxed/simple whose headers changed, say nothing of it', async () => {
    const lookup = tableLookup({ [NAME]: key.txt });
    // (in the body: the signature's own b= and bh= are base64, which may hold "Q3" too)
    const signedMessage = await sign(plainMessage({ body }), { canonicalization: 'relaxed/relaxed' });
    const bodyStart = signedMessage.indexOf('\r\n\r\n');
    const bodyChanged = signedMessage.slice(0, bodyStart) + signedMessage.slice(bodyStart).replace('Q3', 'Q4');
    const headerChanged = (await sign(plainMessage({ body }), { canonicalization: 'relaxed/simple' })).replace('Subject: ', 'Subject: Re: ');
    for (const [message, reason] of [[bodyChanged, 'dkim-body-modified'], [headerChanged, 'dkim-signature-mismatch']] as const) {
      const a = await analyze(message, lookup);
      expect(a.verdict).toMatchObject({ verdict: 'suspicious', reasons: [reason] });
      expect(a.verdict.explanation).not.toContain('simple canonicalization');
    }
  });
});
