import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { KeyLookup } from '../../src/keys/types.ts';
import { parseHeaders } from '../../src/read/headers.ts';
import { toCrlf } from '../../src/read/line-endings.ts';
import { arcKeyNamesAsked, verifyArc } from '../../src/verify/arc.ts';
import { verifyDkim } from '../../src/verify/dkim.ts';
import { mayCarrySignatureFields } from '../../src/verify/signature-fields.ts';
import { verifySignatures, type SignaturesVerified } from '../../src/verify/verify-signatures.ts';
import { CORPUS_SKIP_NOTE, HAS_CORPUS, corpusFiles } from '../helpers/corpus.ts';

/** A lookup that fails the test if asked: a message mailauth finds nothing in asks for no key. */
const asked: string[] = [];
const noLookup: KeyLookup = async (name) => {
  asked.push(name);
  return { status: 'absent', name, detail: 'not asked for in this test' };
};

const JUDGED_AT = new Date('2020-01-01T00:00:00Z');

/** What mailauth itself (verifyDkim, then verifyArc) makes of the message, never skipped. */
async function throughMailauth(bytes: Buffer): Promise<SignaturesVerified> {
  const { fields } = parseHeaders(bytes);
  const dkim = await verifyDkim(bytes, fields, { lookup: noLookup, curTime: JUDGED_AT, askAhead: arcKeyNamesAsked(fields) });
  return { dkim: { signatures: dkim.signatures, notChecked: dkim.notChecked, bodyHashes: dkim.bodyHashes }, arc: await verifyArc(dkim.arc, fields) };
}

/** The message with every name mailauth could read as DKIM or ARC spelt otherwise: unsigned mail. */
const unsigned = (bytes: Buffer): Buffer =>
  Buffer.from(bytes.toString('latin1').replace(/dkim-signature/gi, 'Dkim-Xignature').replace(/arc-/gi, 'Arx-'), 'latin1');

/** The field names mailauth's own header parser reads in the message's header block. */
function namesMailauthReads(bytes: Buffer): string[] {
  const { parseHeaders: mailauthParseHeaders } = createRequire(import.meta.url)('mailauth/lib/tools.js') as {
    parseHeaders: (head: Buffer) => { parsed: Array<{ key: string | null }> };
  };
  // (its MessageParser's end of the header block: the first LF LF or LF CR LF)
  const ends = [bytes.indexOf('\n\n'), bytes.indexOf('\n\r\n')].filter((i) => i >= 0);
  const end = ends.length ? Math.min(...ends) + 1 : bytes.length;
  return mailauthParseHeaders(bytes.subarray(0, end)).parsed.flatMap((row) => (row.key ? [row.key] : []));
}

const readsSignatureField = (names: string[]): boolean => names.some((n) => n === 'dkim-signature' || n.startsWith('arc-'));

/** Field names spelt every way mailauth reads them, each in a message it must be left to. */
const SPELLINGS: Array<[string, string]> = [
  ['lower case', 'From: a@example.org\r\ndkim-signature: v=1; d=example.org; s=s; b=; bh=\r\n\r\nbody\r\n'],
  ['mixed case', 'From: a@example.org\r\nDkIm-SiGnAtUrE: v=1; d=example.org; s=s; b=; bh=\r\n\r\nbody\r\n'],
  ['blanks before the colon', 'From: a@example.org\r\nDKIM-Signature \t: v=1; d=example.org\r\n\r\nbody\r\n'],
  ['the colon on a folded line', 'From: a@example.org\r\nDKIM-Signature\r\n : v=1; d=example.org\r\n\r\nbody\r\n'],
  ['the first line indented', ' DKIM-Signature: v=1; d=example.org\r\nFrom: a@example.org\r\n\r\nbody\r\n'],
  ['bare line feeds', 'From: a@example.org\nDKIM-Signature: v=1; d=example.org\n\nbody\n'],
  ['after a CR CR LF line, which ends no header', 'From: a@example.org\r\r\nDKIM-Signature: v=1; d=example.org\r\n\r\nbody\r\n'],
  ['an ARC-Seal alone', 'From: a@example.org\r\nARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.org; s=s; b=\r\n\r\nbody\r\n'],
  ['an ARC-Authentication-Results alone', 'From: a@example.org\r\narc-authentication-results: i=1; example.org; dkim=pass\r\n\r\nbody\r\n'],
  ['an ARC-Message-Signature in capitals', 'From: a@example.org\r\nARC-MESSAGE-SIGNATURE: i=1; a=rsa-sha256; d=example.org\r\n\r\nbody\r\n'],
];

