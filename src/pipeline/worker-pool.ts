import type { Worker } from 'node:worker_threads';
import type { AnalysisOptions, MessageAnalysis } from '../analyze/analyze-message.ts';
import type { ContainerKind } from '../discover/types.ts';
import type { KeyAnswer, KeyLookup } from '../keys/types.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, hashFileSync, readMessageAt, type MessageLocation } from '../read/read-container.ts';
import { ReadError, type RawMessage } from '../read/types.ts';
import type { ZipEntryLocation } from '../read/zip.ts';
import { sha256OfZipEntry } from '../read/zip-entry.ts';
import type { FromWorker, TaskAnswer, ToWorker } from './analysis-worker.ts';
import { discardPrestartedThreads, startAnalysisThread, stopAnalysisThread, takePrestartedThread } from './analysis-threads.ts';
import { MessageRing } from './message-ring.ts';
import { STARVED_LIMIT_FACTOR, withinTimeLimit, type WorkerProgress } from './worker-progress.ts';
import { ANSWER_BATCH, receiveAnalysis } from './posted-analysis.ts';

export interface Analyzer {
  /**
   * A message already in memory (a zip entry, a forwarded message): copied to the worker, and
   * kept here until its result. Waits until the pool can take it (that wait is the back-pressure
   * that keeps the bytes in flight bounded), then returns its pending result.
   */
  submit(raw: Buffer, format: ContainerKind): Promise<{ result: Promise<MessageAnalysis> }>;
  /**
   * Memory for messages this thread assembles (an mbox inside a zip), shared with the workers:
   * `submit` tells a worker where such a message lies instead of copying it, and the caller gives
   * the memory back once the result is in. Null when analysis runs on this thread (`--jobs 0`).
   */
  messageMemory(): MessageRing | null;
  /**
   * A message the analysing thread reads itself, into memory it reuses: the one message of a
   * single-message file, or one message of a scanned mbox. Its bytes never pass through the
   * main thread. A message that cannot be read rejects with its ReadError; one that cannot be
   * analysed, with any other error.
   */
  submitAt(location: MessageLocation, size: number): Promise<{ result: Promise<FileAnalysis> }>;
  /**
   * The sha256 of a whole file (`verify --rehash`), read and hashed by an analysing thread, so
   * that re-reading a dump runs on every core. Rejects with a ReadError if it cannot be read.
   * With `entry`: that entry of the zip archive at `absPath` (`size` its inflated size), inflated
   * as a stream under the archive's guards (sha256OfZipEntry).
   */
  hashAt(absPath: string, size: number, entry?: ZipEntryLocation): Promise<{ result: Promise<string> }>;
  /**
   * Messages the pool can hold at once now: every thread's hands, larger while the first thread
   * loads (WARMING_TASKS), or what a thread still holds from then. What a caller keeps in
   * progress to keep them full: a thread is started only when those started are full, so a
   * caller that held back sooner would keep a machine of many cores to the few threads started
   * by then.
   */
  holds(): number;
  /** Threads started so far (a replaced one not counted again): fewer than asked for on a small dump. */
  threadsStarted(): number;
  close(): Promise<void>;
}

/** A worker's answer for a task it did: a message analysed, a file hashed. */
type WorkerResult = Extract<TaskAnswer, { type: 'result' | 'hashed' }>;

/** Each kind of task gets back its own kind of answer; anything else is a bug. */
function answerOf<T extends WorkerResult['type']>(type: T, answer: WorkerResult): Extract<WorkerResult, { type: T }> {
  if (answer.type !== type) throw new Error(`a worker answered a ${type} task with ${answer.type}`);
  return answer as Extract<WorkerResult, { type: T }>;
}

/** Where the message lies in its file, and its analysis. */
export interface FileAnalysis {
  message: Omit<RawMessage, 'raw'>;
  analysis: MessageAnalysis;
}

