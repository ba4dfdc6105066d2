/**
 * A forwarded message's bytes, gathered into memory shared between threads. They cross from the
 * worker that found them to the main thread, and from there to the worker that analyses them,
 * shared at each step rather than copied: a 50 MB forwarded message peaked at 356 MB, about 100
 * MB of it the copies made on the way (one in each answer's structured clone, one for the worker
 * that analyses it). Nothing writes into them once gathered: an analysis only reads its input.
 */
export function gatherShared(chunks: readonly Uint8Array[], size: number): Buffer {
  const shared = Buffer.from(new SharedArrayBuffer(size));
  let at = 0;
  for (const chunk of chunks) {
    shared.set(chunk, at);
    at += chunk.length;
  }
  return shared;
}
