import { readFileSync, readlinkSync } from 'node:fs';

/**
 * Which message a worker is analysing, since when, and how much CPU time its thread had spent by
 * then, in memory the worker and the main thread share. The worker writes it as it starts and
 * ends each message; the main thread reads it to give up a message past its time limit. (A
 * postMessage per message for this cost each side a wake-up of the other: about 2 % of a run on
 * the bench mix.)
 */
export interface WorkerProgress {
  /** handed to the worker (workerData) */
  shared: SharedArrayBuffer;
  /** the message in progress, or null between messages */
  current(): { id: number; since: number; cpuAtStartMs: number } | null;
  /** the worker thread's CPU time so far, or null where the system does not tell */
  threadTime(): ThreadTime | null;
}

export interface ThreadTime {
  cpuMs: number;
}

/** How long past its time limit, in elapsed time, a thread that has not spent the limit in CPU may go on. */
export const STARVED_LIMIT_FACTOR = 4;

/**
 * Whether a message `elapsedMs` into its analysis may go on: until its thread has spent the limit
 * in CPU time, with STARVED_LIMIT_FACTOR times the limit in elapsed time as a backstop (for a
 * thread that waits on something that never comes). Timed by the clock alone, a message built to
 * be slow was analysed on an idle machine and given up on a busy one: the same dump gave two
 * verdicts (red team 27). Asking in addition that the thread be running when looked at (red team
 * 27's rule) still gave up most such messages under load: a thread that shares two cores with
 * busy ones is often caught between time slices, or waiting for V8's own helper threads, at the
 * instant it is looked at (red team 28, H-02). Where the system does not tell a thread's CPU time
 * (`thread` null), the limit is elapsed time.
 */
export function withinTimeLimit(elapsedMs: number, limitMs: number, thread: ThreadTime | null): boolean {
  if (elapsedMs <= limitMs) return true;
  return thread !== null && thread.cpuMs < limitMs && elapsedMs <= limitMs * STARVED_LIMIT_FACTOR;
}

/** The worker's side: what it writes as it starts and ends a message. */
export interface ProgressWriter {
  start(id: number): void;
  end(): void;
}

// [id in progress (0: none)] as Int32, [the thread's id (0: unknown)] as Int32, then [start time,
// ms since the epoch] and [the thread's CPU time at the start, ms] as Float64
const BYTES = 24;

export function createWorkerProgress(): WorkerProgress {
  const shared = new SharedArrayBuffer(BYTES);
  const ints = new Int32Array(shared, 0, 2);
  const times = new Float64Array(shared, 8, 2);
  return {
    shared,
    current() {
      const running = Atomics.load(ints, 0);
      if (running === 0) return null;
      const since = times[0]!;
      const cpuAtStartMs = times[1]!;
      // a message started in between: its times are being written, so it has only just begun
      return Atomics.load(ints, 0) === running ? { id: running, since, cpuAtStartMs } : null;
    },
    threadTime() {
      const tid = Atomics.load(ints, 1);
      return tid === 0 ? null : readThreadTime(tid);
    },
  };
}

export function progressWriter(shared: SharedArrayBuffer): ProgressWriter {
  const ints = new Int32Array(shared, 0, 2);
  const times = new Float64Array(shared, 8, 2);
  Atomics.store(ints, 1, ownThreadId());
  return {
    start(taskId) {
      // the times first: the id's atomic store makes them visible along with itself
      times[0] = Date.now();
      const cpu = process.threadCpuUsage();
      times[1] = (cpu.user + cpu.system) / 1000;
      Atomics.store(ints, 0, taskId);
    },
    end() {
      Atomics.store(ints, 0, 0);
    },
  };
}

/** The kernel's id of the calling thread (Linux: /proc/thread-self), or 0 where there is none. */
export function ownThreadId(): number {
  try {
    const tid = Number(/\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1]);
    return Number.isSafeInteger(tid) && tid > 0 && tid <= 0x7fffffff ? tid : 0;
  } catch {
    return 0;
  }
}

/** Linux counts a thread's CPU time in clock ticks of 1/100 s (USER_HZ, the same on every architecture it runs on). */
const TICK_MS = 10;

/** Fields 14 and 15 of /proc/self/task/TID/stat: the thread's user and system time. */
export function readThreadTime(tid: number): ThreadTime | null {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    // the command name (field 2) may hold spaces and parentheses: the fields after it follow its last ")"
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(fields[11]);
    const system = Number(fields[12]);
    if (!Number.isFinite(user) || !Number.isFinite(system)) return null;
    return { cpuMs: (user + system) * TICK_MS };
  } catch {
    return null;
  }
}
