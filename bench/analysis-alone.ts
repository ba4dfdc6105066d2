import { Worker } from 'node:worker_threads';
import { ANALYSIS_THREAD_LIMITS, tuneCollector } from '../src/pipeline/analysis-threads.ts';
import { lineScanModule } from '../src/read/line-scan.ts';
import type { AloneShare, AloneTally } from './analysis-alone-worker.ts';
import { listFiles } from './peers/list-files.ts';

/**
 * The ceiling of the design: leakcheck's per-message analysis alone, on as many threads as a
 * verify starts, each thread analysing every n-th file of the dump the way an analysis thread
 * does (read into its reused buffer, analysed, the analysis turned into the JSON that crosses
 * to the main thread), with no walk, no sniffing, no store and no work on the main thread but
 * starting the threads. `leakcheck verify` can only be slower than this; how much slower is
 * what its pipeline costs. Prints `{messages, verified}` as JSON.
 *
 * usage: analysis-alone.ts DIR KEYS.json THREADS
 */
const [dir, keysFile, threadArg] = process.argv.slice(2);
const threads = Number(threadArg);
if (!dir || !keysFile || !Number.isInteger(threads) || threads < 1) throw new Error('usage: analysis-alone.ts DIR KEYS.json THREADS');

tuneCollector(threads);
const files = listFiles(dir);
const lineScan = lineScanModule();
const tallies = await Promise.all(
  Array.from({ length: threads }, (_, k) => {
    const share: AloneShare = { files: files.filter((_, i) => i % threads === k), keysFile, lineScan };
    return new Promise<AloneTally>((resolve, reject) => {
      new Worker(new URL('./analysis-alone-worker.ts', import.meta.url), { resourceLimits: ANALYSIS_THREAD_LIMITS, workerData: share })
        .once('message', resolve)
        .once('error', reject);
    });
  }),
);
const total = (key: keyof AloneTally): number => tallies.reduce((sum, t) => sum + t[key], 0);
process.stdout.write(`${JSON.stringify({ messages: total('messages'), verified: total('verified') })}\n`);
