/** The changes of the chain of custody, counted by kind. */
export type ChangeCounts = { changed: number; removed: number; added: number };

/**
 * "2 file change(s), 1 removal(s) and 3 addition(s)": the kinds a summary counts, in words, each
 * said by `say` (each format has its plurals and number style). Additions only when there are.
 */
export function changeCounts(counts: ChangeCounts, say = (n: number, kind: string): string => `${n} ${kind}(s)`): string {
  const kinds = [say(counts.changed, 'file change'), say(counts.removed, 'removal')];
  if (counts.added) kinds.push(say(counts.added, 'addition'));
  return `${kinds.slice(0, -1).join(', ')} and ${kinds.at(-1)!}`;
}

/** "2 changed, 0 removed, 1 added": what one run found, additions only when there are. */
export const changeTally = (counts: ChangeCounts, num = (n: number): string => String(n)): string =>
  `${num(counts.changed)} changed, ${num(counts.removed)} removed${counts.added ? `, ${num(counts.added)} added` : ''}`;

