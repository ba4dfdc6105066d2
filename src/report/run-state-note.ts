import type { RunState } from '../store/run-state.ts';
import { terminalSafe } from './terminal-safe.ts';

/**
 * What a reader of the database must be told of its last run before anything it reads, or null
 * when it completed. The counts of a run that stopped early or is under way look like a
 * finished run's, and its verdicts lack what the passes across the dump (copies, threads,
 * documents) add at the end: a message shown unverifiable may be suspicious in the final run
 * (red team V, V-03, V-04).
 */
export function runStateNote(state: RunState, safe: (host: string) => string = (host) => terminalSafe(host, 100)): string | null {
  if (state.state === 'cut-short' || state.state === 'interrupted' || state.state === 'failed') {
    const reading = state.filesInProgress
      ? `, ${state.filesInProgress} file${state.filesInProgress === 1 ? '' : 's'} it was reading ${state.filesInProgress === 1 ? 'holds' : 'hold'} only the messages read before it stopped`
      : '';
    const how = state.state === 'cut-short' ? 'did not finish (its process is gone)' : state.state === 'failed' ? 'failed before it finished' : 'was interrupted before it finished';
    return (
      `run #${state.runId} ${how}: the files it had not reached have no verdict yet, or an earlier run's${reading}, ` +
      'and verdicts from the passes across the dump may be missing; run verify again'
    );
  }
  if (state.state === 'in-progress') return `${writerNow(state, safe)}: these results ${state.host === null ? 'are partial and will change' : 'may be partial'}`;
  return null;
}

/** Which verify holds the database now; `safe` makes the host a lock file names (any text) fit for the output. */
export function writerNow(state: RunState & { state: 'in-progress' }, safe: (host: string) => string = (host) => terminalSafe(host, 100)): string {
  if (state.pid === null) return 'a verify is starting on this database now';
  // another machine's process cannot be seen from here: what is known is said, and how to go on
  if (state.host !== null) {
    return `the database is locked by a verify on ${safe(state.host)} (pid ${state.pid}${state.since === null ? '' : `, since ${safe(state.since)}`}), which cannot be seen from here; if that run is gone, remove the database's .lock file`;
  }
  return `a verify (pid ${state.pid}) is writing this database now`;
}

/** The run's status as the reports' run line shows it: `running` is false of a run whose process is gone. */
export const shownRunStatus = (recorded: string, state: RunState | undefined): string => (state?.state === 'cut-short' ? 'did not finish' : recorded);

/** The one-line warning on stderr, which leaves stdout the clean data (an export, a manifest). */
export function warnOfRunState(state: RunState): void {
  const note = runStateNote(state);
  if (note) process.stderr.write(`leakcheck: warning: ${note}\n`);
}
