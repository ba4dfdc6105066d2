/**
 * Offline means offline. The CLI runs in a fresh network namespace (`unshare -n`: no interface
 * but a down loopback) on the demo dump WITHOUT key files, so that every key lookup would have to
 * go to DNS; and under strace, which sees every socket the process (and its threads and workers)
 * tries to open. tests/keys covers the same promise in-process, with a resolver that fails the
 * test if it is called.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DUMP, DEMO_KEYS, ROOT, runCli, tempDir } from '../helpers/cli.ts';
import { canUnshareNetwork, runCliMeasured } from './support.ts';

interface Outcome {
  messages: number;
  withoutVerdict: number;
  verdicts: Record<string, number>;
  outcomes: Record<string, number>;
  lookups: Array<{ status: string; detail: string | null }>;
  runStatus: string;
}

function outcome(db: string): Outcome {
  const store = new Database(db, { readonly: true });
  try {
    const count = (sql: string): number => (store.prepare(sql).get() as { n: number }).n;
    const tally = (sql: string): Record<string, number> =>
      Object.fromEntries((store.prepare(sql).all() as Array<{ k: string; n: number }>).map((r) => [r.k, r.n]));
    return {
      messages: count('SELECT count(*) AS n FROM messages'),
      withoutVerdict: count('SELECT count(*) AS n FROM messages m LEFT JOIN verdicts v ON v.message_id = m.id WHERE v.message_id IS NULL'),
      verdicts: tally('SELECT verdict AS k, count(*) AS n FROM verdicts GROUP BY verdict'),
      outcomes: tally('SELECT outcome AS k, count(*) AS n FROM signatures GROUP BY outcome'),
      lookups: store.prepare('SELECT status, detail FROM key_lookups').all() as Array<{ status: string; detail: string | null }>,
      runStatus: (store.prepare('SELECT status FROM runs ORDER BY id DESC LIMIT 1').get() as { status: string }).status,
    };
  } finally {
    store.close();
  }
}

const canStrace = (): boolean => existsSync('/usr/bin/strace') && spawnSync('/usr/bin/strace', ['-f', '-qq', '-e', 'trace=none', 'true']).status === 0;

describe('offline means offline', () => {
  const tmp = tempDir('leakcheck-offline-');
  afterAll(() => tmp.cleanup());
  const netns = canUnshareNetwork();
  /** messages in the demo dump, from an ordinary offline run with its keys */
  let demoMessages = 0;
  beforeAll(() => {
    const db = join(tmp.path, 'reference.db');
    const run = runCli(['verify', DEMO_DUMP, '--offline', '--keys', DEMO_KEYS, '--db', db, '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    demoMessages = outcome(db).messages;
    expect(demoMessages).toBeGreaterThan(0);
  }, 120_000);
  if (!netns) it.skip('unshare -n is not permitted on this machine (tests/keys covers --offline with a resolver that must not be called)', () => {});

  it.runIf(netns)('--offline without any key file, with no network at all: exit 0, every message judged, no DNS error, no lookup', () => {
    const db = join(tmp.path, 'offline.db');
    const run = runCliMeasured(['verify', DEMO_DUMP, '--offline', '--db', db, '--quiet'], { noNetwork: true, timeoutMs: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const result = outcome(db);
    expect(result.runStatus).toBe('completed');
    expect(result.messages).toBe(demoMessages);
    expect(result.withoutVerdict).toBe(0);
    expect(result.outcomes['dns-error'] ?? 0).toBe(0);
    expect(result.outcomes['key-not-found']).toBeGreaterThan(0);
    expect(result.lookups, 'no live lookup may be attempted, let alone logged').toEqual([]);
    expect(result.verdicts['verified'] ?? 0, 'nothing can be proven without keys').toBe(0);
  });

  it.runIf(netns)('without --offline and without a network: the run completes, and failed lookups are DNS errors on record, not a crash', () => {
    const db = join(tmp.path, 'online.db');
    const started = performance.now();
    const run = runCliMeasured(['verify', DEMO_DUMP, '--db', db, '--quiet'], { noNetwork: true, timeoutMs: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    // Each distinct selector is looked up once, and an unreachable resolver fails fast.
    expect(performance.now() - started).toBeLessThan(90_000);
    const result = outcome(db);
    expect(result.runStatus).toBe('completed');
    expect(result.messages).toBe(demoMessages);
    expect(result.withoutVerdict).toBe(0);
    expect(result.verdicts['verified'] ?? 0).toBe(0);
    expect(result.outcomes['dns-error']).toBeGreaterThan(0);
    expect(result.lookups.length).toBeGreaterThan(0);
    for (const lookup of result.lookups) expect(lookup.status, lookup.detail ?? '').toBe('error');
  });

  it.runIf(canStrace())('--offline opens no network socket and connects nowhere (strace, all threads); the same run online does', () => {
    const trace = (offline: boolean): string => {
      const out = join(tmp.path, `strace-${offline ? 'offline' : 'online'}.txt`);
      const db = join(tmp.path, `strace-${offline ? 'offline' : 'online'}.db`);
      const command = ['/usr/bin/strace', '-f', '-qq', '-e', 'trace=socket,connect,sendto,sendmsg', '-o', out, process.execPath, join(ROOT, 'bin/leakcheck.js'), 'verify', DEMO_DUMP, ...(offline ? ['--offline'] : []), '--db', db, '--quiet'];
      // The online control runs only without a network: nothing may leave this machine.
      const wrapped = netns ? ['unshare', '-n', ...command] : command;
      const child = spawnSync(wrapped[0]!, wrapped.slice(1), { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(child.status, child.stderr).toBe(0);
      return readFileSync(out, 'utf8');
    };
    const offline = trace(true);
    const network = offline.split('\n').filter((line) => /socket\((?!AF_UNIX)|connect\(|sendto\(|sendmsg\(/.test(line));
    expect(network, 'system calls of an --offline run that touch the network').toEqual([]);
    if (netns) {
      // Control: the tracing does see a lookup when there is one to see.
      expect(trace(false)).toMatch(/socket\(AF_INET6?/);
    }
  });
});
