import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

export class RunLockedError extends Error {
  override name = 'RunLockedError';
}

/**
 * One `verify` at a time per database. The lock is a file beside the database, created
 * exclusively and holding the owner's pid and host. A lock left by a process that no longer
 * exists (killed with SIGKILL, a crash, a reboot) is taken over, so a killed run never blocks its
 * own resumption. Readers (report, export, show) need no lock: SQLite's WAL lets them read a
 * consistent snapshot while a run writes.
 */
export function acquireRunLock(dbPath: string): () => void {
  const path = `${dbPath}.lock`;
  const me = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, me);
      closeSync(fd);
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
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(path);
      if (owner && owner.host === hostname() && isAlive(owner.pid)) {
        throw new RunLockedError(
          `another leakcheck verify (pid ${owner.pid}, since ${owner.since}) is writing ${dbPath}; wait for it to finish, or use another --db.`,
        );
      }
      if (owner && owner.host !== hostname()) {
        throw new RunLockedError(`${dbPath} is locked by a leakcheck run on ${owner.host} (pid ${owner.pid}); remove ${path} if that run is gone.`);
      }
      // stale: its owner is dead
      try {
        unlinkSync(path);
      } catch {
        // someone else removed it first; try again
      }
    }
  }
  throw new RunLockedError(`could not lock ${dbPath}: another run is starting at the same time.`);
}

function readOwner(path: string): { pid: number; host: string; since: string } | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; host: string; since: string };
    return typeof owner.pid === 'number' ? owner : null;
  } catch {
    return null;
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