export interface PoolOptions {
  /** worker threads; 0 analyses on the main thread */
  workers: number;
  /** the run's analysis options (the defaults if not given) */
  analysis?: AnalysisOptions;
  /** bytes of messages handed to workers and not yet analysed: what bounds memory */
  maxBytesInFlight?: number;
  /**
   * messages handed to each worker at once: it analyses them one after the other, and the next
   * one is there as soon as it finishes, even while the main thread is busy writing a batch or
   * the worker's answers wait for their batch (TASKS_PER_WORKER by default)
   */
  perWorker?: number;
  /** messages a thread may hold while the first one loads its code (WARMING_TASKS by default) */
  perWarmingWorker?: number;
  /**
   * A message still being analysed after this long is given up (its worker is replaced): some
   * hostile inputs make parsers in mailauth take quadratic time, and one must not stall a run.
   */
  timeoutMs?: number;
}

/**
 * Messages in a worker's hands at once: two batches of answers (ANSWER_BATCH), so that while one
 * batch goes back to the main thread, the worker has the next one to work on.
 */
export const TASKS_PER_WORKER = 2 * ANSWER_BATCH;

/**
 * Messages the first thread may hold while it loads its code (0.25-0.3 s), past which another
 * thread is started. Its usual 16 (TASKS_PER_WORKER) say nothing then: a small dump, such as the
 * demo's 30 messages or one a test or a reader checks, is all handed over before the thread can
 * start on it, and the second thread that used to start for it cost 0.35 s of CPU, for a run
 * longer than with one thread (0.85 s against 0.7 s). 64 messages are 0.05-0.15 s of a
 * loaded thread's work; a large dump hands them over within 20 ms of the start, so the second
 * thread starts as early as before. The allowance ends when the first thread has answered and
 * holds fewer than its usual 16 (it has caught up: the dump is small), or when every thread has
 * started (nothing is left to decide).
 */
export const WARMING_TASKS = 64;

/**
 * Bytes of messages in a thread's hands, one at least waiting, past which another thread is
 * started: a tenth of a second of a thread's work or less (it hashes and scans large messages
 * at 150-300 MB/s), about what a new thread takes to start. (Twelve 12 MB messages took 1.1 s
 * with one thread and with two: the second starts too late to pay there, and costs nothing.)
 */
const LAUNCH_BYTES = 16 * 1024 * 1024;

/** How often the time limits are looked at: they are seconds long, so a tenth of one is close enough. */
const WATCHDOG_MS = 100;

/**
 * Runs analyzeMessage on a pool of worker threads, one per core by default. The main thread
 * keeps the key lookup (so each selector is resolved once per run, however many workers ask)
 * and bounds the bytes in flight, so that a dump of any size is analysed in bounded memory.
 */
