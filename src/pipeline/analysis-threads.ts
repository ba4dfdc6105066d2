import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { lineScanModule } from '../read/line-scan.ts';
import type { AnalysisWorkerData } from './analysis-worker.ts';
import { defaultThreadBudget } from './thread-budget.ts';
import { startThread, stopThread } from './thread-lifecycle.ts';
import { createWorkerProgress, type WorkerProgress } from './worker-progress.ts';

/** A worker thread running analysis-worker.ts, and the memory it reports its progress in. */
export interface AnalysisThread {
  worker: Worker;
  progress: WorkerProgress;
}

/**
 * A fresh analysis thread, started as soon as no thread is stopping (see thread-lifecycle.ts):
 * at once, as a run begins.
 */
export async function startAnalysisThread(): Promise<AnalysisThread> {
  threadsStarted++;
  if (compilerTuningAsked) tuneCompilers(threadsStarted);
  const progress = createWorkerProgress();
  // A worker's heap is capped: garbage is collected as it goes, instead of piling up to the
  // default limit in each thread (a 7,000-message mbox otherwise shows as 700 MB of RSS). The
  // young generation is 12 MB, two 4 MB semi-spaces (V8 counts three): what the CLI's
  // process-wide --max-semi-space-size=4 gives every isolate anyway (that flag overrides a
  // worker's own limit), so that a pool started without it (the tests) runs as the CLI does.
  // Larger is not faster: 16 MB semi-spaces cost 0.08 s and 44 MB of RSS on 2,000 messages.
  const worker = await startThread(
    () =>
      new Worker(new URL('./analysis-worker.ts', import.meta.url), {
        resourceLimits: ANALYSIS_THREAD_LIMITS,
        workerData: { progress: progress.shared, lineScan: lineScanModule() } satisfies AnalysisWorkerData,
      }),
  );
  return { worker, progress };
}

/** Stops an analysis thread once no thread is starting; settles when it has exited. */
export function stopAnalysisThread(worker: Worker): Promise<void> {
  return stopThread(worker);
}

/** The heap limits of an analysis thread (see startAnalysisThread). */
export const ANALYSIS_THREAD_LIMITS = { maxOldGenerationSizeMb: 384, maxYoungGenerationSizeMb: 12 } as const;

/**
 * The collector's settings for a verify with `threads` analysis threads, set before they start.
 * V8 reads both flags at each collection, so they cover the calling thread too.
 *
 * - With a thread on every core (every CPU the process may use), V8's parallel scavenge hands
 *   its helper tasks to cores that are all busy, and each young-generation collection waits for
 *   them: one thread per collection is faster (2,000 messages on two cores: 0.045 s less wall
 *   time and 0.075 s less CPU, paired A/B over 12 rounds, faster in 11). With idle cores (fewer
 *   threads), the helpers have somewhere to run.
 * - Each heap may grow to 1.3 times what a full collection left alive (V8's own conservative
 *   factor), not up to 4 times. The main thread's heap holds some 10-16 MB alive through a run,
 *   but V8, seeing its collections cheap, let it fill to 60 MB before the next one, at the end
 *   of a long run, when every other part of the process is largest too. Paired runs,
 *   forty-third round: 70,000 messages (12.3 GB) 269-272 MiB against 293-322, over the 300 MB
 *   bound in 2 of 4 runs before, in the same time; the 1 GB mbox in a zip 256-258 MiB against
 *   283-294; the loose 1 GB mbox 237-245 against 258-268; 20,000 messages 255-262 against
 *   278-288 and 2-5 % faster; 2,000 messages unchanged. Set at run time, not on the command
 *   line: there, V8 would refuse the code Node keeps compiled for its internal modules
 *   (thread-lifecycle.ts has the same concern).
 */
