import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRequire } from 'node:module';
import {
  fastEnsureLinebreaks,
  fastProcessChunk,
  originalProcessChunk,
  fastRelaxedUpdate,
  installMailauthFastPaths,
  keyImportStats,
  originalEnsureLinebreaks,
  originalRelaxedUpdate,
  pushRelaxedLines,
} from '../../src/verify/mailauth-fast-paths.ts';
import { verifyDkim } from '../../src/verify/dkim.ts';
import { forgetLineEndings, isKnownCleanLineEnds, isKnownCrlfOnly, toCrlf } from '../../src/read/line-endings.ts';
import { pushRelaxedLinesInMemory, RELAX_ROOM, scannableMemory } from '../../src/read/line-scan.ts';
import { plainMessage, rsaKey, SIGN_TIME, signed, tableLookup } from '../unit/support/signing.ts';
import { CORPUS_SKIP_NOTE, HAS_CORPUS, corpusFiles } from '../helpers/corpus.ts';

afterEach(() => vi.restoreAllMocks());

/** Feeds chunks through a line-break fixer the way mailauth's parser does, with its state. */
function run(fix: typeof originalEnsureLinebreaks, chunks: Buffer[]): Buffer[] {
  const state: { lastByte?: number } = {};
  return chunks.flatMap((chunk) => [...fix.call(state, chunk)].map((b) => Buffer.from(b)));
}

function chunked(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out.length ? out : [bytes];
}

const CASES = ['', '\n', '\r\n', 'a\nb', 'a\r\nb\n', '\n\n\r\n\n', 'x\r', '\rx\n', 'abc\r\n\n', 'no line break', '\r\r\n\n\r'];

describe('mailauth fast path: ensureLinebreaks', () => {
  it.each(CASES)('yields exactly the original chunks for %j, whole and split at every byte', (text) => {
    const bytes = Buffer.from(text, 'latin1');
    for (const size of [1, 2, 3, Math.max(1, bytes.length)]) {
      expect(run(fastEnsureLinebreaks, chunked(bytes, size))).toEqual(run(originalEnsureLinebreaks, chunked(bytes, size)));
    }
  });

  it.skipIf(!HAS_CORPUS)(`yields exactly the original chunks for every file of the shared corpus${CORPUS_SKIP_NOTE}`, () => {
    const files = corpusFiles();
    expect(files.length).toBeGreaterThan(300);
    for (const file of files) {
      // as read (nothing known about its line ends), and as repaired (known CRLF-only, see toCrlf)
      for (const bytes of [readFileSync(file), toCrlf(readFileSync(file))]) {
        for (const size of [64 * 1024, 1000, bytes.length || 1]) {
          expect(Buffer.concat(run(fastEnsureLinebreaks, chunked(bytes, size))).equals(Buffer.concat(run(originalEnsureLinebreaks, chunked(bytes, size)))), file).toBe(true);
          expect(run(fastEnsureLinebreaks, chunked(bytes, size)).length, file).toBe(run(originalEnsureLinebreaks, chunked(bytes, size)).length);
        }
      }
    }
  });
});

