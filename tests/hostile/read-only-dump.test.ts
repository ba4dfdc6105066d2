/**
 * Evidence is read-only: a verify run must leave every byte, mode, mtime and (where the kernel
 * lets us avoid it) every file atime of the dump as it was, on a dump made read-only by
 * permissions and on a read-only mount, and the database must never go inside the dump.
 *
 * Atimes: leakcheck opens files with O_NOATIME, which Linux honours for the file's owner and for
 * root. Directory listings cannot be opened that way (readdir), so directory atimes may move
 * under relatime and are not compared. A run as another user than the owner cannot use
 * O_NOATIME either: there only content, modes and mtimes are compared.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, constants, cpSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, rmdirSync, symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
import { verifyOffline } from '../helpers/in-process.ts';
import { canRunAsNobody, IS_ROOT, NOBODY, runCliMeasured } from './support.ts';

interface EntryState {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  size: number;
  sha256: string | null;
  target: string | null;
  mtimeNs: bigint;
  atimeNs: bigint;
}

const NOATIME = constants.O_NOATIME ?? 0;

/** Reads a file without touching its atime (O_NOATIME: we are root or the owner). */
function hashNoAtime(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | NOATIME | constants.O_NOFOLLOW);
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

/** The state of every entry under `root`: stats first (before any read), then content hashes. */
function snapshot(root: string): Map<string, EntryState> {
  const states = new Map<string, EntryState>();
  const visit = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const stats = lstatSync(path, { bigint: true });
      const type = stats.isFile() ? 'file' : stats.isDirectory() ? 'dir' : stats.isSymbolicLink() ? 'symlink' : 'other';
      states.set(relPath, {
        type,
        mode: Number(stats.mode),
        size: Number(stats.size),
        sha256: null,
        target: type === 'symlink' ? readlinkSync(path) : null,
        mtimeNs: stats.mtimeNs,
        atimeNs: stats.atimeNs,
      });
      if (type === 'dir') visit(path, relPath);
    }
  };
  visit(root, '');
  for (const [relPath, state] of states) if (state.type === 'file') state.sha256 = hashNoAtime(join(root, relPath));
  return states;
}

/** Differences between two snapshots; directory atimes are left out, and file atimes when `atimes` is false. */
function differences(before: Map<string, EntryState>, after: Map<string, EntryState>, atimes: boolean): string[] {
  const out: string[] = [];
  for (const path of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(path);
    const b = after.get(path);
    if (!a || !b) {
      out.push(`${path}: ${a ? 'removed' : 'added'}`);
      continue;
    }
    for (const key of ['type', 'mode', 'size', 'sha256', 'target', 'mtimeNs'] as const) {
      if (a[key] !== b[key]) out.push(`${path}: ${key} ${String(a[key])} -> ${String(b[key])}`);
    }
    if (atimes && a.type !== 'dir' && a.atimeNs !== b.atimeNs) out.push(`${path}: atime ${a.atimeNs} -> ${b.atimeNs}`);
  }
  return out;
}

/** Every file's atime set a year before its mtime: under relatime, any ordinary read would then update it. */
function ageAtimes(root: string): void {
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile()) utimesSync(path, new Date('2020-01-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z'));
    }
  };
  visit(root);
}

function chmodTree(root: string, fileMode: number, dirMode: number): void {
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        visit(path);
        chmodSync(path, dirMode);
      } else if (entry.isFile()) {
        chmodSync(path, fileMode);
      }
    }
  };
  visit(root);
  chmodSync(root, dirMode);
}

/** Whether this filesystem updates atimes on a plain read, and whether O_NOATIME prevents it. */
function atimeBehaviour(dir: string): { updatesOnRead: boolean; noatimeHonoured: boolean } {
  const probe = join(dir, 'atime-probe');
  cpSync(join(DEMO_DUMP, 'notes.txt'), probe);
  utimesSync(probe, new Date('2020-01-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z'));
  const atime = (): bigint => lstatSync(probe, { bigint: true }).atimeNs;
  const start = atime();
  hashNoAtime(probe);
  const afterNoatime = atime();
  const fd = openSync(probe, 'r');
  readSync(fd, Buffer.alloc(16), 0, 16, 0);
  closeSync(fd);
  return { noatimeHonoured: afterNoatime === start, updatesOnRead: atime() !== afterNoatime };
}

