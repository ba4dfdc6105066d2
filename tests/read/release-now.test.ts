import { describe, expect, it } from 'vitest';
import { releaseNow } from '../../src/read/reusable-buffer.ts';

describe('releaseNow (memory given back at once instead of to the collector)', () => {
  it('empties memory of its own: the caller has said nothing else views it', () => {
    const own = Buffer.allocUnsafeSlow(256 * 1024).fill(0x61);
    const before = process.memoryUsage().arrayBuffers;
    releaseNow(own);
    expect(own.length).toBe(0);
    expect(before - process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(256 * 1024);
  });

  it("leaves a slice of Buffer's shared pool, and its neighbours in the pool, alone", () => {
    let neighbour: Buffer;
    let small: Buffer;
    // (two in a row share the pool unless the first filled it)
    do {
      neighbour = Buffer.from('a neighbour in the pool');
      small = Buffer.from('a small message');
    } while (small.buffer !== neighbour.buffer);
    releaseNow(small);
    expect([small.toString(), neighbour.toString(), Buffer.from('allocated after').toString()]).toEqual(['a small message', 'a neighbour in the pool', 'allocated after']);
  });

  it('leaves shared memory alone', () => {
    const shared = Buffer.from(new SharedArrayBuffer(256 * 1024));
    releaseNow(shared);
    expect(shared.length).toBe(256 * 1024);
  });
});
