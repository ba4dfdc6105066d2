import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateBenchDump, type BenchDump } from './generate-bench-dump.ts';

/**
 * `npm run bench`: leakcheck's full pipeline against its peers, in the same invocation, on the
 * same files and keys. Every contender runs as its own process under /usr/bin/time, which gives
 * wall time and peak RSS the same way for all.
 *
 *   npm run bench                        # 2,000 and 20,000 messages, 3 repeats each
 *   npm run bench -- --sizes 2000 --repeat 5
 *   npm run bench -- --smoke             # 40 messages, once: proves the harness works (CI)
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Debian's python3-dkim lives in the system Python, which may not be the python3 on PATH. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

interface Measurement {
  contender: string;
  size: number;
  repeat: number;
  seconds: number;
  peakRssMb: number;
  messagesPerSecond: number;
  megabytesPerSecond: number;
  checked: unknown;
}

function parseArgs(argv: string[]): { sizes: number[]; repeat: number; smoke: boolean; workDir: string; peers: boolean } {
  const get = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const smoke = argv.includes('--smoke');
  return {
    smoke,
    sizes: smoke ? [40] : (get('--sizes') ?? '2000,20000').split(',').map(Number),
    repeat: smoke ? 1 : Number(get('--repeat') ?? 3),
    workDir: get('--work-dir') ?? join(tmpdir(), 'leakcheck-bench'),
    peers: !argv.includes('--no-peers'),
  };
}

/** Runs a command under /usr/bin/time; returns wall seconds, peak RSS and stdout. */
function timed(command: string, args: string[]): { seconds: number; peakRssMb: number; stdout: string } {
  const hasTime = existsSync('/usr/bin/time');
  const started = process.hrtime.bigint();
  const child = hasTime
    ? spawnSync('/usr/bin/time', ['-f', '__TIME__ %e %M', command, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, cwd: ROOT })
    : spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, cwd: ROOT });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (child.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${child.status}): ${child.stderr.slice(-2000)}`);
  const time = /__TIME__ ([\d.]+) (\d+)/.exec(child.stderr);
  return { seconds, peakRssMb: time ? Number(time[2]) / 1024 : Number.NaN, stdout: child.stdout };
}

function contenders(dump: BenchDump, work: string, peers: boolean): Array<{ name: string; run: () => { seconds: number; peakRssMb: number; checked: unknown } }> {
  const node = process.execPath;
  const list: Array<{ name: string; run: () => { seconds: number; peakRssMb: number; checked: unknown } }> = [
    {
      name: 'leakcheck verify (full pipeline)',
      run: () => {
        const db = join(work, `bench-${process.hrtime.bigint()}.db`);
        const r = timed(node, [join(ROOT, 'bin/leakcheck.js'), 'verify', dump.dir, '--keys', dump.keysFile, '--offline', '--db', db, '--quiet', '--json']);
        const summary = JSON.parse(r.stdout) as { verdicts: Record<string, number> };
        rmSync(db, { force: true });
        rmSync(`${db}-wal`, { force: true });
        rmSync(`${db}-shm`, { force: true });
        return { seconds: r.seconds, peakRssMb: r.peakRssMb, checked: summary.verdicts };
      },
    },
    {
      name: 'mailauth dkimVerify, sequential loop',
      run: () => {
        const r = timed(node, [join(ROOT, 'bench/peers/mailauth-loop.ts'), dump.dir, dump.keysFile]);
        return { seconds: r.seconds, peakRssMb: r.peakRssMb, checked: JSON.parse(r.stdout) };
      },
    },
  ];
  const python = spawnSync(PYTHON, ['-c', 'import dkim'], { encoding: 'utf8' });
  if (peers && python.status === 0) {
    list.push({
      name: 'dkimpy (python3-dkim), loop',
      run: () => {
        const r = timed(PYTHON, [join(ROOT, 'bench/peers/dkimpy-loop.py'), dump.dir, dump.keysFile]);
        return { seconds: r.seconds, peakRssMb: r.peakRssMb, checked: JSON.parse(r.stdout) };
      },
    });
  }
  return list;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  mkdirSync(args.workDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'leakcheck-bench-run-'));
  const measurements: Measurement[] = [];
  try {
    for (const size of args.sizes) {
      process.stderr.write(`bench: generating ${size} messages (cached in ${args.workDir})…\n`);
      const dump = await generateBenchDump(args.workDir, size);
      const mb = dump.bytes / 1e6;
      process.stderr.write(`bench: ${dump.messages} messages, ${mb.toFixed(1)} MB (${(dump.bytes / dump.messages / 1024).toFixed(0)} KB average)\n`);
      for (const contender of contenders(dump, work, args.peers)) {
        for (let repeat = 1; repeat <= args.repeat; repeat++) {
          const r = contender.run();
          measurements.push({
            contender: contender.name,
            size,
            repeat,
            seconds: r.seconds,
            peakRssMb: r.peakRssMb,
            messagesPerSecond: dump.messages / r.seconds,
            megabytesPerSecond: mb / r.seconds,
            checked: r.checked,
          });
          process.stderr.write(`bench: ${contender.name} #${repeat}: ${(dump.messages / r.seconds).toFixed(0)} msg/s\n`);
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const rows = [...new Set(measurements.map((m) => `${m.size}\u0000${m.contender}`))].map((key) => {
    const [size, contender] = key.split('\u0000') as [string, string];
    const runs = measurements.filter((m) => m.size === Number(size) && m.contender === contender);
    return {
      size: Number(size),
      contender,
      runs: runs.length,
      messagesPerSecond: median(runs.map((r) => r.messagesPerSecond)),
      megabytesPerSecond: median(runs.map((r) => r.megabytesPerSecond)),
      peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
      checked: runs[0]!.checked,
    };
  });
  const lines = ['', '| messages | contender | msg/s (median) | MB/s | peak RSS MB | leakcheck ÷ this |', '|---:|---|---:|---:|---:|---:|'];
  for (const row of rows) {
    const ours = rows.find((r) => r.size === row.size && r.contender.startsWith('leakcheck'))!;
    lines.push(`| ${row.size} | ${row.contender} | ${row.messagesPerSecond.toFixed(0)} | ${row.megabytesPerSecond.toFixed(1)} | ${row.peakRssMb.toFixed(0)} | ${(ours.messagesPerSecond / row.messagesPerSecond).toFixed(2)}× |`);
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
  const result = {
    when: new Date().toISOString(),
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    smoke: args.smoke,
    repeat: args.repeat,
    rows,
    measurements,
  };
  const resultsDir = join(ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${args.smoke ? 'smoke' : 'bench'}-${result.when.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`bench: results written to ${file}\n`);
}

await main();
