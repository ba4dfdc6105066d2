/**
 * `leakcheck export … | head`: when the reader of stdout goes away, every command that writes to
 * stdout ends quietly with 141 (what a shell reports for a program ended by SIGPIPE), never with
 * a stack trace. Red-team finding 09.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_DUMP, DEMO_KEYS, ROOT, runCli, verifiedDemoDatabase } from '../helpers/cli.ts';

const STDOUT_CLOSED = 141;

/**
 * Runs the CLI with stdout a pipe whose reader is closed at once: the command's first write to
 * stdout fails with EPIPE. The CLI takes far longer to start than the pipe takes to close.
 */
function runWithReaderGone(
  args: string[],
  gone: 'stdout' | 'stderr' = 'stdout',
): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/leakcheck.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child[gone].destroy();
  const kept = { stdout: '', stderr: '' };
  const other = gone === 'stdout' ? 'stderr' : 'stdout';
  child[other].setEncoding('utf8').on('data', (chunk: string) => (kept[other] += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status, signal) => resolve({ status, signal, ...kept }));
  });
}

describe('a closed stdout ends a command quietly', () => {
  const { db, dir } = verifiedDemoDatabase();

  const Q1_BUDGET = 'inbox/2017-02-14 Q1 budget.eml';
  it.each([
    ['export', '--format', 'jsonl'],
    ['export', '--format', 'csv'],
    ['report'],
    ['report', '--format', 'json'],
    ['report', '--format', 'md'],
    ['report', '--format', 'html'],
    ['show', Q1_BUDGET],
    ['show', '--json', Q1_BUDGET],
    ['keys', 'list'],
    ['keys', 'list', '--json'],
    ['keys', 'export'],
    ['manifest'],
    ['custody'],
    ['documents'],
  ].map((args) => [args.join(' '), args] as const))('%s', async (_, args) => {
    const result = await runWithReaderGone([...args, '--db', db]);
    expect(result.stderr).toBe('');
    expect(result.signal).toBeNull();
    expect(result.status).toBe(STDOUT_CLOSED);
  });

  it('verify, whose summary finds no reader, has stored its run before it ends', async () => {
    const fresh = join(dir, 'fresh.db');
    const result = await runWithReaderGone(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', fresh, '--quiet']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(STDOUT_CLOSED);
    const exported = runCli(['export', '--format', 'jsonl', '--db', fresh]);
    const reference = runCli(['export', '--format', 'jsonl', '--db', db]);
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stdout.trim().split('\n')).toHaveLength(reference.stdout.trim().split('\n').length);
  });

  // Progress and errors go to stderr: a command must not die of a stack trace, or lose its exit
  // status, because nobody reads it any more. (A verify of the demo dump writes nothing there
  // when stderr is not a terminal, so these are errors, the commands that do write to it.)
  it.each([
    ['a bad option value', ['verify', DEMO_DUMP, '--jobs', 'many']],
    ['a dump that does not exist', ['verify', join(ROOT, 'no-such-dump'), '--offline', '--db', join(dir, 'none.db')]],
  ])('%s, whose error finds no reader on stderr, still exits 2', async (_, args) => {
    const result = await runWithReaderGone(args, 'stderr');
    expect(result.signal).toBeNull();
    expect(result.status).toBe(2);
  });
});
