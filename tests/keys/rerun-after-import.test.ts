import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';

// A re-run after `keys import` (or `verify --keys`) must give what a fresh database given the same
// dump and keys gives: the re-run decides which unchanged files to read again (src/store/incremental.ts).

const ZIP_ENTRY = 'exports/mailbox-export.zip!export/2019-05-20 Travel plan.eml';
const FORWARDED = 'inbox/2018-10-02 Fwd- Board minutes.eml#attachment-1';

interface Row { path: string; index: number; verdict: string; reasons: string[]; findings: Array<{ code: string }>; signatures: Array<{ reason: string; key_source: string | null; key_fingerprint: string | null }> }
const exportRows = (db: string): Row[] => {
  const out = runCli(['export', '--format', 'jsonl', '--db', db]);
  expect(out.status, out.stderr).toBe(0);
  return out.stdout.trim().split('\n').map((l) => JSON.parse(l) as Row);
};
/** What the examiner reads of each message: verdict, reasons, findings, and each signature's result and key. */
const records = (db: string): string[] =>
  exportRows(db).map((r) => JSON.stringify([r.path, r.index, r.verdict, r.reasons, r.findings.map((f) => f.code).sort(), r.signatures.map((s) => [s.reason, s.key_source, s.key_fingerprint])]));
const rowFor = (db: string, path: string): Row => exportRows(db).find((r) => r.path === path)!;
const keysImport = (db: string, ...files: string[]): void => {
  const out = runCli(['keys', 'import', '--db', db, ...files]);
  expect(out.status, out.stderr).toBe(0);
};

describe('re-run after keys import: the same records as a fresh database', () => {
  let tmp: ReturnType<typeof tempDir>;
  let dump: string;
  const db = (name: string): string => join(tmp.path, `${name}.db`);
  const verify = (dbPath: string, keyFiles: string[] = []) => runVerify({ dumpRoot: dump, dbPath, keyFiles, offline: true });
  beforeEach(() => {
    tmp = tempDir();
    dump = join(tmp.path, 'dump');
    cpSync(DEMO_DUMP, dump, { recursive: true });
  });
  afterEach(() => tmp.cleanup());

  // Red team 27 (C-01): only a file's own messages were asked about, so the messages found inside
  // it kept "unverifiable" (key-not-found) for ever, even with --rehash.
  it('messages inside a zip archive and forwarded messages are verified again once their keys are imported (red team 27, C-01)', async () => {
    const first = await verify(db('rerun'));
    expect(rowFor(db('rerun'), ZIP_ENTRY).reasons).toEqual(['key-not-found']);
    expect(rowFor(db('rerun'), FORWARDED).reasons).toEqual(['key-not-found']);
    keysImport(db('rerun'), DEMO_KEYS);
    await verify(db('rerun'));
    await verify(db('fresh'), [DEMO_KEYS]);

    expect(rowFor(db('rerun'), ZIP_ENTRY).verdict).toBe('verified');
    expect(rowFor(db('rerun'), FORWARDED).verdict).toBe('verified');
    expect(records(db('rerun'))).toEqual(records(db('fresh')));
    // Nothing is left waiting: a third run reads no file again.
    expect((await verify(db('rerun'))).counts.unchanged).toBe(first.counts.containers);
  });

  it('a dump that is only a zip archive fails the CI gate on the re-run after keys import, as on a fresh database (red team 27, C-01)', () => {
    const zipOnly = join(tmp.path, 'zip-only');
    mkdirSync(zipOnly);
    cpSync(join(dump, 'exports/mailbox-export.zip'), join(zipOnly, 'mailbox-export.zip'));
    const gate = (dbPath: string, ...keys: string[]): number =>
      runCli(['verify', zipOnly, '--offline', '--db', dbPath, '--quiet', '--fail-on', 'suspicious', ...keys]).status;
    expect(gate(db('zip'))).toBe(0); // without keys, nothing is suspicious
    keysImport(db('zip'), DEMO_KEYS);
    expect(gate(db('zip'))).toBe(1);
    expect(gate(db('zip-fresh'), '--keys', DEMO_KEYS)).toBe(1);
  });
});
