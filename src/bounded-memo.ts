/**
 * `compute` remembered by key, at most `max` keys at a time: when full, everything remembered is
 * dropped and remembering starts again. For the few distinct values a dump repeats thousands of
 * times (key records, domains, dates), where a hostile dump of unique values must not grow the
 * memory. `compute` must depend on its key alone; what it returns is shared by every caller of
 * that key (freeze it, or never change it). A result of `undefined` is computed every time.
 */
export function boundedMemo<K, V>(max: number, compute: (key: K) => V): (key: K) => V {
  const kept = new Map<K, V>();
  return (key) => {
    let value = kept.get(key);
    if (value === undefined) {
      value = compute(key);
      if (kept.size >= max) kept.clear();
      kept.set(key, value);
    }
    return value;
  };
}
