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
}

export interface AloneTally {
  messages: number;
  verified: number;
}

const share = workerData as AloneShare;
useLineScanModule(share.lineScan);
// (each thread resolves its own keys: a handful of records, against a verify's one lookup per run)
const lookup = offlineFileLookup(share.keysFile);
const readBuffer = new ReusableBuffer(undefined, { scannable: true });
const tally: AloneTally = { messages: 0, verified: 0 };
for (const absPath of share.files) {
  const { raw, format } = readMessageAt({ absPath, kind: 'eml' }, DEFAULT_MAX_MESSAGE_BYTES, readBuffer);
  const analysis = await analyzeMessage({ raw, format }, lookup);
  postAnalysis(analysis);
  tally.messages++;
  if (analysis.verdict.verdict === 'verified') tally.verified++;
}
parentPort!.postMessage(tally);
