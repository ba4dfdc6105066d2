import { Worker } from 'node:worker_threads';
import { ANALYSIS_THREAD_LIMITS, tuneCollector, tuneCompilers } from '../src/pipeline/analysis-threads.ts';
import { lineScanModule } from '../src/read/line-scan.ts';
import type { WarmUpShare, WarmUpTimes } from './warm-up-worker.ts';
import { listFiles } from './peers/list-files.ts';

/**
 * What a thread's warm-up costs: each thread analyses its share of the dump (every n-th file, as
 * analysis-alone.ts shares it) PASSES times over, and prints the milliseconds each EVERY messages
 * took, pass by pass. The first pass pays for loading and compiling the code (V8's compilers
 * run beside the analysis on the same cores); the later ones show the analysis warm
 * (docs/performance-history.md, twenty-third round).
 *
 * usage: warm-up.ts DIR KEYS.json THREADS [PASSES=3] [EVERY=100]
 */
const [dir, keysFile, threadArg, passArg = '3', everyArg = '100'] = process.argv.slice(2);
const threads = Number(threadArg);
const passes = Number(passArg);
const every = Number(everyArg);
if (!dir || !keysFile || ![threads, passes, every].every((n) => Number.isInteger(n) && n >= 1)) {
  throw new Error('usage: warm-up.ts DIR KEYS.json THREADS [PASSES=3] [EVERY=100]');
}

tuneCollector(threads);
tuneCompilers(threads);
const files = listFiles(dir);
const lineScan = lineScanModule();
const started = performance.now();
const perThread = await Promise.all(
  Array.from({ length: threads }, (_, k) => {
    const share: WarmUpShare = { files: files.filter((_, i) => i % threads === k), keysFile, lineScan, passes, every };
    return new Promise<WarmUpTimes>((resolve, reject) => {
      new Worker(new URL('./warm-up-worker.ts', import.meta.url), { resourceLimits: ANALYSIS_THREAD_LIMITS, workerData: share })
        .once('message', resolve)
        .once('error', reject);
    });
  }),
);
process.stdout.write(`${threads} thread(s), ${files.length} files, ${Math.round(performance.now() - started)} ms in all\n`);
perThread.forEach((times, k) =>
  times.forEach((pieces, pass) => {
    const total = pieces.reduce((sum, ms) => sum + ms, 0);
    process.stdout.write(`thread ${k + 1}, pass ${pass + 1}: ${total} ms (each ${every}: ${pieces.join(' ')})\n`);
  }),
);
