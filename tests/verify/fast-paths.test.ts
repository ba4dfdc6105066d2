import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fastEnsureLinebreaks, originalEnsureLinebreaks } from '../../src/verify/mailauth-fast-paths.ts';
import { CORPUS, CORPUS_SKIP_NOTE, HAS_CORPUS } from '../helpers/corpus.ts';

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
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(CORPUS);
    expect(files.length).toBeGreaterThan(300);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const size of [64 * 1024, 1000]) {
        expect(Buffer.concat(run(fastEnsureLinebreaks, chunked(bytes, size))).equals(Buffer.concat(run(originalEnsureLinebreaks, chunked(bytes, size)))), file).toBe(true);
        expect(run(fastEnsureLinebreaks, chunked(bytes, size)).length, file).toBe(run(originalEnsureLinebreaks, chunked(bytes, size)).length);
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
});