describe('mayCarrySignatureFields: what mailauth could read as a DKIM or ARC field', () => {
  it.each(SPELLINGS)('leaves a message to mailauth: %s', (_label, text) => {
    const bytes = Buffer.from(text, 'latin1');
    expect(readsSignatureField(namesMailauthReads(bytes))).toBe(true);
    expect(mayCarrySignatureFields(bytes)).toBe(true);
  });

  it('says no for unsigned mail, and for a signature quoted in the body, after either kind of empty line, and answers as mailauth does', async () => {
    for (const text of [
      'From: a@example.org\r\nSubject: hello\r\n\r\nbody\r\n',
      'From: a@example.org\r\nSubject: hello\r\n\r\nDKIM-Signature: v=1; d=example.org\r\nARC-Seal: i=1\r\n',
      'From: a@example.org\nSubject: hello\n\nDKIM-Signature: v=1; d=example.org\n',
      'From: a@example.org\r\nSubject: hello\n\r\nARC-Seal: i=1\r\n',
      'From: a@example.org\r\nSubject: hello\n\r\nDKIM-Signature: v=1; d=example.org; s=s; a=rsa-sha256; b=x; bh=y; h=from\r\n\r\nbody\r\n',
      'From: a@example.org\r\nSubject: hello',
    ]) {
      const bytes = Buffer.from(text, 'latin1');
      expect(readsSignatureField(namesMailauthReads(bytes)), text).toBe(false);
      expect(mayCarrySignatureFields(bytes), text).toBe(false);
      // (and this project's own header parser sees no signature there either)
      expect(await verifySignatures(bytes, parseHeaders(bytes), JUDGED_AT, noLookup), text).toEqual(await throughMailauth(bytes));
    }
  });

  it('leaves to mailauth a header block it does not search, past 256 KiB', () => {
    const big = Buffer.from(`From: a@example.org\r\nX-Junk: ${'x'.repeat(300 * 1024)}\r\n\r\nbody\r\n`, 'latin1');
    expect(mayCarrySignatureFields(big)).toBe(true);
    // and a header that ends before a 10 MB body is read to that end only
    const long = Buffer.concat([Buffer.from('From: a@example.org\r\n\r\n'), Buffer.alloc(10 * 1024 * 1024, 'a')]);
    expect(mayCarrySignatureFields(long)).toBe(false);
  });

  it.skipIf(!HAS_CORPUS)(`gives mailauth's own answer wherever it says no, on every file of the shared corpus${CORPUS_SKIP_NOTE}`, async () => {
    const files = corpusFiles();
    expect(files.length).toBeGreaterThan(300);
    let skipped = 0;
    let signed = 0;
    for (const file of files) {
      const found = readFileSync(file);
      for (const bytes of [found, toCrlf(found), unsigned(toCrlf(found))]) {
        const mailauthSees = readsSignatureField(namesMailauthReads(bytes));
        if (mayCarrySignatureFields(bytes)) {
          if (mailauthSees) signed++;
          continue;
        }
        expect(mailauthSees, file).toBe(false);
        expect(await verifySignatures(bytes, parseHeaders(bytes), JUDGED_AT, noLookup), file).toEqual(await throughMailauth(bytes));
        skipped++;
      }
    }
    expect(asked).toEqual([]);
    // every file, as unsigned mail, is answered without mailauth; the signed ones are not
    expect(skipped).toBeGreaterThanOrEqual(files.length);
    expect(signed).toBeGreaterThan(500);
  });
});
