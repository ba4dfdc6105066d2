import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';

/**
 * How many analysis threads a verify starts when `--jobs` is not given, and what bounds it.
 *
 * One per core, as Node counts them (`availableParallelism`: the CPUs this process may run on,
 * cpusets and affinity included). Node does not read a container's CPU limit: a CI job given two
 * CPUs of a 64-core host (`docker run --cpus 2`, a Kubernetes limit of 2) counted 64 cores and
 * started 64 threads, each loading its code (0.25 s of CPU) and warming up on a 32nd of a CPU,
 * in about 45 MB each: 2.9 GB, past the memory such a job is usually given, where the kernel kills
 * the run. So the default also stays within:
 * - the CPU limit of the process's control group (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us`),
 *   rounded down, and at least one: one thread per whole CPU, as Rust's available_parallelism
 *   and Go's automaxprocs count. The main thread needs its share too; under a limit of 1.5 CPUs,
 *   a second thread made no run faster and took 40 MB more (docs/performance.md);
 * - the memory it may use (the control group's limit, as `process.constrainedMemory` reads it,
 *   and the machine's), at MEMORY_PER_THREAD a thread beyond MEMORY_RESERVED.
 * Verdicts do not depend on the number of threads; only the time and the memory a run takes do.
 */
export interface ThreadBudget {
  threads: number;
  /** what Node counts (availableParallelism) */
  cores: number;
  /** the cores, or fewer under a CPU limit: as many threads as can run at once */
  usableCores: number;
  /** CPUs the control group allows (fractional), or null when none is set or it cannot be read */
  cpuLimit: number | null;
  /** bytes the process may use: its control group's limit, or the machine's memory */
  memoryLimit: number;
  /** what set `threads`: the cores, or the limit under them */
  boundBy: 'cores' | 'cpu-limit' | 'memory';
}

/**
 * A verify's memory beyond its analysis threads' own: the main thread and the store (about
 * 140 MB), the bytes in flight to the threads (256 MB at most), and room for a large message's
 * analysis. Measured on the bench (docs/performance.md, "Threads, containers and memory"): 187 MB
 * with one thread, 41-51 MB more for each further one.
 */
export const MEMORY_RESERVED = 512 * 1024 * 1024;
/** A thread's share, with room over the 41-51 MB measured. */
export const MEMORY_PER_THREAD = 64 * 1024 * 1024;

/** Reads a small text file, or null when it cannot be read. */
export type ReadText = (path: string) => string | null;

const readSmallText: ReadText = (path) => {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
};

let budget: ThreadBudget | null = null;

/** The default number of analysis threads of this process, and why (see ThreadBudget). Read once. */
export function defaultThreadBudget(): ThreadBudget {
  budget ??= threadBudget({ cores: availableParallelism(), cpuLimit: cgroupCpuLimit(readSmallText), memoryLimit: memoryLimit() });
  return budget;
}

/** The budget for a machine of `cores`, under the limits given (see ThreadBudget). */
export function threadBudget({ cores, cpuLimit, memoryLimit }: Pick<ThreadBudget, 'cores' | 'cpuLimit' | 'memoryLimit'>): ThreadBudget {
  const byCpu = cpuLimit === null ? Infinity : Math.max(1, Math.floor(cpuLimit));
  const byMemory = Math.max(1, Math.floor((memoryLimit - MEMORY_RESERVED) / MEMORY_PER_THREAD));
  const usableCores = Math.max(1, Math.min(cores, byCpu));
  const threads = Math.min(usableCores, byMemory);
  const boundBy = threads === cores ? 'cores' : threads === byCpu ? 'cpu-limit' : 'memory';
  return { threads, cores, usableCores, cpuLimit, memoryLimit, boundBy };
}

/** One line for the examiner when a limit, not the cores, set the default; null otherwise. */
export function describeThreadBudget(b: ThreadBudget): string | null {
  if (b.boundBy === 'cores') return null;
  const why =
    b.boundBy === 'cpu-limit'
      ? `this process may use ${formatCpus(b.cpuLimit!)} of the machine's ${b.cores} (its control group's CPU limit)`
      : `this process may use ${Math.round(b.memoryLimit / 2 ** 20)} MiB of memory, and ${MEMORY_PER_THREAD / 2 ** 20} MiB is set aside for each thread`;
  return `${b.threads} analysis thread${b.threads === 1 ? '' : 's'}, not ${b.cores}: ${why}. --jobs N sets the number.`;
}

