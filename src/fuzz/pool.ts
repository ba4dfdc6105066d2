/**
 * Runs fuzz cases on worker threads with a watchdog. A case that takes longer than `timeoutMs`
 * (a hang, synchronous or not), that exhausts a worker's heap, or that crashes its thread is a
 * failure naming the seed and case; the worker is replaced and the run goes on. Every case
 * number ends up with exactly one outcome.
 */
import { defaultThreadBudget } from '../pipeline/thread-budget.ts';
import { Worker } from 'node:worker_threads';
import type { ContainerKind } from '../discover/types.ts';
import { startThread, stopThread } from '../pipeline/thread-lifecycle.ts';
import { readThreadTime, withinTimeLimit } from '../pipeline/worker-progress.ts';
import type { ExplicitCase, FromWorker, ToWorker, WorkerData } from './worker.ts';

export interface FuzzOptions {
  seed: number;
  /** cases 0 .. cases-1 */
  cases: number;
  /** the seed messages to mutate; not needed when `inputs` are given */
  dumpRoot?: string;
  /** messages to analyse as they are (case i is inputs[i]) instead of generated cases */
  inputs?: ReadonlyArray<{ name: string; bytes: Buffer; format: ContainerKind }>;
  keysPath: string;
  /** stop handing out cases once this many have failed (the rest stay unaccounted) */
  maxFailures?: number;
  workers?: number;
  timeoutMs?: number;
  /** heap limit per worker thread: a case that needs more is a failure */
  maxHeapMb?: number;
  batchSize?: number;
  onProgress?: (progress: { done: number; cases: number; failures: number }) => void;
}

export interface FuzzFailure {
  seed: number;
  caseIndex: number;
  seedName: string | null;
  ops: string[];
  failures: string[];
}

export interface FuzzReport {
  seed: number;
  cases: number;
  /** case numbers with an outcome; equals `cases` unless the run itself broke */
  accounted: number;
  verdicts: Record<string, number>;
  byOp: Record<string, number>;
  failures: FuzzFailure[];
  seedMessages: number;
  seedVerdicts: Record<string, number>;
  slowestMs: number;
  slowestCase: number;
  elapsedMs: number;
}

const WORKER_URL = new URL('./worker.ts', import.meta.url);
const STARTUP_TIMEOUT_MS = 60_000;

interface Slot {
  worker: Worker;
  current: Int32Array;
  ready: boolean;
  batch: number[];
  /** case seen running at the last watchdog tick, since when, and its thread's CPU time then (ms; null where the system does not tell) */
  watched: { caseIndex: number; since: number; cpuMs: number | null };
  dead: boolean;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 5_000;
  const batchSize = options.batchSize ?? 20;
  const workerCount = Math.max(1, Math.min(options.workers ?? defaultThreadBudget().threads, options.cases));
  if (options.inputs && options.inputs.length !== options.cases) throw new Error('cases must equal inputs.length');
  if (!options.inputs && !options.dumpRoot) throw new Error('either dumpRoot or inputs is needed');
  const queue: number[] = Array.from({ length: options.cases }, (_, i) => i);
  queue.reverse(); // pop() from the end hands out low case numbers first
  const outcomes = new Map<number, { verdict: string | null }>();
  const report: FuzzReport = {
    seed: options.seed,
    cases: options.cases,
    accounted: 0,
    verdicts: {},
    byOp: {},
    failures: [],
    seedMessages: 0,
    seedVerdicts: {},
    slowestMs: 0,
    slowestCase: -1,
    elapsedMs: 0,
  };

