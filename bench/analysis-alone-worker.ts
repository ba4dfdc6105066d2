import { parentPort, workerData } from 'node:worker_threads';
import { analyzeMessage } from '../src/analyze/analyze-message.ts';
import { offlineFileLookup } from '../src/keys/key-lookup.ts';
import { postAnalysis } from '../src/pipeline/posted-analysis.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, readMessageAt } from '../src/read/read-container.ts';
import { useLineScanModule } from '../src/read/line-scan.ts';
import { ReusableBuffer } from '../src/read/reusable-buffer.ts';

/** One thread of analysis-alone.ts: its share of the files, analysed as an analysis thread does. */
export interface AloneShare {
  files: string[];
  keysFile: string;
  lineScan: WebAssembly.Module | null;
  /**
   * With `warm`, the share is analysed once untimed, then the threads wait for each other at
   * this counter (one Int32 over shared memory) and analyse it again, timed.
   */
  warm: { threads: number; arrived: Int32Array } | null;
}

export interface AloneTally {
  messages: number;
  verified: number;
  /** when the timed pass began and ended, in milliseconds since the epoch (high resolution) */
  startedAt: number;
  endedAt: number;
}

const share = workerData as AloneShare;
useLineScanModule(share.lineScan);
// (each thread resolves its own keys: a handful of records, against a verify's one lookup per run)
const lookup = offlineFileLookup(share.keysFile);
const readBuffer = new ReusableBuffer(undefined, { scannable: true });
const now = (): number => performance.timeOrigin + performance.now();

async function analyseShare(): Promise<{ messages: number; verified: number }> {
  const tally = { messages: 0, verified: 0 };
  for (const absPath of share.files) {
    const { raw, format } = readMessageAt({ absPath, kind: 'eml' }, DEFAULT_MAX_MESSAGE_BYTES, readBuffer);
    const analysis = await analyzeMessage({ raw, format }, lookup);
    postAnalysis(analysis);
    tally.messages++;
    if (analysis.verdict.verdict === 'verified') tally.verified++;
  }
  return tally;
}

if (share.warm) {
  await analyseShare();
  // Every thread warm before any is timed: a thread still compiling would take a core from one
  // that is already timing its pass.
  const { threads, arrived } = share.warm;
  if (Atomics.add(arrived, 0, 1) + 1 === threads) Atomics.notify(arrived, 0);
  for (let seen = Atomics.load(arrived, 0); seen < threads; seen = Atomics.load(arrived, 0)) Atomics.wait(arrived, 0, seen);
}
const startedAt = now();
const tally = await analyseShare();
parentPort!.postMessage({ ...tally, startedAt, endedAt: now() } satisfies AloneTally);
