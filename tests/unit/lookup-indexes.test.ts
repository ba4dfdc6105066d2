import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { LOOKUP_INDEXES } from '../../src/store/lookup-indexes.ts';
import { openStore } from '../../src/store/open-store.ts';
import { DEMO_DUMP, DEMO_KEYS, tempDir } from '../helpers/cli.ts';

// A first run builds the lookup indexes after its inserts (src/store/lookup-indexes.ts). What
// must hold whatever becomes of a run: the database ends with the schema's indexes, as the
// schema defines them, and a database that already holds messages keeps its indexes throughout.

const tmp = tempDir('leakcheck-lookup-indexes-');
afterAll(() => tmp.cleanup());

type IndexRow = { name: string; sql: string | null };

/** The rows `sql` reads from the database at `path`, through a connection of its own (as a report's would be). */
function rows<T>(path: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

const indexesOf = (path: string): IndexRow[] => rows<IndexRow>(path, "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name");

function schemaIndexes(): IndexRow[] {
  const path = join(tmp.path, `schema-${Math.random().toString(36).slice(2)}.db`);
  openStore(path).close();
  return indexesOf(path);
}

const lookupNames = Object.keys(LOOKUP_INDEXES).sort();
const present = (path: string): string[] => indexesOf(path).map((r) => r.name).filter((n) => n in LOOKUP_INDEXES).sort();

/** Runs verify on the demo dump, recording which lookup indexes a second connection sees at each file. */
async function verifyWatching(db: string, stopAfter?: number): Promise<{ seen: string[][]; interrupted: boolean }> {
  const seen: string[][] = [];
  const stop = new AbortController();
  const result = await runVerify({
    dumpRoot: DEMO_DUMP,
    dbPath: db,
    keyFiles: [DEMO_KEYS],
    offline: true,
    signal: stop.signal,
    onProgress: () => {
      seen.push(present(db));
      if (stopAfter !== undefined && seen.length === stopAfter) stop.abort();
    },
  });
  return { seen, interrupted: result.interrupted };
}

describe('lookup indexes', () => {
  it('are the ones the schema creates, defined as it defines them', () => {
    const schema = schemaIndexes();
    for (const name of lookupNames) {
      expect(schema.find((r) => r.name === name)?.sql).toBe(`CREATE INDEX ${name} ON ${LOOKUP_INDEXES[name]}`);
    }
  });

  it('a first run stores its messages without them and ends with every index of the schema', async () => {
    const db = join(tmp.path, 'first.db');
    const { seen, interrupted } = await verifyWatching(db);
    expect(interrupted).toBe(false);
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.every((names) => names.length === 0)).toBe(true);
    expect(indexesOf(db)).toEqual(schemaIndexes());
    // and the queries that look messages up by them use them
    const plan = rows<{ detail: string }>(db, 'EXPLAIN QUERY PLAN SELECT id FROM messages WHERE sha256 = ?', '0'.repeat(64));
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING (COVERING )?INDEX messages_sha256\b/);
  }, 60_000);

  it('a first run interrupted builds them before it stops', async () => {
    const db = join(tmp.path, 'interrupted.db');
    const { seen, interrupted } = await verifyWatching(db, 3);
    expect(interrupted).toBe(true);
    expect(seen.at(-1)).toEqual([]);
    expect(indexesOf(db)).toEqual(schemaIndexes());
  }, 60_000);

  it('a run over a database that holds messages keeps them throughout', async () => {
    const db = join(tmp.path, 'rerun.db');
    await verifyWatching(db);
    const { seen } = await verifyWatching(db);
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.every((names) => names.join() === lookupNames.join())).toBe(true);
  }, 60_000);

  it('a first run killed before it built them: the next run builds them first, and the verdicts are the same', async () => {
    const db = join(tmp.path, 'killed.db');
    await verifyWatching(db);
    const verdicts = (): unknown[] => rows(db, 'SELECT m.sha256, v.verdict, v.reasons_json FROM messages m JOIN verdicts v ON v.message_id = m.id ORDER BY m.sha256, m.id');
    const before = verdicts();
    // what such a run leaves: its messages committed batch by batch, the lookup indexes not yet built
    const writable = new Database(db);
    for (const name of lookupNames) writable.exec(`DROP INDEX ${name}`);
    writable.close();
    expect(present(db)).toEqual([]);
    const { seen } = await verifyWatching(db);
    expect(seen.every((names) => names.join() === lookupNames.join())).toBe(true);
    expect(indexesOf(db)).toEqual(schemaIndexes());
    expect(verdicts()).toEqual(before);
  }, 60_000);
});
