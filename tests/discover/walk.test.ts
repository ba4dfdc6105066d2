import { spawnSync } from 'node:child_process';
import { chmod, lstat, mkdir, readFile, readdir, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DiscoveredFile, DiscoveryEntry } from '../../src/discover/types.ts';
import { walkDump } from '../../src/discover/walk.ts';
import { readContainer } from '../../src/read/read-container.ts';
import { collect, isRoot, makeTempDir, removeTempDir, walk, walkAsNobody } from './temp-dump.ts';

const MESSAGE = 'Return-Path: <a@example.org>\nFrom: a@example.org\nSubject: hi\n\nbody\n';
const MBOX = `From a@example.org Mon Jan  1 00:00:00 2024\n${MESSAGE}\nFrom b@example.org Mon Jan  1 00:00:01 2024\n${MESSAGE}\n`;

const relPathOf = (e: DiscoveryEntry): string => (e.type === 'skipped' ? e.relPath : e.file.relPath);

function byPath(entries: DiscoveryEntry[]): Map<string, DiscoveryEntry> {
  return new Map(entries.map((e) => [relPathOf(e), e]));
}

function relPaths(entries: DiscoveryEntry[]): string[] {
  return entries.map(relPathOf);
}

const hasMkfifo = spawnSync('mkfifo', ['--version']).error === undefined;

let dump = '';
let outside = '';
beforeEach(async () => {
  dump = await makeTempDir();
  outside = await makeTempDir();
});
afterEach(async () => {
  await removeTempDir(dump);
  await removeTempDir(outside);
});

