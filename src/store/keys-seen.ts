import type { Db } from './open-store.ts';

/**
 * The key store as a run's analyses saw it: the highest key record id every file it writes may
 * record as seen (`source_files.last_key_id`, src/store/incremental.ts). The lookup answers each
 * key name once per run, from the store as it was then, so a record another process adds during
 * the run is never seen by it; taken when the row was written, `max(id)` called such a record
 * seen, and the files it could change were never read again (red team Z, Z-02). It starts at the
 * store as the run found it, and moves only with what the run itself adds (its live DNS answers,
 * which its lookup sees from then on), until another writer's record comes in between.
 */
export class KeysSeen {
  private readonly db: Db;
  private readonly highest;
  private seen: number;

  constructor(db: Db) {
    this.db = db;
    this.highest = db.prepare('SELECT COALESCE(max(id), 0) FROM keys').pluck();
    this.seen = this.highest.get() as number;
  }

  get upTo(): number {
    return this.seen;
  }

  /** Runs `store`, the run's own write of key records, and counts them seen if nothing else came before them. */
  ownRecords(store: () => void): void {
    this.db.transaction(() => {
      const before = this.highest.get() as number;
      store();
      if (before === this.seen) this.seen = this.highest.get() as number;
    })();
  }
}
