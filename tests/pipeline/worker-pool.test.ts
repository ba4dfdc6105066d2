import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadKeysFile } from '../../src/keys/keys-file.ts';
import { createKeyLookup } from '../../src/keys/key-lookup.ts';
import { createAnalyzer, type Analyzer } from '../../src/pipeline/worker-pool.ts';

const ROOT = join(import.meta.dirname, '../..');
const DEMO = join(ROOT, 'fixtures/demo-dump');
const genuine = readFileSync(join(DEMO, 'inbox/2017-02-14 Q1 budget.eml'));
/** mailauth's header parser joins every folded line with concat + splice: 40,000 folds take seconds. */
const slow = Buffer.concat([Buffer.from(`Subject: x${'\r\n y'.repeat(40_000)}\r\n`, 'latin1'), genuine]);

const lookup = createKeyLookup({
  files: [loadKeysFile(join(ROOT, 'fixtures/demo-keys.json'))],
  cached: () => null,
  offline: true,
  live: () => Promise.reject(new Error('offline')),
  onLiveAnswer: () => undefined,
});
/** A copy in memory of its own, as the readers of the dump make them: the pool may move it. */
const ownCopy = (bytes: Buffer): Buffer => {
  const copy = Buffer.from(new ArrayBuffer(bytes.length));
  bytes.copy(copy);
  return copy;
};
let analyzer: Analyzer | null = null;
afterEach(async () => {
  await analyzer?.close();
  analyzer = null;
});

describe('worker pool', () => {
  it('gives up a message past its time limit, and still analyses the messages queued behind it on the same worker', async () => {
    analyzer = createAnalyzer(lookup, { workers: 1, perWorker: 3, timeoutMs: 1_000 });
    const first = await analyzer.submit(Buffer.from(slow), 'eml');
    const second = await analyzer.submit(Buffer.from(genuine), 'eml');
    let reread = 0;
    const moved = ownCopy(genuine);
    const third = await analyzer.submit(moved, 'eml', () => (reread++, Buffer.from(genuine)));
    await expect(first.result).rejects.toThrow(/timed out/);
    expect((await second.result).verdict.verdict).toBe('verified');
    expect((await third.result).verdict.verdict).toBe('verified');
    // moved to the worker, not copied; handed over again from `reread` once its worker was replaced
    expect(moved.length).toBe(0);
    expect(reread).toBe(1);
  }, 30_000);

  it("moves a view of memory of its own whole, and copies a buffer from Node's shared pool", async () => {
    analyzer = createAnalyzer(lookup, { workers: 1 });
    // an mbox message: a view of a little less than its buffer (the framing blank line cut off)
    const framed = ownCopy(Buffer.concat([genuine, Buffer.from('\r\n')]));
    const view = framed.subarray(0, genuine.length);
    const moved = await analyzer.submit(view, 'eml', () => Buffer.from(genuine));
    expect(view.length).toBe(0);
    // a small buffer from the pool cannot be moved: it is copied, and stays readable here
    const pooled = Buffer.from('From: a@example.com\r\nSubject: small\r\n\r\nhi\r\n');
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length);
    const copied = await analyzer.submit(pooled, 'eml', () => Buffer.from(pooled));
    expect(pooled.length).toBeGreaterThan(0);
    expect((await moved.result).verdict.verdict).toBe('verified');
    expect((await copied.result).size).toBe(pooled.length);
  }, 30_000);

  it('counts the time limit from when a message is started, not from when it was queued', async () => {
    analyzer = createAnalyzer(lookup, { workers: 1, perWorker: 4, timeoutMs: 2_500 });
    // Each takes well under the limit, together well over it.
    const pending = await Promise.all(Array.from({ length: 4 }, async () => (await analyzer!.submit(Buffer.from(genuine), 'eml')).result));
    for (const analysis of pending) expect(analysis.verdict.verdict).toBe('verified');
  }, 30_000);
});
