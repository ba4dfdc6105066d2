import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { MessageAnalysis } from '../analyze/analyze-message.ts';
import type { ContainerKind } from '../discover/types.ts';
import type { KeyLookup } from '../keys/types.ts';
import type { FromWorker, ToWorker } from './analysis-worker.ts';

export interface Analyzer {
  /**
   * Waits until the pool can take the message (that wait is the back-pressure that keeps a
   * 2 GB mbox from being read faster than it is analysed), then returns its pending result.
   */
  submit(raw: Buffer, format: ContainerKind, movable?: boolean): Promise<{ result: Promise<MessageAnalysis> }>;
  close(): Promise<void>;
}

export interface PoolOptions {
  /** worker threads; 0 analyses on the main thread */
  workers: number;
  /** bytes of messages handed to workers and not yet analysed: what bounds memory */
  maxBytesInFlight?: number;
  /** messages queued per worker, so that a worker never waits for the next one */
  perWorker?: number;
  /**
   * A message still being analysed after this long is given up (its worker is replaced): some
   * hostile inputs make parsers in mailauth take quadratic time, and one must not stall a run.
   */
  timeoutMs?: number;
}

export const defaultWorkers = (): number => availableParallelism();

/**
 * Runs analyzeMessage on a pool of worker threads, one per core by default. The main thread
 * keeps the key lookup (so each selector is resolved once per run, however many workers ask)
 * and bounds the bytes in flight, so that a dump of any size is analysed in bounded memory.
 */
export function createAnalyzer(lookup: KeyLookup, options: PoolOptions): Analyzer {
  if (options.workers <= 0) return inProcess(lookup, options.perWorker ?? 8);
  const maxBytes = options.maxBytesInFlight ?? 256 * 1024 * 1024;
  // One message per worker at a time: a message that has to be given up takes nothing else with it.
  const perWorker = options.perWorker ?? 1;
  // Generous for the size (a 256 MB message needs seconds, not minutes), short for a small one:
  // small messages built to make parsers quadratic are what runs into it.
  const timeoutFor = (bytes: number): number => options.timeoutMs ?? 5_000 + Math.ceil(bytes / 1_000_000) * 1_000;
  interface Slot { worker: Worker; busy: number }
  const slots: Slot[] = [];
  const tasks = new Map<number, { resolve: (a: MessageAnalysis) => void; reject: (e: Error) => void; bytes: number; slot: Slot; timer: NodeJS.Timeout }>();
  const waiters: Array<() => void> = [];
  let nextTask = 0;
  let bytesInFlight = 0;
  let closed = false;

  const release = (): void => {
    const wake = waiters.splice(0);
    for (const w of wake) w();
  };

  const settle = (id: number, outcome: { analysis?: MessageAnalysis; error?: Error }): void => {
    const task = tasks.get(id);
    if (!task) return;
    tasks.delete(id);
    clearTimeout(task.timer);
    task.slot.busy--;
    bytesInFlight -= task.bytes;
    if (outcome.error) task.reject(outcome.error);
    else task.resolve(outcome.analysis!);
    release();
  };

  const startWorker = (slot: Slot): void => {
    // A worker's heap is capped: garbage is collected as it goes, instead of piling up to the
    // default limit in each thread (a 7,000-message mbox otherwise shows as 700 MB of RSS).
    const worker = new Worker(new URL('./analysis-worker.ts', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: 384, maxYoungGenerationSizeMb: 16 },
    });
    slot.worker = worker;
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'key') {
        lookup(message.name).then((answer) => worker.postMessage({ type: 'key-answer', id: message.id, answer } satisfies ToWorker));
        return;
      }
      if (message.type === 'result') settle(message.id, { analysis: message.analysis as MessageAnalysis });
      else settle(message.id, { error: new Error(message.message) });
    });
    worker.on('error', (err) => {
      // A worker that dies takes its task with it: fail it, so the run records the error.
      for (const [id, task] of tasks) if (task.slot === slot) settle(id, { error: err });
      if (!closed) startWorker(slot);
    });
  };

  /** Gives up a message that takes too long: its worker is stopped and a fresh one takes its place. */
  const giveUp = (id: number): void => {
    const task = tasks.get(id);
    if (!task) return;
    const { slot } = task;
    settle(id, { error: new Error(`analysis timed out after ${timeoutFor(task.bytes) / 1000} s`) });
    const old = slot.worker;
    old.removeAllListeners('message');
    old.removeAllListeners('error');
    old.on('error', () => undefined);
    void old.terminate();
    if (!closed) startWorker(slot);
  };

  for (let i = 0; i < options.workers; i++) {
    const slot = { busy: 0 } as Slot;
    startWorker(slot);
    slots.push(slot);
  }

  const freeSlot = (bytes: number): Slot | null => {
    const open = slots.filter((s) => s.busy < perWorker).sort((a, b) => a.busy - b.busy)[0];
    if (!open) return null;
    // One message larger than the budget still runs, alone.
    if (bytesInFlight > 0 && bytesInFlight + bytes > maxBytes) return null;
    return open;
  };

  return {
    async submit(raw, format, movable = false) {
      if (closed) throw new Error('analyzer closed');
      let slot = freeSlot(raw.length);
      while (!slot) {
        await new Promise<void>((resolve) => waiters.push(resolve));
        slot = freeSlot(raw.length);
      }
      const id = ++nextTask;
      slot.busy++;
      bytesInFlight += raw.length;
      const result = new Promise<MessageAnalysis>((resolve, reject) =>
        tasks.set(id, { resolve, reject, bytes: raw.length, slot: slot!, timer: setTimeout(() => giveUp(id), timeoutFor(raw.length)) }),
      );
      // Moved when the caller can read the bytes again to record a failed analysis (a file of the
      // dump), so that a 50 MB message is not held twice; copied otherwise.
      const view = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
      if (movable && raw.buffer instanceof ArrayBuffer) {
        slot.worker.postMessage({ type: 'analyze', id, raw: view, format } satisfies ToWorker, [raw.buffer]);
      } else {
        slot.worker.postMessage({ type: 'analyze', id, raw: view, format } satisfies ToWorker);
      }
      return { result };
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

/** The same contract on the main thread (--jobs 0): for debugging, and for profiling one thread. */
function inProcess(lookup: KeyLookup, concurrency: number): Analyzer {
  let running = 0;
  const waiters: Array<() => void> = [];
  return {
    async submit(raw, format) {
      while (running >= concurrency) await new Promise<void>((resolve) => waiters.push(resolve));
      running++;
      // Loaded here, not at the top: with workers, the main thread never needs mailauth and
      // the parsers (40 MB of memory per thread that loads them).
      const { analyzeMessage } = await import('../analyze/analyze-message.ts');
      const result = analyzeMessage({ raw, format }, lookup).finally(() => {
        running--;
        waiters.shift()?.();
      });
      return { result };
    },
    close: async () => undefined,
  };
}
