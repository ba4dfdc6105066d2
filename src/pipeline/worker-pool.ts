import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { analyzeMessage, type MessageAnalysis } from '../analyze/analyze-message.ts';
import type { ContainerKind } from '../discover/types.ts';
import type { KeyLookup } from '../keys/types.ts';
import type { FromWorker, ToWorker } from './analysis-worker.ts';

export interface Analyzer {
  /**
   * Waits until the pool can take the message (that wait is the back-pressure that keeps a
   * 2 GB mbox from being read faster than it is analysed), then returns its pending result.
   */
  submit(raw: Buffer, format: ContainerKind): Promise<{ result: Promise<MessageAnalysis> }>;
  close(): Promise<void>;
}

export interface PoolOptions {
  /** worker threads; 0 analyses on the main thread */
  workers: number;
  /** bytes of messages handed to workers and not yet analysed: what bounds memory */
  maxBytesInFlight?: number;
  /** messages queued per worker, so that a worker never waits for the next one */
  perWorker?: number;
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
  const perWorker = options.perWorker ?? 4;
  interface Slot { worker: Worker; busy: number }
  const slots: Slot[] = [];
  const tasks = new Map<number, { resolve: (a: MessageAnalysis) => void; reject: (e: Error) => void; bytes: number; slot: Slot }>();
  const waiters: Array<() => void> = [];
  let nextTask = 0;
  let bytesInFlight = 0;
  let closed = false;

  const release = (): void => {
    const wake = waiters.splice(0);
    for (const w of wake) w();
  };

  for (let i = 0; i < options.workers; i++) {
    const worker = new Worker(new URL('./analysis-worker.ts', import.meta.url));
    const slot: Slot = { worker, busy: 0 };
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'key') {
        lookup(message.name).then((answer) =>
          worker.postMessage({ type: 'key-answer', id: message.id, answer } satisfies ToWorker),
        );
        return;
      }
      const task = tasks.get(message.id);
      if (!task) return;
      tasks.delete(message.id);
      task.slot.busy--;
      bytesInFlight -= task.bytes;
      if (message.type === 'result') task.resolve(message.analysis as MessageAnalysis);
      else task.reject(new Error(message.message));
      release();
    });
    worker.on('error', (err) => {
      // A worker that dies takes its tasks with it: fail them, so the run records the error.
      for (const [id, task] of tasks) {
        if (task.slot !== slot) continue;
        tasks.delete(id);
        bytesInFlight -= task.bytes;
        task.reject(err);
      }
      slot.busy = Number.POSITIVE_INFINITY;
      release();
    });
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
    async submit(raw, format) {
      if (closed) throw new Error('analyzer closed');
      let slot = freeSlot(raw.length);
      while (!slot) {
        await new Promise<void>((resolve) => waiters.push(resolve));
        slot = freeSlot(raw.length);
      }
      const id = ++nextTask;
      slot.busy++;
      bytesInFlight += raw.length;
      const result = new Promise<MessageAnalysis>((resolve, reject) => tasks.set(id, { resolve, reject, bytes: raw.length, slot: slot! }));
      // A buffer of its own is handed over without a copy; a view into a larger one (Node's
      // small-buffer pool, an mbox chunk) is copied first, since that memory is not ours to give.
      const whole = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength && raw.buffer instanceof ArrayBuffer;
      const payload = whole ? new Uint8Array(raw.buffer) : new Uint8Array(raw);
      const message: ToWorker = { type: 'analyze', id, raw: payload, format };
      try {
        slot.worker.postMessage(message, [payload.buffer as ArrayBuffer]);
      } catch {
        slot.worker.postMessage(message); // an untransferable buffer is cloned instead
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
      const result = analyzeMessage({ raw, format }, lookup).finally(() => {
        running--;
        waiters.shift()?.();
      });
      return { result };
    },
    close: async () => undefined,
  };
}
