import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

describe('worker pool, files read by the workers', () => {
  const file = (relPath: string): { absPath: string; size: number } => {
    const absPath = join(DEMO, relPath);
    return { absPath, size: statSync(absPath).size };
  };

  it('gives the same analysis as the bytes handed over, and where the message lies in its file', async () => {
    analyzer = createAnalyzer(lookup, { workers: 2 });
    const inline = createAnalyzer(lookup, { workers: 0 });
    try {
      for (const relPath of ['inbox/2017-02-14 Q1 budget.eml', 'inbox/2018-10-03 Fwd- Invoice.eml']) {
        const fromFile = await (await analyzer.submitFile(file(relPath), 'eml')).result;
        const fromBytes = await (await analyzer.submit(readFileSync(join(DEMO, relPath)), 'eml')).result;
        const onMainThread = await (await inline.submitFile(file(relPath), 'eml')).result;
        expect(fromFile.message).toEqual({ index: 0, offset: 0, format: 'eml' });
        expect(fromFile.analysis).toEqual(fromBytes);
        // the JSON crossing drops nothing the store or the run reads
        expect(JSON.parse(JSON.stringify(onMainThread.analysis))).toEqual(JSON.parse(JSON.stringify(fromFile.analysis)));
        for (const part of fromFile.analysis.embedded) expect(Buffer.isBuffer(part.raw)).toBe(true);
      }
      const forwarded = await (await analyzer.submitFile(file('inbox/2018-10-03 Fwd- Invoice.eml'), 'eml')).result;
      expect(forwarded.analysis.embedded.length).toBeGreaterThan(0);
    } finally {
      await inline.close();
    }
  }, 30_000);

  it('rejects with the read error of a file it cannot read, and goes on with the next', async () => {
    analyzer = createAnalyzer(lookup, { workers: 1 });
    const gone = await analyzer.submitFile({ absPath: join(DEMO, 'no such file.eml'), size: 10 }, 'eml');
    const next = await analyzer.submitFile(file('inbox/2017-02-14 Q1 budget.eml'), 'eml');
    await expect(gone.result).rejects.toMatchObject({ name: 'ReadError', code: 'vanished' });
    expect((await next.result).analysis.verdict.verdict).toBe('verified');
  }, 30_000);

  it('gives up a file past its time limit like any message, and hands on the file queued behind it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leakcheck-pool-'));
    try {
      writeFileSync(join(dir, 'slow.eml'), slow);
      analyzer = createAnalyzer(lookup, { workers: 1, perWorker: 2, timeoutMs: 1_000 });
      const first = await analyzer.submitFile({ absPath: join(dir, 'slow.eml'), size: slow.length }, 'eml');
      const second = await analyzer.submitFile(file('inbox/2017-02-14 Q1 budget.eml'), 'eml');
      await expect(first.result).rejects.toThrow(/timed out/);
      expect((await second.result).analysis.verdict.verdict).toBe('verified');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