export function createAnalyzer(lookup: KeyLookup, options: PoolOptions): Analyzer {
  if (options.workers <= 0) {
    discardPrestartedThreads();
    return inProcess(lookup, options.perWorker ?? 8, options.analysis);
  }
  const maxBytes = options.maxBytesInFlight ?? 256 * 1024 * 1024;
  const perWorker = options.perWorker ?? TASKS_PER_WORKER;
  const perWarmingWorker = Math.max(perWorker, options.perWarmingWorker ?? WARMING_TASKS);
  // See WARMING_TASKS. With one thread, there is no other to start.
  let warming = options.workers > 1;
  const hands = (): number => (warming ? perWarmingWorker : perWorker);
  // Generous for the size (a 256 MB message needs seconds, not minutes), short for a small one:
  // small messages built to make parsers quadratic are what runs into it.
  const timeoutFor = (bytes: number): number => options.timeoutMs ?? 5_000 + Math.ceil(bytes / 1_000_000) * 1_000;
  /** A thread of the pool, made when the pool has work enough for it (see freeSlot), never ahead: `--jobs` may be large. */
  interface Slot {
    /** null while its thread starts: its tasks are handed over once it is there */
    worker: Worker | null;
    busy: number;
    /** the sizes of the messages it holds */
    bytes: number;
    progress: WorkerProgress | null;
    /** settles when the thread being started is there (or the pool closed meanwhile) */
    started: Promise<void>;
    /** why its thread could not be started: it takes no tasks */
    failed?: Error;
  }
  interface Task {
    resolve: (done: WorkerResult) => void;
    reject: (e: Error) => void;
    /** bytes held on the main thread for it: what the in-flight budget counts */
    bytes: number;
    /** bytes the worker analyses: what the time limit is set for */
    size: number;
    slot: Slot;
    /** hands the task to its slot's worker: again, to a fresh worker, if the old one is replaced */
    send: (id: number, worker: Worker) => void;
  }
  const slots: Slot[] = [];
  const tasks = new Map<number, Task>();
  const waiters: Array<() => void> = [];
  let nextTask = 0;
  let bytesInFlight = 0;
  let closed = false;
  const ring = new MessageRing();

  const release = (): void => {
    const wake = waiters.splice(0);
    for (const w of wake) w();
  };

  const settle = (id: number, outcome: { done?: WorkerResult; error?: Error }): void => {
    const task = tasks.get(id);
    if (!task) return;
    tasks.delete(id);
    task.slot.busy--;
    task.slot.bytes -= task.size;
    bytesInFlight -= task.bytes;
    if (outcome.error) task.reject(outcome.error);
    else task.resolve(outcome.done!);
    release();
  };

  /**
   * Puts a thread in the slot (one started ahead, else a fresh one), then hands it every task of
   * the slot: those queued while it started, and those a replaced thread had not finished.
   */
  const startWorker = (slot: Slot): void => {
    // (with every thread started, nothing is left to decide: see WARMING_TASKS)
    if (slots.length >= options.workers) warming = false;
    slot.worker = null;
    slot.started = (takePrestartedThread() ?? startAnalysisThread()).then(({ worker, progress }) => {
      if (closed) {
        void stopAnalysisThread(worker);
        return;
      }
      attach(slot, worker);
      slot.worker = worker;
      slot.progress = progress;
      for (const [id, task] of tasks) {
        if (task.slot !== slot) continue;
        try {
          task.send(id, worker);
        } catch (err) {
          settle(id, { error: err instanceof Error ? err : new Error(String(err)) });
        }
      }
      release();
    }, (err: unknown) => {
      // A thread that cannot even be created (no memory for one): the slot's tasks fail with
      // why, and the slot takes no more. Retrying would go round in circles.
      slot.failed = err instanceof Error ? err : new Error(String(err));
      for (const [id, task] of tasks) if (task.slot === slot) settle(id, { error: slot.failed });
      release();
    });
  };

  const attach = (slot: Slot, worker: Worker): void => {
    if (options.analysis) worker.postMessage({ type: 'configure', options: options.analysis } satisfies ToWorker);
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'key') {
        // A lookup that fails is still an answer: the worker must never wait for one forever.
        lookup(message.name)
          .catch((err: unknown): KeyAnswer => ({ status: 'error', name: message.name, code: 'ELOOKUP', detail: err instanceof Error ? err.message : String(err) }))
          .then((answer) => worker.postMessage({ type: 'key-answer', id: message.id, answer } satisfies ToWorker));
        return;
      }
      for (const answer of message.answers) {
        if (answer.type === 'result' || answer.type === 'hashed') settle(answer.id, { done: answer });
        else if (answer.type === 'read-error') settle(answer.id, { error: new ReadError(answer.code, answer.message) });
        else settle(answer.id, { error: new Error(answer.message) });
      }
      // (see WARMING_TASKS: this thread has caught up)
      if (warming && slot.busy < perWorker) warming = false;
    });
    worker.on('error', (err) => {
      // A worker that dies takes the task it was on with it: fail that one, so the run records
      // the error; the ones waiting behind it go to the fresh worker.
      // (A worker that died before starting anything, one that cannot even load, fails them all:
      // every crash must settle something, or the run would go round in circles.)
      const own = [...tasks].filter(([, task]) => task.slot === slot);
      const current = slot.progress?.current()?.id;
      const started = own.filter(([id]) => id === current);
      for (const [id] of started.length ? started : own) settle(id, { error: err });
      retire(slot, worker);
    });
  };

  /**
   * Stops the slot's thread and starts a fresh one, given the tasks the old one had not
   * finished. The fresh one starts only once the old one has exited (thread-lifecycle.ts).
   */
  const retire = (slot: Slot, old: Worker): void => {
    old.removeAllListeners('message');
    old.removeAllListeners('error');
    old.on('error', () => undefined);
    void stopAnalysisThread(old);
    if (!closed) startWorker(slot);
  };

  /**
   * Gives up a message that takes too long: its worker is stopped and a fresh one takes its place.
   * The reason, which the message's explanation quotes, names the limit and not the CPU time
   * measured, so that the same message gives up with the same words on any machine.
   */
  const giveUp = (id: number, cpuMs: number | null): void => {
    const task = tasks.get(id);
    if (!task) return;
    const { slot } = task;
    const limit = timeoutFor(task.size);
    const reason =
      cpuMs === null
        ? `analysis timed out after ${limit / 1000} s`
        : cpuMs >= limit
          ? `analysis took more than its limit of ${limit / 1000} s of CPU time`
          : `analysis made no progress within ${(limit * STARVED_LIMIT_FACTOR) / 1000} s`;
    settle(id, { error: new Error(reason) });
    if (slot.worker) retire(slot, slot.worker);
  };

  // The time limit counts from when a worker starts on a message, which it writes to memory
  // shared with this thread: a look a few times a second costs less than a message per message.
  // Past it, a thread that has not yet spent the limit in CPU time goes on (withinTimeLimit).
  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const slot of slots) {
      const current = slot.worker ? slot.progress?.current() : null;
      const task = current && tasks.get(current.id);
      if (!task || task.slot !== slot) continue;
      const limit = timeoutFor(task.size);
      const elapsed = now - current.since;
      if (elapsed <= limit) continue;
      const thread = slot.progress!.threadTime();
      const cpuMs = thread ? Math.max(0, thread.cpuMs - current.cpuAtStartMs) : null;
      if (!withinTimeLimit(elapsed, limit, cpuMs === null ? null : { cpuMs })) giveUp(current.id, cpuMs);
    }
  }, WATCHDOG_MS);
  watchdog.unref();

  const addSlot = (): Slot => {
    const slot: Slot = { worker: null, busy: 0, bytes: 0, progress: null, started: Promise.resolve() };
    slots.push(slot);
    startWorker(slot);
    return slot;
  };
  // One thread starts now; the others when the work outgrows the ones started (freeSlot).
  addSlot();
  discardPrestartedThreads();

  const freeSlot = (bytes: number): Slot | null => {
    // One message larger than the budget still runs, alone.
    if (bytesInFlight > 0 && bytesInFlight + bytes > maxBytes) return null;
    const started = slots.filter((s) => !s.failed);
    // Another thread pays for its start (a quarter of a second of CPU, and a core shared with the
    // others while it loads) only once every thread started has work enough waiting: a dump of a
    // few messages, such as one a test or a reader checks, is done by one thread.
    if (slots.length < options.workers && started.every(hasWorkWaiting)) return addSlot();
    return started.filter((s) => s.busy < hands()).sort((a, b) => a.busy - b.busy)[0] ?? null;
  };
  /**
   * Its hands full; or a message waiting behind the one it is on, with many bytes between them:
   * large messages (a zip of scans) fill the bytes in flight long before a thread holds its 16.
   */
  const hasWorkWaiting = (slot: Slot): boolean => slot.busy >= hands() || (slot.busy >= 2 && slot.bytes >= LAUNCH_BYTES);

  /** Waits for room in the pool, then hands the task over; its result is the worker's answer. */
  const enqueue = async (bytes: number, size: number, send: Task['send']): Promise<{ done: Promise<WorkerResult> }> => {
    if (closed) throw new Error('analyzer closed');
    let slot = freeSlot(bytes);
    while (!slot) {
      const failed = slots.every((s) => s.failed) ? slots[0]?.failed : undefined;
      if (failed) throw failed;
      await new Promise<void>((resolve) => waiters.push(resolve));
      slot = freeSlot(bytes);
    }
    const id = ++nextTask;
    slot.busy++;
    slot.bytes += size;
    bytesInFlight += bytes;
    const open = slot;
    const result = new Promise<WorkerResult>((resolve, reject) => {
      tasks.set(id, { resolve, reject, bytes, size, slot: open, send });
    });
    // A slot whose thread is starting is handed its tasks once the thread is there.
    if (open.worker) send(id, open.worker);
    return { done: result };
  };

  return {
    async submit(raw, format) {
      const place = ring.placeOf(raw);
      const { done } = await enqueue(raw.length, raw.length, (id, worker) => {
        // (held in the ring until the caller gives it back, after this result: a fresh worker
        // that replaces this one is told the same place)
        if (place) return worker.postMessage({ type: 'analyze-shared', id, place, format } satisfies ToWorker);
        // A forwarded message is gathered in memory of its own shared between threads
        // (attachments/embedded-bytes.ts): posted, it is shared, not copied.
        if (raw.buffer instanceof SharedArrayBuffer) return worker.postMessage({ type: 'analyze', id, raw, format } satisfies ToWorker);
        // The worker is handed a copy made here and transferred, not one made by postMessage's
        // clone: a clone is copied twice (into the message, then into memory the worker's own
        // allocator gives), and glibc keeps what a thread frees in that thread's pool. A copy
        // made here is freed back into this thread's pool, where the next message reuses it:
        // the 1 GB mbox inside a zip peaked at 279-307 MB (median 283) instead of 305-341 (median
        // 320), seven runs each.
        // `raw` itself stays here, for a fresh worker if this one is replaced.
        const copy = new Uint8Array(raw);
        worker.postMessage({ type: 'analyze', id, raw: copy, format } satisfies ToWorker, [copy.buffer]);
      });
      return { result: done.then((answer) => receiveAnalysis(answerOf('result', answer).analysis)) };
    },
    async submitAt(location, size) {
      // Nothing is held here: the worker reads the message when it starts on it.
      const { done } = await enqueue(0, size, (id, worker) =>
        worker.postMessage({ type: 'analyze-at', id, location, maxBytes: DEFAULT_MAX_MESSAGE_BYTES } satisfies ToWorker),
      );
      return {
        result: done.then((answer) => {
          const { message, analysis } = answerOf('result', answer);
          return { message: message!, analysis: receiveAnalysis(analysis) };
        }),
      };
    },
    async hashAt(absPath, size, entry) {
      const { done } = await enqueue(0, size, (id, worker) => worker.postMessage({ type: 'hash', id, absPath, ...(entry ? { entry } : {}) } satisfies ToWorker));
      return { result: done.then((answer) => answerOf('hashed', answer).sha256) };
    },
    messageMemory: () => ring,
    // A thread still holding what it took while the first one loaded counts for that: a caller
    // held to the usual 16 a thread would wait for that backlog, and leave the others idle.
    holds: () => slots.reduce((sum, s) => sum + Math.max(s.busy, hands()), 0) + (options.workers - slots.length) * hands(),
    threadsStarted: () => slots.length,
    async close() {
      closed = true;
      clearInterval(watchdog);
      await Promise.all(slots.map((s) => s.started));
      await Promise.all(slots.flatMap((s) => (s.worker ? [stopAnalysisThread(s.worker)] : [])));
    },
  };
}

