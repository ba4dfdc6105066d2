import { describe, expect, it } from 'vitest';
import { boundedMemo } from '../../src/bounded-memo.ts';

describe('boundedMemo', () => {
  it('computes a key once, null included, and an undefined result every time', () => {
    const computed: string[] = [];
    const memo = boundedMemo(10, (key: string) => {
      computed.push(key);
      return key === 'none' ? null : key === 'unknown' ? undefined : key.toUpperCase();
    });
    expect([memo('a'), memo('a'), memo('none'), memo('none'), memo('unknown'), memo('unknown')]).toEqual(['A', 'A', null, null, undefined, undefined]);
    expect(computed).toEqual(['a', 'none', 'unknown', 'unknown']);
  });

  it('keeps at most max keys: when full it forgets them all, and computes them again', () => {
    let calls = 0;
    const memo = boundedMemo(3, (key: number) => {
      calls++;
      return { key };
    });
    const first = memo(1);
    memo(2);
    memo(3);
    expect(memo(1)).toBe(first);
    expect(calls).toBe(3);
    memo(4); // a fourth key: the three are dropped, the fourth kept
    expect(calls).toBe(4);
    expect(memo(4)).toEqual({ key: 4 });
    expect(calls).toBe(4);
    expect(memo(1)).not.toBe(first);
    expect(memo(1)).toEqual({ key: 1 });
    expect(calls).toBe(5);
  });
});
