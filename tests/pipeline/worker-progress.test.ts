import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkerProgress, STARVED_LIMIT_FACTOR, withinTimeLimit } from '../../src/pipeline/worker-progress.ts';

/*
 * The time limit of a message is meant for the CPU time its analysis takes: a message built to
 * make a parser quadratic. Timed by the clock alone, the same message was analysed on an idle
 * machine and given up on a loaded one, and the same dump gave two verdicts (red teams 27, 28).
 * A thread goes on until it has spent the limit in CPU time, with a backstop in elapsed time.
 */
describe('the time limit counts the CPU time a thread was given', () => {
  const LIMIT = 5_000;
  it('before the limit, every analysis goes on', () => {
    expect(withinTimeLimit(LIMIT, LIMIT, null)).toBe(true);
    expect(withinTimeLimit(10, LIMIT, { cpuMs: 0 })).toBe(true);
  });

  it('past it, a thread that had less CPU time than the limit goes on, whether or not it is running at that instant, up to a bound', () => {
    expect(withinTimeLimit(LIMIT + 1, LIMIT, { cpuMs: 1_200 })).toBe(true);
    expect(withinTimeLimit(LIMIT * STARVED_LIMIT_FACTOR, LIMIT, { cpuMs: 4_900 })).toBe(true);
    expect(withinTimeLimit(LIMIT * STARVED_LIMIT_FACTOR, LIMIT, { cpuMs: 0 })).toBe(true);
    expect(withinTimeLimit(LIMIT * STARVED_LIMIT_FACTOR + 1, LIMIT, { cpuMs: 1_200 })).toBe(false);
  });

  it('past it, a thread that spent the limit in CPU, and one the system says nothing of, are given up', () => {
    expect(withinTimeLimit(LIMIT + 1, LIMIT, { cpuMs: LIMIT })).toBe(false);
    expect(withinTimeLimit(LIMIT + 1, LIMIT, null)).toBe(false);
  });
});

describe("a worker's progress tells its thread's CPU time", () => {
  let worker: Worker | null = null;
  afterEach(async () => {
    await worker?.terminate();
    worker = null;
  });

  it('the CPU time a busy thread spends since it started a message', async () => {
    const progress = createWorkerProgress();
    // the worker marks a message started, spins for 300 ms of CPU, then waits
    worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       import(workerData.module).then(({ progressWriter }) => {
         const writer = progressWriter(workerData.shared);
         writer.start(7);
         // 300 ms of its own CPU time, however loaded the machine is
         const cpu = () => { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; };
         const until = cpu() + 300;
         while (cpu() < until);
         parentPort.postMessage('spun');
         setInterval(() => {}, 1000);
       });`,
      { eval: true, workerData: { shared: progress.shared, module: new URL('../../src/pipeline/worker-progress.ts', import.meta.url).href } },
    );
    await new Promise((resolve) => worker!.once('message', resolve));
    const current = progress.current();
    expect(current?.id).toBe(7);
    const thread = progress.threadTime();
    if (process.platform !== 'linux') {
      expect(thread).toBeNull();
      return;
    }
    expect(thread).not.toBeNull();
    const spent = thread!.cpuMs - current!.cpuAtStartMs;
    expect(spent).toBeGreaterThanOrEqual(250);
    expect(spent).toBeLessThan(5_000);
  });
});
