import Database from 'better-sqlite3';
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { basename } from 'node:path';
import { canonicalMessageId } from '../read/message-id.ts';
import { APPLICATION_ID, CANONICAL_MESSAGE_ID_FUNCTION, MIGRATIONS, SCHEMA_VERSION } from './schema.ts';

export type Db = Database.Database;

export class StoreError extends Error {
  override name = 'StoreError';
}

const SQLITE_MAGIC = 'SQLite format 3\0';

/**
 * Opens (or creates) a leakcheck database and brings its schema up to date. Refuses, with a
 * clear message and without writing a byte, a file that is not SQLite, a SQLite database that
 * belongs to something else, and a schema newer than this version of the tool knows.
 */
export function openStore(path: string, options: { readonly?: boolean } = {}): Db {
  const exists = existsSync(path);
  if (!exists && options.readonly) throw new StoreError(`${path}: no such database. Run \`leakcheck verify\` first.`);
  if (exists) assertSqliteFile(path);
  let db: Db;
  try {
    db = new Database(path, { readonly: Boolean(options.readonly), fileMustExist: Boolean(options.readonly) });
  } catch (err) {
    throw new StoreError(`${path}: cannot open the database (${(err as Error).message})`);
  }
  try {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    const hasTables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n > 0;
    if (hasTables && appId !== APPLICATION_ID) {
      throw new StoreError(`${path} is a SQLite database that leakcheck did not create; refusing to touch it. Choose another file with --db.`);
    }
    if (version > SCHEMA_VERSION) {
      throw new StoreError(
        `${path} has schema version ${version}, newer than this leakcheck understands (${SCHEMA_VERSION}). Upgrade leakcheck to read it.`,
      );
    }
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      migrate(db, version);
    } else if (version < SCHEMA_VERSION) {
      throw new StoreError(`${path} has an older schema (${version}); open it once with \`leakcheck verify\` to upgrade it.`);
    }
    return db;
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    const code = (err as { code?: unknown }).code;
    if (options.readonly && (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY')) {
      // a database left in WAL mode (by an older leakcheck, or a run whose end could not switch
      // it back: closeStore) can be read only where SQLite may create its -shm file beside it
      throw new StoreError(
        `${path}: cannot open the database read-only here (${(err as Error).message}): it was left in WAL mode, which needs a ${basename(path)}-shm file written beside it. Copy it to a folder you can write, or run \`leakcheck verify\` on it once where it can be written.`,
      );
    }
    if (typeof code === 'string' && code.startsWith('SQLITE_')) {
      throw new StoreError(`${path}: the database is damaged or is not a leakcheck database (${(err as Error).message}); refusing to write to it.`);
    }
    throw err;
  }
}

function migrate(db: Db, from: number): void {
  if (from === SCHEMA_VERSION) return;
  // (a migration derives a column from a stored one with the reader's own code)
  db.function(CANONICAL_MESSAGE_ID_FUNCTION, { deterministic: true }, (value: unknown) => canonicalMessageId(typeof value === 'string' ? value : null));
  const upgrade = db.transaction(() => {
    for (let version = from; version < SCHEMA_VERSION; version++) db.exec(MIGRATIONS[version]!);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
  upgrade();
}

function assertSqliteFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(16);
    const read = readSync(fd, head, 0, 16, 0);
    if (read === 0) return; // an empty file is a new database
    if (read < 16 || head.toString('latin1') !== SQLITE_MAGIC) {
      throw new StoreError(`${path} is not a SQLite database (corrupted, or some other file); refusing to overwrite it.`);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Closes a database opened for writing, switched back from WAL to a rollback journal first: a
 * database in WAL mode can be opened read-only only where SQLite may write its -shm file beside
 * it, so the record of a run handed over on read-only media (a write-blocked custody copy) could
 * not be read at all (red team Z, Z-15). A reader still open keeps it in WAL mode: the switch is
 * then left for the next writer's close.
 */
export function closeStore(db: Db): void {
  try {
    db.pragma('journal_mode = DELETE');
  } catch {
    // busy: another connection is open
  }
  db.close();
}