/** The same contract on the main thread (--jobs 0): for debugging, and for profiling one thread. */
function inProcess(lookup: KeyLookup, concurrency: number, options?: AnalysisOptions): Analyzer {
  let running = 0;
  let hashChunk: Buffer | null = null;
  const waiters: Array<() => void> = [];
  const run = async <T>(work: (analyze: typeof import('../analyze/analyze-message.ts').analyzeMessage) => Promise<T>): Promise<{ result: Promise<T> }> => {
    while (running >= concurrency) await new Promise<void>((resolve) => waiters.push(resolve));
    running++;
    // Loaded here, not at the top: with workers, the main thread never needs mailauth and
    // the parsers (40 MB of memory per thread that loads them).
    const { analyzeMessage } = await import('../analyze/analyze-message.ts');
    const result = work(analyzeMessage).finally(() => {
      running--;
      waiters.shift()?.();
    });
    return { result };
  };
  return {
    submit: (raw, format) => run((analyze) => analyze({ raw, format }, lookup, options)),
    submitAt: (location) =>
      run(async (analyze) => {
        // Memory of its own: several messages are in progress at once here.
        const { index, offset, format, raw } = readMessageAt(location);
        return { message: { index, offset, format }, analysis: await analyze({ raw, format }, lookup, options) };
      }),
    // One chunk serves every file: each is hashed whole, synchronously, before the next starts.
    hashAt: async (absPath, _size, entry) => ({
      result: entry ? sha256OfZipEntry(absPath, entry) : Promise.resolve().then(() => hashFileSync(absPath, (hashChunk ??= Buffer.allocUnsafe(1024 * 1024)))),
    }),
    holds: () => concurrency,
    // (SharedArrayBuffer views are not accepted everywhere a message goes, such as TextDecoder:
    // on this thread, messages keep memory of their own)
    messageMemory: () => null,
    threadsStarted: () => 0,
    close: async () => undefined,
  };
}
