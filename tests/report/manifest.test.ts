import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonText } from '../../src/report/json-text.ts';
import { manifestText } from '../../src/report/manifest.ts';
import { openStore } from '../../src/store/open-store.ts';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
import { demoDatabase } from './demo-db.ts';

let demo: ReturnType<typeof demoDatabase>;
beforeAll(() => {
  demo = demoDatabase();
});
afterAll(() => demo.cleanup());

const text = (db: Parameters<typeof manifestText>[0], pageSize?: number): string => [...manifestText(db, pageSize)].join('');

describe('the manifest, written as it is read', () => {
  it('is exactly jsonText (JSON.stringify, terminal-active characters escaped) of itself with two-space indents, whatever the page of files read at once', () => {
    const whole = text(demo.db);
    const parsed = JSON.parse(whole) as { counts: { files: number; messages: number }; files: Array<{ path: string; messages: unknown[] }> };
    expect(whole).toBe(`${jsonText(parsed, 2)}\n`);
    expect(parsed.files.length).toBe(parsed.counts.files);
    expect(parsed.files.reduce((n, f) => n + f.messages.length, 0)).toBe(parsed.counts.messages);
    expect(parsed.files.map((f) => f.path)).toEqual(parsed.files.map((f) => f.path).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const pageSize of [1, 2, 3, 7]) expect(text(demo.db, pageSize)).toBe(whole);
    // it read inside a transaction of its own, and closed it
    expect(demo.db.inTransaction).toBe(false);
  });

  it('of a database with no file yet, is the same JSON with an empty list', () => {
    const dir = tempDir('leakcheck-manifest-');
    try {
      const db = openStore(join(dir.path, 'empty.db'));
      const empty = text(db);
      expect(empty).toBe(`${jsonText(JSON.parse(empty), 2)}\n`);
      expect(JSON.parse(empty)).toMatchObject({ manifest_version: 1, produced_by: null, counts: { files: 0, messages: 0 }, files: [] });
      db.close();
    } finally {
      dir.cleanup();
    }
  });

  it('counts a verdict of a hand-edited database after the three, in the order the messages were stored, as it always did', async () => {
    const dir = tempDir('leakcheck-manifest-');
    try {
      const path = join(dir.path, 'edited.db');
      await demo.db.backup(path);
      const raw = new Database(path);
      const ids = raw.prepare('SELECT id FROM messages ORDER BY file_id, idx').pluck().all() as number[];
      raw.prepare("UPDATE verdicts SET verdict = 'forged?' WHERE message_id = ?").run(ids[5]);
      raw.prepare("UPDATE verdicts SET verdict = 'another' WHERE message_id = ?").run(ids[3]);
      raw.close();
      const db = openStore(path, { readonly: true });
      const edited = JSON.parse(text(db)) as { counts: { verdicts: Record<string, number> } };
      db.close();
      expect(Object.keys(edited.counts.verdicts)).toEqual(['verified', 'unverifiable', 'suspicious', 'another', 'forged?']);
      expect(edited.counts.verdicts['forged?']).toBe(1);
    } finally {
      dir.cleanup();
    }
  });
});

// Red team 10 (09): the manifest took its provenance from the last run's options alone: after a
// plain re-run, or with keys from `keys import`, it named no key file and no compromised list,
// while its verdicts rested on both; and the thread count made manifests differ between machines.
describe('the manifest says what the verdicts rest on', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('the same keys reached by --keys or by keys import, on any number of threads: the same keys, files and options', async () => {
    const byFile = join(tmp.path, 'by-file.db');
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: byFile, keyFiles: [DEMO_KEYS], offline: true, concurrency: 1 });
    const imported = join(tmp.path, 'imported.db');
    expect(runCli(['keys', 'import', DEMO_KEYS, '--db', imported]).status).toBe(0);
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: imported, keyFiles: [], offline: true, concurrency: 2 });
    type Manifest = { produced_by: { options: Record<string, unknown>; key_files: unknown[] }; keys: { used: Array<{ name: string; fingerprint: string | null; provenance: string; origin: string; compromised: boolean }>; compromised: string[] }; files: unknown[] };
    const read = (path: string): Manifest => {
      const db = openStore(path, { readonly: true });
      try {
        return JSON.parse(text(db)) as Manifest;
      } finally {
        db.close();
      }
    };
    const a = read(byFile);
    const b = read(imported);
    expect(b.produced_by.key_files).toEqual([]);
    expect(b.keys).toEqual(a.keys);
    expect(a.keys.used.map((k) => k.name)).toContain('s2048._domainkey.demo.example');
    expect(a.keys.used.every((k) => k.origin === 'demo-keys.json' && !k.compromised)).toBe(true);
    expect(b.produced_by.options).toEqual(a.produced_by.options);
    expect(a.produced_by.options).not.toHaveProperty('workers');
    expect(JSON.stringify(b.files)).toBe(JSON.stringify(a.files));

    // a compromised list given once, then a plain re-run: still named
    const listed = join(tmp.path, 'compromised.db');
    const s2048 = a.keys.used.find((k) => k.name === 's2048._domainkey.demo.example')!.fingerprint!;
    const list = join(tmp.path, 'compromised.txt');
    writeFileSync(list, `${s2048}\n`);
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: listed, keyFiles: [DEMO_KEYS], offline: true, compromisedFile: list });
    await runVerify({ dumpRoot: DEMO_DUMP, dbPath: listed, keyFiles: [], offline: true });
    const c = read(listed);
    expect(c.keys.compromised).toEqual([s2048]);
    expect(c.keys.used.find((k) => k.fingerprint === s2048)!.compromised).toBe(true);
  });
});
