import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { MessageAnalysis } from '../analyze/analyze-message.ts';
import type { ContainerKind } from '../discover/types.ts';
import type { KeyAnswer, KeyLookup } from '../keys/types.ts';
import type { FromWorker, ToWorker } from './analysis-worker.ts';

export interface Analyzer {
  /**
   * Waits until the pool can take the message (that wait is the back-pressure that keeps a
   * 2 GB mbox from being read faster than it is analysed), then returns its pending result.
   */
  submit(raw: Buffer, format: ContainerKind, reread?: () => Buffer): Promise<{ result: Promise<MessageAnalysis> }>;
  close(): Promise<void>;
}

export interface PoolOptions {
  /** worker threads; 0 analyses on the main thread */
  workers: number;
  /** bytes of messages handed to workers and not yet analysed: what bounds memory */
  maxBytesInFlight?: number;
  /**
   * messages handed to each worker at once: it analyses them one after the other, and the next
   * one is there as soon as it finishes, even while the main thread is busy writing a batch
   */
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
  const perWorker = options.perWorker ?? 2;
  // Generous for the size (a 256 MB message needs seconds, not minutes), short for a small one:
  // small messages built to make parsers quadratic are what runs into it.
  const timeoutFor = (bytes: number): number => options.timeoutMs ?? 5_000 + Math.ceil(bytes / 1_000_000) * 1_000;
  interface Slot { worker: Worker; busy: number }
  interface Task {
    resolve: (a: MessageAnalysis) => void;
    reject: (e: Error) => void;
    bytes: number;
    slot: Slot;
    /** set once the worker has started on it: the time limit counts from then */
    timer: NodeJS.Timeout | null;
    format: ContainerKind;
    /** the bytes, to hand over again if its worker is replaced before finishing it */
    again: () => Buffer;
    moved: boolean;
  }
  const slots: Slot[] = [];
  const tasks = new Map<number, Task>();
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
    if (task.timer) clearTimeout(task.timer);
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
        // A lookup that fails is still an answer: the worker must never wait for one forever.
        lookup(message.name)
          .catch((err: unknown): KeyAnswer => ({ status: 'error', name: message.name, code: 'ELOOKUP', detail: err instanceof Error ? err.message : String(err) }))
          .then((answer) => worker.postMessage({ type: 'key-answer', id: message.id, answer } satisfies ToWorker));
        return;
      }
      if (message.type === 'started') {
        const task = tasks.get(message.id);
        if (task) task.timer = setTimeout(() => giveUp(message.id), timeoutFor(task.bytes));
        return;
      }
      if (message.type === 'result') settle(message.id, { analysis: message.analysis as MessageAnalysis });
      else settle(message.id, { error: new Error(message.message) });
    });
    worker.on('error', (err) => {
      // A worker that dies takes the task it was on with it: fail that one, so the run records
      // the error; the ones waiting behind it go to the fresh worker.
      // (A worker that died before starting anything, one that cannot even load, fails them all:
      // every crash must settle something, or the run would go round in circles.)
      const own = [...tasks].filter(([, task]) => task.slot === slot);
      const started = own.filter(([, task]) => task.timer);
      for (const [id] of started.length ? started : own) settle(id, { error: err });
      replace(slot);
    });
  };

  const post = (id: number, task: Task, raw: Buffer): void => {
    const view = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    const message = { type: 'analyze', id, raw: view, format: task.format } satisfies ToWorker;
    // The caller vouches that nothing else uses the memory behind `raw` (its whole ArrayBuffer
    // moves, even when `raw` is a view of part of it). Node refuses to move its shared pool of
    // small buffers (DataCloneError): such a message is copied.
    if (task.moved && raw.buffer instanceof ArrayBuffer) {
      try {
        task.slot.worker.postMessage(message, [raw.buffer]);
        return;
      } catch (err) {
        if ((err as Error).name !== 'DataCloneError') throw err;
      }
    }
    task.slot.worker.postMessage(message);
  };

  /** A fresh worker in the slot, given the tasks the old one had not started. */
  const replace = (slot: Slot): void => {
    if (closed) return;
    startWorker(slot);
    for (const [id, task] of tasks) {
      if (task.slot !== slot) continue;
      try {
        post(id, task, task.again());
      } catch (err) {
        settle(id, { error: err instanceof Error ? err : new Error(String(err)) });
      }
    }
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
    replace(slot);
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
    async submit(raw, format, reread) {
      if (closed) throw new Error('analyzer closed');
      let slot = freeSlot(raw.length);
      while (!slot) {
        await new Promise<void>((resolve) => waiters.push(resolve));
        slot = freeSlot(raw.length);
      }
      const id = ++nextTask;
      slot.busy++;
      bytesInFlight += raw.length;
      // Moved when the caller can read the bytes again (a file of the dump), so that a 50 MB
      // message is not held twice; copied otherwise, and kept here to be handed over again.
      const moved = !!reread;
      const again = reread ?? ((): Buffer => raw);
      let task!: Task;
      const result = new Promise<MessageAnalysis>((resolve, reject) => {
        task = { resolve, reject, bytes: raw.length, slot: slot!, timer: null, format, again, moved };
        tasks.set(id, task);
      });
      post(id, task, raw);
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
