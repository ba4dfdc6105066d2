import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { exportText } from '../../src/report/export-text.ts';
import { runDocumentsPass } from '../../src/store/documents-pass.ts';
import { linksNotRead } from '../../src/store/links-out.ts';
import type { Db } from '../../src/store/open-store.ts';
import { DEMO_DUMP, verifiedDemoDatabase } from '../helpers/cli.ts';

// A query read a page at a time (`… AND path > ? ORDER BY path LIMIT n`) must walk an index in
// that order and stop at the page's end. Given an index for another of its conditions
// (`parent_file_id IS NULL`, `verdict = ?`), SQLite took it, then sorted every row it matched
// for each page: a pass of 70,000 files read 140 pages of 70,000 rows, and the documents pass
// took 2.25 s instead of 0.27, an export of the verified messages 7.4 s instead of 1.9, growing
// with the square of the dump (forty-fourth round, docs/performance.md). Their plans are read
// here: the rows they run on do not change them (the database has no statistics).

const demo = verifiedDemoDatabase();

/** The statements `use` prepares on a connection to the demo database that `wanted` picks, with their query plans. */
function plansOf(use: (db: Db) => void, wanted: (sql: string) => boolean): Array<{ sql: string; plan: string }> {
  const db = new Database(demo.db) as Db;
  const prepared = new Set<string>();
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    prepared.add(sql);
    return prepare(sql);
  }) as Db['prepare'];
  try {
    use(db);
    return [...prepared].filter(wanted).map((sql) => {
      // (the plan is the same whatever the values: nulls stand for them)
      const values = (sql.match(/\?/g) ?? []).map(() => null);
      const plan = (prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...values) as Array<{ detail: string }>).map((r) => r.detail).join('\n');
      return { sql, plan };
    });
  } finally {
    db.close();
  }
}

/** A page after the last path read: `path > ?`, then ordered by path and limited. */
const isPaged = (sql: string): boolean => /\bORDER BY\b[^()]*\bLIMIT\b/.test(sql) && /\bpath > \?/.test(sql);

describe('queries read a page at a time', () => {
  it('the documents pass walks the files in the order of their paths, sorting nothing', () => {
    const plans = plansOf((db) => runDocumentsPass(db, DEMO_DUMP), isPaged);
    expect(plans.length).toBeGreaterThanOrEqual(3);
    for (const { sql, plan } of plans) {
      expect(plan, sql).not.toContain('TEMP B-TREE FOR ORDER BY');
      expect(plan, sql).toMatch(/USING (COVERING )?INDEX sqlite_autoindex_source_files_1 \(path>\?\)/);
    }
  });

  it('an export of one verdict walks the messages in the order of their files, sorting nothing', () => {
    const plans = plansOf((db) => [...exportText(db, 'csv', { verdict: 'verified' })], isPaged);
    expect(plans).toHaveLength(1);
    expect(plans[0]!.plan).not.toContain('TEMP B-TREE FOR ORDER BY');
    expect(plans[0]!.plan).toMatch(/SEARCH f USING INDEX sqlite_autoindex_source_files_1 \(path>\?\)/);
  });

  it("a link's target is looked for among the paths below it, not among every file of the dump", () => {
    const below = plansOf((db) => linksNotRead(db, DEMO_DUMP), (sql) => sql.includes('path < ?'))[0];
    expect(below?.plan).toMatch(/USING (COVERING )?INDEX sqlite_autoindex_source_files_1 \(path>\? AND path<\?\)/);
  });
});
