import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import type { KeyLookup } from '../../src/keys/types.ts';
import { analyzeStream } from '../../src/pipeline/message-stream.ts';
import { MessageRing } from '../../src/pipeline/message-ring.ts';
import { createAnalyzer, type Analyzer } from '../../src/pipeline/worker-pool.ts';
import type { RawMessage } from '../../src/read/types.ts';
import { DEMO, genuine, lookup, slow, slowDns } from './support.ts';
import { CORPUS, CORPUS_SKIP_NOTE, HAS_CORPUS, corpusFiles, dnsJsonLookup } from '../helpers/corpus.ts';

/*
 * The messages of an mbox inside a zip are assembled in memory shared with the workers
 * (message-ring.ts), and each worker analyses its message where it lies, in memory the main
 * thread reuses for the next one as soon as the answer is in.
 */

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** `bytes` copied into ring memory. */
function inRing(ring: MessageRing, bytes: Buffer): Buffer {
  const taken = ring.take(bytes.length);
  if (!taken) throw new Error('no room in the ring');
  bytes.copy(taken);
  return taken;
}

function demoFiles(dir = DEMO): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    // (an empty file has nothing to put in the ring)
    return statSync(path).isDirectory() ? demoFiles(path) : name.endsWith('.eml') && statSync(path).size > 0 ? [path] : [];
  });
}

let analyzer: Analyzer | null = null;
afterEach(async () => {
  await analyzer?.close();
  analyzer = null;
});

