import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  cgroupCpuLimit,
  defaultThreadBudget,
  describeThreadBudget,
  MEMORY_PER_THREAD,
  MEMORY_RESERVED,
  threadBudget,
  type ReadText,
} from '../../src/pipeline/thread-budget.ts';

const GiB = 2 ** 30;
const plenty = 64 * GiB;

/** A machine's /proc and /sys as far as cgroupCpuLimit reads them. */
const files =
  (contents: Record<string, string>): ReadText =>
  (path) =>
    contents[path] ?? null;

// The mountinfo lines of the systems the limit is read on.
const V2_ROOT = '30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot';
const V1_CPU = '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu';
const V1_CPUACCT = '33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct';
const V1_MEMORY = '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory';
const HYBRID_UNIFIED = '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw';
const ROOT_FS = '23 1 254:0 / / rw,relatime - ext4 /dev/vda rw';

describe('the default number of analysis threads', () => {
  it('is one per core when no limit is under the cores', () => {
    expect(threadBudget({ cores: 2, cpuLimit: null, memoryLimit: plenty })).toMatchObject({ threads: 2, usableCores: 2, boundBy: 'cores' });
    expect(threadBudget({ cores: 16, cpuLimit: 32, memoryLimit: plenty })).toMatchObject({ threads: 16, boundBy: 'cores' });
    // a limit of exactly the cores is the cores
    expect(threadBudget({ cores: 4, cpuLimit: 4, memoryLimit: plenty })).toMatchObject({ threads: 4, boundBy: 'cores' });
  });

  it("follows a container's CPU limit, one thread per whole CPU and at least one", () => {
    expect(threadBudget({ cores: 64, cpuLimit: 2, memoryLimit: plenty })).toMatchObject({ threads: 2, usableCores: 2, boundBy: 'cpu-limit' });
    expect(threadBudget({ cores: 64, cpuLimit: 2.5, memoryLimit: plenty })).toMatchObject({ threads: 2, boundBy: 'cpu-limit' });
    expect(threadBudget({ cores: 64, cpuLimit: 0.25, memoryLimit: plenty })).toMatchObject({ threads: 1, usableCores: 1, boundBy: 'cpu-limit' });
    // a limit just under the cores is under them
    expect(threadBudget({ cores: 4, cpuLimit: 3.9, memoryLimit: plenty })).toMatchObject({ threads: 3, boundBy: 'cpu-limit' });
  });

  it('stays within the memory the process may use, and never falls under one thread', () => {
    // 1 GiB: the reserve, then 64 MiB a thread
    expect(threadBudget({ cores: 64, cpuLimit: null, memoryLimit: GiB })).toMatchObject({ threads: (GiB - MEMORY_RESERVED) / MEMORY_PER_THREAD, usableCores: 64, boundBy: 'memory' });
    expect(threadBudget({ cores: 64, cpuLimit: null, memoryLimit: GiB }).threads).toBe(8);
    expect(threadBudget({ cores: 64, cpuLimit: null, memoryLimit: 256 * 2 ** 20 })).toMatchObject({ threads: 1, boundBy: 'memory' });
    // the CPU limit is the lower of the two here
    expect(threadBudget({ cores: 64, cpuLimit: 4, memoryLimit: 2 * GiB })).toMatchObject({ threads: 4, boundBy: 'cpu-limit' });
  });

  it('says why when a limit set it, and nothing when the cores did', () => {
    expect(describeThreadBudget(threadBudget({ cores: 8, cpuLimit: null, memoryLimit: plenty }))).toBeNull();
    expect(describeThreadBudget(threadBudget({ cores: 64, cpuLimit: 2.5, memoryLimit: plenty }))).toBe(
      "2 analysis threads, not 64: this process may use 2.50 CPUs of the machine's 64 (its control group's CPU limit). --jobs N sets the number.",
    );
    expect(describeThreadBudget(threadBudget({ cores: 64, cpuLimit: 1, memoryLimit: plenty }))).toMatch(/^1 analysis thread, not 64: this process may use 1 CPU of/);
    expect(describeThreadBudget(threadBudget({ cores: 16, cpuLimit: null, memoryLimit: GiB }))).toBe(
      '8 analysis threads, not 16: this process may use 1024 MiB of memory, and 64 MiB is set aside for each thread. --jobs N sets the number.',
    );
  });

  it('on this machine, is at least one and at most its cores', () => {
    const budget = defaultThreadBudget();
    expect(budget.cores).toBe(availableParallelism());
    expect(budget.threads).toBeGreaterThanOrEqual(1);
    expect(budget.threads).toBeLessThanOrEqual(budget.cores);
  });
});

