import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT } from '../../src/pipeline/analysis-threads.ts';

const ANALYSIS_THREADS = new URL('../../src/pipeline/analysis-threads.ts', import.meta.url).href;

/**
 * A child process that keeps about 30 MB alive while it turns over ten times that, the way a
 * run's main thread keeps its batches and answers alive long enough for them to be promoted and
 * then drops them. It prints the live heap once collected, and the largest the heap got.
 */
const churn = (tuned: boolean): { liveMb: number; largestMb: number } => {
  const script = `
    import { getHeapStatistics } from 'node:v8';
    const { tuneCollector } = await import(${JSON.stringify(ANALYSIS_THREADS)});
    if (${tuned}) tuneCollector(1);
    const held = new Array(400).fill(null);
    let largest = 0;
    for (let i = 0; i < 12000; i++) {
      const batch = [];
      for (let j = 0; j < 500; j++) batch.push({ at: j, name: 'x' + j, pair: [j, j + 1] });
      held[i % held.length] = batch;
      if (i % 50 === 0) largest = Math.max(largest, getHeapStatistics().total_heap_size);
    }
    globalThis.gc();
    // (held is read after the collection, so that it is alive through it)
    console.log(JSON.stringify({ liveMb: getHeapStatistics().used_heap_size / 2 ** 20, largestMb: largest / 2 ** 20, held: held.length }));`;
  // the CLI's young generation (bin/leakcheck.js), and a full collection to measure what is alive
  const out = execFileSync(process.execPath, ['--max-semi-space-size=4', '--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as { liveMb: number; largestMb: number };
};

describe('tuneCollector', () => {
  it("keeps a heap near what is alive in it, where V8 alone lets garbage fill it to several times that", () => {
    const tuned = churn(true);
    expect(tuned.liveMb).toBeGreaterThan(25);
    // the growth allowed over what is alive, as much again in pages not yet swept, and the young generation's 12 MB
    expect(tuned.largestMb).toBeLessThan(2 * (1 + HEAP_GROWING_PERCENT / 100) * tuned.liveMb + 12);
    // V8 alone lets the same process reach four and a half times what is alive on this machine
    const alone = churn(false);
    expect(alone.largestMb).toBeGreaterThan(tuned.largestMb);
  }, 60_000);
});
