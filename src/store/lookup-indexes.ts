import type { Db } from './open-store.ts';

/**
 * The indexes keyed by values in no order (hashes, Message-IDs, addresses, file names), which
 * nothing reads while a run stores its analyses: the reports, `show`, and the passes over the
 * whole dump at the end of a run read them. Each must read here as the schema's migrations
 * create it (tests/unit/lookup-indexes.test.ts compares them).
 *
 * Kept up to date row by row, each message lands on a page of its own in every one of them, and
 * every batch committed rewrites those pages into the write-ahead log and again into the file:
 * a first run over 20,000 messages wrote 271 MB for a 59 MB database, against 153 MB with
 * them built once after the inserts (forty-fourth round, docs/performance.md).
 */
export const LOOKUP_INDEXES: Readonly<Record<string, string>> = {
  messages_sha256: 'messages(sha256)',
  messages_message_id: 'messages(message_id)',
  messages_canonical_message_id: 'messages(canonical_message_id)',
  messages_from: 'messages(from_address)',
  attachments_sha256: 'attachments(sha256)',
  attachments_name: 'attachments(normalized_name)',
  attachment_other_names_name: 'attachment_other_names(normalized_name)',
};

/**
 * Drops the lookup indexes when the database holds no message yet, for `restoreLookupIndexes`
 * to build once the run's inserts are done; returns whether it did. A database that holds
 * messages keeps them: a re-run writes the rows of the files that changed, few as a rule, and
 * building the indexes again over every row would cost it more than it saved; a report read
 * while it runs keeps its indexes too.
 */
export function deferLookupIndexes(db: Db): boolean {
  if (db.prepare('SELECT 1 FROM messages LIMIT 1').get() !== undefined) return false;
  db.transaction(() => {
    for (const name of Object.keys(LOOKUP_INDEXES)) db.exec(`DROP INDEX IF EXISTS ${name}`);
  })();
  return true;
}

/**
 * Builds whichever lookup index is missing. Called when a run's inserts are done, whatever ended
 * them, and at the start of every run: a first run killed before it could build them (`kill -9`,
 * a power cut) left a database that reads right, only slower, until the next run.
 */
export function restoreLookupIndexes(db: Db): void {
  db.transaction(() => {
    for (const [name, on] of Object.entries(LOOKUP_INDEXES)) db.exec(`CREATE INDEX IF NOT EXISTS ${name} ON ${on}`);
  })();
}
