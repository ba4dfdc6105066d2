import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/cli.ts';

/** Speed is measured by `npm run bench`, never asserted here: this only proves the harness works. */
describe('npm run bench -- --smoke', () => {
  it('generates a small signed dump, runs leakcheck and the mailauth baseline on it, and reports both', () => {
    const tmp = tempDir('leakcheck-bench-smoke-');
    try {
      const run = spawnSync(process.execPath, [join(ROOT, 'bench/run-bench.ts'), '--smoke', '--no-peers', '--work-dir', tmp.path], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/\| 40 \| leakcheck verify \(full pipeline\) \| \d+/);
      expect(run.stdout).toMatch(/\| 40 \| mailauth dkimVerify, sequential loop \| \d+/);
      // every generated message is signed with a test key, and leakcheck verifies them all
      const results = /results written to (.*\.json)/.exec(run.stderr)?.[1];
      expect(results).toBeDefined();
      const rows = (JSON.parse(readFileSync(results!, 'utf8')) as { rows: Array<{ contender: string; checked: Record<string, number> }> }).rows;
      expect(rows.find((r) => r.contender.startsWith('leakcheck'))!.checked).toMatchObject({ verified: 40, suspicious: 0 });
      expect(rows.find((r) => r.contender.startsWith('mailauth'))!.checked).toMatchObject({ messages: 40, passes: 40 });
      rmSync(results!, { force: true });
    } finally {
      tmp.cleanup();
    }
  }, 120_000);
});
