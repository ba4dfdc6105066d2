/**
 * Files that vanish or change while a run is under way. Made deterministic in two ways:
 * - the run's own progress hook, which fires for a skipped entry before the walk goes on, so a
 *   later sibling can be swapped between the directory listing and its lstat;
 * - walkDump and readContainer driven by hand, so that a file can be swapped between discovery
 *   and reading.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContainerKind, DiscoveredFile } from '../../src/discover/types.ts';
import { walkDump } from '../../src/discover/walk.ts';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { readContainer } from '../../src/read/read-container.ts';
import { ReadError } from '../../src/read/types.ts';
import { DEMO_DUMP, DEMO_KEYS, tempDir } from '../helpers/cli.ts';

const GENUINE = readFileSync(join(DEMO_DUMP, 'inbox/2017-02-14 Q1 budget.eml'));
const OTHER = readFileSync(join(DEMO_DUMP, 'inbox/2018-06-19 Shipment notice.eml'));
const MBOX = readFileSync(join(DEMO_DUMP, 'archive/2017.mbox'));
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const mkfifo = (path: string): boolean => spawnSync('mkfifo', [path]).status === 0;

interface Row {
  path: string;
  status: string;
  reason: string | null;
  detail: string | null;
  size: number | null;
  sha256: string | null;
  message_count: number;
}

describe('entries swapped between the directory listing and their turn in the walk', () => {
  let tmp: ReturnType<typeof tempDir>;
  let dump: string;
  beforeEach(() => {
    tmp = tempDir('leakcheck-vanish-');
    dump = join(tmp.path, 'dump');
    mkdirSync(dump);
  });
  afterEach(() => tmp.cleanup());

  it('records each one with what it became, and the run completes', async () => {
    writeFileSync(join(dump, 'a-trigger.txt'), 'not an email, just a note\n');
    for (const name of ['b-vanish.eml', 'c-fifo.eml', 'd-symlink.eml', 'e-rewritten.eml', 'f-dir.eml']) writeFileSync(join(dump, name), GENUINE);
    const haveFifo = { value: false };
    let swapped = false;
    const db = join(tmp.path, 'run.db');
    const { counts } = await runVerify({
      dumpRoot: dump,
      dbPath: db,
      keyFiles: [DEMO_KEYS],
      offline: true,
      onProgress: ({ currentPath }) => {
        // Fires for the skipped note before the walk lstat()s its later siblings.
        if (currentPath !== 'a-trigger.txt' || swapped) return;
        swapped = true;
        unlinkSync(join(dump, 'b-vanish.eml'));
        unlinkSync(join(dump, 'c-fifo.eml'));
        haveFifo.value = mkfifo(join(dump, 'c-fifo.eml'));
        unlinkSync(join(dump, 'd-symlink.eml'));
        symlinkSync('/etc/passwd', join(dump, 'd-symlink.eml'));
        writeFileSync(join(dump, 'e-rewritten.eml.tmp'), OTHER);
        renameSync(join(dump, 'e-rewritten.eml.tmp'), join(dump, 'e-rewritten.eml'));
        unlinkSync(join(dump, 'f-dir.eml'));
        mkdirSync(join(dump, 'f-dir.eml'));
        writeFileSync(join(dump, 'f-dir.eml', 'inner.eml'), GENUINE);
      },
    });
    expect(swapped, 'the progress hook never saw the trigger file').toBe(true);
    const store = new Database(db, { readonly: true });
    const rows = store.prepare('SELECT path, status, reason, detail, size, sha256, message_count FROM source_files ORDER BY path').all() as Row[];
    const run = store.prepare('SELECT status FROM runs ORDER BY id DESC LIMIT 1').get() as { status: string };
    store.close();
    const row = (path: string): Row | undefined => rows.find((r) => r.path === path);

    expect(run.status).toBe('completed');
    expect(counts.files).toBe(rows.length);
    expect(row('b-vanish.eml'), 'a vanished file keeps its row').toMatchObject({ status: 'error', message_count: 0 });
    if (haveFifo.value) expect(row('c-fifo.eml')).toMatchObject({ status: 'skipped', reason: 'special-file' });
    expect(row('d-symlink.eml')).toMatchObject({ status: 'skipped', reason: 'symlink', detail: 'symlink to /etc/passwd' });
    // The rewritten file is simply what it is now: its record describes the new bytes.
    expect(row('e-rewritten.eml')).toMatchObject({ status: 'ok', size: OTHER.length, sha256: sha256(OTHER), message_count: 1 });
    expect(row('f-dir.eml/inner.eml')).toMatchObject({ status: 'ok', message_count: 1 });
    // Last, being a known defect: walk.ts records a file gone before its lstat as 'unreadable' (ENOENT).
    expect(row('b-vanish.eml')?.reason, 'same reason code as a file that vanishes after discovery (read-container.ts)').toBe('vanished');
  });
});

describe('files swapped between discovery and reading', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir('leakcheck-vanish-');
  });
  afterEach(() => tmp.cleanup());

  /** Discovers `name` (must be a container), lets `swap` act on it, then reads it. */
  async function discoverThenRead(name: string, content: Buffer, swap: (path: string) => void): Promise<{ messages: Buffer[]; error: unknown; ms: number }> {
    const path = join(tmp.path, name);
    writeFileSync(path, content);
    let found: { file: DiscoveredFile; kind: ContainerKind } | null = null;
    for await (const entry of walkDump(tmp.path)) if (entry.type === 'container' && entry.file.relPath === name) found = { file: entry.file, kind: entry.kind };
    expect(found, `${name} was not discovered as a container`).not.toBeNull();
    swap(path);
    const messages: Buffer[] = [];
    const started = performance.now();
    let error: unknown = null;
    try {
      for await (const message of readContainer(found!.file, found!.kind)) messages.push(message.raw);
    } catch (err) {
      error = err;
    }
    return { messages, error, ms: performance.now() - started };
  }

  it('a file deleted after discovery is a "vanished" read error', async () => {
    const { messages, error } = await discoverThenRead('gone.eml', GENUINE, (p) => unlinkSync(p));
    expect(messages).toEqual([]);
    expect(error).toBeInstanceOf(ReadError);
    expect((error as ReadError).code).toBe('vanished');
  });

  it('a directory above it removed after discovery is "vanished" too', async () => {
    mkdirSync(join(tmp.path, 'sub'));
    const { error } = await discoverThenRead('sub/gone.eml', GENUINE, () => rmSync(join(tmp.path, 'sub'), { recursive: true }));
    expect((error as ReadError).code).toBe('vanished');
  });

  it('a file replaced by a FIFO is refused at once, not waited on', async () => {
    const { error, ms } = await discoverThenRead('pipe.eml', GENUINE, (p) => {
      unlinkSync(p);
      if (!mkfifo(p)) writeFileSync(p, ''); // no mkfifo: the test degrades to an empty file
    });
    expect(ms).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(ReadError);
  });

  it('a file replaced by a symlink is not followed', async () => {
    const { messages, error } = await discoverThenRead('link.eml', GENUINE, (p) => {
      unlinkSync(p);
      symlinkSync('/etc/passwd', p);
    });
    expect(messages).toEqual([]);
    expect(error).toBeInstanceOf(ReadError);
    expect((error as ReadError).code).toBe('unreadable');
  });

  it('a file replaced by a directory is a read error', async () => {
    const { error } = await discoverThenRead('dir.eml', GENUINE, (p) => {
      unlinkSync(p);
      mkdirSync(p);
    });
    expect(error).toBeInstanceOf(ReadError);
  });

  it('an mbox truncated after discovery yields what is left, without crashing', async () => {
    const { messages, error } = await discoverThenRead('cut.mbox', MBOX, (p) => truncateSync(p, Math.floor(MBOX.length / 2)));
    expect(error).toBeNull();
    expect(messages.length).toBeGreaterThan(0);
    expect(Buffer.concat(messages).length).toBeLessThan(MBOX.length / 2);
  });

  it('an mbox emptied after discovery is a read error, not a crash', async () => {
    const { messages, error } = await discoverThenRead('empty.mbox', MBOX, (p) => truncateSync(p, 0));
    expect(messages).toEqual([]);
    // nothing left to read: either no message or a ReadError, never anything else
    if (error !== null) expect(error).toBeInstanceOf(ReadError);
  });
});
