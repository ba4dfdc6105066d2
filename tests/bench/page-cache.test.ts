import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coldRefusal, dropPageCache, readIntoPageCache } from '../../bench/page-cache.ts';
import { tempDir } from '../helpers/cli.ts';

// bench --cold is root-only and Linux-only; what it says and does is checked on stand-in paths,
// never by dropping this machine's caches under the rest of the suite.
describe('bench --cold: dropping the kernel caches', () => {
  it('names why it cannot when the control file is missing', () => {
    expect(coldRefusal('/nonexistent/drop_caches')).toBe("--cold drops the kernel's caches before every run through /nonexistent/drop_caches, which does not exist (not Linux?)");
  });

  // a sysctl whose mode is 0444 refuses writing even to root
  it.skipIf(!existsSync('/proc/sys/kernel/osrelease'))('names why it cannot when the control file is not writable', () => {
    expect(coldRefusal('/proc/sys/kernel/osrelease')).toMatch(/which is not writable \(root only\)$/);
  });

  it('writes 3 (page cache, dentries and inodes) to the control file, after a sync', () => {
    const tmp = tempDir('leakcheck-page-cache-');
    try {
      const control = join(tmp.path, 'drop_caches');
      expect(coldRefusal(join(tmp.path, 'missing'))).not.toBeNull();
      dropPageCache(control);
      expect(readFileSync(control, 'utf8')).toBe('3');
      expect(coldRefusal(control)).toBeNull();
    } finally {
      tmp.cleanup();
    }
  });
});

describe('bench: the dump read into the page cache before its first round', () => {
  it('reads every byte of every file, past its 1 MiB buffer and of empty files too', () => {
    const tmp = tempDir('leakcheck-page-cache-');
    try {
      const sizes = [0, 5, (1 << 20) + 7, 3 << 20];
      const files = sizes.map((size, i) => {
        const path = join(tmp.path, `f${i}`);
        writeFileSync(path, Buffer.alloc(size, i));
        return path;
      });
      expect(readIntoPageCache(files)).toBe(sizes.reduce((a, b) => a + b, 0));
    } finally {
      tmp.cleanup();
    }
  });
});
