import type { MessageAnalysis } from '../analyze/analyze-message.ts';

/**
 * An analysis as it crosses to the main thread: JSON, which is what the store makes of it anyway,
 * and which costs a fifth of what postMessage's structured clone of the object does (measured on
 * the bench mix: 22 ms against 140 ms for 1,000 analyses). Forwarded messages go beside it, as
 * bytes.
 */
export interface PostedAnalysis {
  json: string;
  embedded: MessageAnalysis['embedded'];
}

export const postAnalysis = ({ embedded, ...rest }: MessageAnalysis): PostedAnalysis => ({ json: JSON.stringify(rest), embedded });
/** Structured clone makes a Buffer a plain Uint8Array: the forwarded messages are made Buffers again. */
export const receiveAnalysis = ({ json, embedded }: PostedAnalysis): MessageAnalysis => ({
  ...(JSON.parse(json) as Omit<MessageAnalysis, 'embedded'>),
  embedded: embedded.map(({ partIndex, raw, size }) => ({ partIndex, raw: raw && Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), size })),
});

/**
 * A worker posts its answers a few at a time. Every message it posts wakes the main thread (a
 * write to its event fd, and a switch to it): on the bench mix that cost the worker 24 µs a
 * message with one worker and 100–160 µs with two, where the woken main thread takes the core of
 * the other worker. A worker whose queue is empty answers at once, so that it is given more.
 */
export const ANSWER_BATCH = 8;
