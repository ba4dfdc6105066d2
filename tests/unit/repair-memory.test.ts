import { describe, expect, it } from 'vitest';
import { RepairMemory } from '../../src/analyze/repair-memory.ts';
import { DEFAULT_MAX_KEPT } from '../../src/read/reusable-buffer.ts';

describe('RepairMemory (where an analysis makes its repaired copies of a message)', () => {
  it('gives every copy memory of its own while the analysis lasts: the best form so far and the one tried beside it', () => {
    const memory = new RepairMemory();
    const best = memory.take(1000).fill(1);
    const tried = memory.take(1000).fill(2);
    expect(best.buffer).not.toBe(tried.buffer);
    expect([best[0], best[999], tried[0]]).toEqual([1, 1, 2]);
    memory.giveBack();
  });

  it('hands memory given back to the next analysis, and keeps no more than two', () => {
    const first = new RepairMemory();
    const lent = [first.take(10), first.take(10), first.take(10)].map((view) => view.buffer);
    first.giveBack();
    const next = new RepairMemory();
    const reused = [next.take(10), next.take(10), next.take(10)].map((view) => view.buffer);
    next.giveBack();
    expect(reused.filter((buffer) => lent.includes(buffer))).toHaveLength(2);
  });

  it('gives a copy larger than reused memory keeps memory of its own, emptied when given back', () => {
    const memory = new RepairMemory();
    const large = memory.take(DEFAULT_MAX_KEPT + 1);
    expect(large).toHaveLength(DEFAULT_MAX_KEPT + 1);
    memory.giveBack();
    expect(large).toHaveLength(0);
  });
});
