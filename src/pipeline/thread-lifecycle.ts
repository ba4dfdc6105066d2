import { setFlagsFromString } from 'node:v8';
import type { Worker } from 'node:worker_threads';

/**
 * Starting and stopping worker threads, never both at once.
 *
 * Node can crash when one thread creates its V8 isolate while another thread is tearing its own
 * down (nodejs/node#56312, open: an assertion or a bare SIGSEGV inside isolate creation; and a
 * check on V8's registry of WebAssembly code pages, nodejs/node#64500). The pool does both when
 * it replaces a worker that overran its time limit (the old one stopped, a fresh one started)
 * and when it stops threads started ahead that it does not need while others are still
 * starting; the test process that does this most died of a SIGSEGV in CI. So threads may start
 * together, or stop together, but a stop waits until every thread being started is running
 * ('online'), and a start waits until every thread being stopped has exited. Requests are served
 * in the order they were made, so a stream of starts cannot hold a stop back for ever, nor the
 * reverse.
 *
 * A thread that neither comes online nor exits within PHASE_LIMIT_MS no longer holds the others
 * back: a run must not stall behind a thread stuck in native code. Past that limit the crash
 * this avoids is possible again, which is no worse than before.
 */
export const PHASE_LIMIT_MS = 10_000;

/**
 * No call from WebAssembly into JavaScript is ever given a compiled wrapper: V8 tiers one up after
 * WASM_WRAPPER_TIERING_BUDGET calls, and the wrappers are shared by every thread of the process.
 * A core dump of the crash (2026-12-05: the old pool, its test file run in a loop, once in about
 * 160 runs) showed a worker thread aborting inside that tier-up: `Runtime_TierUpWasmToJSWrapper`
 * freed the wrappers a thread that had exited no longer used (`WasmImportWrapperCache::Free`),
 * and V8's check on its registry of code pages failed (`jit_page.has_value()`,
 * nodejs/node#64500). The WebAssembly that calls into JavaScript in a worker is Node's own
 * TypeScript stripper (amaro, whose every import is such a call), run by each thread that loads
 * the analysis code without the compile cache; leakcheck's line scan imports no function. With
 * no compiled wrappers, none is ever freed. The price: such a call costs about 25 ns instead of
 * 12 (measured), and only while a thread strips types. V8 reads the budget when a module is
 * instantiated, so setting it here, before the first thread exists, covers every thread.
 */
const WASM_WRAPPER_TIERING_BUDGET = 2 ** 31 - 1;
setFlagsFromString(`--wasm-wrapper-tiering-budget=${WASM_WRAPPER_TIERING_BUDGET}`);

type Kind = 'start' | 'stop';
interface Request {
  kind: Kind;
  /** does it, and settles when it is over (the thread online, or exited) */
  run: () => Promise<unknown>;
}

const queue: Request[] = [];
let activeKind: Kind | null = null;
let active = 0;

function pump(): void {
  while (queue.length > 0 && (active === 0 || queue[0]!.kind === activeKind)) {
    const request = queue.shift()!;
    activeKind = request.kind;
    active++;
    void settledWithin(request.run(), PHASE_LIMIT_MS).then(() => {
      active--;
      if (active === 0) activeKind = null;
      pump();
    });
  }
}

function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    work.then(
      () => (clearTimeout(timer), resolve()),
      () => (clearTimeout(timer), resolve()),
    );
  });
}

/** Whether anything is starting, stopping or waiting to (for tests). */
export function threadsSettled(): boolean {
  return active === 0 && queue.length === 0;
}

/**
 * Creates a thread with `create` as soon as no thread is stopping: at once when none is (the
 * promise then holds a thread that already exists). Listeners attached when it resolves miss
 * nothing: a thread's events come from the event loop, after it.
 */
export function startThread(create: () => Worker): Promise<Worker> {
  return new Promise<Worker>((resolve, reject) => {
    queue.push({
      kind: 'start',
      run: () => {
        let worker: Worker;
        try {
          worker = create();
        } catch (err) {
          reject(err);
          return Promise.resolve();
        }
        resolve(worker);
        return new Promise<void>((running) => {
          const done = (): void => {
            worker.off('online', done).off('exit', done).off('error', done);
            running();
          };
          worker.on('online', done).on('exit', done).on('error', done);
        });
      },
    });
    pump();
  });
}

/** Stops a thread once no thread is starting; settles when it has exited. */
export function stopThread(worker: Worker): Promise<void> {
  return new Promise<void>((resolve) => {
    queue.push({
      kind: 'stop',
      run: () => {
        const exited = worker.terminate().then(
          () => undefined,
          () => undefined,
        );
        void exited.then(resolve);
        return exited;
      },
    });
    pump();
  });
}