const messageCount = (db: string): number => {
  const store = new Database(db, { readonly: true });
  try {
    return (store.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n;
  } finally {
    store.close();
  }
};

describe('evidence is read-only', () => {
  const tmp = tempDir('leakcheck-readonly-');
  const dump = join(tmp.path, 'dump');
  const dbDir = join(tmp.path, 'db');
  let before: Map<string, EntryState>;
  let atime: { updatesOnRead: boolean; noatimeHonoured: boolean };
  let demoMessages: number;

  beforeAll(async () => {
    atime = atimeBehaviour(tmp.path);
    cpSync(DEMO_DUMP, dump, { recursive: true });
    mkdirSync(dbDir);
    chmodTree(dump, 0o444, 0o555);
    await verifyOffline(DEMO_DUMP, join(dbDir, 'reference.db'), [DEMO_KEYS]);
    demoMessages = messageCount(join(dbDir, 'reference.db'));
  }, 120_000);

  // Each test starts from aged file atimes (a read would move them) and its own snapshot.
  beforeEach(() => {
    ageAtimes(dump);
    before = snapshot(dump);
  });

  afterAll(() => {
    try {
      chmodTree(dump, 0o644, 0o755);
    } catch {
      // best effort before removing it
    }
    tmp.cleanup();
  });

  it('the filesystem under test: atime behaviour is known (informational)', () => {
    process.stdout.write(
      `read-only test: plain reads ${atime.updatesOnRead ? 'update' : 'do NOT update'} atimes here; O_NOATIME ${atime.noatimeHonoured ? 'is' : 'is NOT'} honoured for this user\n`,
    );
    expect(typeof atime.updatesOnRead).toBe('boolean');
  });

  it('a verify run on a dump made read-only by permissions changes nothing in it (content, modes, mtimes, file atimes)', () => {
    const db = join(dbDir, 'perm.db');
    const run = runCli(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    expect(messageCount(db)).toBe(demoMessages);
    // File atimes are compared only where O_NOATIME is honoured (root or the owner); otherwise the kernel decides.
    expect(differences(before, snapshot(dump), atime.noatimeHonoured)).toEqual([]);
  });

  it.runIf(canRunAsNobody())('run by another user (nobody), on a dump it may not write to, it works and changes no content, mode or mtime', () => {
    chmodSync(tmp.path, 0o755);
    const nobodyDb = join(tmp.path, 'nobody-db');
    mkdirSync(nobodyDb);
    spawnSync('chown', [`${NOBODY}:${NOBODY}`, nobodyDb]);
    const run = runCliMeasured(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', join(nobodyDb, 'n.db'), '--quiet'], { asUser: NOBODY });
    expect(run.status, run.stderr).toBe(0);
    expect(messageCount(join(nobodyDb, 'n.db'))).toBe(demoMessages);
    // nobody does not own the files, so O_NOATIME is refused (EPERM) and atimes are the kernel's
    // business; the run says so before it reads anything (red team 28, G-07)
    expect(differences(before, snapshot(dump), false)).toEqual([]);
    expect(run.stderr).toContain('this user does not own the dump, so the system updates the access time of each file read');
  });

  it('a verify run on a read-only bind mount of the dump works and changes nothing', (context) => {
    const mount = join(tmp.path, 'ro-mount');
    mkdirSync(mount);
    const bind = spawnSync('mount', ['--bind', dump, mount], { encoding: 'utf8' });
    if (!IS_ROOT || bind.status !== 0) {
      rmdirSync(mount);
      context.skip(`read-only mount not possible here: ${IS_ROOT ? bind.stderr.trim() : 'needs root'}`);
      return;
    }
    try {
      const ro = spawnSync('mount', ['-o', 'remount,ro,bind', mount], { encoding: 'utf8' });
      if (ro.status !== 0) {
        context.skip(`remount read-only not permitted: ${ro.stderr.trim()}`);
        return;
      }
      const db = join(dbDir, 'mount.db');
      const run = runCli(['verify', mount, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet']);
      expect(run.status, run.stderr).toBe(0);
      expect(messageCount(db)).toBe(demoMessages);
      // and the database cannot be put inside it either: refused as a usage error, not a crash on EROFS
      const inside = runCli(['verify', mount, '--keys', DEMO_KEYS, '--offline', '--db', join(mount, 'x.db'), '--quiet']);
      expect(inside.status, inside.stderr).toBe(2);
    } finally {
      spawnSync('umount', [mount]);
      rmdirSync(mount);
    }
    expect(differences(before, snapshot(dump), atime.noatimeHonoured)).toEqual([]);
  });

  it('--db inside the dump is refused with exit 2, also through a symlink, and nothing is created there', () => {
    for (const db of [join(dump, 'inside.db'), join(dump, 'inbox', 'inside.db')]) {
      const run = runCli(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet']);
      expect(run.status, `${db}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(/inside the dump/);
    }
    const link = join(tmp.path, 'link-into-dump');
    symlinkSync(dump, link);
    const viaLink = runCli(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', join(link, 'sneaky.db'), '--quiet']);
    expect(viaLink.status, viaLink.stderr).toBe(2);
    expect(existsSync(join(dump, 'sneaky.db'))).toBe(false);
    expect(differences(before, snapshot(dump), atime.noatimeHonoured)).toEqual([]);
  });
});

// Red team 28, G-04: the compile cache went to the system temp directory, and with the temp
// directory inside the dump (a leak unpacked into /tmp and verified as /tmp), 450 files of it were
// written into the evidence; the next run recorded them as added.
describe('with the temp directory inside the dump', () => {
  it('nothing is written into the dump, and a second run finds nothing added', () => {
    const tmp = tempDir('leakcheck-tmpdir-dump-');
    try {
      const dump = join(tmp.path, 'dump');
      cpSync(DEMO_DUMP, dump, { recursive: true });
      const db = join(tmp.path, 'r.db');
      const before = snapshot(dump);
      // the suite's own cache setting is taken away, so that leakcheck decides where its cache goes
      const env = { TMPDIR: dump, NODE_COMPILE_CACHE: '' };
      const first = runCli(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet'], { env });
      expect(first.status, first.stderr).toBe(0);
      expect([...snapshot(dump).keys()].filter((path) => !before.has(path))).toEqual([]);
      const second = runCli(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet', '--fail-on', 'added'], { env });
      expect(second.status, second.stderr).toBe(0);
    } finally {
      tmp.cleanup();
    }
  }, 120_000);
});
