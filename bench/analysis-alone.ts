import { Worker } from 'node:worker_threads';
import { ANALYSIS_THREAD_LIMITS, tuneCollector, tuneCompilers } from '../src/pipeline/analysis-threads.ts';
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
 * With `warm`, each thread analyses its share twice and only the second pass is timed, from
 * when every thread has finished its first: the analysis with its code loaded, compiled and
 * optimised, which no single run of a CLI reaches from its first message. It adds `seconds` (of
 * the timed pass) to the JSON. What a run of 2,000 messages loses to warming up is the
 * difference between the two (docs/performance.md, "Why the throughput targets are out of reach").
 *
 * usage: analysis-alone.ts DIR KEYS.json THREADS [warm]
 */
const [dir, keysFile, threadArg, warmArg] = process.argv.slice(2);
const threads = Number(threadArg);
if (!dir || !keysFile || !Number.isInteger(threads) || threads < 1 || (warmArg !== undefined && warmArg !== 'warm')) {
  throw new Error('usage: analysis-alone.ts DIR KEYS.json THREADS [warm]');
}
const warm = warmArg === 'warm' ? { threads, arrived: new Int32Array(new SharedArrayBuffer(4)) } : null;

tuneCollector(threads);
tuneCompilers(threads);
const files = listFiles(dir);
const lineScan = lineScanModule();
const tallies = await Promise.all(
  Array.from({ length: threads }, (_, k) => {
    const share: AloneShare = { files: files.filter((_, i) => i % threads === k), keysFile, lineScan, warm };
    return new Promise<AloneTally>((resolve, reject) => {
      new Worker(new URL('./analysis-alone-worker.ts', import.meta.url), { resourceLimits: ANALYSIS_THREAD_LIMITS, workerData: share })
        .once('message', resolve)
        .once('error', reject);
    });
  }),
);
const total = (key: 'messages' | 'verified'): number => tallies.reduce((sum, t) => sum + t[key], 0);
const timedPass = (Math.max(...tallies.map((t) => t.endedAt)) - Math.min(...tallies.map((t) => t.startedAt))) / 1000;
process.stdout.write(`${JSON.stringify({ messages: total('messages'), verified: total('verified'), ...(warm ? { seconds: timedPass } : {}) })}\n`);
