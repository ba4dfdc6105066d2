/**
 * The check that each test file leaves its process as it found it (tests/helpers/
 * leave-process-as-found.ts): it must see each kind of thing a file can leave behind, and
 * nothing once the file has put it back.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { leftBehind, processState } from '../helpers/process-state.ts';
import { tempDir } from '../helpers/cli.ts';

const onLinux = process.platform === 'linux';

describe('leftBehind: what a test file leaves in a process it shares', () => {
  it('nothing, when nothing changed', () => {
    expect(leftBehind(processState(), processState())).toEqual([]);
  });

  it('an environment variable set, changed or removed, the working directory and the umask', () => {
    const before = processState();
    const tmp = tempDir();
    const cwd = process.cwd();
    const umask = process.umask();
    process.env.LEAKCHECK_PROCESS_STATE_TEST = 'set';
    process.chdir(tmp.path);
    process.umask(0o077);
    try {
      const left = leftBehind(before, processState());
      expect(left).toContainEqual('environment variable LEAKCHECK_PROCESS_STATE_TEST changed: undefined -> "set"');
      expect(left.some((line) => line.startsWith('working directory changed: ') && line.endsWith(tmp.path))).toBe(true);
      expect(left).toContainEqual(`umask changed: ${umask.toString(8)} -> 77`);
    } finally {
      delete process.env.LEAKCHECK_PROCESS_STATE_TEST;
      process.chdir(cwd);
      process.umask(umask);
      tmp.cleanup();
    }
    expect(leftBehind(before, processState())).toEqual([]);
  });

  it('a listener on the process, a global and a timer', () => {
    const before = processState();
    const listener = (): void => {};
    process.on('SIGTERM', listener);
    (globalThis as Record<string, unknown>).leakcheckProcessStateTest = 1;
    const timer = setInterval(() => {}, 60_000);
    try {
      const left = leftBehind(before, processState());
      expect(left).toContainEqual("1 more process listener(s) for 'SIGTERM'");
      expect(left).toContainEqual('a new global: leakcheckProcessStateTest');
      expect(left.some((line) => line.startsWith('1 more active Timeout'))).toBe(true);
    } finally {
      process.off('SIGTERM', listener);
      delete (globalThis as Record<string, unknown>).leakcheckProcessStateTest;
      clearInterval(timer);
    }
    expect(leftBehind(before, processState())).toEqual([]);
  });

  it.runIf(onLinux)('a file descriptor left open, named by its file', () => {
    const tmp = tempDir();
    const path = join(tmp.path, 'left-open.txt');
    const before = processState();
    const fd = openSync(path, 'w');
    try {
      expect(leftBehind(before, processState())).toEqual([`a file descriptor left open: ${path} (descriptor ${fd})`]);
    } finally {
      closeSync(fd);
      tmp.cleanup();
    }
    expect(leftBehind(before, processState())).toEqual([]);
  });

  it.runIf(onLinux)('a file closed and opened again under another descriptor is not left open', () => {
    const tmp = tempDir();
    const path = join(tmp.path, 'reopened.txt');
    const spacer = openSync(join(tmp.path, 'spacer.txt'), 'w');
    const first = openSync(path, 'w');
    const before = processState();
    // the spacer's number is lower: the file opened again takes it
    closeSync(spacer);
    closeSync(first);
    const second = openSync(path, 'r');
    try {
      expect(second).not.toBe(first);
      expect(leftBehind(before, processState())).toEqual([]);
    } finally {
      closeSync(second);
      tmp.cleanup();
    }
  });

  it.runIf(onLinux)('a child process still running, and a worker thread, even unreferenced', async () => {
    const before = processState();
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const worker = new Worker('setInterval(() => {}, 60_000)', { eval: true, name: 'left-running' });
    await new Promise((resolve) => worker.once('online', resolve));
    worker.unref();
    try {
      const left = leftBehind(before, processState());
      expect(left.some((line) => line.startsWith('1 more active ProcessWrap'))).toBe(true);
      expect(left).toContainEqual('a thread still running: left-running');
    } finally {
      child.kill('SIGKILL');
      await exited;
      await worker.terminate();
    }
    // the thread is gone once terminate() resolves; its descriptors are closed with it
    let left = leftBehind(before, processState());
    for (let tries = 0; left.length > 0 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      left = leftBehind(before, processState());
    }
    expect(left).toEqual([]);
  });
});

describe('leftBehind: what modules change once as they load', () => {
  it('a global or an environment variable a module sets as it loads is not the file\'s doing; others still are', () => {
    const before = processState();
    const g = globalThis as Record<string, unknown>;
    g.__loadedOnce = 1;
    g.__setByATest = 1;
    process.env.LEAKCHECK_AT_LOAD = '1';
    process.env.LEAKCHECK_BY_A_TEST = '1';
    try {
      const atLoad = { globals: (name: string) => name === '__loadedOnce', env: new Set(['LEAKCHECK_AT_LOAD']) };
      expect(leftBehind(before, processState(), atLoad)).toEqual([
        'environment variable LEAKCHECK_BY_A_TEST changed: undefined -> "1"',
        'a new global: __setByATest',
      ]);
    } finally {
      delete g.__loadedOnce;
      delete g.__setByATest;
      delete process.env.LEAKCHECK_AT_LOAD;
      delete process.env.LEAKCHECK_BY_A_TEST;
    }
  });

  it('a variable a module sets as it loads, changed by a test, still counts', () => {
    process.env.LEAKCHECK_AT_LOAD = '1';
    const before = processState();
    process.env.LEAKCHECK_AT_LOAD = '2';
    try {
      expect(leftBehind(before, processState(), { globals: () => false, env: new Set(['LEAKCHECK_AT_LOAD']) })).toEqual(['environment variable LEAKCHECK_AT_LOAD changed: "1" -> "2"']);
    } finally {
      delete process.env.LEAKCHECK_AT_LOAD;
    }
  });
});
