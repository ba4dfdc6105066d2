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
  | { type: 'started'; id: number }
  | { type: 'result'; id: number; analysis: unknown }
  | { type: 'error'; id: number; message: string }
  | { type: 'key'; id: number; name: string };

if (!parentPort) throw new Error('analysis-worker.ts must run in a worker thread');
const port = parentPort;

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
  queue.push(message);
  if (queue.length === 1) void runQueue();
});

/**
 * Messages are analysed one after the other, each announced as started: the main thread's time
 * limit counts from then, so a message is never given up for the time spent waiting behind
 * another, and a message given up takes only itself along (the rest are handed to a new worker).
 */
const queue: Array<Extract<ToWorker, { type: 'analyze' }>> = [];
async function runQueue(): Promise<void> {
  while (queue.length) {
    const message = queue[0]!;
    port.postMessage({ type: 'started', id: message.id } satisfies FromWorker);
    const raw = Buffer.from(message.raw.buffer, message.raw.byteOffset, message.raw.byteLength);
    try {
      const analysis = await analyzeMessage({ raw, format: message.format }, lookup);
      port.postMessage({ type: 'result', id: message.id, analysis } satisfies FromWorker);
    } catch (err) {
      port.postMessage({ type: 'error', id: message.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromWorker);
    }
    queue.shift();
  }
}
