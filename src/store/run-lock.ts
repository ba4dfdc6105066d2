import { closeSync, linkSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { closeEvidenceSync, openEvidenceSync, readHeadSync } from '../discover/open-evidence.ts';

export class RunLockedError extends Error {
  override name = 'RunLockedError';
}

/**
 * A lock file that cannot be read is taken for one being written for this long: it may belong to
 * a run that created it but has not written its pid yet (only possible where hard links are not
 * supported, see `createLockFile`), and older than this it is a crash's leftover.
 */
const UNREADABLE_LOCK_GRACE_MS = 10_000;

/**
 * One `verify` at a time per database. The lock is a file beside the database, holding the
 * owner's pid and host, and it is taken before the database is opened, so that a refused run
 * never touches it (not even to create its schema). A lock left by a process that no longer
 * exists (killed with SIGKILL, a crash, a reboot) is taken over, so a killed run never blocks its
 * own resumption. Readers (report, export, show) need no lock: SQLite's WAL lets them read a
 * consistent snapshot while a run writes. They look at it (`lockHolder`, run-state.ts) to say
 * that what they read is partial.
 */
export function acquireRunLock(dbPath: string, command: LockCommand = 'verify'): () => void {
  const path = lockPathOf(dbPath);
  const me = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), command, ...thisProcess() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      createLockFile(path, me);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          unlinkSync(path);
        } catch {
          // already gone: nothing to release
        }
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new RunLockedError(`cannot create the lock ${path}: ${whyNot(code, err as Error)}.`);
      const holder = lockHolder(dbPath);
      if (holder.held === 'live') throw heldBy(holder.owner, dbPath);
      if (holder.held === 'elsewhere') {
        const where = holder.owner.host === hostname() ? `in another pid namespace of ${holder.owner.host} (a container, or the host seen from one)` : `on ${holder.owner.host}`;
        throw new RunLockedError(`${dbPath} is locked by a leakcheck ${commandOf(holder.owner)} ${where} (pid ${holder.owner.pid}), which cannot be seen from here; remove ${path} if that run is gone.`);
      }
      if (holder.held === 'starting') break;
      // stale: its owner is dead, or it has been unreadable for too long to be one being written
      try {
        unlinkSync(path);
      } catch {
        // someone else removed it first; try again
      }
    }
  }
  throw new RunLockedError(`could not lock ${dbPath}: another run is starting at the same time.`);
}

/**
 * The lock's name: beside the database's real path, so that every name of one database (a
 * symlink to it, a path through a symlinked folder, `..`) gives one lock. Named after `--db` as
 * typed, a second verify through a symlink found no lock and wrote the database a run was writing
 * (red team Z, Z-10). A database not created yet is named by its folder's real path.
 */
export function lockPathOf(dbPath: string): string {
  return `${realPathToWrite(dbPath)}.lock`;
}

/**
 * The real path of a file about to be written (the database, an output): a symlink to one not
 * created yet is followed too, as SQLite and a write stream create it at the link's target.
 */
export function realPathToWrite(path: string, links = 0): string {
  const real = realOrNull(path);
  if (real !== null) return real;
  const target = links < 40 ? linkTarget(path) : null;
  if (target !== null) return realPathToWrite(resolve(dirname(path), target), links + 1);
  return join(realOrNull(dirname(path)) ?? dirname(path), basename(path));
}

