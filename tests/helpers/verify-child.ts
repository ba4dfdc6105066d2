/**
 * A `leakcheck verify` in a child process, for the tests that stop it under way: by a signal,
 * or by a disk that fills up.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DEMO_KEYS, ROOT } from './cli.ts';

/** `maxFileKb`: the largest file the run may write (RLIMIT_FSIZE), as a disk that fills up. */
export function startVerify(dump: string, db: string, extra: string[] = [], maxFileKb?: number): { child: ReturnType<typeof spawn>; done: Promise<{ status: number | null; signal: string | null; stderr: string }> } {
  const args = [join(ROOT, 'bin/leakcheck.js'), 'verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet', ...extra];
  const options = { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } };
  // (Node ignores SIGXFSZ, so a write past the limit fails with EFBIG, as one on a full disk with ENOSPC)
  const child =
    maxFileKb === undefined
      ? spawn(process.execPath, args, options)
      : spawn('sh', ['-c', `ulimit -f ${maxFileKb} && exec "$0" "$@"`, process.execPath, ...args], options);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const done = new Promise<{ status: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.on('exit', (status, signal) => resolve({ status, signal, stderr })),
  );
  return { child, done };
}

