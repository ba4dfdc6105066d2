#!/usr/bin/env -S node --max-semi-space-size=4
// The CLI runs the TypeScript sources directly through Node's type stripping, so there is no
// build step whose output could drift from the source that was reviewed. That, and mailauth 7,
// need Node >= 22.19. An older `node` hands over to the Node 24 that `npm ci` installs into
// node_modules (the `node` devDependency), so `node bin/leakcheck.js` works on any machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned) || pinned === process.execPath) {
    process.stderr.write(`leakcheck needs Node >= 22.19 (this is ${process.version}). Run \`npm ci\` to install the pinned Node 24.\n`);
    process.exit(2);
  }
  const child = spawnSync(pinned, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (child.signal) process.kill(process.pid, child.signal);
  process.exit(child.status ?? 3);
}

// A command stopped by Ctrl-C, SIGTERM (a cancelled CI job, \`timeout\`) or SIGHUP exits 130, as
// documented, from its first instruction: not by the signal (143), as it did while its modules
// loaded (red team AA, AA-13). Deferred a turn, so that a command's own listeners (an --out
// removing its partial file) run first; verify replaces it with its own, which stops gracefully.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => setImmediate(() => process.exit(130)));

// Node's on-disk cache of compiled code (in the system temp directory): each worker thread
// compiles the whole analysis code again, and with the cache a run starts in half the time and
// 40 MB smaller. It changes no result. Set through the environment so that the worker threads,
// which inherit it, use it too; a user's own NODE_COMPILE_CACHE (or NODE_DISABLE_COMPILE_CACHE)
// is respected. Never inside a folder the command is given: with the temp directory inside the
// dump (a leak unpacked into /tmp and verified as /tmp), the cache's 450 files were written into
// the evidence, and the next run recorded them as added to it (red team 28, G-04). The arguments
// are not parsed yet, so any argument that is a folder holding the cache's place turns it off.
if (!process.env.NODE_COMPILE_CACHE && !process.env.NODE_DISABLE_COMPILE_CACHE) {
  const { enableCompileCache, constants } = await import('node:module');
  const { tmpdir } = await import('node:os');
  const { join, relative, isAbsolute } = await import('node:path');
  const { realpathSync, statSync } = await import('node:fs');
  const real = (path) => {
    try {
      return realpathSync(path);
    } catch {
      return null;
    }
  };
  const dir = join(real(tmpdir()) ?? tmpdir(), 'leakcheck-compile-cache');
  const isFolder = (path) => {
    try {
      return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
    } catch {
      return false; // (a folder it may not look at: the command says so, this guess need not)
    }
  };
  const holdsCache = process.argv.slice(2).some((arg) => {
    const folder = isFolder(arg) ? real(arg) : null;
    const inside = folder === null ? null : relative(folder, dir);
    return inside !== null && !inside.startsWith('..') && !isAbsolute(inside);
  });
  if (!holdsCache) {
    const { status } = enableCompileCache(dir);
    if (status === constants.compileCacheStatus.ENABLED || status === constants.compileCacheStatus.ALREADY_ENABLED) process.env.NODE_COMPILE_CACHE = dir;
  }
}

// A small young generation keeps the main thread's garbage from piling up between collections:
// a run's memory then stays flat however many messages pass through it (a 1 GB mbox peaks at
// 265 MB instead of 375 MB, at the same speed), but for what is remembered of each entry of a
// zip archive, some 80 to 110 bytes (a 999,000-entry archive peaks at 342 MB; see "What does
// grow" in docs/performance.md). V8 reads the flag when the heap is set up, so it
// is given on the command line: by the first line of this file when it is run as a program
// (npx leakcheck, ./bin/leakcheck.js). `node bin/leakcheck.js` without it gets this fallback,
// set after start: too late for this thread's heap, whose young generation is kept from growing
// instead (V8 reads the growth factor at each collection), while the threads started from now
// on get a young generation of a fixed 4 MB. On the 20,000-message bench dump: 255 MB and 15.1 s,
// against 258 MB and 14.5 s with the flag on the command line, and 352 MB and 17.4 s with the
// maximum alone set here.
if (!process.execArgv.some((arg) => arg.startsWith('--max-semi-space-size'))) {
  (await import('node:v8')).setFlagsFromString('--max-semi-space-size=4 --min-semi-space-size=4 --semi-space-growth-factor=1');
}

// The first analysis thread of a verify starts now, and loads its code (0.3 s) while this thread
// loads the CLI's: the pool takes it over, and starts the others only when the dump has work
// enough for them (worker-pool.ts). `--jobs` is read here ahead of the CLI; a guess the CLI
// reads differently only costs a thread started or stopped again.
if (process.argv[2] === 'verify') {
  const { prestartAnalysisThreads, threadsForArguments, tuneCollector, tuneCompilersOnceCoresTaken } = await import('../src/pipeline/analysis-threads.ts');
  const threads = threadsForArguments(process.argv.slice(3));
  tuneCollector(threads);
  tuneCompilersOnceCoresTaken();
  prestartAnalysisThreads(Math.min(threads, 1));
}

const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
