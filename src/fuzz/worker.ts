/**
 * A fuzz worker thread (started by pool.ts): loads the seed messages once, then runs the batches
 * of cases it is sent. Before each case it writes the case number into shared memory, so that
 * the pool can name the case if this thread hangs, even in synchronous code.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ContainerKind } from '../discover/types.ts';
import { offlineFileLookup } from '../keys/key-lookup.ts';
import { ownThreadId } from '../pipeline/worker-progress.ts';
import { loadSeedMessages, makeCase, runCase, type FuzzInput } from './cases.ts';

export interface WorkerData {
  seed: number;
  /** where the seed messages come from; null when every case is sent explicitly */
  dumpRoot: string | null;
  keysPath: string;
  /** Int32Array view: [0] = case running now, -1 when idle; [1] = this thread's id (0 unknown), for its CPU time */
  current: SharedArrayBuffer;
}

/** A message to analyse as it is, instead of a generated case. */
export interface ExplicitCase {
  caseIndex: number;
  name: string;
  bytes: Uint8Array;
  format: ContainerKind;
}

export type ToWorker = { type: 'run'; cases: Array<number | ExplicitCase> } | { type: 'exit' };
export type FromWorker =
  | { type: 'ready'; seeds: number; seedVerdicts: Record<string, number> }
  | { type: 'outcome'; caseIndex: number; verdict: string | null; failures: string[]; ops: string[]; seedName: string; format: string; size: number; ms: number }
  | { type: 'batch-done' };

const data = workerData as WorkerData;
const port = parentPort!;
const current = new Int32Array(data.current);
Atomics.store(current, 0, -1);
Atomics.store(current, 1, ownThreadId());

const lookup = offlineFileLookup(data.keysPath);
const seeds = data.dumpRoot === null ? [] : await loadSeedMessages(data.dumpRoot, lookup);
const seedVerdicts: Record<string, number> = {};
for (const s of seeds) seedVerdicts[s.verdict] = (seedVerdicts[s.verdict] ?? 0) + 1;
port.postMessage({ type: 'ready', seeds: seeds.length, seedVerdicts } satisfies FromWorker);

port.on('message', (message: ToWorker) => {
  if (message.type === 'exit') {
    port.close();
    return;
  }
  void (async () => {
    for (const item of message.cases) {
      const caseIndex = typeof item === 'number' ? item : item.caseIndex;
      Atomics.store(current, 0, caseIndex);
      const input: FuzzInput =
        typeof item === 'number'
          ? makeCase(data.seed, item, seeds)
          : { caseIndex, seedName: item.name, format: item.format, bytes: Buffer.from(item.bytes.buffer, item.bytes.byteOffset, item.bytes.byteLength), ops: [], signedChange: null };
      const outcome = await runCase(input, lookup);
      port.postMessage({
        type: 'outcome',
        caseIndex,
        verdict: outcome.verdict,
        failures: outcome.failures,
        ops: input.ops,
        seedName: input.seedName,
        format: input.format,
        size: input.bytes.length,
        ms: outcome.ms,
      } satisfies FromWorker);
    }
    Atomics.store(current, 0, -1);
    port.postMessage({ type: 'batch-done' } satisfies FromWorker);
  })();
});
