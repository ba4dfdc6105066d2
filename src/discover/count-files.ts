import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A quick count of the entries a walk will meet, for the progress bar's total and ETA. Reads
 * directory listings only (no file is opened), follows no symlink, and gives up quietly: it
 * only ever feeds a display.
 */
export async function countEntries(root: string, limit = 5_000_000): Promise<number | null> {
  let count = 0;
  const pending = [root];
  try {
    while (pending.length) {
      const dir = pending.pop()!;
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        count++;
        continue;
      }
      for (const entry of entries) {
        if (entry.isDirectory()) pending.push(join(dir, entry.name));
        else count++;
        if (count > limit) return null;
      }
    }
    return count;
  } catch {
    return null;
  }
}
