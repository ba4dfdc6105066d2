import { parentPort, workerData } from 'node:worker_threads';
import { analyzeMessage } from '../src/analyze/analyze-message.ts';
import { offlineFileLookup } from '../src/keys/key-lookup.ts';
import { postAnalysis } from '../src/pipeline/posted-analysis.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, readMessageAt } from '../src/read/read-container.ts';
import { useLineScanModule } from '../src/read/line-scan.ts';
import { ReusableBuffer } from '../src/read/reusable-buffer.ts';

/** One thread of warm-up.ts: its share of the files, analysed `passes` times over. */
export interface WarmUpShare {
  files: string[];
  keysFile: string;
  lineScan: WebAssembly.Module | null;
  passes: number;
  every: number;
}

/** Milliseconds taken by each `every` messages, pass after pass. */
export type WarmUpTimes = number[][];

const share = workerData as WarmUpShare;
useLineScanModule(share.lineScan);
const lookup = offlineFileLookup(share.keysFile);
const readBuffer = new ReusableBuffer(undefined, { scannable: true });
const times: WarmUpTimes = [];
for (let pass = 0; pass < share.passes; pass++) {
  const pieces: number[] = [];
  let start = performance.now();
  for (const [i, absPath] of share.files.entries()) {
    const { raw, format } = readMessageAt({ absPath, kind: 'eml' }, DEFAULT_MAX_MESSAGE_BYTES, readBuffer);
    postAnalysis(await analyzeMessage({ raw, format }, lookup));
    if ((i + 1) % share.every === 0 || i === share.files.length - 1) {
      const now = performance.now();
      pieces.push(Math.round(now - start));
      start = now;
    }
  }
  times.push(pieces);
}
parentPort!.postMessage(times);
