import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { walkDump } from '../../src/discover/walk.ts';
import type { DiscoveryEntry } from '../../src/discover/types.ts';

/** A fresh directory for one test's dump; remove it with removeTempDir. */
export function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'leakcheck-test-'));
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

export function walk(root: string): Promise<DiscoveryEntry[]> {
  return collect(walkDump(root));
}

export const isRoot = process.getuid?.() === 0;
export const NOBODY = 65534;

/**
 * Runs walkDump in a child process as an unprivileged user, for permission tests that root
 * would pass through. Returns null where that cannot be done.
 */
export function walkAsNobody(root: string): DiscoveryEntry[] | null {
  const walkUrl = new URL('../../src/discover/walk.ts', import.meta.url).href;
  const script = `import { walkDump } from ${JSON.stringify(walkUrl)};
const out = [];
for await (const entry of walkDump(${JSON.stringify(root)})) out.push(entry);
process.stdout.write(JSON.stringify(out));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    uid: NOBODY,
    gid: NOBODY,
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (result.error !== undefined || result.status !== 0) return null;
  return JSON.parse(result.stdout) as DiscoveryEntry[];
}
