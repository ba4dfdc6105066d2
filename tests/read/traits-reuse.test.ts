import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseHeaders } from '../../src/read/headers.ts';
import { forgetLineEndings, toCrlf } from '../../src/read/line-endings.ts';
import { normalisedBodyHash, slowNormalisedBodyHash } from '../../src/read/message-traits.ts';
import { scannableMemory } from '../../src/read/line-scan.ts';
import { verifyDkim } from '../../src/verify/dkim.ts';
import { CORPUS_SKIP_NOTE, HAS_CORPUS, corpusFiles } from '../helpers/corpus.ts';
import { ed25519Key, plainMessage, rsaKey, SIGN_TIME, signatureFor, tableLookup } from '../unit/support/signing.ts';

/*
 * The body fingerprint reuses a DKIM body hash mailauth already computed when the body's
 * canonical form is its normalised form. Whether it reused or hashed, the fingerprint must be
 * the same: checked on every message of the shared corpus and on bodies built to sit on the
 * edges (tabs, runs of spaces, trailing whitespace, lone CRs, blank lines at the end).
 */
const noKeys = tableLookup({});

/** Memory a worker reads messages into, whose bytes the WebAssembly line scan reads in place (line-scan.ts). */
const readBuffer = scannableMemory(4 << 20)!;

/** `message` as a worker holds it after reading it: in that memory, with spaces around it that a scan must not read. */
function asRead(message: Buffer, at: number): Buffer {
  // (as a worker does before each read: what was known of the last message's line ends goes)
  forgetLineEndings(readBuffer.buffer);
  readBuffer.fill(0x20, Math.max(0, at - 16), at + message.length + 16);
  message.copy(readBuffer, at);
  return readBuffer.subarray(at, at + message.length);
}

async function bothWays(message: Buffer): Promise<{ reused: string; hashed: string; offered: number; canonicalizations: string[] }> {
  const bytes = toCrlf(message);
  const headers = parseHeaders(bytes);
  const body = bytes.subarray(headers.headerBytes);
  const dkim = await verifyDkim(bytes, headers.fields, { lookup: noKeys, curTime: SIGN_TIME });
  return {
    reused: normalisedBodyHash(body, dkim.bodyHashes),
    hashed: normalisedBodyHash(body),
    offered: dkim.bodyHashes.length,
    canonicalizations: dkim.bodyHashes.map((h) => h.canonicalization),
  };
}

describe('body fingerprint: a DKIM body hash is reused only where it is the same bytes', () => {
  it('on signed bodies built from the characters that matter, both canonicalizations', async () => {
    const pieces = ['word', ' ', '  ', '\t', '\r', '\r\n', '\r\n', '\r\n', 'QUJD'];
    let seed = 3;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const keys = [rsaKey(1024), ed25519Key()];
    let reusedCount = 0;
    for (let i = 0; i < 300; i++) {
      const body = Array.from({ length: 1 + Math.floor(random() * 20) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      const message = plainMessage({ body });
      const canonicalization = random() < 0.5 ? 'relaxed/simple' : 'relaxed/relaxed';
      const signature = await signatureFor(message, { key: keys[i % 2]!, domain: 'example.com', selector: 's', signTime: SIGN_TIME, canonicalization });
      const whole = Buffer.from(signature + message, 'latin1');
      // as any buffer holds it, and (every other body) in a worker's read buffer, where the
      // WebAssembly scan answers for its blanks and CRs
      const { reused, hashed, offered, canonicalizations } = await bothWays(i % 2 ? whole : asRead(whole, 16 + (i % 17)));
      expect(reused, JSON.stringify(body)).toBe(hashed);
      const copy = toCrlf(Buffer.from(whole));
      expect(hashed, JSON.stringify(body)).toBe(slowNormalisedBodyHash(copy.subarray(parseHeaders(copy).headerBytes)));
      // each hash offered says how it was computed: a relaxed one is taken where a simple one is not
      expect(canonicalizations).toEqual([canonicalization.split('/')[1]]);
      if (offered) reusedCount++;
    }
    expect(reusedCount).toBe(300);
  });

  it('takes a relaxed hash for a body whose lines end in blanks, and never a simple one, nor one where a CR is content', () => {
    // a hash no body has: returned only if it was taken as it is, not computed
    const offered = (body: Buffer, canonicalization: 'relaxed' | 'simple') => [{ sha256: 'ab'.repeat(32), bodyLength: body.length, canonicalization }];
    const flowed = Buffer.from('Dear desk, \r\nthe draft is attached \r\n\r\n  <div>  indented</div>\r\n', 'latin1');
    expect(normalisedBodyHash(flowed, offered(flowed, 'relaxed'))).toBe('ab'.repeat(32));
    expect(normalisedBodyHash(flowed, offered(flowed, 'simple'))).toBe(normalisedBodyHash(flowed));
    expect(normalisedBodyHash(flowed, [{ ...offered(flowed, 'relaxed')[0]!, bodyLength: flowed.length - 1 }])).toBe(normalisedBodyHash(flowed));
    for (const cr of ['a \r\r\nb\r\n', 'a\rb \r\n', 'a \r\nb\r', '\ra \r\n']) {
      const body = Buffer.from(cr, 'latin1');
      expect(normalisedBodyHash(body, offered(body, 'relaxed')), JSON.stringify(cr)).toBe(normalisedBodyHash(body));
    }
  });

  it.skipIf(!HAS_CORPUS)(`on every message of the shared corpus${CORPUS_SKIP_NOTE}`, async () => {
    const files = corpusFiles((name) => /\.(eml|msg|txt)$/i.test(name));
    let offered = 0;
    for (const file of files) {
      const result = await bothWays(readFileSync(file));
      expect(result.reused, file).toBe(result.hashed);
      if (result.offered) offered++;
    }
    expect(offered).toBeGreaterThan(50);
  });
});

// Red team 28, I-02: the fingerprint reads a body as relaxed canonicalization does, so that a
// whitespace change a relaxed signature does not see is no difference between copies either.
describe('body fingerprint: runs of spaces and tabs read as one space', () => {
  const crlf = (text: string): Buffer => Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1');
  it('a tab for a space, or several spaces for one, give the same fingerprint; other text does not', () => {
    const one = normalisedBodyHash(crlf('we hire both of them\nregards\n'));
    for (const variant of ['we hire\tboth of them\nregards\n', 'we hire  \t both of them\nregards\n', 'we hire both of them  \nregards\n\n\n']) {
      expect(normalisedBodyHash(crlf(variant)), JSON.stringify(variant)).toBe(one);
    }
    expect(normalisedBodyHash(crlf('we hire bothof them\nregards\n'))).not.toBe(one);
    expect(normalisedBodyHash(crlf(' we hire both of them\nregards\n'))).not.toBe(one);
  });

  it('is the sha256 of the relaxed canonical body', () => {
    const body = crlf('Hi  Bob,\n\t\tindented\nend \t\n\n');
    expect(normalisedBodyHash(body)).toBe(createHash('sha256').update('Hi Bob,\r\n indented\r\nend\r\n').digest('hex'));
  });
});
