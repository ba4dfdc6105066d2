import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchDump } from './generate-bench-dump.ts';

/**
 * A bench input with every CRLF turned into a bare LF, as Maildir folders, Unix mboxes and most
 * dumps store mail: every message then needs the CRLF repair before it verifies, which the CRLF
 * bench dump never exercises. Cached next to the input, and made again when the input or this
 * file changes.
 */
export function lfCopy(source: BenchDump): BenchDump {
  const dir = `${source.dir}-lf`;
  const marker = `${dir}.complete.json`;
  const identity = createHash('sha256')
    .update(readFileSync(fileURLToPath(import.meta.url)))
    .update(readFileSync(`${source.dir}.complete.json`))
    .digest('hex');
  if (existsSync(marker)) {
    const cached = JSON.parse(readFileSync(marker, 'utf8')) as { identity?: string; bytes?: number };
    if (cached.identity === identity && typeof cached.bytes === 'number') return { ...source, dir, bytes: cached.bytes };
  }
  rmSync(dir, { recursive: true, force: true });
  const bytes = copyWithLf(source.dir, dir);
  writeFileSync(marker, JSON.stringify({ identity, bytes }));
  return { ...source, dir, bytes };
}

const CRLF = /\r\n/g;

/** Copies the tree at `from` to `to`, every CRLF of every file made LF; returns the bytes written. */
function copyWithLf(from: string, to: string): number {
  mkdirSync(to, { recursive: true });
  let bytes = 0;
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      bytes += copyWithLf(join(from, entry.name), join(to, entry.name));
    } else if (entry.isFile()) {
      const lf = Buffer.from(readFileSync(join(from, entry.name), 'latin1').replace(CRLF, '\n'), 'latin1');
      writeFileSync(join(to, entry.name), lf);
      bytes += lf.length;
    }
  }
  return bytes;
}
