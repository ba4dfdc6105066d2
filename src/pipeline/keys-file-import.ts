import { KeysFileChangedError } from '../keys/keys-file-index.ts';
import { namesStoredAs, recordsStoredAs, type KeysFile } from '../keys/keys-file.ts';
import { normalizeKeyName } from '../keys/types.ts';
import type { KeyStore } from '../store/key-store.ts';
import type { KeysSeen } from '../store/keys-seen.ts';
import { storeImportedKey } from './key-commands.ts';

/**
 * The `--keys` files' records go into the key store name by name: those of every name the stored
 * results wait for before the run (so that a changed file re-analyses what it always did), then
 * those of each name the run asks for or records, before the answer or the record. A key archive
 * of 100,000 selectors used to be imported whole, a database row each, for a dump that asks for
 * a few (red team BB, BB-08); so was a key-store file of as many records. A name's records come
 * in whole, once a run. A key-store file's compromised fingerprints apply to every key: they all
 * go in before the run (`addCompromised`).
 */
export class KeysFileImport {
  private readonly store: KeyStore;
  private readonly files: KeysFile[];
  private readonly brought = new Set<string>();
  private changed: KeysFileChangedError | null = null;

  constructor(store: KeyStore, files: KeysFile[]) {
    this.store = store;
    this.files = files;
  }

  get hasFiles(): boolean {
    return this.files.length > 0;
  }

  /** Every compromised fingerprint the key-store files list, each with the list that named it. */
  addCompromised(at: string): void {
    for (const file of this.files) if (file.keyStore) this.store.addCompromised(file.keyStore.compromised, at);
  }

  /** The names among these whose records are not in the store yet this run (the store's own forms of them). */
  due(names: Iterable<string>): string[] {
    const due: string[] = [];
    if (!this.hasFiles) return due;
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
   * (`seen`). A file's records are read from it when their name comes up, checked against the
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

  /**
   * Adds the files' records stored under these names (from `due`): a map's each with its file's
   * path and sha256, a key-store file's with the provenance, origin and dates it recorded, as
   * `keys import` adds them.
   */
  bringIn(storeNames: string[]): void {
    const at = new Date().toISOString();
    for (const file of this.files) {
      for (const name of storeNames) {
        const { keyStore } = file;
        if (keyStore) {
          for (const fileName of namesStoredAs(file, name)) for (const key of keyStore.recordsOf(fileName)) storeImportedKey(this.store, key, file.sha256, at);
          continue;
        }
        for (const record of recordsStoredAs(file, name)) {
          this.store.addKey({ name, txt: record.txt, source: 'file', origin: file.path, originSha256: file.sha256 });
        }
      }
    }
  }
}
