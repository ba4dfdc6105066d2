import { spawnSync } from 'node:child_process';
import { cpSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { analysisCodeFingerprint, runToolVersion, TOOL_VERSION } from '../../src/version.ts';
import { DEMO_DUMP, DEMO_KEYS, ROOT, runCli, tempDir } from '../helpers/cli.ts';

describe('the analysis code fingerprint', () => {
  it('is recorded with every run, after the package version', () => {
    expect(analysisCodeFingerprint()).toMatch(/^[0-9a-f]{12}$/);
    expect(runToolVersion()).toBe(`${TOOL_VERSION}+${analysisCodeFingerprint()}`);
    const dir = tempDir('leakcheck-code-');
    try {
      const db = join(dir.path, 'a.db');
      expect(runCli(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet']).status).toBe(0);
      const report = JSON.parse(runCli(['report', '--format', 'json', '--db', db]).stdout) as { run: { toolVersion: string } };
      expect(report.run.toolVersion).toBe(runToolVersion());
    } finally {
      dir.cleanup();
    }
  });

  // A database verified before a change of the rules kept its old verdicts on the next run of the
  // same version: nothing the skip test compared had changed.
  it('a change to the analysis code makes the next verify analyse every file again; a change to a report does not', () => {
    const dir = tempDir('leakcheck-code-');
    try {
      // a copy of the tool whose code the test may change (node_modules shared through a link)
      const copy = join(dir.path, 'leakcheck');
      for (const part of ['bin', 'src', 'package.json']) cpSync(join(ROOT, part), join(copy, part), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
      const db = join(dir.path, 'a.db');
      /** how many files the run analysed (the others it found unchanged and kept) */
      const verify = (): number => {
        const run = spawnSync(process.execPath, [join(copy, 'bin/leakcheck.js'), 'verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet'], { encoding: 'utf8' });
        expect(run.status, run.stderr).toBe(0);
        const store = new Database(db, { readonly: true });
        try {
          return (store.prepare('SELECT count(*) AS n FROM source_files WHERE run_id = (SELECT max(id) FROM runs)').get() as { n: number }).n;
        } finally {
          store.close();
        }
      };
      const all = verify();
      expect(all).toBeGreaterThan(20);
      expect(verify()).toBe(0);
      writeFileSync(join(copy, 'src/report/text.ts'), '\n// a comment\n', { flag: 'a' });
      expect(verify()).toBe(0);
      writeFileSync(join(copy, 'src/checks/timeline.ts'), '\n// a comment\n', { flag: 'a' });
      expect(verify()).toBe(all);
    } finally {
      dir.cleanup();
    }
  });
});
