/** The changes of the chain of custody, counted by kind. */
export type ChangeCounts = { changed: number; removed: number; added: number; unconfirmed: number };

/**
 * "2 file change(s), 1 removal(s), 3 addition(s) and 1 unconfirmed file(s)": the kinds a summary
 * counts, in words, each said by `say` (each format has its plurals and number style). Additions
 * and unconfirmed files only when there are.
 */
export function changeCounts(counts: ChangeCounts, say = (n: number, kind: string): string => `${n} ${kind}(s)`): string {
  const kinds = [say(counts.changed, 'file change'), say(counts.removed, 'removal')];
  if (counts.added) kinds.push(say(counts.added, 'addition'));
  if (counts.unconfirmed) kinds.push(say(counts.unconfirmed, 'unconfirmed file'));
  return `${kinds.slice(0, -1).join(', ')} and ${kinds.at(-1)!}`;
}

/** "2 changed, 0 removed, 1 added, 1 unconfirmed": what one run found, the last two only when there are. */
export const changeTally = (counts: ChangeCounts, num = (n: number): string => String(n)): string =>
  `${num(counts.changed)} changed, ${num(counts.removed)} removed${counts.added ? `, ${num(counts.added)} added` : ''}` +
  (counts.unconfirmed ? `, ${num(counts.unconfirmed)} unconfirmed` : '');
