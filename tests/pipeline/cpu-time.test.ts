import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuTimeSoFar, type CpuTime } from '../../src/pipeline/cpu-time.ts';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_DUMP, DEMO_KEYS, tempDir } from '../helpers/cli.ts';

/** Spins the calling thread until it has used `MS` ms of CPU of its own, however loaded the machine. */
const BUSY = 'const ms = () => { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; }; const until = ms() + MS; while (ms() < until);';
const spinHere = (ms: number): void => void new Function(BUSY.replace('MS', String(ms)))();
const spinInThread = (ms: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const worker = new Worker(BUSY.replace('MS', String(ms)), { eval: true });
    worker.once('error', reject).once('exit', () => resolve());
  });

describe('cpuTimeSoFar', () => {
  it("tells the main thread's CPU time from the other threads', those already exited included", async () => {
    const before = cpuTimeSoFar();
    await spinInThread(300);
    const afterThread = cpuTimeSoFar();
    spinHere(300);
    const afterMain = cpuTimeSoFar();
    // (each spin uses 300 ms of its thread's CPU; the figures are rounded to the millisecond)
    const ofThread = afterThread.processMs - before.processMs;
    const mainDuringThread = afterThread.mainThreadMs! - before.mainThreadMs!;
    expect(ofThread).toBeGreaterThanOrEqual(299);
    expect(mainDuringThread).toBeLessThan(ofThread / 2);
    const mainDuringSpin = afterMain.mainThreadMs! - afterThread.mainThreadMs!;
    expect(mainDuringSpin).toBeGreaterThanOrEqual(299);
    expect(afterMain.processMs - afterThread.processMs).toBeGreaterThanOrEqual(mainDuringSpin - 5);
  });
});

describe("a run's counts", () => {
  const tmp = tempDir('leakcheck-cpu-time-');
  afterAll(() => tmp.cleanup());

  it('keep the CPU time the run used, all threads and the main thread apart', async () => {
    const db = join(tmp.path, 'cpu.db');
    const before = cpuTimeSoFar();
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: db, keyFiles: [DEMO_KEYS], offline: true, concurrency: 2 });
    const after = cpuTimeSoFar();
    const store = new Database(db, { readonly: true });
    const counts = JSON.parse(store.prepare('SELECT counts_json FROM runs ORDER BY id DESC LIMIT 1').pluck().get() as string) as { cpu: CpuTime; messages: number };
    store.close();
    expect(counts.messages).toBeGreaterThan(0);
    // read as the run ended: between what this process had used before it and after it
    expect(counts.cpu.processMs).toBeGreaterThan(before.processMs);
    expect(counts.cpu.processMs).toBeLessThanOrEqual(after.processMs);
    expect(counts.cpu.mainThreadMs).toBeGreaterThan(before.mainThreadMs!);
    expect(counts.cpu.mainThreadMs).toBeLessThanOrEqual(after.mainThreadMs!);
    // the analysis ran on two other threads, whose time only the process's counts
    expect(counts.cpu.processMs - before.processMs).toBeGreaterThan(counts.cpu.mainThreadMs! - before.mainThreadMs!);
  });
});

describe("a run's analysis threads", () => {
  const tmp = tempDir('leakcheck-run-threads-');
  afterAll(() => tmp.cleanup());
  const threadsOf = (db: string): unknown => {
    const store = new Database(db, { readonly: true });
    try {
      return (JSON.parse(store.prepare('SELECT counts_json FROM runs ORDER BY id DESC LIMIT 1').pluck().get() as string) as { analysisThreads?: unknown }).analysisThreads;
    } finally {
      store.close();
    }
  };

  it('are counted as started: one for the demo dump, which never fills it, two allowed; none when the analysis runs on the main thread', async () => {
    const pooled = join(tmp.path, 'pooled.db');
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: pooled, keyFiles: [DEMO_KEYS], offline: true, concurrency: 2 });
    expect(threadsOf(pooled)).toBe(1);
    const inline = join(tmp.path, 'inline.db');
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: inline, keyFiles: [DEMO_KEYS], offline: true, concurrency: 0 });
    expect(threadsOf(inline)).toBe(0);
  });
});