describe('normalised body hash: the one-call fast path equals the line-by-line definition', () => {
  it('on 5,000 random bodies built from the characters that matter', async () => {
    const { normalisedBodyHash, slowNormalisedBodyHash } = await import('../../src/read/message-traits.ts');
    const alphabet = ['a', 'b', ' ', '\t', '\r', '\n', '\r\n', '\r\n', '\r\n', 'xyz'];
    let seed = 7;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 5000; i++) {
      const body = Buffer.from(Array.from({ length: Math.floor(random() * 24) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''), 'latin1');
      expect(normalisedBodyHash(body), JSON.stringify(body.toString('latin1'))).toBe(slowNormalisedBodyHash(body));
    }
  });

  it('on the same random bodies inside messages toCrlf has scanned, where what it learnt of their line ends is used', async () => {
    const { normalisedBodyHash, slowNormalisedBodyHash } = await import('../../src/read/message-traits.ts');
    const alphabet = ['a', 'b', ' ', '\t', '\r', '\n', '\r\n', '\r\n', '\r\n', 'xyz'];
    let seed = 11;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let known = 0;
    for (let i = 0; i < 5000; i++) {
      const text = Array.from({ length: Math.floor(random() * 24) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      // toCrlf twice: a rewritten copy is then scanned too, and its line ends become known
      const message = toCrlf(toCrlf(Buffer.from(`X: y\r\n\r\n${text}`, 'latin1')));
      const body = message.subarray(message.indexOf('\r\n\r\n') + 4);
      if (isKnownCleanLineEnds(body)) known++;
      expect(normalisedBodyHash(body), JSON.stringify(body.toString('latin1'))).toBe(slowNormalisedBodyHash(body));
    }
    expect(known).toBeGreaterThan(500);
  });
});

/** Memory a worker reads messages into, whose bytes the WebAssembly scans read in place (line-scan.ts). */
const readBuffer = scannableMemory(1 << 20)!;

/** `bytes` as a worker holds them after reading them: in that memory, spaces and an LF around them that a scan must not read. */
function asRead(bytes: Buffer, at: number): Buffer {
  forgetLineEndings(readBuffer.buffer);
  readBuffer.fill(0x20, Math.max(0, at - 16), at + bytes.length + 16);
  bytes.copy(readBuffer, at);
  readBuffer[at + bytes.length] = 0x0a;
  return readBuffer.subarray(at, at + bytes.length);
}

describe('normalised body hash of a body in a worker\'s read buffer, where the WebAssembly scan answers for its tabs, runs and CRs', () => {
  it('equals the line-by-line definition on 5,000 random bodies, with and without a relaxed hash of them offered', async () => {
    const { normalisedBodyHash, slowNormalisedBodyHash } = await import('../../src/read/message-traits.ts');
    const alphabet = ['a', 'b', ' ', '  ', '\t', '\r', '\n', '\r\n', '\r\n', '\r\n', 'xyz'];
    let seed = 13;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let taken = 0;
    for (let i = 0; i < 5000; i++) {
      const text = Array.from({ length: Math.floor(random() * 40) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const message = toCrlf(asRead(Buffer.from(`X: y\r\n\r\n${text}`, 'latin1'), i % 23));
      const body = message.subarray(8);
      const expected = slowNormalisedBodyHash(Buffer.from(body));
      expect(normalisedBodyHash(body), JSON.stringify(text)).toBe(expected);
      // mailauth's relaxed hash of the same body, taken where it is the same bytes
      const relaxed = relaxedRun(originalRelaxedUpdate, [Buffer.from(body)]);
      const offered = [{ sha256: Buffer.from(relaxed.digest, 'base64').toString('hex'), bodyLength: body.length, canonicalization: 'relaxed' as const }];
      expect(normalisedBodyHash(body, offered), JSON.stringify(text)).toBe(expected);
      if (offered[0]!.sha256 === expected) taken++;
    }
    expect(taken).toBeGreaterThan(1500);
  });
});

describe('line ends known from the line-feed scan', () => {
  it('are clean only where no line ends in a space, a tab or a CR before its CRLF', () => {
    const clean = toCrlf(Buffer.from('a: b\r\n\r\nline\r\n\r\nother line\r\n', 'latin1'));
    expect(isKnownCleanLineEnds(clean)).toBe(true);
    expect(isKnownCleanLineEnds(clean.subarray(6))).toBe(true);
    for (const end of [' \r\n', '\t\r\n', '\r\r\n']) {
      const unclean = toCrlf(Buffer.from(`a: b\r\n\r\nline${end}next\r\n`, 'latin1'));
      expect(isKnownCrlfOnly(unclean)).toBe(true);
      expect(isKnownCleanLineEnds(unclean), JSON.stringify(end)).toBe(false);
      // a view without the offending line end is still not known clean: nothing is known of parts
      expect(isKnownCleanLineEnds(unclean.subarray(0, 6))).toBe(false);
    }
    // a copy toCrlf had to rewrite is CRLF-only, but was not scanned for the rest
    const rewritten = toCrlf(Buffer.from('a: b\n\nline\n', 'latin1'));
    expect(isKnownCrlfOnly(rewritten)).toBe(true);
    expect(isKnownCleanLineEnds(rewritten)).toBe(false);
    expect(isKnownCleanLineEnds(Buffer.from('plain\r\n'))).toBe(false);
  });
});

interface RelaxedHashLike {
  update(chunk: Buffer | null, final?: boolean): void;
  digest(encoding: 'base64'): string;
  byteLength: number;
  canonicalizedLength: number;
  bodyHashedBytes: number;
  setContentType(contentType: { value: string; params: Record<string, string> }): void;
  getMimeStructureStart(): number;
}
const { RelaxedHash } = createRequire(import.meta.url)('mailauth/lib/dkim/body/relaxed.js') as {
  RelaxedHash: (new (algorithm: string, maxBodyLength?: number) => RelaxedHashLike) & { prototype: { update: unknown; fixLineBuffer: (line: Buffer) => Buffer } };
};

/** Hashes `chunks` with mailauth's RelaxedHash, its update() being `update`; returns everything it measured. */
function relaxedRun(update: typeof fastRelaxedUpdate, chunks: Buffer[], maxBodyLength?: number, boundary?: string) {
  const hash = new RelaxedHash('sha256', maxBodyLength);
  Object.defineProperty(hash, 'update', { value: update, configurable: true });
  if (boundary) hash.setContentType({ value: 'multipart/mixed', params: { boundary } });
  for (const chunk of chunks) hash.update(chunk);
  const digest = hash.digest('base64');
  return { digest, byteLength: hash.byteLength, canonicalized: hash.canonicalizedLength, hashed: hash.bodyHashedBytes, mime: hash.getMimeStructureStart() };
}

describe('mailauth fast path: relaxed body canonicalization', () => {
  const alphabet = ['a', 'b', ' ', '  ', '\t', '\r', '\n', '\r\n', '\r\n', '\r\n', 'xyz', '--b', ' \r\n'];
  it('hashes and counts exactly as mailauth on 4,000 random bodies, split at random places, with and without l=', () => {
    let seed = 11;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 4000; i++) {
      const text = Array.from({ length: Math.floor(random() * 40) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      // as read, as scanned by toCrlf, whose knowledge the fast path uses, and in a worker's read
      // buffer, where the WebAssembly scan answers for tabs and runs of spaces
      const bytes = i % 3 === 1 ? Buffer.from(text, 'latin1') : i % 3 === 2 ? toCrlf(toCrlf(Buffer.from(text, 'latin1'))) : toCrlf(asRead(Buffer.from(text, 'latin1'), i % 29));
      const cuts = [0, ...Array.from({ length: Math.floor(random() * 4) }, () => Math.floor(random() * (bytes.length + 1))).sort((a, b) => a - b), bytes.length];
      const chunks = cuts.slice(1).map((end, k) => bytes.subarray(cuts[k]!, end));
      const l = random() < 0.3 ? Math.floor(random() * 30) : undefined;
      expect(relaxedRun(fastRelaxedUpdate, chunks, l, 'b'), JSON.stringify(text)).toEqual(relaxedRun(originalRelaxedUpdate, chunks, l, 'b'));
    }
  });

  it('takes the one-call path for a clean base64 body, and still agrees with mailauth', () => {
    const body = Buffer.from(`${'QUJD'.repeat(19)}\r\n`.repeat(2000) + 'QUJD\r\n\r\n\r\n', 'latin1');
    const chunks = [body.subarray(0, 70_001), body.subarray(70_001)];
    expect(relaxedRun(fastRelaxedUpdate, chunks)).toEqual(relaxedRun(originalRelaxedUpdate, chunks));
  });

  it('rewrites a body that is not its own relaxed form itself, with none of mailauth\'s per-line rewrites, and agrees with mailauth', () => {
    // format=flowed lines ending in a space, indented HTML, tabs, blank-only and bare-LF lines, a
    // run of bare LFs whose form is twice their size, and a line longer than the memory reused
    const lines = Array.from({ length: 3000 }, (_, i) => [`flowed line ${i} `, `  <td>\tcell ${i}</td>  `, `plain ${i}`, ' \t ', `bare ${i}\n`][i % 5]);
    const body = Buffer.from(`${lines.join('\r\n')}\r\n${'\n'.repeat(100_000)}x\t${'word  '.repeat(40_000)}\r\n${'y'.repeat(300_000)}\nz\r\n\r\n\r\n`, 'latin1');
    const chunks = [body.subarray(0, 50_001), body.subarray(50_001, 160_000), body.subarray(160_000)];
    const rewrites = vi.spyOn(RelaxedHash.prototype, 'fixLineBuffer');
    const fast = relaxedRun(fastRelaxedUpdate, chunks, undefined, 'b');
    expect(rewrites).not.toHaveBeenCalled();
    rewrites.mockRestore();
    expect(fast).toEqual(relaxedRun(originalRelaxedUpdate, chunks, undefined, 'b'));
    expect(fast.canonicalized).toBeGreaterThan(body.length);
    for (const l of [0, 1, 5_000, 200_001, body.length]) expect(relaxedRun(fastRelaxedUpdate, chunks, l), String(l)).toEqual(relaxedRun(originalRelaxedUpdate, chunks, l));
  });

  // In a worker's read buffer the lines are rewritten by line-scan.wat's relax(), a window of
  // lines at a time; a line longer than a window is left to the JavaScript above.
  const bigBuffer = scannableMemory(4 << 20)!;
  /** Everything pushRelaxedLines hands on for `lines`, copied. */
  const relaxedBytes = (lines: Buffer): Buffer => {
    const out: Buffer[] = [];
    pushRelaxedLines(lines, (canonical) => out.push(Buffer.from(canonical)));
    return Buffer.concat(out);
  };

  it('in a worker\'s read buffer, rewrites random lines to the bytes the JavaScript rewrite makes, at every alignment', () => {
    let seed = 53;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const pieces = ['word', 'a', 'xy', ' ', ' ', ' ', '  ', '   ', '\t', ' \t ', '\r', '\r\n', '\r\n', '\n', ' \r\n', '\t\r\n', ' \r \n', '\r\r\n', 'longer words here', ' '.repeat(17), '\u00e9'];
    for (let i = 0; i < 3000; i++) {
      let text = Array.from({ length: Math.floor(random() * 120) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      text = `${text.slice(0, text.lastIndexOf('\n') + 1)}${random() < 0.5 ? 'end\r\n' : '\n'}`;
      const bytes = Buffer.from(text, 'latin1');
      const inMemory = asRead(bytes, i % 37);
      expect(pushRelaxedLinesInMemory(inMemory, () => {}), 'read in WebAssembly').toBe(bytes.length);
      expect(relaxedBytes(inMemory).toString('latin1'), JSON.stringify(text)).toBe(relaxedBytes(bytes).toString('latin1'));
    }
  });

  it('in a worker\'s read buffer, rewrites a body of many windows and a line longer than one, and agrees with mailauth', () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => [`flowed line ${i} `, `  <td>\tcell ${i}</td>  `, `plain ${i}`, ' \t ', `bare ${i}\n`][i % 5]);
    const long = `${'z  '.repeat(RELAX_ROOM / 4)}\t \r\n`;
    const text = `${lines.join('\r\n')}\r\n${'\n'.repeat(100_000)}${long}x\t${'word  '.repeat(40_000)}\r\nz\r\n\r\n\r\n`;
    const body = Buffer.from(text, 'latin1');
    expect(body.length).toBeGreaterThan(3 * (RELAX_ROOM / 2));
    const at = 4099;
    body.copy(bigBuffer, at);
    const inMemory = bigBuffer.subarray(at, at + body.length);
    // up to the long line in WebAssembly, the rest left to the caller
    const before = text.indexOf(long);
    expect(pushRelaxedLinesInMemory(inMemory, () => {})).toBe(before);
    const chunks = [inMemory.subarray(0, 50_001), inMemory.subarray(50_001, before + 10), inMemory.subarray(before + 10)];
    const rewrites = vi.spyOn(RelaxedHash.prototype, 'fixLineBuffer');
    const fast = relaxedRun(fastRelaxedUpdate, chunks, undefined, 'b');
    expect(rewrites).not.toHaveBeenCalled();
    rewrites.mockRestore();
    const copies = chunks.map((chunk) => Buffer.from(chunk));
    expect(fast).toEqual(relaxedRun(originalRelaxedUpdate, copies, undefined, 'b'));
    // in one chunk, as dkimVerifyDirect hands a body over, every window is rewritten in WebAssembly
    expect(relaxedRun(fastRelaxedUpdate, [inMemory], undefined, 'b')).toEqual(relaxedRun(originalRelaxedUpdate, [body], undefined, 'b'));
    expect(relaxedBytes(inMemory).equals(relaxedBytes(body))).toBe(true);
    for (const l of [0, 1, 5_000, 600_001, body.length]) expect(relaxedRun(fastRelaxedUpdate, chunks, l), String(l)).toEqual(relaxedRun(originalRelaxedUpdate, copies, l));
  });

  it.skipIf(!HAS_CORPUS)(`hashes every body of the shared corpus exactly as mailauth${CORPUS_SKIP_NOTE}`, () => {
    const files = corpusFiles();
    for (const file of files) {
      for (const bytes of [readFileSync(file), toCrlf(readFileSync(file))]) {
        const split = bytes.indexOf('\r\n\r\n');
        const body = split >= 0 ? bytes.subarray(split + 4) : bytes;
        for (const size of [64 * 1024, 997, body.length || 1]) {
          expect(relaxedRun(fastRelaxedUpdate, chunked(body, size)), file).toEqual(relaxedRun(originalRelaxedUpdate, chunked(body, size)));
        }
        expect(relaxedRun(fastRelaxedUpdate, [body], 500), file).toEqual(relaxedRun(originalRelaxedUpdate, [body], 500));
      }
    }
  });
});

describe('mailauth fast path: keys imported once across messages', () => {
  it('imports a key once for many messages, and still tells a good signature from a bad one', async () => {
    installMailauthFastPaths();
    const key = rsaKey(1024);
    const other = rsaKey(1024);
    const lookup = tableLookup({ 'k1._domainkey.example.com': key.txt });
    const spec = { key, domain: 'example.com', selector: 'k1', signTime: SIGN_TIME };
    const good = Buffer.from(await signed(plainMessage(), spec), 'latin1');
    const forged = Buffer.from(await signed(plainMessage(), { ...spec, key: other }), 'latin1');
    const { parseHeaders } = await import('../../src/read/headers.ts');
    const before = { ...keyImportStats };
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      for (const message of [good, forged]) {
        const result = await verifyDkim(message, parseHeaders(message).fields, { lookup, curTime: SIGN_TIME });
        outcomes.push(result.signatures[0]!.outcome);
      }
    }
    expect(outcomes).toEqual(Array.from({ length: 5 }, () => ['pass', 'signature-mismatch']).flat());
    expect(keyImportStats.imports - before.imports).toBe(1);
    expect(keyImportStats.reused - before.reused).toBe(9);
  });

  it("still reports the key in mailauth's own result as PEM text", async () => {
    installMailauthFastPaths();
    const key = rsaKey(1024);
    const message = Buffer.from(await signed(plainMessage(), { key, domain: 'example.org', selector: 'pem', signTime: SIGN_TIME }), 'latin1');
    const { dkimVerify } = await import('mailauth');
    const resolver = async (): Promise<string[][]> => [[key.txt]];
    for (let i = 0; i < 2; i++) {
      const result = (await dkimVerify(message, { resolver, curTime: SIGN_TIME })).results[0]!;
      expect(result.status.result).toBe('pass');
      expect(result.publicKey).toBe(key.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString());
    }
  });

  it('imports again when the record behind a name changes', async () => {
    installMailauthFastPaths();
    const first = rsaKey(1024);
    const second = rsaKey(1024);
    const spec = { key: first, domain: 'example.net', selector: 'rot', signTime: SIGN_TIME };
    const message = Buffer.from(await signed(plainMessage(), spec), 'latin1');
    const { parseHeaders } = await import('../../src/read/headers.ts');
    const fields = parseHeaders(message).fields;
    const withFirst = await verifyDkim(message, fields, { lookup: tableLookup({ 'rot._domainkey.example.net': first.txt }), curTime: SIGN_TIME });
    const withSecond = await verifyDkim(message, fields, { lookup: tableLookup({ 'rot._domainkey.example.net': second.txt }), curTime: SIGN_TIME });
    expect(withFirst.signatures[0]!.outcome).toBe('pass');
    expect(withSecond.signatures[0]!.outcome).toBe('signature-mismatch');
  });
});

describe('CRLF-only ranges', () => {
  it('are known for what toCrlf returns and views into it, and for nothing else', () => {
    const clean = Buffer.from('a: b\r\n\r\nline\r\nline\r\n');
    expect(isKnownCrlfOnly(clean)).toBe(false);
    expect(toCrlf(clean)).toBe(clean);
    expect(isKnownCrlfOnly(clean)).toBe(true);
    expect(isKnownCrlfOnly(clean.subarray(3, 12))).toBe(true);
    const repaired = toCrlf(Buffer.from('a: b\n\nline\n'));
    expect(repaired.toString()).toBe('a: b\r\n\r\nline\r\n');
    expect(isKnownCrlfOnly(repaired)).toBe(true);
    // a copy, or a buffer that merely looks clean, is not known
    expect(isKnownCrlfOnly(Buffer.from(repaired))).toBe(false);
    const pooled = Buffer.from('x\ny\n');
    expect(isKnownCrlfOnly(pooled)).toBe(false);
  });
});

describe('mailauth fast path: the end of the header', () => {
  /** Runs processChunk (the original or the fast one) on `chunks`; returns what it handed on. */
  async function scan(processChunk: typeof fastProcessChunk, chunks: Buffer[]) {
    const seen: string[] = [];
    const parser = {
      state: 'header' as 'header' | 'body',
      headerBytes: 0,
      stateBytes: [] as number[],
      headerChunks: [] as Buffer[],
      async emitHeaders(chunk?: Buffer) {
        this.state = 'body';
        if (chunk) this.headerChunks.push(chunk);
        seen.push(`H:${Buffer.concat(this.headerChunks).toString('latin1')}`);
      },
      async nextChunk(chunk: Buffer) {
        seen.push(`B:${chunk.toString('latin1')}`);
      },
    };
    for (const chunk of chunks) await processChunk.call(parser, chunk);
    return { seen, state: parser.state, headerBytes: parser.headerBytes };
  }

  it('ends the header where mailauth does, on 5,000 random messages split at random places', async () => {
    const alphabet = ['a', ':', ' ', '\r', '\n', '\r\n', '\r\n', '\n\n', '\n\r\n', 'x: y\r\n'];
    let seed = 5;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 16) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''), 'latin1');
      const cut = Math.floor(random() * (bytes.length + 1));
      const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)].filter((c) => c.length);
      expect(await scan(fastProcessChunk, chunks), JSON.stringify(bytes.toString('latin1'))).toEqual(await scan(originalProcessChunk, chunks));
    }
  });
});