describe('walkDump: classification', () => {
  it('yields containers with their kind, and one skipped entry per other file', async () => {
    await mkdir(join(dump, 'Maildir/cur'), { recursive: true });
    await mkdir(join(dump, 'Maildir/new'), { recursive: true });
    await mkdir(join(dump, 'Apple/Messages'), { recursive: true });
    await writeFile(join(dump, 'Maildir/cur/1490000000.M0P77.host:2,S'), MESSAGE);
    await writeFile(join(dump, 'Maildir/new/1490000001.M1P78.host'), MESSAGE);
    await writeFile(join(dump, 'Apple/Messages/1.emlx'), `${Buffer.byteLength(MESSAGE)}\n${MESSAGE}<?xml?>`);
    await writeFile(join(dump, 'inbox'), MBOX);
    await writeFile(join(dump, 'loose.eml'), MESSAGE);
    await writeFile(join(dump, 'report.pdf'), '%PDF-1.4\n');
    await writeFile(join(dump, 'empty.eml'), '');
    await writeFile(join(dump, 'notes.txt'), 'just some notes\n');

    const entries = byPath(await walk(dump));
    expect(entries.get('Maildir/cur/1490000000.M0P77.host:2,S')).toMatchObject({ type: 'container', kind: 'maildir' });
    expect(entries.get('Maildir/new/1490000001.M1P78.host')).toMatchObject({ type: 'container', kind: 'maildir' });
    expect(entries.get('Apple/Messages/1.emlx')).toMatchObject({ type: 'container', kind: 'emlx' });
    expect(entries.get('inbox')).toMatchObject({ type: 'container', kind: 'mbox' });
    expect(entries.get('loose.eml')).toMatchObject({
      type: 'container',
      kind: 'eml',
      file: { relPath: 'loose.eml', absPath: join(dump, 'loose.eml'), size: Buffer.byteLength(MESSAGE) },
    });
    expect(entries.get('report.pdf')).toMatchObject({ type: 'skipped', reason: 'not-email', detail: 'PDF document', size: 9 });
    expect(entries.get('empty.eml')).toMatchObject({ type: 'skipped', reason: 'empty', size: 0 });
    expect(entries.get('notes.txt')).toMatchObject({ type: 'skipped', reason: 'not-email' });
    expect(entries.size).toBe(8);
  });

  it('treats a directory named x.eml as a directory', async () => {
    await mkdir(join(dump, 'x.eml'));
    await writeFile(join(dump, 'x.eml/inner'), MESSAGE);
    expect(await walk(dump)).toEqual([
      expect.objectContaining({ type: 'container', kind: 'eml', file: expect.objectContaining({ relPath: 'x.eml/inner' }) }),
    ]);
  });

  it('accepts a single file as root', async () => {
    await writeFile(join(dump, 'one.mbox'), MBOX);
    expect(await walk(join(dump, 'one.mbox'))).toEqual([
      expect.objectContaining({ type: 'container', kind: 'mbox', file: expect.objectContaining({ relPath: 'one.mbox' }) }),
    ]);
  });

  it('rejects a root that does not exist', async () => {
    await expect(walk(join(dump, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('walkDump: files the caller leaves unopened', () => {
  it('asks about each regular file, from its lstat, and neither opens nor sniffs the ones it is told to leave', async () => {
    await writeFile(join(dump, 'kept.eml'), MESSAGE);
    // a PDF under a mail name: sniffed, it would be skipped as not email
    await writeFile(join(dump, 'swapped.eml'), '%PDF-1.4\n');
    await writeFile(join(dump, 'other.eml'), MESSAGE);
    await writeFile(join(dump, 'empty.eml'), '');
    await mkdir(join(dump, 'dir'));
    await symlink(join(dump, 'kept.eml'), join(dump, 'link.eml'));
    const asked: DiscoveredFile[] = [];
    const entries = byPath(
      await collect(
        walkDump(dump, {
          leaveUnopened: (file) => {
            asked.push(file);
            return file.relPath === 'other.eml' || file.relPath === 'empty.eml' ? null : 'told so';
          },
        }),
      ),
    );
    // never asked about a directory or a symlink: those are described as before
    expect(asked.map((f) => f.relPath)).toEqual(['empty.eml', 'kept.eml', 'other.eml', 'swapped.eml']);
    const swapped = await stat(join(dump, 'swapped.eml'));
    expect(asked[3]).toEqual({ relPath: 'swapped.eml', absPath: join(dump, 'swapped.eml'), size: 9, mtimeMs: swapped.mtimeMs });
    expect(entries.get('swapped.eml')).toEqual({ type: 'unopened', file: asked[3], because: 'told so' });
    expect(entries.get('kept.eml')).toMatchObject({ type: 'unopened', file: { relPath: 'kept.eml' } });
    expect(entries.get('other.eml')).toMatchObject({ type: 'container', kind: 'eml' });
    expect(entries.get('empty.eml')).toMatchObject({ type: 'skipped', reason: 'empty' });
    expect(entries.get('link.eml')).toMatchObject({ type: 'skipped', reason: 'symlink' });
    // left unopened when told so, sniffed otherwise
    expect((await walk(dump)).find((e) => relPathOf(e) === 'swapped.eml')).toMatchObject({ type: 'skipped', reason: 'not-email' });
  });
});

describe('walkDump: order', () => {
  it('walks depth first, siblings in byte order of their names, the same on every run', async () => {
    for (const name of ['b', 'a', 'B', '_', '~', 'é', 'a.eml', 'Z']) await writeFile(join(dump, name), MESSAGE);
    await mkdir(join(dump, 'a0'));
    await writeFile(join(dump, 'a0/z'), MESSAGE);
    await writeFile(join(dump, 'a0/A'), MESSAGE);
    const first = relPaths(await walk(dump));
    expect(first).toEqual(['B', 'Z', '_', 'a', 'a.eml', 'a0/A', 'a0/z', 'b', '~', 'é']);
    expect(relPaths(await walk(dump))).toEqual(first);
  });
});

describe('walkDump: entries that must not be followed or opened', () => {
  it('reports symlinks, to files outside and to directories, without following them', async () => {
    await writeFile(join(outside, 'secret.eml'), MESSAGE);
    await symlink(join(outside, 'secret.eml'), join(dump, 'to-outside.eml'));
    await symlink(outside, join(dump, 'to-outside-dir'));
    await symlink('/etc/passwd', join(dump, 'passwd'));
    const entries = await walk(dump);
    expect(entries).toEqual([
      expect.objectContaining({ type: 'skipped', relPath: 'passwd', reason: 'symlink', detail: 'symlink to /etc/passwd' }),
      expect.objectContaining({ relPath: 'to-outside-dir', reason: 'symlink', detail: `symlink to ${outside}` }),
      expect.objectContaining({ relPath: 'to-outside.eml', reason: 'symlink', detail: `symlink to ${join(outside, 'secret.eml')}` }),
    ]);
  });

  it('survives symlink loops and dangling symlinks', async () => {
    await mkdir(join(dump, 'sub'));
    await symlink('..', join(dump, 'sub/up'));
    await symlink('.', join(dump, 'self'));
    await symlink('loop-b', join(dump, 'loop-a'));
    await symlink('loop-a', join(dump, 'loop-b'));
    await symlink('nowhere', join(dump, 'dangling'));
    const entries = await walk(dump);
    expect(relPaths(entries)).toEqual(['dangling', 'loop-a', 'loop-b', 'self', 'sub/up']);
    expect(entries.every((e) => e.type === 'skipped' && e.reason === 'symlink')).toBe(true);
  });

  it.skipIf(!hasMkfifo)('reports a FIFO as a special file without opening it', async () => {
    expect(spawnSync('mkfifo', [join(dump, 'pipe.eml')]).status).toBe(0);
    await writeFile(join(dump, 'real.eml'), MESSAGE);
    // Opening the FIFO would block this test until its timeout.
    expect(await walk(dump)).toEqual([
      expect.objectContaining({ type: 'skipped', relPath: 'pipe.eml', reason: 'special-file', detail: 'FIFO (named pipe)' }),
      expect.objectContaining({ type: 'container', kind: 'eml' }),
    ]);
  });

  it.skipIf(process.platform === 'win32')('reports a socket as a special file', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dump, 'sock'), resolve));
    try {
      expect(await walk(dump)).toEqual([
        expect.objectContaining({ relPath: 'sock', reason: 'special-file', detail: 'socket' }),
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.skipIf(process.platform !== 'linux')('reports a device as a special file', async () => {
    // Only root may create device nodes; /dev/null reached through the root itself stands in.
    expect(await walk('/dev/null')).toEqual([
      expect.objectContaining({ relPath: 'null', reason: 'special-file', detail: 'character device' }),
    ]);
  });
});

describe('walkDump: permissions', () => {
  async function lockedDump(): Promise<void> {
    await mkdir(join(dump, 'locked'));
    await writeFile(join(dump, 'locked/hidden.eml'), MESSAGE);
    await writeFile(join(dump, 'secret.eml'), MESSAGE);
    await writeFile(join(dump, 'visible.eml'), MESSAGE);
    await chmod(join(dump, 'locked'), 0o000);
    await chmod(join(dump, 'secret.eml'), 0o000);
    await chmod(dump, 0o755);
  }

  function expectDenied(entries: DiscoveryEntry[]): void {
    expect(entries).toEqual([
      expect.objectContaining({
        type: 'skipped',
        relPath: 'locked',
        reason: 'unreadable',
        size: null,
        detail: 'directory cannot be listed (EACCES: permission denied)',
      }),
      expect.objectContaining({ type: 'skipped', relPath: 'secret.eml', reason: 'unreadable', detail: 'EACCES: permission denied' }),
      expect.objectContaining({ type: 'container', kind: 'eml' }),
    ]);
  }

  afterEach(async () => {
    await chmod(join(dump, 'locked'), 0o755).catch(() => undefined);
  });

  it('reports unreadable files and unlistable directories, and goes on', async (context) => {
    await lockedDump();
    if (!isRoot) {
      expectDenied(await walk(dump));
      return;
    }
    // Permission bits do not stop root, so the denial is checked as an unprivileged user.
    const asNobody = walkAsNobody(dump);
    if (asNobody === null) context.skip('cannot run a child process as an unprivileged user here');
    else expectDenied(asNobody);
  });

  it.skipIf(!isRoot)('as root, still reads what permission bits would deny to others', async () => {
    await lockedDump();
    expect(relPaths(await walk(dump))).toEqual(['locked/hidden.eml', 'secret.eml', 'visible.eml']);
  });
});

describe('walkDump: file names that are not UTF-8', () => {
  it('escapes them in paths that still open the right file', async () => {
    const base = Buffer.from(dump);
    const badDir = Buffer.concat([base, Buffer.from('/d\xe9j\xe0', 'latin1')]);
    await mkdir(badDir);
    await writeFile(Buffer.concat([badDir, Buffer.from('/m\xf6o', 'latin1')]), MESSAGE);
    await writeFile(Buffer.concat([base, Buffer.from('/x\xff.eml', 'latin1')]), 'From: a\nTo: b\n\nother body\n');
    const entries = await walk(dump);
    expect(relPaths(entries)).toEqual(['d\\xE9j\\xE0/m\\xF6o', 'x\\xFF.eml']);
    const bodies: string[] = [];
    for (const entry of entries) {
      if (entry.type !== 'container') throw new Error(`unexpected ${JSON.stringify(entry)}`);
      for await (const message of readContainer(entry.file, entry.kind)) bodies.push(message.raw.toString());
    }
    expect(bodies).toEqual([MESSAGE, 'From: a\nTo: b\n\nother body\n']);
  });

  it('reads both a name of bytes and a sibling whose real name is its old escaped text (red team round 4, 06)', async () => {
    await writeFile(join(dump, 'a\\xFF'), 'From: a\nTo: b\n\nthe four characters\n');
    await writeFile(Buffer.concat([Buffer.from(dump), Buffer.from('/a\xff', 'latin1')]), 'From: a\nTo: b\n\nthe byte\n');
    const entries = await walk(dump);
    expect(relPaths(entries)).toEqual(['a\\x5CxFF', 'a\\xFF']);
    const bodies: string[] = [];
    for (const entry of entries) {
      if (entry.type !== 'container') throw new Error(`unexpected ${JSON.stringify(entry)}`);
      for await (const message of readContainer(entry.file, entry.kind)) bodies.push(message.raw.toString());
    }
    expect(bodies).toEqual(['From: a\nTo: b\n\nthe four characters\n', 'From: a\nTo: b\n\nthe byte\n']);
  });
});

describe('walkDump: the dump is evidence', () => {
  /** Metadata only: reading the files here would itself move their access times. */
  async function metadata(dir: string): Promise<string[]> {
    const names = (await readdir(dir, { recursive: true })).sort();
    return Promise.all(
      names.map(async (name) => {
        const s = await lstat(join(dir, name));
        // A directory's atime moves with every listing, this function's own included.
        const atime = s.isDirectory() ? '' : ` atime=${s.atimeMs}`;
        return `${name} mode=${s.mode} size=${s.size} mtime=${s.mtimeMs} ctime=${s.ctimeMs}${atime}`;
      }),
    );
  }

  it('leaves contents, modes and all three times untouched by walking and reading', async () => {
    const files: Record<string, string> = {
      'cur/1490000000.M0P77.host:2,S': MESSAGE,
      inbox: MBOX,
      '1.emlx': `${Buffer.byteLength(MESSAGE)}\n${MESSAGE}<?xml?>`,
      'x.pdf': '%PDF-1.4\n',
    };
    await mkdir(join(dump, 'cur'));
    // Access times older than modification times: even relatime would update them on a read.
    const old = new Date('2001-01-01T00:00:00Z');
    for (const [name, content] of Object.entries(files)) {
      await writeFile(join(dump, name), content);
      await utimes(join(dump, name), old, new Date());
    }
    const before = await metadata(dump);
    let messages = 0;
    for (const entry of await walk(dump)) {
      if (entry.type === 'container') messages += (await collect(readContainer(entry.file, entry.kind))).length;
    }
    expect(messages).toBe(4);
    expect(await metadata(dump)).toEqual(before);
    for (const [name, content] of Object.entries(files)) {
      expect(await readFile(join(dump, name), 'utf8')).toBe(content);
    }
  });
});

describe('walkDump: symlinked root', () => {
  it('follows a root that is a symlink, to a directory or to a file', async () => {
    await writeFile(join(outside, 'one.mbox'), MBOX);
    await symlink(join(outside, 'one.mbox'), join(dump, 'link.mbox'));
    await symlink(outside, join(dump, 'link-dir'));
    const viaFile = await walk(join(dump, 'link.mbox'));
    expect(viaFile).toEqual([expect.objectContaining({ type: 'container', kind: 'mbox' })]);
    const entry = viaFile[0];
    if (entry?.type !== 'container') throw new Error('expected a container');
    expect(await collect(readContainer(entry.file, entry.kind))).toHaveLength(2);
    expect(relPaths(await walk(join(dump, 'link-dir')))).toEqual(['one.mbox']);
  });
});