function linkTarget(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

function realOrNull(path: string): string | null {
  try {
    return realpathSync.native(path);
  } catch {
    return null;
  }
}

/**
 * Creates the lock with its content already in it: the owner is written to a file of our own,
 * which is then hard-linked to the lock's name (the link fails if the lock exists). A lock made
 * by create-then-write is empty for a moment, and a second run reading it then would take it for
 * stale and remove a live run's lock.
 */
function createLockFile(path: string, content: string): void {
  const draft = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(draft, content, { flag: 'wx' });
  try {
    linkSync(draft, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    // a filesystem without hard links: exclusive create, then write (see UNREADABLE_LOCK_GRACE_MS)
    const fd = openSync(path, 'wx');
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
  } finally {
    unlinkSync(draft);
  }
}

/**
 * Refuses with RunLockedError when a live run on this host holds the lock of `dbPath`, and does
 * nothing otherwise (see runVerify: a lock being taken has two names for a moment).
 */
export function refuseIfHeld(dbPath: string): void {
  const holder = lockHolder(dbPath);
  if (holder.held === 'live') throw heldBy(holder.owner, dbPath);
}

/**
 * What holds the lock: a `verify`, or a key command that writes the key store (`keys import`,
 * `keys fetch`). Those take it too: a key added while a verify runs was never seen by the files
 * it had analysed, yet was recorded as seen (red team Z, Z-02). A lock without it is a verify's.
 */
export type LockCommand = 'verify' | 'keys import' | 'keys fetch';

export type LockOwner = { pid: number; host: string; since: string; command?: LockCommand } & ProcessInstance;

/** The command a lock names: the readers care only about a verify, which writes verdicts. */
export const commandOf = (owner: LockOwner): LockCommand => owner.command ?? 'verify';

/**
 * Who holds the lock of `dbPath`, as `verify` judges it when it would take it: a live process of
 * this host (`live`), a process of another host, whose life cannot be seen from here
 * (`elsewhere`), a run taking it now, whose lock cannot be read yet (`starting`), or nobody: no
 * lock, or one its owner left behind when it died (`none`). The readers ask the same, so that a
 * run `verify` would take over is the run they call cut short (red team V, V-03).
 */
export type LockHolder = { held: 'live' | 'elsewhere'; owner: LockOwner } | { held: 'starting' | 'none' };

export function lockHolder(dbPath: string): LockHolder {
  const path = lockPathOf(dbPath);
  const owner = readOwner(path);
  if (owner) {
    const life = lifeOf(owner);
    return life === 'dead' ? { held: 'none' } : { held: life, owner };
  }
  return ageMs(path) < UNREADABLE_LOCK_GRACE_MS ? { held: 'starting' } : { held: 'none' };
}

/**
 * What tells the process that wrote a lock from every other that had or will have its pid, where
 * the system says it (Linux's /proc): the boot, its pid namespace, and its start time (clock ticks
 * since boot, the same from every namespace). A pid alone named a dead run's lock live for ever
 * when a container's entrypoint, pid 1, was killed (pid 1 is always alive: init, or the next
 * container's run itself), and a live run seen from another pid namespace dead, whose lock was
 * then taken over (red team Z, Z-14). The start time is read in the reader's time namespace,
 * offset from the writer's when they differ (CRIU, some sandboxes): it is compared only within
 * one, or a live run was taken for dead and its lock taken over (red team AA, AA-14). A lock
 * written without them (an older leakcheck, a system without /proc) is judged by host and pid alone.
 */
type ProcessInstance = { boot?: string; pidNamespace?: string; timeNamespace?: string; started?: number };

let ownInstance: ProcessInstance | undefined;
function thisProcess(): ProcessInstance {
  ownInstance ??= {
    boot: readText('/proc/sys/kernel/random/boot_id')?.trim(),
    pidNamespace: namespaceOf('self', 'pid') ?? undefined,
    timeNamespace: namespaceOf('self', 'time') ?? undefined,
    started: startTicks('self') ?? undefined,
  };
  return ownInstance;
}

/**
 * `live`: a process of this host that is the lock's writer; `elsewhere`: one whose life cannot
 * be seen from here (another host, or a pid namespace none of whose processes this one sees);
 * `dead`: the writer is gone (the machine restarted, its pid is free or now another process's).
 */
function lifeOf(owner: LockOwner): 'live' | 'elsewhere' | 'dead' {
  if (owner.host !== hostname()) return 'elsewhere';
  const me = thisProcess();
  if (owner.boot && me.boot && owner.boot !== me.boot) return 'dead';
  if (owner.pidNamespace && me.pidNamespace && owner.pidNamespace !== me.pidNamespace) return lifeInNamespace(owner);
  if (!isAlive(owner.pid)) return 'dead';
  const started = owner.started === undefined || !sameClock(owner) ? null : startTicks(String(owner.pid));
  return started !== null && started !== owner.started ? 'dead' : 'live';
}

/** Whether a start time the lock records reads the same from here: one time namespace, or one not said. */
const sameClock = (owner: LockOwner): boolean => !owner.timeNamespace || !thisProcess().timeNamespace || owner.timeNamespace === thisProcess().timeNamespace;

/**
 * A writer in another pid namespace: seen from an ancestor namespace (the host sees its
 * containers' processes under other pids), it is the process with its start time in that
 * namespace. It is dead when a process of that namespace is seen and none is it, or, from the
 * host's namespace, which sees every process, when none is; otherwise (the writer ran on the
 * host, or in a sibling container, or its namespace cannot be read) this process cannot tell.
 */
function lifeInNamespace(owner: LockOwner): 'live' | 'elsewhere' | 'dead' {
  if (owner.started === undefined || !sameClock(owner)) return 'elsewhere';
  let namespaceSeen = false;
  let unreadable = false;
  for (const pid of readdirOrNone('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const sameStart = startTicks(pid) === owner.started;
    if (!sameStart && namespaceSeen) continue;
    const namespace = namespaceOf(pid, 'pid');
    if (namespace === owner.pidNamespace) {
      if (sameStart) return 'live';
      namespaceSeen = true;
    } else if (namespace === null && sameStart) {
      unreadable = true;
    }
  }
  if (unreadable) return 'elsewhere';
  return namespaceSeen || thisProcess().pidNamespace === INITIAL_PID_NAMESPACE ? 'dead' : 'elsewhere';
}

/** The pid namespace the system starts with (PROC_PID_INIT_INO): a process in it sees every process. */
const INITIAL_PID_NAMESPACE = 'pid:[4026531836]';

/** Field 22 of /proc/PID/stat, after the command name (which may hold spaces and parentheses). */
function startTicks(pid: string): number | null {
  const stat = readText(`/proc/${pid}/stat`);
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields?.[19]);
  return Number.isSafeInteger(ticks) ? ticks : null;
}

function namespaceOf(pid: string, kind: 'pid' | 'time'): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return null;
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function readdirOrNone(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function heldBy(owner: LockOwner, dbPath: string): RunLockedError {
  return new RunLockedError(`another leakcheck ${commandOf(owner)} (pid ${owner.pid}, since ${owner.since}) is writing ${dbPath}; wait for it to finish, or use another --db.`);
}

function whyNot(code: string | undefined, err: Error): string {
  if (code === 'ENOENT') return 'its folder does not exist';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'that folder cannot be written';
  return code ?? err.message;
}

/**
 * The owner a lock file names, or null. Read as evidence is read (no access time changed): a
 * lock's name with a second name may be a file of the dump until it is known to be a lock.
 */
function readOwner(path: string): LockOwner | null {
  try {
    const fd = openEvidenceSync(path);
    try {
      const owner = JSON.parse(readHeadSync(fd, 4096).toString('utf8')) as LockOwner | null;
      return typeof owner?.pid === 'number' ? owner : null;
    } finally {
      closeEvidenceSync(fd);
    }
  } catch {
    return null;
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Infinity; // gone already
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
