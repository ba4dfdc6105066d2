/*
 * A chain of thousands of one-letter directories (red team G-11): each level used to keep its
 * whole path three times over, so memory grew with the square of the depth (3.3 GB at 10,000
 * levels) and a deep enough chain ended the run with V8's heap exhausted. The walk now holds
 * one path, the deepest, and anchors it reuses (long-path.ts AnchorCache).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnchorCache, canReachLongPaths, shortPath } from '../../src/discover/long-path.ts';
import { makeTempDir } from './temp-dump.ts';

const LEVELS = 2500;

describe.skipIf(!canReachLongPaths())('a chain of directories thousands deep', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await makeTempDir();
    // a child process, one relative step at a time: no path past PATH_MAX is ever handed to
    // mkdir (bash's cd checks its whole $PWD at every step, which takes minutes at this depth)
    const script = `const fs = require('node:fs');
process.chdir(process.argv[1]);
for (let i = 0; i < Number(process.argv[2]); i++) { fs.mkdirSync('d'); process.chdir('d'); }
fs.writeFileSync('bottom.eml', 'From: a@b.example\\r\\nSubject: bottom\\r\\n\\r\\nhi\\r\\n');`;
    const built = spawnSync(process.execPath, ['-e', script, dir, String(LEVELS)], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`could not build the chain: ${built.stderr}`);
  });
  // rm -r walks by descriptor; Node's rm gives up past PATH_MAX
  afterAll(() => void spawnSync('rm', ['-rf', dir]));

  it('is walked to the bottom in a heap far smaller than the square of its depth would need', () => {
    // 2,500 levels kept ~180 MB of paths alive before; the walk now needs a few MB of heap
    const walkUrl = new URL('../../src/discover/walk.ts', import.meta.url).href;
    const script = `import { walkDump } from ${JSON.stringify(walkUrl)};
const out = [];
for await (const entry of walkDump(${JSON.stringify(dir)})) out.push([entry.type, entry.type === 'skipped' ? entry.relPath : entry.file.relPath]);
process.stdout.write(JSON.stringify(out));`;
    const result = spawnSync(process.execPath, ['--max-old-space-size=40', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 24 });
    expect(result.stderr).not.toMatch(/heap out of memory/);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([['container', `${Array(LEVELS).fill('d').join('/')}/bottom.eml`]]);
  });

  it('reaches each path right through anchors a path before it left in the cache, shallower or deeper', () => {
    const cache = new AnchorCache();
    const levels = (n: number): string[] => Array(n).fill('d');
    try {
      const read = (path: Buffer): string => {
        const short = shortPath(path, cache);
        return readFileSync(short.path, 'utf8');
      };
      const bottom = Buffer.from(join(dir, ...levels(LEVELS), 'bottom.eml'));
      expect(statSync(shortPath(Buffer.from(join(dir, ...levels(LEVELS - 600))), cache).path).isDirectory()).toBe(true);
      expect(read(bottom)).toContain('Subject: bottom');
      expect(statSync(shortPath(Buffer.from(join(dir, ...levels(LEVELS - 1200))), cache).path).isDirectory()).toBe(true);
      expect(read(bottom)).toContain('Subject: bottom');
      expect(() => statSync(shortPath(Buffer.from(join(dir, ...levels(LEVELS - 1), 'e', ...levels(10))), cache).path)).toThrow(/ENOENT/);
      expect(read(bottom)).toContain('Subject: bottom');
    } finally {
      cache.close();
    }
  });
});