const formatCpus = (cpus: number): string => `${Number.isInteger(cpus) ? cpus : cpus.toFixed(2)} CPU${cpus === 1 ? '' : 's'}`;

/**
 * Bytes this process may use: the control group's limit where there is one (Node 24 reports
 * none as 2^64, Node 22 as 0), never more than the machine has.
 */
function memoryLimit(): number {
  const machine = totalmem();
  const constrained = (process as { constrainedMemory?: () => number }).constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < machine ? constrained : machine;
}

/**
 * The CPUs the process's control group may use, as a fraction (`2`, `0.5`), or null when no limit
 * is set or it cannot be read. A group's limit also holds for the groups below it, so the
 * smallest found from the process's own group up to the root of the hierarchy is the one that
 * applies. Both hierarchies are read (a hybrid system mounts both; the cpu controller is in one).
 */
export function cgroupCpuLimit(read: ReadText): number | null {
  const groups = read('/proc/self/cgroup');
  const mounts = read('/proc/self/mountinfo');
  if (groups === null || mounts === null) return null;
  let limit: number | null = null;
  const take = (found: number | null): void => {
    if (found !== null && (limit === null || found < limit)) limit = found;
  };
  for (const mount of cgroupMounts(mounts)) {
    const path = groupPath(groups, mount);
    if (path === null) continue;
    for (const dir of dirsUpTo(mount.point, mount.root, path)) {
      take(mount.version === 2 ? cpuMaxLimit(read(`${dir}/cpu.max`)) : cfsLimit(read(`${dir}/cpu.cfs_quota_us`), read(`${dir}/cpu.cfs_period_us`)));
    }
  }
  return limit;
}

interface CgroupMount {
  version: 1 | 2;
  /** the directory of the hierarchy's group `root` */
  point: string;
  root: string;
}

/**
 * The cgroup2 mounts and the cgroup v1 mounts of the cpu controller, from /proc/self/mountinfo:
 * `id parent major:minor root mount-point options [optional fields] - type source super-options`,
 * with spaces and other bytes in paths written as octal escapes (`\040`).
 */
function cgroupMounts(mountinfo: string): CgroupMount[] {
  const found: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (dash < 0 || fields.length < dash + 4) continue;
    const type = fields[dash + 1];
    const version = type === 'cgroup2' ? 2 : type === 'cgroup' && fields[dash + 3]!.split(',').includes('cpu') ? 1 : null;
    if (version !== null) found.push({ version, root: unescapeMountPath(fields[3]!), point: unescapeMountPath(fields[4]!) });
  }
  return found;
}

const unescapeMountPath = (path: string): string => path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** The process's group in a mount's hierarchy, from /proc/self/cgroup (`0::/path` for v2, `N:cpu,cpuacct:/path` for v1). */
function groupPath(groups: string, mount: CgroupMount): string | null {
  for (const line of groups.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const matches = mount.version === 2 ? line.slice(0, first) === '0' && controllers === '' : controllers.split(',').includes('cpu');
    if (matches) return line.slice(second + 1);
  }
  return null;
}

/**
 * The directories of `group` and its ancestors, down from the mount point: a group outside the
 * mount's root (another cgroup namespace's view) is read at the mount point alone.
 */
function dirsUpTo(point: string, root: string, group: string): string[] {
  const base = root === '/' ? '' : root;
  const below = group === root || group.startsWith(`${base}/`) ? group.slice(base.length) : '';
  const parts = below.split('/').filter((part) => part !== '' && part !== '.' && part !== '..');
  const dirs = [point];
  for (const part of parts) dirs.push(`${dirs[dirs.length - 1]}/${part}`);
  return dirs;
}

/** cgroup v2 `cpu.max`: `max 100000` (no limit) or `quota period`, in microseconds. */
function cpuMaxLimit(text: string | null): number | null {
  const [quota, period] = (text ?? '').trim().split(/\s+/);
  return quotaOverPeriod(quota, period ?? '100000');
}

/** cgroup v1 `cpu.cfs_quota_us` (-1: no limit) over `cpu.cfs_period_us`. */
function cfsLimit(quota: string | null, period: string | null): number | null {
  return quota === null || period === null ? null : quotaOverPeriod(quota.trim(), period.trim());
}

function quotaOverPeriod(quota: string | undefined, period: string): number | null {
  if (quota === undefined || !/^\d+$/.test(quota) || !/^\d+$/.test(period)) return null;
  const q = Number(quota);
  const p = Number(period);
  return q > 0 && p > 0 ? q / p : null;
}