describe('MessageRing', () => {
  it('puts each message in the lowest gap it fits, takes back regions in any order, and refuses rather than waits', () => {
    const ring = new MessageRing(100, 60);
    const a = ring.take(30)!;
    const b = ring.take(30)!;
    const c = ring.take(30)!;
    expect([a.byteOffset, b.byteOffset, c.byteOffset]).toEqual([0, 30, 60]);
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(a.buffer.byteLength).toBe(100);
    expect(ring.take(20)).toBeNull(); // 10 bytes left, at the end
    expect(ring.give(b)).toBe(true);
    expect(ring.give(b)).toBe(false); // (given back already)
    expect(ring.take(20)!.byteOffset).toBe(30);
    expect(ring.take(15)).toBeNull(); // gaps of 10, at 50 and at 90
    expect(ring.take(10)!.byteOffset).toBe(50);
    expect(ring.held()).toBe(4);
    ring.give(a);
    ring.give(c);
    expect(ring.take(30)!.byteOffset).toBe(0);
    expect(ring.take(40)!.byteOffset).toBe(60);
    expect(ring.held()).toBe(4);
    expect(new MessageRing(100, 60).take(61)).toBeNull(); // larger than a message may be
    expect(new MessageRing(100, 60).take(0)).toBeNull();
  });

  it('gathers a message too large for it in memory shared with the workers, and leaves one that finds no room to its caller', () => {
    const ring = new MessageRing(1024, 256);
    const large = ring.gather(257)!;
    // shared, so that it is handed to its worker without a copy; not the ring's, so never given back to it
    expect(large.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(large).toHaveLength(257);
    expect([ring.placeOf(large), ring.give(large), ring.held()]).toEqual([null, false, 0]);
    const fitting = [ring.gather(200)!, ring.gather(256)!, ring.gather(256)!, ring.gather(256)!];
    expect(fitting.map((bytes) => ring.placeOf(bytes)?.offset)).toEqual([0, 200, 456, 712]);
    // (56 bytes left: a message the ring could hold, but not now)
    expect(ring.gather(100)).toBeNull();
  });

  it('knows its own regions only: other memory, and a view that does not begin a region, are not given back', () => {
    const ring = new MessageRing(100, 60);
    const taken = ring.take(40)!;
    expect(ring.placeOf(Buffer.alloc(40))).toBeNull();
    expect(ring.give(Buffer.alloc(40))).toBe(false);
    expect(ring.placeOf(taken.subarray(1))).toBeNull();
    expect(ring.give(taken.subarray(1))).toBe(false);
    // a message less its framing blank line is a view of the start of its region
    expect(ring.placeOf(taken.subarray(0, 39))).toEqual({ memory: taken.buffer, offset: 0, length: 39 });
    expect(ring.give(taken.subarray(0, 39))).toBe(true);
    expect(ring.held()).toBe(0);
    expect(ring.placeOf(taken)).toBeNull();
  });
});

describe('a message in shared memory, analysed where it lies', () => {
  it('by a worker: the same analysis as the same bytes handed over, the memory left as it was', async () => {
    analyzer = createAnalyzer(lookup, { workers: 1 });
    const ring = analyzer.messageMemory()!;
    for (const path of demoFiles()) {
      const bytes = readFileSync(path);
      const shared = inRing(ring, bytes);
      const fromRing = await (await analyzer.submit(shared, 'eml')).result;
      expect(sha256(shared), path).toBe(sha256(bytes));
      const handedOver = await (await analyzer.submit(bytes, 'eml')).result;
      expect(fromRing, path).toEqual(handedOver);
      expect(ring.give(shared)).toBe(true);
    }
    expect(ring.held()).toBe(0);
  });

  it('a fresh worker is told the same place when the one it was queued on is given up', async () => {
    analyzer = createAnalyzer(slowDns, { workers: 1, perWorker: 3, timeoutMs: 500 });
    const ring = analyzer.messageMemory()!;
    const first = await analyzer.submit(inRing(ring, slow), 'eml');
    const second = await analyzer.submit(inRing(ring, genuine), 'eml');
    await expect(first.result).rejects.toThrow(/made no progress within 2 s/);
    expect((await second.result).verdict.verdict).toBe('verified');
  }, 30_000);

  it('in a stream: every region is given back, and a message that could not be analysed is recorded from a copy', async () => {
    analyzer = createAnalyzer(slowDns, { workers: 1, perWorker: 4, timeoutMs: 500 });
    const ring = analyzer.messageMemory()!;
    const given: number[] = [];
    const source = [genuine, slow, genuine].map((bytes, index): RawMessage => ({ index, offset: 0, raw: inRing(ring, bytes), format: 'mbox' }));
    const { messages, error, failed } = await analyzeStream(source, analyzer, undefined, {
      release: (raw) => void (ring.give(raw) && given.push(raw.byteOffset)),
    });
    expect(given.sort((x, y) => x - y)).toEqual(source.map((m) => m.raw.byteOffset));
    expect(ring.held()).toBe(0);
    expect(failed).toBe(1);
    expect(error?.code).toBe('analysis-failed');
    const recorded = JSON.stringify(messages[1]!.analysis);
    // the region is reused at once: the record must not have kept a view of it
    for (let taken = ring.take(1024 * 1024); taken; taken = ring.take(1024 * 1024)) taken.fill(0x58);
    expect(JSON.stringify(messages[1]!.analysis)).toBe(recorded);
    expect(messages.map((m) => m.analysis.verdict.reasons)).toEqual([['dkim-verified'], ['analysis-failed'], ['dkim-verified']]);
    expect(messages[1]!.analysis.sha256).toBe(sha256(slow));
  }, 30_000);

  it('--jobs 0 keeps messages in memory of their own', () => {
    const inProcess = createAnalyzer(lookup, { workers: 0 });
    expect(inProcess.messageMemory()).toBeNull();
  });

  it.skipIf(!HAS_CORPUS)(`on every message of the shared corpus, no analysis writes into the message it is given${CORPUS_SKIP_NOTE}`, async () => {
    const files = corpusFiles((name) => /\.(eml|msg|txt|mail)$/i.test(name) || /\.message/.test(name));
    expect(files.length).toBeGreaterThan(300);
    const lookups = new Map<string, KeyLookup>();
    for (const file of files) {
      const set = relative(CORPUS, file).split('/')[0]!;
      if (!lookups.has(set)) lookups.set(set, dnsJsonLookup(set));
      const keys = lookups.get(set)!;
      const bytes = readFileSync(file);
      const shared = Buffer.from(new SharedArrayBuffer(bytes.length));
      bytes.copy(shared);
      const fromShared = await analyzeMessage({ raw: shared, format: 'eml' }, keys);
      expect(shared.equals(bytes), file).toBe(true);
      expect(fromShared, file).toEqual(await analyzeMessage({ raw: Buffer.from(bytes), format: 'eml' }, keys));
    }
  }, 120_000);
});
