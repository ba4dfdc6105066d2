import Database from 'better-sqlite3';
import { existsSync, openSync, readSync, closeSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../pipeline/usage-error.ts';
import { canonicalMessageId } from '../read/message-id.ts';
import { APPLICATION_ID, CANONICAL_MESSAGE_ID_FUNCTION, MIGRATIONS, SCHEMA_VERSION } from './schema.ts';

export type Db = Database.Database;

// Lets openStore name a database by an SQLite URI (immutableUri). better-sqlite3 reads it once,
// when its native part loads at the first database opened; every path openStore passes is made
// absolute first, so that no path given is read as a URI.
process.env['SQLITE_USE_URI'] = '1';

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
  // Absolute, so that no path given is read as a URI (immutableUri below needs them understood),
  // and real: SQLite opens the file the system resolves (`l/../x.db` through a linked folder is
  // not the lexical `./x.db`), and keeps its -wal beside the real file, not beside a link to it
  // (red team AA, AA-16 and AA-18).
  const file = exists ? realpathSync.native(path) : join(realFolder(dirname(resolve(path)), dirname(path)), basename(path));
  try {
    return checkedStore(openDatabase(file, path, options), path, options);
  } catch (err) {
    // (SQLITE_CANTOPEN where the -shm cannot be created, SQLITE_READONLY_CANTINIT and the like where it cannot be written)
    const code = String((err as { code?: unknown }).code ?? '');
    if (!options.readonly || !/^SQLITE_(?:CANTOPEN|READONLY)/.test(code)) throw storeFailure(err, path);
    // A database written in WAL mode can be read only where SQLite may create its -shm file
    // beside it: the record of a run handed over on read-only media (a write-blocked custody
    // copy), or copied as the .db file alone to a folder the reader cannot write, could not be read
    // (red team Z, Z-15). With no write-ahead log beside it, all of it is in the file: it is read
    // as immutable, which needs nothing beside it. A log with content would be ignored so: refused.
    if ((statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0) > 0) {
      throw new StoreError(
        `${path}: cannot open the database read-only here (${(err as Error).message}): its write-ahead log ${basename(path)}-wal holds changes not yet in it, which SQLite reads only where it may write beside it. Copy both files to a folder you can write.`,
      );
    }
    try {
      return checkedStore(openDatabase(immutableUri(file), path, options), path, options);
    } catch (again) {
      throw storeFailure(again, path);
    }
  }
}

function openDatabase(name: string, path: string, options: { readonly?: boolean }): Db {
  try {
    return new Database(name, { readonly: Boolean(options.readonly), fileMustExist: Boolean(options.readonly) });
  } catch (err) {
    throw new StoreError(`${path}: cannot open the database (${(err as Error).message})`);
  }
}

/** Checks that `db` is ours and of a schema this version reads, and brings a writable one up to date; closes it on failure. */
function checkedStore(db: Db, path: string, options: { readonly?: boolean }): Db {
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
    throw err;
  }
}

function storeFailure(err: unknown, path: string): unknown {
  if (err instanceof StoreError) return err;
  if (typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('SQLITE_')) {
    return new StoreError(`${path}: the database is damaged or is not a leakcheck database (${(err as Error).message}); refusing to write to it.`);
  }
  return err;
}

/** The folder the system names by `folder`: its real path, or the absolute one when it does not exist (yet). */
function realFolder(absolute: string, folder: string): string {
  try {
    return realpathSync.native(folder);
  } catch {
    return absolute;
  }
}

/** An SQLite URI that opens `file` as immutable: read-only, no locks, nothing written beside it. */
const immutableUri = (file: string): string => `file:${file.replace(/[%?#]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}?immutable=1`;

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
  // (opened, a directory only fails at the first read, which said EISDIR with a stack trace)
  if (statSync(path).isDirectory()) throw new UsageError(`--db ${path} is a directory, not a database file`);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    // (a database the user may not read: one line, not a stack trace; red team AA, AA-17)
    throw new StoreError(`${path}: cannot read the database (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
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
