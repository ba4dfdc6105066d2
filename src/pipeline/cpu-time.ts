/**
 * The CPU time a run has used, read as it ends and kept with its counts (`runs.counts_json`):
 * the whole process's, which takes in every thread (the analysis threads, V8's helpers, those
 * already exited), and the main thread's own, which walks the dump, writes the store and makes
 * the passes over the dump (and, with `--jobs 0`, the analysis too). The difference is what the
 * analysis cost.
 *
 * Wall time on a shared machine drifts by a fifth within the hour. Split this way, a change to one
 * side of the pipeline is not lost in the other side's time; CPU time drifts too, though less
 * (docs/performance.md, "Benchmark").
 */
export interface CpuTime {
  /** user and system time of every thread of the process so far, in milliseconds */
  processMs: number;
  /** the main thread's own user and system time, in milliseconds; null where Node cannot tell (before 23.9) */
  mainThreadMs: number | null;
}

export function cpuTimeSoFar(): CpuTime {
  // (Node 22.19 and later 22.x may lack threadCpuUsage: the engines field allows them)
  const threadCpuUsage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
  return { processMs: milliseconds(process.cpuUsage()), mainThreadMs: threadCpuUsage ? milliseconds(threadCpuUsage.call(process)) : null };
}

const milliseconds = ({ user, system }: NodeJS.CpuUsage): number => Math.round((user + system) / 1000);
