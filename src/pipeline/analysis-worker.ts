import { parentPort } from 'node:worker_threads';
import { analyzeMessage } from '../analyze/analyze-message.ts';
import type { ContainerKind } from '../discover/types.ts';
import type { KeyAnswer, KeyLookup } from '../keys/types.ts';

/**
 * A worker thread that runs the per-message analysis. It owns no state but a key cache: keys
 * are asked of the main thread, which resolves each name once for the whole run.
 */
export type ToWorker =
  | { type: 'analyze'; id: number; raw: Uint8Array; format: ContainerKind }
  | { type: 'key-answer'; id: number; answer: KeyAnswer };

export type FromWorker =
  | { type: 'result'; id: number; analysis: unknown }
  | { type: 'error'; id: number; message: string }
  | { type: 'key'; id: number; name: string };

const port = parentPort;
if (!port) throw new Error('analysis-worker.ts must run in a worker thread');

const waiting = new Map<number, (answer: KeyAnswer) => void>();
const known = new Map<string, Promise<KeyAnswer>>();
let nextKeyRequest = 0;

const lookup: KeyLookup = (name) => {
  let answer = known.get(name);
  if (!answer) {
    answer = new Promise<KeyAnswer>((resolve) => {
      const id = ++nextKeyRequest;
      waiting.set(id, resolve);
      port.postMessage({ type: 'key', id, name } satisfies FromWorker);
    });
    known.set(name, answer);
  }
  return answer;
};

port.on('message', (message: ToWorker) => {
  if (message.type === 'key-answer') {
    waiting.get(message.id)?.(message.answer);
    waiting.delete(message.id);
    return;
  }
  const raw = Buffer.from(message.raw.buffer, message.raw.byteOffset, message.raw.byteLength);
  analyzeMessage({ raw, format: message.format }, lookup).then(
    (analysis) => port.postMessage({ type: 'result', id: message.id, analysis } satisfies FromWorker),
    (err: unknown) => port.postMessage({ type: 'error', id: message.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromWorker),
  );
});
