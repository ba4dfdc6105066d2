import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultThreadCount, discardPrestartedThreads, prestartAnalysisThreads, startAnalysisThread, stopAnalysisThread, takePrestartedThread, threadsForArguments } from '../../src/pipeline/analysis-threads.ts';
import type { FromWorker, ToWorker } from '../../src/pipeline/analysis-worker.ts';
import { ANSWER_BATCH } from '../../src/pipeline/posted-analysis.ts';
import { createAnalyzer, type Analyzer } from '../../src/pipeline/worker-pool.ts';
import type { MessageLocation } from '../../src/read/read-container.ts';
import { DEMO, genuine, lookup, slow, slowDns } from './support.ts';
import { DEMO_DUMP, DEMO_KEYS, runCli } from '../helpers/cli.ts';

let analyzer: Analyzer | null = null;
afterEach(async () => {
  await analyzer?.close();
  analyzer = null;
});

describe('worker pool', () => {
  it('gives up a message past its time limit, and still analyses the messages queued behind it on the same worker', async () => {
    analyzer = createAnalyzer(slowDns, { workers: 1, perWorker: 3, timeoutMs: 500 });
    const first = await analyzer.submit(Buffer.from(slow), 'eml');
    const second = await analyzer.submit(Buffer.from(genuine), 'eml');
    const third = await analyzer.submit(Buffer.from(genuine), 'eml');
    await expect(first.result).rejects.toThrow(/made no progress within 2 s/);
    // both were queued on the worker that was given up: the fresh one took them
    expect((await second.result).verdict.verdict).toBe('verified');
    expect((await third.result).verdict.verdict).toBe('verified');
  }, 30_000);

  // Red team 28, H-02: a message that works the CPU past its limit is given up for that, in words
  // that name the limit and not the CPU time measured, so that every machine says the same.
  it('gives up a message that spends its limit in CPU time, and says so without the time measured', async () => {
    analyzer = createAnalyzer(lookup, { workers: 1, perWorker: 2, timeoutMs: 200 });
    // each l= is a body hash of its own over 8 MB of text (50 of them: the most signatures checked)
    const body = 'lorem ipsum dolor sit amet, consectetur adipiscing elit\r\n'.repeat(150_000);
    const signatures = Array.from({ length: 50 }, (_, i) => `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=demo.example; s=s2048; l=${body.length - i * 7}; h=from; bh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=; b=AAAA${i}\r\n`).join('');
    const busy = Buffer.from(`${signatures}From: a@demo.example\r\nSubject: busy\r\n\r\n${body}`, 'latin1');
    const first = await analyzer.submit(busy, 'eml');
    const second = await analyzer.submit(Buffer.from(genuine), 'eml');
    await expect(first.result).rejects.toThrow(/^analysis took more than its limit of 0\.2 s of CPU time$/);
    expect((await second.result).verdict.verdict).toBe('verified');
  }, 30_000);

  it('analyses again, on the fresh worker, the answers a given-up worker had not posted yet', async () => {
    analyzer = createAnalyzer(slowDns, { workers: 1, perWorker: 4, timeoutMs: 500 });
    // The first two finish and wait for their batch while the third runs past its limit.
    const first = await analyzer.submit(Buffer.from(genuine), 'eml');
    const second = await analyzer.submit(Buffer.from(genuine), 'eml');
    const slowOne = await analyzer.submit(Buffer.from(slow), 'eml');
    const fourth = await analyzer.submit(Buffer.from(genuine), 'eml');
    await expect(slowOne.result).rejects.toThrow(/made no progress within 2 s/);
    for (const { result } of [first, second, fourth]) expect((await result).verdict.verdict).toBe('verified');
  }, 30_000);

  it("analyses exactly the bytes of a view, copied: the caller's memory stays as it was", async () => {
    analyzer = createAnalyzer(lookup, { workers: 1 });
    // a forwarded message is a view into the message that carried it
    const carrier = Buffer.concat([Buffer.from('junk before\r\n'), genuine, Buffer.from('\r\njunk after\r\n')]);
    const view = carrier.subarray(13, 13 + genuine.length);
    const { result } = await analyzer.submit(view, 'eml');
    const analysis = await result;
    expect(analysis.size).toBe(genuine.length);
    expect(analysis.verdict.verdict).toBe('verified');
    expect(view.equals(genuine)).toBe(true);
  }, 30_000);

  it('counts the time limit from when a message is started, not from when it was queued', async () => {
    analyzer = createAnalyzer(lookup, { workers: 1, perWorker: 4, timeoutMs: 2_500 });
    // Each takes well under the limit, together well over it.
    const pending = await Promise.all(Array.from({ length: 4 }, async () => (await analyzer!.submit(Buffer.from(genuine), 'eml')).result));
    for (const analysis of pending) expect(analysis.verdict.verdict).toBe('verified');
  }, 30_000);

  it('posts its answers in batches of at most ANSWER_BATCH, and the last ones as soon as its queue is empty', async () => {
    const { worker } = await startAnalysisThread();
    try {
      const ids = Array.from({ length: 2 * ANSWER_BATCH + 3 }, (_, i) => i + 1);
      const batches: number[][] = [];
      let expected = 1;
      let answered = (): void => undefined;
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'key') {
          void lookup(message.name).then((answer) => worker.postMessage({ type: 'key-answer', id: message.id, answer } satisfies ToWorker));
          return;
        }
        expect(message.answers.every((a) => a.type === 'result')).toBe(true);
        batches.push(message.answers.map((a) => a.id));
        if (batches.flat().length === expected) answered();
      });
      const send = async (sent: number[]): Promise<void> => {
        const done = new Promise<void>((resolve) => (answered = resolve));
        for (const id of sent) worker.postMessage({ type: 'analyze', id, raw: new Uint8Array(genuine), format: 'eml' } satisfies ToWorker);
        await done;
      };
      // First a message whose key the worker must ask for, then the rest with that key known, as
      // in most of a run: such an analysis never waits on the event loop (the messages sent
      // meanwhile wait in the port), and its answer went back alone, each a wake-up of the main
      // thread, until the worker looked at its port before deciding that its queue was empty.
      await send([0]);
      batches.length = 0;
      expected = ids.length;
      await send(ids);
      expect(batches.flat()).toEqual(ids);
      expect(Math.max(...batches.map((b) => b.length))).toBe(ANSWER_BATCH);
      // one wake-up of the main thread per batch, not per message
      expect(batches.length).toBeLessThanOrEqual(Math.ceil(ids.length / 2));
    } finally {
      await stopAnalysisThread(worker);
    }
  }, 30_000);
});

