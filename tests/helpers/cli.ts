import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEMO_DUMP = join(ROOT, 'fixtures/demo-dump');
export const DEMO_KEYS = join(ROOT, 'fixtures/demo-keys.json');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process, as a user or a CI job would. */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): CliResult {
  const child = spawnSync(process.execPath, [join(ROOT, 'bin/leakcheck.js'), ...args], {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '0', ...options.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: child.status ?? -1, stdout: child.stdout, stderr: child.stderr };
}

export function tempDir(prefix = 'leakcheck-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A database of the demo dump (`db`), verified offline (in this process) before the tests of the
 * calling describe block, in a temporary directory (`dir`, for the block's other files) removed
 * after them.
 */
export function verifiedDemoDatabase(): { db: string; dir: string } {
  const tmp = tempDir();
  const db = join(tmp.path, 'demo.db');
  beforeAll(async () => {
    // loaded here: the many files that import this one for runCli alone need none of the pipeline
    const { verifyOffline } = await import('./in-process.ts');
    await verifyOffline(DEMO_DUMP, db, [DEMO_KEYS]);
  });
  afterAll(() => tmp.cleanup());
  return { db, dir: tmp.path };
}
