import { parentPort, workerData } from 'node:worker_threads';
import { analyzeMessage, DEFAULT_ANALYSIS_OPTIONS, type AnalysisOptions } from '../analyze/analyze-message.ts';
import type { ContainerKind } from '../discover/types.ts';
import type { KeyAnswer, KeyLookup } from '../keys/types.ts';
import { hashFileSync, readMessageAt, type MessageLocation } from '../read/read-container.ts';
import { useLineScanModule } from '../read/line-scan.ts';
import { releaseNow, ReusableBuffer } from '../read/reusable-buffer.ts';
import { ReadError, type RawMessage } from '../read/types.ts';
import type { ZipEntryLocation } from '../read/zip.ts';
import { sha256OfZipEntry } from '../read/zip-entry.ts';
import { ANSWER_BATCH, postAnalysis, type PostedAnalysis } from './posted-analysis.ts';
import type { RingPlace } from './message-ring.ts';
import { ReadAhead } from './read-ahead.ts';
import { progressWriter } from './worker-progress.ts';

/**
 * A worker thread that runs the per-message analysis. It owns no state but a key cache (keys
 * are asked of the main thread, which resolves each name once for the whole run) and the memory
 * it reads files into.
 */
export type ToWorker =
  | { type: 'configure'; options: AnalysisOptions }
  | { type: 'analyze'; id: number; raw: Uint8Array; format: ContainerKind }
  | { type: 'analyze-at'; id: number; location: MessageLocation; maxBytes: number }
  | { type: 'analyze-shared'; id: number; place: RingPlace; format: ContainerKind }
  /** a whole file, or with `entry` one entry of the zip archive at `absPath`, inflated */
  | { type: 'hash'; id: number; absPath: string; entry?: ZipEntryLocation }
  | { type: 'key-answer'; id: number; answer: KeyAnswer };

/**
 * What a worker is started with: the memory it reports the message in progress to, and the
 * line-feed scanner compiled once for the process (null where WebAssembly is unavailable).
 */
export interface AnalysisWorkerData {
  progress: SharedArrayBuffer;
  lineScan: WebAssembly.Module | null;
}

/** What became of one message handed to a worker. */
export type TaskAnswer =
  | { type: 'result'; id: number; analysis: PostedAnalysis; message?: Omit<RawMessage, 'raw'> }
  | { type: 'hashed'; id: number; sha256: string }
  | { type: 'error'; id: number; message: string }
  | { type: 'read-error'; id: number; code: string; message: string };

export type FromWorker = { type: 'answers'; answers: TaskAnswer[] } | { type: 'key'; id: number; name: string };

if (!parentPort) throw new Error('analysis-worker.ts must run in a worker thread');
const port = parentPort;
const started = workerData as AnalysisWorkerData;
const progress = progressWriter(started.progress);
useLineScanModule(started.lineScan);

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

/**
 * The run's options arrive in the first message, not in workerData: the threads are started
 * before the command line is read (analysis-threads.ts). A port delivers in order, so they are
 * in place before the first message to analyse.
 */
let analysisOptions: AnalysisOptions = DEFAULT_ANALYSIS_OPTIONS;

port.on('message', (message: ToWorker) => {
  if (message.type === 'configure') {
    analysisOptions = message.options;
    return;
  }
  if (message.type === 'key-answer') {
    waiting.get(message.id)?.(message.answer);
    waiting.delete(message.id);
    return;
  }
  queue.push(message);
  if (!running) {
    running = true;
    // Not at once: the messages the port holds behind this one are delivered first, so that the
    // queue shows them (see runQueue).
    setImmediate(() => void runQueue());
  }
});

/**
 * Files are read into this one buffer, a message at a time. It is safe to reuse because the
 * queue below analyses one message at a time, and what leaves the analysis is made of copies
 * (JSON text, and forwarded messages the inventory copied out), which may wait for their batch
 * while the next message is read.
 */
const readBuffer = new ReusableBuffer(undefined, { scannable: true });

/**
 * Messages are analysed one after the other, each marked as started in the shared progress: the
 * main thread's time limit counts from then, so a message is never given up for the time spent
 * waiting behind another, and a message given up takes only itself along (the rest are handed to
 * a new worker).
 */