export function tuneCollector(threads: number): void {
  if (takesEveryCore(threads)) setFlagsFromString('--no-parallel-scavenge');
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/** Whether `threads` analysis threads leave no core idle: where tuneCollector and tuneCompilers change V8's ways. */
const takesEveryCore = (threads: number): boolean => threads >= defaultThreadBudget().usableCores;

/** How much a heap may grow past what its last full collection left alive, in per cent (see tuneCollector). */
export const HEAP_GROWING_PERCENT = 30;

/**
 * V8's compilers for a verify with `threads` analysis threads (V8 reads the flag each time it
 * decides, in every thread, so it holds from then on; once set, it stays). A verify is a batch
 * job: nobody waits on any one message, only on the whole run, which is what V8's efficiency
 * mode is for ("favor single core throughput without latency requirements",
 * v8/src/execution/isolate.h). In it, V8 keeps a function in Maglev's code until it has run
 * 15,000 times (`--efficiency-mode-delay-turbofan`), runs TurboFan's compilations at the lowest
 * priority, and compiles Sparkplug's code in the thread that runs it. An analysis thread calls
 * most of its functions a few times a message, so on a dump of a few thousand messages
 * TurboFan's compilations, on the same two cores as the analysis, used to cost more than the
 * faster code they bring paid back (fiftieth round,
 * docs/performance.md: 9 % off a verify of the bench's 2,000 messages, 4-6 % off 20,000 and
 * the mailbox, paired runs). It generates the same code, later or not at all, and changes no
 * result. With a core to spare (fewer threads than cores), TurboFan compiles there at no cost to
 * the analysis, and the delay only loses: `--jobs 1` on two cores took 2.72-2.81 s against
 * 2.59-2.75, so it is left as it is.
 *
 * Efficiency mode also turns off the collector's helper threads and its incremental marking,
 * which is for a browser tab in the background; on their own that took a verify of 2,000
 * messages from about 215 MB to 238-267 MB. `--no-single-threaded-gc-in-background` keeps the
 * collector as it is (193-233 MB, against 209-219 without either flag).
 */
export function tuneCompilers(threads: number): void {
  if (compilersTuned || !takesEveryCore(threads)) return;
  setFlagsFromString(COMPILER_FLAGS);
  compilersTuned = true;
}

let compilersTuned = false;

/**
 * tuneCompilers, once as many analysis threads have started in this process as there are cores,
 * not as many as a run may start: a verify starts its second thread only when the dump has work
 * enough for it (worker-pool.ts), and one large message is analysed by one thread, with a core to
 * spare. A message that runs long in loops of JavaScript is where efficiency mode loses most:
 * V8 does not move a loop from Maglev's code to TurboFan's while it runs. A forged 49 MB message
 * that needs every repair took 5.4 s instead of 3.8 (its lines copied one at a time through
 * Buffer's methods, which only TurboFan makes cheap); alone in its dump, it now runs as before.
 * Among enough other messages to take every core, such a message runs in efficiency mode: a dump
 * of 30 of them (5 MB each) took 7.8-11.3 s against 5.9-8.0 untuned, until line-endings.ts made
 * those copies through V8's builtins (fifty-first round): 6.1-6.4 s either way.
 * Set by `leakcheck verify` (bin/leakcheck.js), not by a pool: V8's flags are the process's.
 */
export function tuneCompilersOnceCoresTaken(): void {
  compilerTuningAsked = true;
  tuneCompilers(threadsStarted);
}

let compilerTuningAsked = false;
/**
 * Analysis threads started in this process so far. A thread replaced (after a time limit, or
 * one that failed to load) counts again, so one thread at work may count as two: close enough
 * for a setting that changes how fast, never what.
 */
let threadsStarted = 0;

/** The flags tuneCompilers sets. */
export const COMPILER_FLAGS = '--efficiency-mode --no-single-threaded-gc-in-background';

interface Prestarted {
  thread: Promise<AnalysisThread>;
  dead: boolean;
  /** drops the listeners that watch it until it is taken over */
  forget(): void;
}

const prestarted: Prestarted[] = [];

/**
 * Starts analysis threads before the pool that will use them exists. A thread needs about 0.3 s
 * to load mailauth and the analysis code; `leakcheck verify` starts the first one first thing,
 * so that it loads while the main thread loads the CLI, opens the store and reads the key files
 * (0.1 s and more), instead of after. Until a pool takes them over they keep nothing alive: a
 * run that ends early (a usage error, --help) exits as if they did not exist.
 */
export function prestartAnalysisThreads(count: number): ReadonlyArray<Promise<AnalysisThread>> {
  const started: Array<Promise<AnalysisThread>> = [];
  for (let i = 0; i < count; i++) {
    const entry: Prestarted = { thread: startAnalysisThread(), dead: false, forget: () => undefined };
    // A thread that fails to load before it is taken over must not be handed a message: it
    // would never answer. (And an 'error' nobody listens to would end the process.)
    const onEnd = (): void => {
      entry.dead = true;
    };
    void entry.thread.then(({ worker }) => {
      worker.on('error', onEnd).on('exit', onEnd).unref();
      entry.forget = () => worker.off('error', onEnd).off('exit', onEnd);
    });
    prestarted.push(entry);
    started.push(entry.thread);
  }
  return started;
}

/**
 * A thread started ahead, for a pool to take over: null when none is left. It is taken at once,
 * so that discardPrestartedThreads right after leaves it alone; if it turns out to have died,
 * the next one is taken, or a fresh thread started.
 */
export function takePrestartedThread(): Promise<AnalysisThread> | null {
  const entry = prestarted.shift();
  if (!entry) return null;
  return entry.thread.then((thread) => {
    entry.forget();
    if (entry.dead) return takePrestartedThread() ?? startAnalysisThread();
    thread.worker.ref();
    return thread;
  });
}

/** Stops the threads started ahead that no pool took over (a run with fewer workers than started). */
export function discardPrestartedThreads(): void {
  for (const entry of prestarted.splice(0)) {
    void entry.thread.then(({ worker }) => {
      entry.forget();
      return stopAnalysisThread(worker);
    });
  }
}

/** One analysis thread per core, within the process's CPU and memory limits (thread-budget.ts), unless --jobs says otherwise. */
export const defaultThreadCount = (): number => defaultThreadBudget().threads;

/**
 * The most threads `--jobs` may ask for: 256, or one per core on a machine with more. A thread
 * takes some 40 MB; `--jobs 1e8` (a typo, a variable gone wrong) ran out of memory and aborted
 * with V8's message, leaving a stale lock and a run that did not finish (red team Z, Z-06).
 */
export const maxThreadCount = (): number => Math.max(256, availableParallelism());

/**
 * How many analysis threads the arguments of `leakcheck verify` ask for: `--jobs N` or
 * `--jobs=N`, else one per core. Only a guess made before the CLI reads its arguments: when it
 * is wrong (an argument commander reads differently), the pool starts or stops threads to match.
 */
export function threadsForArguments(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') break;
    const value = arg === '--jobs' ? args[i + 1] : arg.startsWith('--jobs=') ? arg.slice('--jobs='.length) : undefined;
    if (value !== undefined && /^\d+$/.test(value)) return Number(value);
  }
  return defaultThreadCount();
}
