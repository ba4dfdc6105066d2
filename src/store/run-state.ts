import type { Db } from './open-store.ts';
import { commandOf, lockHolder, type LockHolder } from './run-lock.ts';

/**
 * The state of a database's last `verify`, as a reader must tell it: the runs table alone says
 * `running` both of a run under way and of one killed with SIGKILL, by the OOM killer or a
 * reboot, which the next `verify` relabels `interrupted` (red team V, V-03, V-04).
 * - `completed`, `interrupted`, `failed`: as recorded, the run's process ended;
 * - `cut-short`: recorded `running`, and no live process holds the run lock: it died mid-run;
 * - `filesInProgress`: of a run that did not complete, the containers it left part-read
 * - `in-progress`: a `verify` holds the lock now (`runId` null when it has not recorded its run
 *   yet), so what is read is partial and will change;
 * - `none`: no run on record.
 */
export type RunState =
  | { state: 'none' }
  | { state: 'completed'; runId: number }
  | { state: 'interrupted' | 'failed' | 'cut-short'; runId: number; filesInProgress: number }
  | { state: 'in-progress'; runId: number | null; pid: number | null; host: string | null; since: string | null };

/**
 * Reads the state without writing anything (readers open the database read-only). The lock is
 * asked before and after the last run's row is read: a run that ends in between is never taken
 * for a dead one, nor one that begins in between for one that died (it holds the lock at the
 * second look).
 */
export function lastRunState(db: Db, dbPath: string): RunState {
  const before = lockHolder(dbPath);
  const run = db.prepare('SELECT id, status, finished_at FROM runs ORDER BY id DESC LIMIT 1').get() as { id: number; status: string; finished_at: string | null } | undefined;
  const after = lockHolder(dbPath);
  const holder = isHeld(before) ? before : after;
  if (isHeld(holder) && !olderThanLastRun(holder, run?.finished_at ?? null)) {
    const owner = 'owner' in holder ? holder.owner : null;
    return {
      state: 'in-progress',
      runId: run?.status === 'running' ? run.id : null,
      pid: owner?.pid ?? null,
      host: holder.held === 'elsewhere' ? owner!.host : null,
      since: owner?.since ?? null,
    };
  }
  if (!run) return { state: 'none' };
  if (run.status === 'completed') return { state: 'completed', runId: run.id };
  const filesInProgress = db.prepare("SELECT count(*) FROM source_files WHERE status = 'in-progress'").pluck().get() as number;
  const state = run.status === 'running' ? 'cut-short' : run.status === 'failed' ? 'failed' : 'interrupted';
  return { state, runId: run.id, filesInProgress };
}

/** Held by a verify: a key command holding the lock writes no verdict, so what is read is whole. */
const isHeld = (holder: LockHolder): boolean => holder.held !== 'none' && !('owner' in holder && commandOf(holder.owner) !== 'verify');

/**
 * A lock taken before the last run on record ended belongs to no run after it: one left by a
 * killed run on the machine the database was copied from, or a pid a reboot gave to another
 * process, read as "a verify is writing this database now" beside "run #1 completed", and the
 * manifest was refused for good (red team X, X-04).
 */
function olderThanLastRun(holder: LockHolder, finishedAt: string | null): boolean {
  if (!('owner' in holder) || finishedAt === null) return false;
  const since = Date.parse(holder.owner.since);
  return Number.isFinite(since) && since < Date.parse(finishedAt);
}
