import { byCodeUnits } from '../store/code-unit-order.ts';
import { shownKeyOrigin } from './key-file-name.ts';
import type { KeySourceKind } from './types.ts';

const SOURCE_RANK: Record<KeySourceKind, number> = { file: 0, archive: 1, dns: 2 };

/**
 * The order in which the records of one key name are tried and credited: files before archives
 * before DNS (what the analyst gave outranks what was fetched), then by the origin's name as the
 * explanations show it, then its full name, then the text. It never depends on the order the
 * records entered the store: `--keys A --keys B` and `--keys B --keys A` must explain the same
 * verdicts in the same words (red team 28, H-04). DKIM (the key store's answers) and ARC
 * (verifyArc's candidates) both use it, so that a selector that both signs and seals is credited
 * to the same record by both.
 */
export const byKeyRank = (a: { source: KeySourceKind; origin: string; txt: string }, b: { source: KeySourceKind; origin: string; txt: string }): number =>
  SOURCE_RANK[a.source] - SOURCE_RANK[b.source] ||
  byCodeUnits(shownKeyOrigin(a.source, a.origin), shownKeyOrigin(b.source, b.origin)) ||
  byCodeUnits(a.origin, b.origin) ||
  byCodeUnits(a.txt, b.txt);
