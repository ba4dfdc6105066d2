import { describe, expect, it } from 'vitest';
import { createWorkerProgress, progressWriter } from '../../src/pipeline/worker-progress.ts';

describe('worker progress in shared memory', () => {
  it('tells the message in progress and since when, and nothing between messages', () => {
    const progress = createWorkerProgress();
    const writer = progressWriter(progress.shared);
    expect(progress.current()).toBeNull();
    const before = Date.now();
    writer.start(41);
    const current = progress.current();
    expect(current?.id).toBe(41);
    expect(current!.since).toBeGreaterThanOrEqual(before);
    expect(current!.since).toBeLessThanOrEqual(Date.now());
    writer.end();
    expect(progress.current()).toBeNull();
    writer.start(42);
    expect(progress.current()?.id).toBe(42);
  });
});
