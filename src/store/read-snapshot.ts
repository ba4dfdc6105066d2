import type { Db } from './open-store.ts';

/**
 * Runs a generator of reads inside one read transaction, so that everything it reads comes from
 * one state of the database: a report or an export written while a verify commits to the same
 * database (WAL lets both run) is never half of one state and half of another. The transaction
 * ends when the generator does, or is closed early; inside a transaction already open, it is
 * that one.
 */
export function* inReadSnapshot<T>(db: Db, read: () => Generator<T>): Generator<T> {
  const own = !db.inTransaction;
  if (own) db.exec('BEGIN');
  try {
    yield* read();
  } finally {
    if (own && db.inTransaction) db.exec('COMMIT');
  }
}
