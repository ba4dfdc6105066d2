/**
 * Which message a worker is analysing, and since when, in memory the worker and the main thread
 * share. The worker writes it as it starts and ends each message; the main thread reads it to
 * give up a message past its time limit. (A postMessage per message for this cost each side a
 * wake-up of the other: about 2 % of a run on the bench mix.)
 */
export interface WorkerProgress {
  /** handed to the worker (workerData) */
  shared: SharedArrayBuffer;
  /** the message in progress, or null between messages */
  current(): { id: number; since: number } | null;
}

/** The worker's side: what it writes as it starts and ends a message. */
export interface ProgressWriter {
  start(id: number): void;
  end(): void;
}

// [id in progress (0: none)] as Int32, then [start time, ms since the epoch] as Float64
const BYTES = 16;

export function createWorkerProgress(): WorkerProgress {
  const shared = new SharedArrayBuffer(BYTES);
  const id = new Int32Array(shared, 0, 1);
  const since = new Float64Array(shared, 8, 1);
  return {
    shared,
    current() {
      const running = Atomics.load(id, 0);
      if (running === 0) return null;
      const started = since[0]!;
      // a message started in between: its time is being written, so it has only just begun
      return Atomics.load(id, 0) === running ? { id: running, since: started } : null;
    },
  };
}

export function progressWriter(shared: SharedArrayBuffer): ProgressWriter {
  const id = new Int32Array(shared, 0, 1);
  const since = new Float64Array(shared, 8, 1);
  return {
    start(taskId) {
      // the time first: the id's atomic store makes it visible along with itself
      since[0] = Date.now();
      Atomics.store(id, 0, taskId);
    },
    end() {
      Atomics.store(id, 0, 0);
    },
  };
}
