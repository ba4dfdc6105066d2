import { KeysFileChangedError } from '../keys/keys-file-index.ts';
import { recordsStoredAs, type KeysFile } from '../keys/keys-file.ts';
import { normalizeKeyName } from '../keys/types.ts';
import type { KeyStore } from '../store/key-store.ts';
import type { KeysSeen } from '../store/keys-seen.ts';

/**
 * The `--keys` maps' records go into the key store name by name: those of every name the stored
 * results wait for before the run (so that a changed file re-analyses what it always did), then
 * those of each name the run asks for or records, before the answer or the record. A key archive
 * of 100,000 selectors used to be imported whole, a database row each, for a dump that asks for
 * a few (red team BB, BB-08). A name's records come in whole, once a run; the key-store file
 * `keys export` writes is imported whole before the run, as `keys import` takes it.
 */
export class KeysFileImport {
  private readonly store: KeyStore;
  private readonly maps: KeysFile[];
  private readonly brought = new Set<string>();
  private changed: KeysFileChangedError | null = null;

  constructor(store: KeyStore, files: KeysFile[]) {
    this.store = store;
    this.maps = files.filter((f) => !f.parsed);
  }

  get hasMaps(): boolean {
    return this.maps.length > 0;
  }

  /** The names among these whose records are not in the store yet this run (the store's own forms of them). */
  due(names: Iterable<string>): string[] {
    const due: string[] = [];
    if (!this.hasMaps) return due;
    for (const name of names) {
      // (the store normalizes a name as it adds it: both forms are the name's)
      for (const stored of name === normalizeKeyName(name) ? [name] : [name, normalizeKeyName(name)]) {
        if (this.brought.has(stored)) continue;
        this.brought.add(stored);
        due.push(stored);
      }
    }
    return due;
  }

  /**
   * Brings in the records of these names not in the store yet, as the run's own key records
   * (`seen`). A map's records are read from it when their name comes up, checked against the
   * bytes indexed; once a read finds the file changed, every later call refuses too, and since
   * every write brings in keys first, nothing more is written: the message whose lookup failed
   * is not recorded as if its key were not there, and the run fails, saying why.
   */
  bringInSeen(names: Iterable<string>, seen: KeysSeen): void {
    if (this.changed) throw new KeysFileChangedError(this.changed.message);
    const due = this.due(names);
    if (!due.length) return;
    try {
      seen.ownRecords(() => this.bringIn(due));
    } catch (err) {
      if (err instanceof KeysFileChangedError) this.changed = err;
      throw err;
    }
  }

  /** Adds the maps' records stored under these names (from `due`), each with its file's path and sha256. */
  bringIn(storeNames: string[]): void {
    for (const file of this.maps) {
      for (const name of storeNames) {
        for (const record of recordsStoredAs(file, name)) {
          this.store.addKey({ name, txt: record.txt, source: 'file', origin: file.path, originSha256: file.sha256 });
        }
      }
    }
  }
}