  return new Promise<FuzzReport>((resolveRun, rejectRun) => {
    const slots = new Set<Slot>();
    let finished = false;
    let startupFailures = 0;
    /** threads asked for and not yet started (see thread-lifecycle.ts): the run is not over while one is coming */
    let spawning = 0;

    const record = (caseIndex: number, verdict: string | null, failure: FuzzFailure | null): void => {
      if (outcomes.has(caseIndex)) return;
      outcomes.set(caseIndex, { verdict });
      const key = verdict ?? 'none';
      report.verdicts[key] = (report.verdicts[key] ?? 0) + 1;
      if (failure) report.failures.push(failure);
      options.onProgress?.({ done: outcomes.size, cases: options.cases, failures: report.failures.length });
    };

    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      for (const slot of slots) {
        slot.dead = true;
        void stopThread(slot.worker);
      }
      report.accounted = outcomes.size;
      report.failures.sort((a, b) => a.caseIndex - b.caseIndex);
      report.elapsedMs = performance.now() - started;
      resolveRun(report);
    };

    const assign = (slot: Slot): void => {
      if (slot.dead) return;
      slot.batch = [];
      if (options.maxFailures !== undefined && report.failures.length >= options.maxFailures) queue.length = 0;
      while (slot.batch.length < batchSize && queue.length > 0) slot.batch.push(queue.pop()!);
      if (slot.batch.length === 0) {
        slot.dead = true;
        slots.delete(slot);
        slot.worker.postMessage({ type: 'exit' } satisfies ToWorker);
        void stopThread(slot.worker);
        if (slots.size === 0 && spawning === 0) finish();
        return;
      }
      slot.watched = { caseIndex: -1, since: performance.now(), cpuMs: null };
      const inputs = options.inputs;
      const cases: Array<number | ExplicitCase> = inputs
        ? slot.batch.map((caseIndex) => ({ caseIndex, name: inputs[caseIndex]!.name, bytes: inputs[caseIndex]!.bytes, format: inputs[caseIndex]!.format }))
        : slot.batch;
      slot.worker.postMessage({ type: 'run', cases } satisfies ToWorker);
    };

    /** The worker is gone: its running case failed with `why`, its unstarted cases go back in the queue. */
    const lose = (slot: Slot, why: string): void => {
      if (slot.dead) return;
      slot.dead = true;
      slots.delete(slot);
      void stopThread(slot.worker);
      if (!slot.ready) {
        startupFailures++;
        if (startupFailures >= 3) {
          finished = true;
          clearInterval(watchdog);
          for (const other of slots) void stopThread(other.worker);
          rejectRun(new Error(`fuzz worker failed to start: ${why}`));
          return;
        }
      }
      const running = Atomics.load(slot.current, 0);
      if (running >= 0) {
        const seedName = options.inputs?.[running]?.name ?? null;
        record(running, null, { seed: options.seed, caseIndex: running, seedName, ops: [], failures: [why] });
      }
      for (const caseIndex of slot.batch) if (!outcomes.has(caseIndex) && caseIndex !== running) queue.push(caseIndex);
      if (options.maxFailures !== undefined && report.failures.length >= options.maxFailures) queue.length = 0;
      if (queue.length > 0) spawn();
      else if (slots.size === 0 && spawning === 0) finish();
    };

    const spawn = (): void => {
      // [case running now, the worker thread's id]
      const shared = new SharedArrayBuffer(8);
      const current = new Int32Array(shared);
      Atomics.store(current, 0, -1);
      spawning++;
      startThread(
        () =>
          new Worker(WORKER_URL, {
            workerData: { seed: options.seed, dumpRoot: options.inputs ? null : (options.dumpRoot ?? null), keysPath: options.keysPath, current: shared } satisfies WorkerData,
            execArgv: [],
            resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? 512 },
            stdout: false,
            stderr: false,
          }),
      ).then(
        (worker) => {
          spawning--;
          if (finished) void stopThread(worker);
          else watch(worker, current);
        },
        (err: unknown) => {
          spawning--;
          finished = true;
          clearInterval(watchdog);
          for (const other of slots) void stopThread(other.worker);
          rejectRun(err instanceof Error ? err : new Error(String(err)));
        },
      );
    };

    const watch = (worker: Worker, current: Int32Array): void => {
      const slot: Slot = { worker, current, ready: false, batch: [], watched: { caseIndex: -1, since: performance.now(), cpuMs: null }, dead: false };
      slots.add(slot);
      worker.on('message', (message: FromWorker) => {
        if (slot.dead) return;
        switch (message.type) {
          case 'ready':
            slot.ready = true;
            report.seedMessages = message.seeds;
            report.seedVerdicts = message.seedVerdicts;
            assign(slot);
            break;
          case 'outcome':
            for (const op of message.ops) report.byOp[op.replace(/\(.*$/, '')] = (report.byOp[op.replace(/\(.*$/, '')] ?? 0) + 1;
            if (message.ms > report.slowestMs) {
              report.slowestMs = message.ms;
              report.slowestCase = message.caseIndex;
            }
            record(
              message.caseIndex,
              message.verdict,
              message.failures.length
                ? { seed: options.seed, caseIndex: message.caseIndex, seedName: message.seedName, ops: message.ops, failures: message.failures }
                : null,
            );
            break;
          case 'batch-done':
            assign(slot);
            break;
        }
      });
      worker.on('error', (error) => lose(slot, `worker crashed: ${error.name}: ${error.message}`));
      worker.on('exit', (code) => lose(slot, `worker exited with code ${code}`));
    };

    // Startup (loading modules and seed messages) is not a case: it gets a generous allowance.
    const watchdog = setInterval(() => {
      const now = performance.now();
      for (const slot of slots) {
        if (!slot.ready) {
          if (now - slot.watched.since > STARTUP_TIMEOUT_MS) lose(slot, `worker did not start within ${STARTUP_TIMEOUT_MS} ms`);
          continue;
        }
        const running = Atomics.load(slot.current, 0);
        // the thread's id, which the worker writes as it starts, tells its CPU time: a case is
        // given the CPU time the limit allows, however loaded the machine (withinTimeLimit)
        const tid = Atomics.load(slot.current, 1);
        const thread = tid > 0 ? readThreadTime(tid) : null;
        if (running !== slot.watched.caseIndex) {
          slot.watched = { caseIndex: running, since: now, cpuMs: thread?.cpuMs ?? null };
        } else if (running >= 0) {
          const spent = thread && slot.watched.cpuMs !== null ? { cpuMs: thread.cpuMs - slot.watched.cpuMs } : null;
          if (!withinTimeLimit(now - slot.watched.since, timeoutMs, spent)) lose(slot, `hang: no result after ${timeoutMs} ms (seed ${options.seed}, case ${running})`);
        }
      }
    }, Math.max(50, Math.min(250, timeoutMs / 10)));

    for (let i = 0; i < workerCount; i++) spawn();
  });
}