type Task = Exclude<ToWorker, { type: 'key-answer' | 'configure' }>;
const queue: Task[] = [];
const answers: TaskAnswer[] = [];
let running = false;
/**
 * An analysis whose key is known never waits on the event loop: it runs to its end in
 * microtasks, and messages the main thread sent meanwhile wait in the port until this thread
 * yields. So the queue looks empty after every message unless the thread yields before it
 * believes that: without the yield every answer went back alone (1,970 posts for 2,000
 * messages), each waking the main thread, instead of in batches.
 */
async function runQueue(): Promise<void> {
  while (queue.length) {
    const task = queue[0]!;
    progress.start(task.id);
    let answer: TaskAnswer;
    try {
      answer = await runTask(task);
    } catch (err) {
      answer = { type: 'error', id: task.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    }
    progress.end();
    answers.push(answer);
    queue.shift();
    if (!queue.length) await new Promise<void>((resolve) => setImmediate(resolve));
    if (answers.length >= ANSWER_BATCH || !queue.length) port.postMessage({ type: 'answers', answers: answers.splice(0) } satisfies FromWorker);
  }
  running = false;
}

/** The small files queued behind one being read are read with it (see read-ahead.ts). */
const readAhead = new ReadAhead();

type ReadTask = Extract<Task, { type: 'analyze-at' }>;

/** `task`'s message read into readBuffer, and the small files of the reads queued right behind it read ahead. */
function readWithReadAhead(task: ReadTask): RawMessage {
  const read = readMessageAt(task.location, task.maxBytes, readBuffer);
  const next: ReadTask[] = [];
  for (let k = 1; k < queue.length && queue[k]!.type === 'analyze-at'; k++) next.push(queue[k] as ReadTask);
  if (next.length && !readAhead.holding) {
    readAhead.fill(next, (ahead, into) => readMessageAt(ahead.location, ahead.maxBytes, into), (id) => progress.start(id));
    progress.start(task.id);
  }
  return read;
}

/** Files hashed whole (`verify --rehash`) are read through this, a chunk at a time. */
let hashChunk: Buffer | null = null;

async function runTask(task: Task): Promise<TaskAnswer> {
  if (task.type === 'hash') {
    hashChunk ??= Buffer.allocUnsafe(1024 * 1024);
    try {
      const sha256 = task.entry ? await sha256OfZipEntry(task.absPath, task.entry) : hashFileSync(task.absPath, hashChunk);
      return { type: 'hashed', id: task.id, sha256 };
    } catch (err) {
      if (err instanceof ReadError) return { type: 'read-error', id: task.id, code: err.code, message: err.message };
      throw err;
    }
  }
  if (task.type === 'analyze' || task.type === 'analyze-shared') {
    // A message in memory shared with the main thread is analysed where it lies, in memory the
    // main thread reuses once this answer is in (see message-ring.ts): what leaves the analysis is
    // made of copies, as with readBuffer. Not copied into readBuffer: that made a Takeout run
    // larger (by 15-50 MB in the runs tried), the buffer's pages touched beside the ring's, for no
    // time saved.
    const raw =
      task.type === 'analyze'
        ? Buffer.from(task.raw.buffer, task.raw.byteOffset, task.raw.byteLength)
        : Buffer.from(task.place.memory, task.place.offset, task.place.length);
    try {
      return { type: 'result', id: task.id, analysis: postAnalysis(await analyzeMessage({ raw, format: task.format }, lookup, analysisOptions)) };
    } finally {
      // A message that came as a copy of its own, which nothing of the analysis points into (see
      // readBuffer): its memory goes back now, not when a collection finds it. Left to the
      // collector, the copies of an mbox read from a zip piled up by about 60 MB a thread.
      if (task.type === 'analyze') releaseNow(task.raw);
    }
  }
  let read: RawMessage;
  try {
    read = readAhead.claim(task.id, readBuffer) ?? readWithReadAhead(task);
  } catch (err) {
    // A file that cannot be read is a fact about the evidence, not a failed analysis.
    if (err instanceof ReadError) return { type: 'read-error', id: task.id, code: err.code, message: err.message };
    throw err;
  }
  const { index, offset, format, raw } = read;
  return { type: 'result', id: task.id, analysis: postAnalysis(await analyzeMessage({ raw, format }, lookup, analysisOptions)), message: { index, offset, format } };
}