describe("a control group's CPU limit", () => {
  it('is read from cgroup v2 cpu.max, in a container that sees its own group as the root', () => {
    const read = files({
      '/proc/self/cgroup': '0::/\n',
      '/proc/self/mountinfo': `${ROOT_FS}\n${V2_ROOT}\n`,
      '/sys/fs/cgroup/cpu.max': '200000 100000\n',
    });
    expect(cgroupCpuLimit(read)).toBe(2);
  });

  it("is the smallest of the process's group and its ancestors: a pod's limit holds for its containers", () => {
    const read = files({
      '/proc/self/cgroup': '0::/kubepods.slice/pod-1.slice/cri-abc.scope\n',
      '/proc/self/mountinfo': `${V2_ROOT}\n`,
      '/sys/fs/cgroup/cpu.max': 'max 100000\n',
      '/sys/fs/cgroup/kubepods.slice/cpu.max': 'max 100000\n',
      '/sys/fs/cgroup/kubepods.slice/pod-1.slice/cpu.max': '150000 100000\n',
      '/sys/fs/cgroup/kubepods.slice/pod-1.slice/cri-abc.scope/cpu.max': '400000 100000\n',
    });
    expect(cgroupCpuLimit(read)).toBe(1.5);
  });

  it('is none when every group says max, or the files cannot be read', () => {
    expect(
      cgroupCpuLimit(files({ '/proc/self/cgroup': '0::/user.slice\n', '/proc/self/mountinfo': V2_ROOT, '/sys/fs/cgroup/cpu.max': 'max 100000', '/sys/fs/cgroup/user.slice/cpu.max': 'max 100000' })),
    ).toBeNull();
    expect(cgroupCpuLimit(files({ '/proc/self/mountinfo': V2_ROOT, '/sys/fs/cgroup/cpu.max': '100000 100000' }))).toBeNull();
    expect(cgroupCpuLimit(files({ '/proc/self/cgroup': '0::/', '/sys/fs/cgroup/cpu.max': '100000 100000' }))).toBeNull();
    // no cgroup mounted at all (another system, a chroot)
    expect(cgroupCpuLimit(files({ '/proc/self/cgroup': '0::/', '/proc/self/mountinfo': ROOT_FS }))).toBeNull();
    // text that is no quota
    expect(cgroupCpuLimit(files({ '/proc/self/cgroup': '0::/', '/proc/self/mountinfo': V2_ROOT, '/sys/fs/cgroup/cpu.max': '-1 100000' }))).toBeNull();
    expect(cgroupCpuLimit(files({ '/proc/self/cgroup': '0::/', '/proc/self/mountinfo': V2_ROOT, '/sys/fs/cgroup/cpu.max': '0 100000' }))).toBeNull();
  });

  it("is read from cgroup v1's cpu.cfs_quota_us over cpu.cfs_period_us, on a hybrid system like this project's machines", () => {
    const read = files({
      '/proc/self/cgroup': '9:name=systemd:/\n4:memory:/job\n2:cpuacct:/\n1:cpu:/job\n0::/\n',
      '/proc/self/mountinfo': [ROOT_FS, V1_CPU, V1_CPUACCT, V1_MEMORY, HYBRID_UNIFIED].join('\n'),
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n',
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
      '/sys/fs/cgroup/cpu/job/cpu.cfs_quota_us': '50000\n',
      '/sys/fs/cgroup/cpu/job/cpu.cfs_period_us': '100000\n',
      // the unified hierarchy holds no cpu controller here: no cpu.max in it
    });
    expect(cgroupCpuLimit(read)).toBe(0.5);
    // no quota: -1
    expect(cgroupCpuLimit((path) => (path.endsWith('cfs_quota_us') ? '-1' : read(path)))).toBeNull();
  });

  it('reads the cpu controller where it shares a hierarchy (cpu,cpuacct), at a mount point written with escapes', () => {
    const read = files({
      '/proc/self/cgroup': '3:cpu,cpuacct:/docker/abc\n',
      '/proc/self/mountinfo': '40 31 0:40 / /sys/fs/cgroup/cpu,cpuacct\\040x rw - cgroup cgroup rw,cpu,cpuacct',
      '/sys/fs/cgroup/cpu,cpuacct x/docker/abc/cpu.cfs_quota_us': '300000',
      '/sys/fs/cgroup/cpu,cpuacct x/docker/abc/cpu.cfs_period_us': '100000',
    });
    expect(cgroupCpuLimit(read)).toBe(3);
  });

  it("reads a container's own group at the mount point when the mount's root is that group (Docker without a cgroup namespace)", () => {
    const read = files({
      '/proc/self/cgroup': '5:cpu,cpuacct:/docker/abc\n',
      '/proc/self/mountinfo': '50 40 0:41 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct',
      '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '100000',
      '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000',
    });
    expect(cgroupCpuLimit(read)).toBe(1);
    // a group outside the mount's root is read at the mount point, never above it
    expect(cgroupCpuLimit((path) => (path === '/proc/self/cgroup' ? '5:cpu,cpuacct:/elsewhere/../x' : read(path)))).toBe(1);
  });
});
