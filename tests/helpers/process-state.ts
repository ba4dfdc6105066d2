import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * What of a test process one test file could leave behind for the files that share the process
 * after it (vitest.config.ts, `isolate: false`), as far as it can be seen from outside the file:
 * the working directory, environment, umask and exit code; listeners on the process; globals;
 * and what is still open or running: file descriptors, threads, child processes, timers.
 * Module state (a cache, a V8 flag) cannot be seen this way; tests/helpers/process-alone.ts names
 * the files whose doing so matters.
 */
export interface ProcessState {
  cwd: string;
  env: Record<string, string | undefined>;
  umask: number;
  exitCode: number | string | null | undefined;
  listeners: Record<string, number>;
  globals: string[];
  /** process.getActiveResourcesInfo(), counted by type (a child process, a timer, a socket) */
  resources: Record<string, number>;
  /** each open file descriptor and what it is, by Linux (`/proc/self/fd`); none elsewhere */
  descriptors: Array<{ fd: string; target: string }>;
  /** the names of the process's threads other than Node's and V8's own (a worker thread's name) */
  threads: string[];
}

const WATCHED_EVENTS = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'uncaughtException', 'unhandledRejection', 'warning'] as const;

/**
 * Threads Node and V8 start for themselves, some only when first needed (libuv's pool at the
 * first asynchronous file call): a file that happens to be first to need them leaves nothing.
 */
const RUNTIME_THREADS = new Set(['MainThread', 'V8Worker', 'DelayedTaskSche', 'SignalInspector', 'libuv-worker', 'node']);

/** Each entry of a /proc folder, read with `read`; none where there is no /proc (not Linux). */
function procEntries<T>(folder: string, read: (entry: string) => T): T[] {
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    try {
      return [read(entry)];
    } catch {
      return []; // gone between the listing and the look (the listing's own descriptor)
    }
  });
}

export function processState(): ProcessState {
  const resources: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
  const listeners: Record<string, number> = {};
  for (const event of WATCHED_EVENTS) listeners[event] = process.listenerCount(event);
  return {
    cwd: process.cwd(),
    env: { ...process.env },
    umask: process.umask(),
    exitCode: process.exitCode,
    listeners,
    globals: Object.getOwnPropertyNames(globalThis),
    resources,
    descriptors: procEntries('/proc/self/fd', (fd) => ({ fd, target: readlinkSync(`/proc/self/fd/${fd}`) })),
    threads: procEntries('/proc/self/task', (task) => readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim()).filter((name) => !RUNTIME_THREADS.has(name)),
  };
}

/**
 * Each item of `after` that `before` does not account for, compared by `key` (a multiset
 * difference): a file closed and opened again under another descriptor is not a new one.
 */
function added<T>(before: readonly T[], after: readonly T[], key: (item: T) => string = String): T[] {
  const left = new Map<string, number>();
  for (const item of before) left.set(key(item), (left.get(key(item)) ?? 0) + 1);
  return after.filter((item) => {
    const count = left.get(key(item)) ?? 0;
    if (count > 0) left.set(key(item), count - 1);
    return count === 0;
  });
}

/**
 * Changes that a module makes to its process as it loads, once, whichever file loads it first:
 * the same for every file after, so no file's doing.
 */
export interface ChangesAtLoad {
  /** global names a module defines */
  globals: (name: string) => boolean;
  /** environment variables a module sets */
  env: ReadonlySet<string>;
}

const NONE_AT_LOAD: ChangesAtLoad = { globals: () => false, env: new Set() };

/**
 * Handles of the process's own standard streams, which Node opens the first time each stream is
 * used (process.stdin by a check of whether it is a terminal): a pipe or terminal to a child
 * process is seen anyway, as its child and its descriptors.
 */
const STANDARD_STREAM_HANDLES = new Set(['PipeWrap', 'TTYWrap']);

/**
 * What `after` has that `before` had not, one line each. Only what was added or changed counts:
 * a timer or a descriptor of the file before that this file saw closed is no harm to the next.
 */
export function leftBehind(before: ProcessState, after: ProcessState, atLoad: ChangesAtLoad = NONE_AT_LOAD): string[] {
  const lines: string[] = [];
  if (after.cwd !== before.cwd) lines.push(`working directory changed: ${before.cwd} -> ${after.cwd}`);
  for (const name of new Set([...Object.keys(before.env), ...Object.keys(after.env)])) {
    if (atLoad.env.has(name) && before.env[name] === undefined) continue;
    if (after.env[name] !== before.env[name]) lines.push(`environment variable ${name} changed: ${JSON.stringify(before.env[name])} -> ${JSON.stringify(after.env[name])}`);
  }
  if (after.umask !== before.umask) lines.push(`umask changed: ${before.umask.toString(8)} -> ${after.umask.toString(8)}`);
  if (after.exitCode !== before.exitCode) lines.push(`process.exitCode changed: ${String(before.exitCode)} -> ${String(after.exitCode)}`);
  for (const [event, count] of Object.entries(after.listeners)) {
    const was = before.listeners[event] ?? 0;
    if (count > was) lines.push(`${count - was} more process listener(s) for '${event}'`);
  }
  for (const name of added(before.globals, after.globals)) if (!atLoad.globals(name)) lines.push(`a new global: ${name}`);
  for (const [type, count] of Object.entries(after.resources)) {
    if (STANDARD_STREAM_HANDLES.has(type)) continue;
    const was = before.resources[type] ?? 0;
    if (count > was) lines.push(`${count - was} more active ${type} (a child process, timer, socket or handle still open)`);
  }
  for (const { fd, target } of added(before.descriptors, after.descriptors, (d) => d.target)) lines.push(`a file descriptor left open: ${target} (descriptor ${fd})`);
  for (const name of added(before.threads, after.threads)) lines.push(`a thread still running: ${name}`);
  return lines;
}