describe('worker pool, files read by the workers', () => {
  const file = (relPath: string): MessageLocation => ({ absPath: join(DEMO, relPath), kind: 'eml' });
  const size = (relPath: string): number => statSync(join(DEMO, relPath)).size;

  it('gives the same analysis as the bytes handed over, and where the message lies in its file', async () => {
    analyzer = createAnalyzer(lookup, { workers: 2 });
    const inline = createAnalyzer(lookup, { workers: 0 });
    try {
      for (const relPath of ['inbox/2017-02-14 Q1 budget.eml', 'inbox/2018-10-03 Fwd- Invoice.eml']) {
        const fromFile = await (await analyzer.submitAt(file(relPath), size(relPath))).result;
        const fromBytes = await (await analyzer.submit(readFileSync(join(DEMO, relPath)), 'eml')).result;
        const onMainThread = await (await inline.submitAt(file(relPath), size(relPath))).result;
        expect(fromFile.message).toEqual({ index: 0, offset: 0, format: 'eml' });
        expect(fromFile.analysis).toEqual(fromBytes);
        // the JSON crossing drops nothing the store or the run reads
        expect(JSON.parse(JSON.stringify(onMainThread.analysis))).toEqual(JSON.parse(JSON.stringify(fromFile.analysis)));
        for (const part of fromFile.analysis.embedded) expect(Buffer.isBuffer(part.raw)).toBe(true);
      }
      const forwarded = await (await analyzer.submitAt(file('inbox/2018-10-03 Fwd- Invoice.eml'), size('inbox/2018-10-03 Fwd- Invoice.eml'))).result;
      expect(forwarded.analysis.embedded.length).toBeGreaterThan(0);
    } finally {
      await inline.close();
    }
  }, 30_000);

  it('starts one thread, and the others only when the messages outnumber what the started ones hold', async () => {
    const relPath = 'inbox/2017-02-14 Q1 budget.eml';
    analyzer = createAnalyzer(lookup, { workers: 2, perWorker: 4 });
    // a few messages, even handed over at once: one thread does them
    const few = await Promise.all(Array.from({ length: 4 }, () => analyzer!.submitAt(file(relPath), size(relPath))));
    for (const { result } of few) expect((await result).analysis.verdict.verdict).toBe('verified');
    expect(analyzer.threadsStarted()).toBe(1);
    // the first thread has loaded and caught up: each thread holds its usual number again
    expect(analyzer.holds()).toBe(2 * 4);
    // one file's messages handed over one after the other, as an mbox's are: the fifth finds the
    // first thread's hands full, and the second thread starts for it
    const many = [];
    for (let i = 0; i < 12; i++) many.push((await analyzer.submitAt(file(relPath), size(relPath))).result);
    for (const result of many) expect((await result).analysis.verdict.verdict).toBe('verified');
    expect(analyzer.threadsStarted()).toBe(2);
  }, 30_000);

  // Red team Z, Z-06: a slot was made for every thread asked for before any started: `--jobs 1e8`
  // filled the heap and aborted.
  it('makes a thread\'s slot only when it starts the thread: a pool of two million threads costs one', async () => {
    const relPath = 'inbox/2017-02-14 Q1 budget.eml';
    const heapBefore = process.memoryUsage().heapUsed;
    analyzer = createAnalyzer(lookup, { workers: 2_000_000, perWorker: 4 });
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(20_000_000);
    const few = await Promise.all(Array.from({ length: 4 }, () => analyzer!.submitAt(file(relPath), size(relPath))));
    for (const { result } of few) expect((await result).analysis.verdict.verdict).toBe('verified');
    expect(analyzer.threadsStarted()).toBe(1);
  }, 30_000);

  it('verify refuses more threads than it may start, exit 2 in one line, before it touches the database', () => {
    const db = join(mkdtempSync(join(tmpdir(), 'leakcheck-jobs-')), 'jobs.db');
    const out = runCli(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', db, '--jobs', '1e8']);
    expect(out.status).toBe(2);
    expect(out.stderr.split('\n')[0]).toMatch(/--jobs <n>' argument '1e8' is invalid\. expected at most \d+ threads/);
    expect(existsSync(db) || existsSync(`${db}.lock`)).toBe(false);
    rmSync(dirname(db), { recursive: true });
  });

  it('while the first thread loads its code, it holds a small dump alone; more messages than it may hold then start the second', async () => {
    const relPath = 'inbox/2017-02-14 Q1 budget.eml';
    const handedAtOnce = async (count: number, workers = 2, holdsThen?: number): Promise<number> => {
      analyzer = createAnalyzer(lookup, { workers, perWorker: 4, perWarmingWorker: 10 });
      // what a caller keeps in progress to fill them: every thread's hands, the larger ones now
      expect(analyzer.holds()).toBe(workers * 10);
      // all handed over before the first thread has loaded, as the walk of a small dump does
      const all = await Promise.all(Array.from({ length: count }, () => analyzer!.submitAt(file(relPath), size(relPath))));
      if (holdsThen !== undefined) expect(analyzer.holds()).toBe(holdsThen);
      for (const { result } of all) expect((await result).analysis.verdict.verdict).toBe('verified');
      const started = analyzer.threadsStarted();
      await analyzer.close();
      analyzer = null;
      return started;
    };
    // more than its hands hold once loaded (4), and no more than it may hold while loading (10)
    expect(await handedAtOnce(10)).toBe(1);
    // with every thread started, each may hold its usual 4 again, and the first still holds its 10
    expect(await handedAtOnce(11, 2, 10 + 4)).toBe(2);
    // with more cores, each thread started takes its larger share before the next one starts
    expect(await handedAtOnce(20, 3)).toBe(2);
    expect(await handedAtOnce(21, 3)).toBe(3);
  }, 30_000);

  it('starts the second thread for large messages long before the first holds its 16, and not for one waiting behind another', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leakcheck-pool-'));
    try {
      // 17 MB, each over the bytes that start another thread when one more message waits
      const large = join(dir, 'large.eml');
      const line = `${'QUJD'.repeat(19)}\r\n`;
      writeFileSync(large, Buffer.concat([genuine, Buffer.from(line.repeat(Math.ceil(17e6 / line.length)))]));
      const at = { absPath: large, kind: 'eml' } as const;
      const bytes = statSync(large).size;
      analyzer = createAnalyzer(lookup, { workers: 2 });
      const two = [];
      for (let i = 0; i < 2; i++) two.push((await analyzer.submitAt(at, bytes)).result);
      await Promise.all(two);
      expect(analyzer.threadsStarted()).toBe(1);
      const three = [];
      for (let i = 0; i < 3; i++) three.push((await analyzer.submitAt(at, bytes)).result);
      await Promise.all(three);
      expect(analyzer.threadsStarted()).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('rejects with the read error of a file it cannot read, and goes on with the next', async () => {
    analyzer = createAnalyzer(lookup, { workers: 1 });
    const gone = await analyzer.submitAt({ absPath: join(DEMO, 'no such file.eml'), kind: 'eml' }, 10);
    const next = await analyzer.submitAt(file('inbox/2017-02-14 Q1 budget.eml'), size('inbox/2017-02-14 Q1 budget.eml'));
    await expect(gone.result).rejects.toMatchObject({ name: 'ReadError', code: 'vanished' });
    expect((await next.result).analysis.verdict.verdict).toBe('verified');
  }, 30_000);

  it('hashes whole files on a worker or on the main thread alike: any size, the chunk reused; an unreadable file is a read error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leakcheck-pool-'));
    const inline = createAnalyzer(lookup, { workers: 0 });
    analyzer = createAnalyzer(lookup, { workers: 1, perWorker: 3 });
    try {
      // Over the 1 MiB chunk, and not a multiple of it; then a small file read through the
      // same chunk: a stale tail from the large one would change its hash.
      const large = Buffer.alloc(2.5 * 1024 * 1024 + 17);
      for (let i = 0; i < large.length; i++) large[i] = (i * 31 + (i >> 11)) & 0xff;
      writeFileSync(join(dir, 'large.bin'), large);
      writeFileSync(join(dir, 'empty.bin'), '');
      const cases: Array<[string, Buffer]> = [['large.bin', large], ['inbox/2017-02-14 Q1 budget.eml', genuine], ['empty.bin', Buffer.alloc(0)]];
      for (const pool of [analyzer, inline]) {
        const pendingHashes = [];
        for (const [name, bytes] of cases) {
          const absPath = name.endsWith('.eml') ? join(DEMO, name) : join(dir, name);
          pendingHashes.push({ bytes, hashed: (await pool.hashAt(absPath, bytes.length)).result });
        }
        for (const { bytes, hashed } of pendingHashes) expect(await hashed).toBe(createHash('sha256').update(bytes).digest('hex'));
        await expect((await pool.hashAt(join(dir, 'gone.bin'), 10)).result).rejects.toMatchObject({ name: 'ReadError', code: 'vanished' });
        await expect((await pool.hashAt(dir, 10)).result).rejects.toMatchObject({ name: 'ReadError', code: 'unreadable' });
      }
      // and the worker still analyses after all that
      expect((await (await analyzer.submitAt(file('inbox/2017-02-14 Q1 budget.eml'), genuine.length)).result).analysis.verdict.verdict).toBe('verified');
    } finally {
      await inline.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('gives up a file past its time limit like any message, and hands on the file queued behind it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leakcheck-pool-'));
    try {
      writeFileSync(join(dir, 'slow.eml'), slow);
      analyzer = createAnalyzer(slowDns, { workers: 1, perWorker: 2, timeoutMs: 500 });
      const first = await analyzer.submitAt({ absPath: join(dir, 'slow.eml'), kind: 'eml' }, slow.length);
      const second = await analyzer.submitAt(file('inbox/2017-02-14 Q1 budget.eml'), size('inbox/2017-02-14 Q1 budget.eml'));
      await expect(first.result).rejects.toThrow(/made no progress within 2 s/);
      expect((await second.result).analysis.verdict.verdict).toBe('verified');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('analysis threads started before the pool', () => {
  afterEach(() => discardPrestartedThreads());

  it('reads --jobs from the arguments of verify as the CLI will, else one thread per core', () => {
    expect(threadsForArguments(['dump', '--jobs', '3'])).toBe(3);
    expect(threadsForArguments(['--jobs=0', 'dump'])).toBe(0);
    expect(threadsForArguments(['dump', '--jobs', 'many'])).toBe(defaultThreadCount());
    expect(threadsForArguments(['dump', '--', '--jobs', '1'])).toBe(defaultThreadCount());
    expect(threadsForArguments(['dump'])).toBe(defaultThreadCount());
  });

  it('are taken over by the pool, which stops the ones it does not need', async () => {
    const [first, second] = await Promise.all(prestartAnalysisThreads(2));
    const surplusStopped = new Promise((resolve) => second!.worker.once('exit', resolve));
    let answers = 0;
    first!.worker.on('message', () => answers++);
    analyzer = createAnalyzer(lookup, { workers: 1 });
    expect(takePrestartedThread()).toBeNull();
    await surplusStopped;
    const { result } = await analyzer.submit(Buffer.from(genuine), 'eml');
    expect((await result).verdict.verdict).toBe('verified');
    // the analysis came from the first thread started ahead: the pool took it over
    expect(answers).toBeGreaterThan(0);
  }, 30_000);

  it('are never handed a message once they have died', async () => {
    const [doomed, alive] = await Promise.all(prestartAnalysisThreads(2));
    await stopAnalysisThread(doomed!.worker);
    const taken = await takePrestartedThread();
    expect(taken?.worker).toBe(alive!.worker);
    await stopAnalysisThread(taken!.worker);
  }, 30_000);
});
