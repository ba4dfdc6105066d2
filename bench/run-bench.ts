import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import type { CpuTime } from '../src/pipeline/cpu-time.ts';
import { defaultThreadBudget } from '../src/pipeline/thread-budget.ts';
import { MAILAUTH_VERSION, TOOL_VERSION } from '../src/version.ts';
import { lfCopy } from './lf-copy.ts';
import { packZip } from './pack-zip.ts';
import {
  generateAlteredMemoryDump,
  generateAlteredMemoryMessage,
  generateTextFormDump,
  generateDoubledCrMemoryMessage,
  generateBenchDump,
  generateForwardedMemoryMessage,
  generateKeyArchiveDump,
  generateLargeHeaderMessage,
  generateMailboxDump,
  generateMemoryMbox,
  generateMemoryMessage,
  type BenchDump,
} from './generate-bench-dump.ts';
import { coldRefusal, dropPageCache, readIntoPageCache } from './page-cache.ts';
import { findOpenDkim, runOpenDkim, type OpenDkimInstall } from './peers/opendkim.ts';
import { listFiles } from './peers/list-files.ts';

const BUDGET = defaultThreadBudget();
/** The analysis threads a verify starts by default: one per core, within the process's CPU and memory limits. */
const THREADS = BUDGET.threads;
/** The cores the contenders may use at once: the machine's, or fewer under a control group's CPU limit. */
const USABLE_CORES = BUDGET.usableCores;

const USAGE = `npm run bench -- [options]

leakcheck's full pipeline against its peers, in the same invocation, on the same files and keys.
Every contender runs as its own process(es) under /usr/bin/time (wall time and peak RSS). The row
"leakcheck analysis alone" is leakcheck's per-message analysis by itself, on the threads a verify
starts, with no walk and no store: the ceiling the full pipeline runs under. The row "leakcheck
analysis warm" is the same analysis timed on its second pass over the dump, every thread warm: the
ceiling once the code is loaded and compiled, which the process's own wall time does not show.

With no options: 2,000 and 20,000 messages, 3 repeats each, then the memory runs. After the
rounds on each dump, the re-runs: leakcheck verify again on the database of a first run, the dump
unchanged (what a newsroom's second look, or a CI job, costs), then once more with --rehash (the
custody check: every file read and hashed again).

  --sizes N[,N...]        message counts of the mix dumps (memory runs only if asked for)
  --mailbox N[,N...]      message counts of mailbox dumps: text mail of 1-8 KB, two in five
                          messages unsigned, as most of a leaked mailbox is, where the cost of
                          each message decides the speed, not the bytes (none by default; alone,
                          only those; rows marked "mailbox")
  --repeat N              rounds on each dump, every contender once a round (default 3;
                          medians reported); before the first, every file of the dump is
                          read once, untimed, so that the first round finds it in the page
                          cache as the later ones do (not with --cold)
  --memory                the memory runs, once each: leakcheck verify on one large message and
                          on one large mbox (peak RSS target ≤ 300 MB), on forms of that message,
                          on 30 altered copies of a tenth of its size, on 1,500 messages each of
                          format=flowed and of quoted-printable text; alone, only those
  --memory-message-mb N   size of the single message (default 50; implies --memory)
  --memory-mbox-mb N      size of the mbox (default 1000, i.e. 1 GB; implies --memory)
  --memory-key-records N  records of the key archive given with --keys to 40 messages
                          (default 100000, about 45 MB; implies --memory)
  --no-memory             no memory runs, even in the default full run
  --no-archives           no runs on other forms of the inputs; otherwise, after the memory runs:
                          the first mix dump packed in one zip, stored and deflated, and stored
                          with bare LF line ends (as Maildir and Unix mboxes store mail), and
                          (with the memory runs) the large mbox deflated in a zip, as Google
                          Takeout exports mail
  --no-peers              leakcheck and the mailauth loop only (no dkimpy, no OpenDKIM)
  --opendkim-processes N  concurrent opendkim -t processes (default: one per usable core, ${USABLE_CORES} here)
  --cold                  the kernel's caches dropped before every timed run (page cache, file
                          names, inodes; Linux, root only), as a dump too large to stay in memory
                          is read; results go to bench/results/cold-*.json, apart from the warm
                          runs the targets are judged on
  --work-dir DIR          where generated inputs are cached (default: $TMPDIR/leakcheck-bench)
  --smoke                 40 messages of the mix and 40 of a mailbox once, a 2 MB message and
                          a 5 MB mbox: proves the harness works (npm test); results go to
                          bench/results/smoke-*.json
  -h, --help              this text

MB is 10^6 bytes throughout.`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * The Node flags on the first line of bin/leakcheck.js (`#!/usr/bin/env -S node FLAGS`), which
 * running it as a program (npx leakcheck) applies: the bench runs it with this Node and the same.
 */
const LEAKCHECK_NODE_FLAGS = (/^#!\S*env -S node((?: --[\w-]+(?:=\S+)?)*)\s*$/m.exec(readFileSync(join(ROOT, 'bin/leakcheck.js'), 'utf8').split('\n')[0]!)?.[1] ?? '')
  .split(' ')
  .filter(Boolean);
/** Debian's python3-dkim lives in the system Python, which may not be the python3 on PATH. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
/** The issue's memory target, for every run including the large message and the large mbox. */
const RSS_TARGET_MB = 300;

/** The mix the issue defines, or a mailbox's small text mail (--mailbox). */
type Shape = 'mix' | 'mailbox';

interface Options {
  sizes: number[];
  /** message counts of the mailbox dumps */
  mailbox: number[];
  repeat: number;
  smoke: boolean;
  workDir: string;
  peers: boolean;
  memory: { messageMb: number; mboxMb: number; keyRecords: number } | null;
  archives: boolean;
  opendkimProcesses: number;
  cold: boolean;
}

interface RunResult {
  seconds: number;
  peakRssMb: number;
  checked: unknown;
  detail?: Record<string, unknown>;
  /** leakcheck verify's own account of its CPU time, as its run's counts keep it */
  cpu?: CpuTime;
}

interface Contender {
  name: string;
  version: string | null;
  run: () => Promise<RunResult>;
}

interface Measurement {
  contender: string;
  version: string | null;
  shape: Shape;
  size: number;
  repeat: number;
  seconds: number;
  peakRssMb: number;
  messagesPerSecond: number;
  megabytesPerSecond: number;
  checked: unknown;
  detail?: Record<string, unknown>;
  cpu?: CpuTime;
}

/** The flags of USAGE: every value is a string here, checked and converted by parseOptions. */
const FLAGS = {
  sizes: { type: 'string' },
  mailbox: { type: 'string' },
  repeat: { type: 'string' },
  'memory-message-mb': { type: 'string' },
  'memory-mbox-mb': { type: 'string' },
  'memory-key-records': { type: 'string' },
  'opendkim-processes': { type: 'string' },
  'work-dir': { type: 'string' },
  smoke: { type: 'boolean' },
  memory: { type: 'boolean' },
  'no-memory': { type: 'boolean' },
  'no-archives': { type: 'boolean' },
  'no-peers': { type: 'boolean' },
  cold: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function positive(flag: string, value: string, integer = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) usageError(`${flag} wants a positive ${integer ? 'integer' : 'number'}, not "${value}"`);
  return n;
}

/** What parseArgs refused, in bench's words; anything but a parseArgs error is rethrown. */
function refusal(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_') || typeof message !== 'string') throw error;
  // Node names the culprit in quotes: "Unknown option '--size'", "Option '--sizes <value>' argument missing".
  const culprit = /'([^']*)'/.exec(message)?.[1]?.split(' ')[0];
  if (culprit === undefined) return message.split('\n')[0]!;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = culprit.replace(/^--/, '');
    // a value starting with "-" is refused as ambiguous too: --sizes=-1 gets it through to the check
    return Object.hasOwn(FLAGS, name) && FLAGS[name as keyof typeof FLAGS].type === 'string' ? `${culprit} wants a value` : `${culprit} takes no value`;
  }
  // ERR_PARSE_ARGS_UNKNOWN_OPTION, and ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL: bench takes no operands
  return `unknown option ${culprit}`;
}

/** The flags given, by util.parseArgs in strict mode; what it refuses is a usage error (exit 2). */
function readFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    usageError(refusal(error));
  }
}

function parseOptions(argv: string[]): Options {
  const values = readFlags(argv);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const smoke = values.smoke === true;
  const cold = values.cold === true;
  if (cold) {
    const refusal = coldRefusal();
    if (refusal) usageError(refusal);
  }
  const memoryAsked = values.memory === true || values['memory-message-mb'] !== undefined || values['memory-mbox-mb'] !== undefined || values['memory-key-records'] !== undefined;
  const sizesGiven = values.sizes;
  const mailboxGiven = values.mailbox;
  // A bare --memory means only the memory runs; --sizes or --mailbox alone, only those dumps.
  const counts = (flag: string, given: string): number[] => given.split(',').map((s) => positive(flag, s, true));
  const sizes = smoke ? [40] : sizesGiven !== undefined ? counts('--sizes', sizesGiven) : memoryAsked || mailboxGiven !== undefined ? [] : [2000, 20000];
  const mailbox = smoke ? [40] : mailboxGiven !== undefined ? counts('--mailbox', mailboxGiven) : [];
  const memoryOn = !values['no-memory'] && (smoke || memoryAsked || (sizesGiven === undefined && mailboxGiven === undefined));
  const mb = (flag: 'memory-message-mb' | 'memory-mbox-mb' | 'memory-key-records', fallback: number, integer = false): number => {
    const value = values[flag];
    return value === undefined ? fallback : positive(`--${flag}`, value, integer);
  };
  return {
    smoke,
    sizes,
    mailbox,
    repeat: smoke ? 1 : positive('--repeat', values.repeat ?? '3', true),
    workDir: values['work-dir'] ?? join(tmpdir(), 'leakcheck-bench'),
    peers: !values['no-peers'],
    memory: memoryOn
      ? { messageMb: mb('memory-message-mb', smoke ? 2 : 50), mboxMb: mb('memory-mbox-mb', smoke ? 5 : 1000), keyRecords: mb('memory-key-records', smoke ? 2000 : 100_000, true) }
      : null,
    archives: !values['no-archives'],
    opendkimProcesses: positive('--opendkim-processes', values['opendkim-processes'] ?? String(USABLE_CORES), true),
    cold,
  };
}

/** --cold: the kernel's caches are dropped before every timed run (see page-cache.ts). */
let coldRuns = false;
const beforeTimedRun = (): void => {
  if (coldRuns) dropPageCache();
};

/** Runs a command under /usr/bin/time; returns wall seconds, peak RSS and stdout. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): { seconds: number; peakRssMb: number; stdout: string } {
  const hasTime = existsSync('/usr/bin/time');
  beforeTimedRun();
  const started = process.hrtime.bigint();
  const options = { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, cwd: ROOT, env } as const;
  const child = hasTime ? spawnSync('/usr/bin/time', ['-f', '__TIME__ %e %M', command, ...args], options) : spawnSync(command, args, options);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (child.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${child.status}): ${child.stderr.slice(-2000)}`);
  const time = /__TIME__ ([\d.]+) (\d+)/.exec(child.stderr);
  return { seconds, peakRssMb: time ? Number(time[2]) / 1024 : Number.NaN, stdout: child.stdout };
}

interface VerifySummary {
  messages: number;
  verdicts: Record<string, number>;
  files: { total: number; withMessages: number; skipped: number; errors: number };
}

/** `leakcheck verify` on a fresh database, removed afterwards. */
function runLeakcheck(
  dump: BenchDump,
  work: string,
  extra: readonly string[] = [],
): { seconds: number; peakRssMb: number; summary: VerifySummary; cpu: CpuTime; analysisThreads: number } {
  const db = join(work, `bench-${process.hrtime.bigint()}.db`);
  try {
    const r = timed(process.execPath, [...LEAKCHECK_NODE_FLAGS, join(ROOT, 'bin/leakcheck.js'), 'verify', dump.dir, '--keys', dump.keysFile, '--offline', '--db', db, '--quiet', '--json', ...extra]);
    const summary = JSON.parse(r.stdout) as VerifySummary;
    const counts = lastRunCounts(db);
    return { seconds: r.seconds, peakRssMb: r.peakRssMb, summary, cpu: counts['cpu'] as CpuTime, analysisThreads: counts['analysisThreads'] as number };
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
  }
}

/** A re-run of `leakcheck verify` on an unchanged dump: the second of two runs on one database. */
interface RerunMeasurement {
  shape: Shape;
  size: number;
  seconds: number;
  peakRssMb: number;
  /** the second run's counts, as its row in the runs table holds them */
  counts: Record<string, unknown>;
  /** a third run with --rehash, the custody check: every file read again and its sha256 compared */
  rehash: { seconds: number; peakRssMb: number; counts: Record<string, unknown> };
}

/** The counts of the last run a database holds, as its row in the runs table keeps them. */
function lastRunCounts(db: string): Record<string, unknown> {
  const store = new Database(db, { readonly: true });
  try {
    return JSON.parse(store.prepare('SELECT counts_json FROM runs ORDER BY id DESC LIMIT 1').pluck().get() as string) as Record<string, unknown>;
  } finally {
    store.close();
  }
}

function runLeakcheckRerun(dump: BenchDump, shape: Shape, work: string): RerunMeasurement {
  const db = join(work, `rerun-${process.hrtime.bigint()}.db`);
  const args = [...LEAKCHECK_NODE_FLAGS, join(ROOT, 'bin/leakcheck.js'), 'verify', dump.dir, '--keys', dump.keysFile, '--offline', '--db', db, '--quiet'];
  try {
    timed(process.execPath, args);
    const again = timed(process.execPath, args);
    const counts = lastRunCounts(db);
    const rehash = timed(process.execPath, [...args, '--rehash']);
    return { shape, size: dump.messages, seconds: again.seconds, peakRssMb: again.peakRssMb, counts, rehash: { seconds: rehash.seconds, peakRssMb: rehash.peakRssMb, counts: lastRunCounts(db) } };
  } finally {
    for (const suffix of ['', '-wal', '-shm', '.lock']) rmSync(`${db}${suffix}`, { force: true });
  }
}

function dkimpyVersion(): string | null {
  // importlib.metadata knows the distribution (dkimpy), not the module (dkim), which has no __version__
  const probe = spawnSync(PYTHON, ['-c', 'import dkim, importlib.metadata as m\ntry: print(m.version("dkimpy"))\nexcept Exception: print("unknown")'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : null;
}

interface Peers {
  /** dkimpy's version, or why it is not run */
  dkimpy: { version: string } | { skip: string };
  opendkim: OpenDkimInstall | string;
}

/** Looked up once a run: the external peers, when installed, with their versions. */
function findPeers(options: Options): Peers {
  if (!options.peers) return { dkimpy: { skip: '--no-peers' }, opendkim: '--no-peers' };
  const dkimpy = dkimpyVersion();
  const peers: Peers = {
    dkimpy: dkimpy === null ? { skip: `${PYTHON} cannot import dkim (Debian: apt-get install python3-dkim)` } : { version: dkimpy },
    opendkim: findOpenDkim(),
  };
  if ('skip' in peers.dkimpy) process.stderr.write(`bench: dkimpy peer skipped: ${peers.dkimpy.skip}\n`);
  if (typeof peers.opendkim === 'string') process.stderr.write(`bench: OpenDKIM peer skipped: ${peers.opendkim}\n`);
  return peers;
}

/**
 * bench/analysis-alone.ts on the dump, with the Node flags and the compile cache of a verify.
 * `warm`: each thread's share analysed twice, and `seconds` is the second pass's, which the
 * script times itself (the process's wall time would count the first).
 */
function runAnalysisAlone(dump: BenchDump, warm: boolean): RunResult {
  const args = [...LEAKCHECK_NODE_FLAGS, join(ROOT, 'bench/analysis-alone.ts'), dump.dir, dump.keysFile, String(THREADS), ...(warm ? ['warm'] : [])];
  const r = timed(process.execPath, args, {
    ...process.env,
    // the compile cache bin/leakcheck.js turns on, in the same place
    NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'leakcheck-compile-cache'),
  });
  const { seconds, ...checked } = JSON.parse(r.stdout) as { seconds?: number; messages: number; verified: number };
  const measured = warm ? seconds : r.seconds;
  if (measured === undefined) throw new Error(`bench/analysis-alone.ts ${warm ? 'warm ' : ''}printed no time for its timed pass: ${r.stdout}`);
  return { seconds: measured, peakRssMb: r.peakRssMb, checked };
}

function contenders(dump: BenchDump, work: string, options: Options, peers: Peers): Contender[] {
  const node = process.execPath;
  const list: Contender[] = [
    {
      name: 'leakcheck verify (full pipeline)',
      version: TOOL_VERSION,
      run: async () => {
        const r = runLeakcheck(dump, work);
        return { seconds: r.seconds, peakRssMb: r.peakRssMb, checked: r.summary.verdicts, cpu: r.cpu };
      },
    },
    {
      // the ceiling: what verify would take if its pipeline cost nothing (bench/analysis-alone.ts)
      name: `leakcheck analysis alone, ${THREADS} threads (no walk, no store)`,
      version: TOOL_VERSION,
      run: async () => runAnalysisAlone(dump, false),
    },
    {
      // the ceiling without warming up: the same, its second pass timed
      name: `leakcheck analysis warm, ${THREADS} threads (second pass timed; no start, walk or store)`,
      version: TOOL_VERSION,
      run: async () => runAnalysisAlone(dump, true),
    },
    {
      name: 'mailauth dkimVerify, sequential loop',
      version: MAILAUTH_VERSION,
      run: async () => {
        const r = timed(node, [join(ROOT, 'bench/peers/mailauth-loop.ts'), dump.dir, dump.keysFile]);
        return { seconds: r.seconds, peakRssMb: r.peakRssMb, checked: JSON.parse(r.stdout) };
      },
    },
  ];
  if ('version' in peers.dkimpy) {
    list.push({
      name: 'dkimpy (python3-dkim), loop',
      version: peers.dkimpy.version,
      run: async () => {
        const r = timed(PYTHON, [join(ROOT, 'bench/peers/dkimpy-loop.py'), dump.dir, dump.keysFile]);
        return { seconds: r.seconds, peakRssMb: r.peakRssMb, checked: JSON.parse(r.stdout) };
      },
    });
  }
  const opendkim = peers.opendkim;
  if (typeof opendkim !== 'string') {
    const processes = options.opendkimProcesses;
    list.push({
      name: `OpenDKIM opendkim -t, ${processes} process${processes === 1 ? '' : 'es'}`,
      version: opendkim.packageVersion ? `${opendkim.version} (Debian ${opendkim.packageVersion})` : opendkim.version,
      run: async () => {
        const lane = mkdtempSync(join(work, 'opendkim-'));
        try {
          beforeTimedRun();
          const r = await runOpenDkim(opendkim, dump.dir, dump.keysFile, lane, processes);
          const c = r.checked;
          process.stderr.write(
            `bench: OpenDKIM: ${c.passes} pass, ${c.failed} fail, ${c.unsigned} not signed, ${c.unsupported} unsupported of ${c.messages}` +
              `${Object.keys(c.failures).length ? ` (${Object.entries(c.failures).map(([why, n]) => `${n}× ${why}`).join('; ')})` : ''}\n`,
          );
          if (c.passes + c.failed + c.unsigned + c.unsupported !== c.messages || c.other > 0) {
            process.stderr.write(`bench: OpenDKIM reported ${c.passes + c.failed + c.unsigned + c.unsupported} results and ${c.other} unrecognised lines for ${c.messages} files\n`);
          }
          return {
            seconds: r.seconds,
            peakRssMb: r.peakRssMb,
            checked: c,
            detail: { processes: r.processes, invocations: r.invocations, perProcessPeakRssMb: r.perProcessPeakRssMb, peakRss: 'sum over concurrent processes' },
          };
        } finally {
          rmSync(lane, { recursive: true, force: true });
        }
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

/** Each figure's median over the rounds (the main thread's only where every round could tell it). */
const medianCpu = (runs: readonly CpuTime[]): CpuTime => ({
  processMs: median(runs.map((r) => r.processMs)),
  mainThreadMs: runs.every((r) => r.mainThreadMs !== null) ? median(runs.map((r) => r.mainThreadMs!)) : null,
});

/** "2000/2000": the messages a contender counts as verified, whatever its own words for it. */
function verifiedShare(checked: unknown): string {
  const c = checked as Record<string, unknown>;
  if (typeof c.passes === 'number' && typeof c.messages === 'number') return `${c.passes}/${c.messages}`;
  // the analysis alone: verified verdicts out of the messages analysed
  if (typeof c.verified === 'number' && typeof c.messages === 'number') return `${c.verified}/${c.messages}`;
  // leakcheck's verdict counts: verified out of all verdicts
  const counts = Object.values(c).filter((v): v is number => typeof v === 'number');
  if (typeof c.verified === 'number') return `${c.verified}/${counts.reduce((a, b) => a + b, 0)}`;
  return '?';
}

interface MemoryMeasurement {
  input: string;
  dir: string;
  messages: number;
  bytes: number;
  seconds: number;
  messagesPerSecond: number;
  megabytesPerSecond: number;
  peakRssMb: number;
  withinRssTarget: boolean;
  checked: Record<string, number>;
  files: VerifySummary['files'];
  /** how many analysis threads the verify started (runs.counts_json) */
  analysisThreads: number;
}

/**
 * leakcheck alone, once each, on one input: the large message and the large mbox (the target is
 * leakcheck's, and the peers read one message a file, not mboxes), then the archives: `mix`, the
 * first mix dump, packed in a zip, and the large mbox deflated in one.
 */
async function singleInputRuns(options: Options, work: string, mix: BenchDump | null): Promise<MemoryMeasurement[]> {
  const inputs: Array<{ what: string; kind: string; make: () => Promise<BenchDump> }> = [];
  const memory = options.memory;
  if (memory) {
    // a tenth of the large message's size, 5 MB at the default 50: 30 of them, 20 of 1 MB in a
    // smoke run (a verify starts its second thread once 16 MB wait for the first: worker-pool.ts)
    const alteredCopies = { megabytes: Math.max(1, Math.round(memory.messageMb / 10)), count: options.smoke ? 20 : 30 };
    const textMessages = options.smoke ? 40 : 1500;
    inputs.push(
      { what: `one ${memory.messageMb} MB message`, kind: 'message', make: () => generateMemoryMessage(options.workDir, memory.messageMb) },
      { what: `an mbox of ${memory.mboxMb} MB or more`, kind: 'mbox', make: () => generateMemoryMbox(options.workDir, memory.mboxMb) },
      {
        what: `the ${memory.messageMb} MB message forwarded in another`,
        kind: 'message forwarding the large one (message/rfc822)',
        make: () => generateForwardedMemoryMessage(options.workDir, memory.messageMb),
      },
      { what: `a message with a ${memory.messageMb} MB header field`, kind: 'message whose header is one large field', make: () => generateLargeHeaderMessage(options.workDir, memory.messageMb) },
      {
        what: `the ${memory.messageMb} MB message altered and stored with bare LFs, quoted and stuffed lines and padding`,
        kind: 'message altered after signing, needing every repair (LF, >From, .., NUL padding)',
        make: () => generateAlteredMemoryMessage(options.workDir, memory.messageMb),
      },
      {
        what: `the ${Math.max(memory.messageMb, 3)} MB message stored with CR CR LF line ends`,
        kind: 'message stored with CR CR LF line ends (a CRLF file written again in text mode)',
        make: () => generateDoubledCrMemoryMessage(options.workDir, memory.messageMb),
      },
      {
        what: `${alteredCopies.count} copies of a ${alteredCopies.megabytes} MB message altered the same way`,
        kind: 'dump of messages altered after signing, needing every repair, on every core',
        make: () => generateAlteredMemoryDump(options.workDir, alteredCopies.megabytes, alteredCopies.count),
      },
      // text as much real mail writes it, which the mix never does (fifty-first round)
      ...(['flowed', 'quoted-printable'] as const).map((form) => ({
        what: `${textMessages} signed messages of ${form} text`,
        kind: form === 'flowed' ? `dump of ${textMessages} format=flowed messages (bodies not their own relaxed form)` : `dump of ${textMessages} multipart/alternative messages, quoted-printable`,
        make: () => generateTextFormDump(options.workDir, form, textMessages),
      })),
    );
  }
  if (options.archives && mix) {
    inputs.push(
      { what: `the ${mix.messages}-message mix in one stored zip`, kind: `mix of ${mix.messages} messages in a stored zip`, make: async () => packZip(mix, 0) },
      { what: `the ${mix.messages}-message mix in one deflated zip`, kind: `mix of ${mix.messages} messages in a deflated zip`, make: async () => packZip(mix, 8) },
      { what: `the ${mix.messages}-message mix with bare LF line ends`, kind: `mix of ${mix.messages} messages with bare LF line ends (as Maildir and Unix mboxes store mail)`, make: async () => lfCopy(mix) },
    );
  }
  if (options.archives && memory) {
    inputs.push({
      what: `an mbox of ${memory.mboxMb} MB or more, deflated in a zip`,
      kind: 'mbox deflated in a zip (as Google Takeout exports mail)',
      make: async () => packZip(await generateMemoryMbox(options.workDir, memory.mboxMb), 8),
    });
  }
  if (memory) {
    const records = memory.keyRecords.toLocaleString('en-US');
    inputs.push({
      what: `a key archive of ${records} records`,
      kind: `key archive of ${records} records given with --keys, beside the 40 messages it signs`,
      make: () => generateKeyArchiveDump(options.workDir, memory.keyRecords),
    });
  }
  const out: MemoryMeasurement[] = [];
  for (const { what, kind, make } of inputs) {
    process.stderr.write(`bench: generating ${what} (cached in ${options.workDir})…\n`);
    const dump = await make();
    // the mbox ends with the message that takes it past the size asked for
    const input = `one ${(dump.bytes / 1e6).toFixed(0)} MB ${kind}`;
    // The synthetic mix deflates about 29:1, past the default guard against zip bombs (20 times
    // the archive's size), which gave up on the 20,000-message archive after 13,318 messages: the
    // guard is set to what the archive inflates to, so that the figures are for every message.
    const r = runLeakcheck(dump, work, kind.includes('zip') ? ['--zip-max-bytes', String(dump.bytes + 1024 * 1024)] : []);
    if (r.summary.messages !== dump.messages) process.stderr.write(`bench: leakcheck found ${r.summary.messages} messages in ${input}, which holds ${dump.messages}\n`);
    out.push({
      input,
      dir: dump.dir,
      messages: dump.messages,
      bytes: dump.bytes,
      seconds: r.seconds,
      messagesPerSecond: dump.messages / r.seconds,
      megabytesPerSecond: dump.bytes / 1e6 / r.seconds,
      peakRssMb: r.peakRssMb,
      withinRssTarget: r.peakRssMb <= RSS_TARGET_MB,
      checked: r.summary.verdicts,
      files: r.summary.files,
      analysisThreads: r.analysisThreads,
    });
    process.stderr.write(`bench: ${input}: ${r.seconds.toFixed(1)} s, peak RSS ${r.peakRssMb.toFixed(0)} MB\n`);
  }
  return out;
}

/** A dump in the tables: its message count, and "mailbox" for a mailbox dump. */
const labelOf = ({ shape, size }: { shape: Shape; size: number }): string => (shape === 'mix' ? String(size) : `${size} mailbox`);

async function main(): Promise<void> {
  const args = parseOptions(process.argv.slice(2));
  coldRuns = args.cold;
  mkdirSync(args.workDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'leakcheck-bench-run-'));
  const measurements: Measurement[] = [];
  const peers = findPeers(args);
  const versions: Record<string, string | null> = {
    leakcheck: TOOL_VERSION,
    node: process.version,
    mailauth: MAILAUTH_VERSION,
    dkimpy: 'version' in peers.dkimpy ? peers.dkimpy.version : null,
    opendkim: typeof peers.opendkim === 'string' ? null : peers.opendkim.version,
    opendkimDebianPackage: typeof peers.opendkim === 'string' ? null : peers.opendkim.packageVersion,
  };
  let memory: MemoryMeasurement[] = [];
  const reruns: RerunMeasurement[] = [];
  try {
    const dumps = [...args.sizes.map((size) => ({ shape: 'mix' as const, size })), ...args.mailbox.map((size) => ({ shape: 'mailbox' as const, size }))];
    for (const { shape, size } of dumps) {
      process.stderr.write(`bench: generating ${labelOf({ shape, size })} messages (cached in ${args.workDir})…\n`);
      const dump = shape === 'mix' ? await generateBenchDump(args.workDir, size) : await generateMailboxDump(args.workDir, size);
      const mb = dump.bytes / 1e6;
      process.stderr.write(`bench: ${dump.messages} messages, ${mb.toFixed(1)} MB (${(dump.bytes / dump.messages / 1024).toFixed(0)} KB average)\n`);
      // Rounds of every contender in turn, not every run of one contender then the next: this
      // machine's speed drifts by 10-15 % over minutes, and a drift then hits all of them alike.
      const field = contenders(dump, work, args, peers);
      // (warm runs only: --cold drops the caches before every run anyway)
      if (!args.cold) readIntoPageCache(listFiles(dump.dir));
      for (let repeat = 1; repeat <= args.repeat; repeat++) {
        for (const contender of field) {
          const r = await contender.run();
          measurements.push({
            contender: contender.name,
            version: contender.version,
            shape,
            size,
            repeat,
            seconds: r.seconds,
            peakRssMb: r.peakRssMb,
            messagesPerSecond: dump.messages / r.seconds,
            megabytesPerSecond: mb / r.seconds,
            checked: r.checked,
            ...(r.detail ? { detail: r.detail } : {}),
            ...(r.cpu ? { cpu: r.cpu } : {}),
          });
          process.stderr.write(`bench: ${contender.name} #${repeat}: ${(dump.messages / r.seconds).toFixed(0)} msg/s\n`);
        }
      }
      const rerun = runLeakcheckRerun(dump, shape, work);
      reruns.push(rerun);
      process.stderr.write(`bench: leakcheck verify again, dump unchanged: ${rerun.seconds.toFixed(2)} s; with --rehash ${rerun.rehash.seconds.toFixed(2)} s\n`);
    }
    const firstSize = args.sizes[0];
    memory = await singleInputRuns(args, work, firstSize === undefined ? null : await generateBenchDump(args.workDir, firstSize));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const rows = [...new Set(measurements.map((m) => `${m.shape}\u0000${m.size}\u0000${m.contender}`))].map((key) => {
    const [shape, size, contender] = key.split('\u0000') as [Shape, string, string];
    const runs = measurements.filter((m) => m.shape === shape && m.size === Number(size) && m.contender === contender);
    return {
      shape,
      size: Number(size),
      contender,
      version: runs[0]!.version,
      runs: runs.length,
      messagesPerSecond: median(runs.map((r) => r.messagesPerSecond)),
      megabytesPerSecond: median(runs.map((r) => r.megabytesPerSecond)),
      peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
      checked: runs[0]!.checked,
      ...(runs[0]!.detail ? { detail: runs[0]!.detail } : {}),
      ...(runs.every((r) => r.cpu) ? { cpu: medianCpu(runs.map((r) => r.cpu!)) } : {}),
    };
  });
  const lines: string[] = [];
  if (args.cold) lines.push('', "Every run below started with the kernel's caches dropped (--cold): the dump was read from the disk.");
  if (rows.length) {
    lines.push('', '| messages | contender | msg/s (median) | MB/s | peak RSS MB | leakcheck ÷ this | verified |', '|---:|---|---:|---:|---:|---:|---:|');
    for (const row of rows) {
      const ours = rows.find((r) => r.shape === row.shape && r.size === row.size && r.contender.startsWith('leakcheck verify'))!;
      lines.push(
        `| ${labelOf(row)} | ${row.contender} | ${row.messagesPerSecond.toFixed(0)} | ${row.megabytesPerSecond.toFixed(1)} | ${row.peakRssMb.toFixed(0)} | ${(ours.messagesPerSecond / row.messagesPerSecond).toFixed(2)}× | ${verifiedShare(row.checked)} |`,
      );
    }
  }
  const withCpu = rows.filter((row) => row.cpu);
  if (withCpu.length) {
    // (split by thread, a change to either side of the pipeline is not lost in the other side's time)
    lines.push('', "| messages | leakcheck verify's CPU, every thread (median) | its main thread: walk, store, passes over the dump | the other threads: analysis, V8's helpers | CPU per message |", '|---:|---:|---:|---:|---:|');
    for (const row of withCpu) {
      const { processMs, mainThreadMs } = row.cpu!;
      const others = mainThreadMs === null ? '?' : `${((processMs - mainThreadMs) / 1000).toFixed(2)} s`;
      lines.push(`| ${labelOf(row)} | ${(processMs / 1000).toFixed(2)} s | ${mainThreadMs === null ? '?' : `${(mainThreadMs / 1000).toFixed(2)} s`} | ${others} | ${((processMs * 1000) / row.size).toFixed(0)} µs |`);
    }
  }
  if (reruns.length) {
    lines.push(
      '',
      '| messages | leakcheck verify again, dump unchanged | peak RSS MB | files left unopened | passes over the dump | again with --rehash | peak RSS MB | files whose sha256 matched |',
      '|---:|---:|---:|---:|---|---:|---:|---:|',
    );
    for (const r of reruns) {
      lines.push(
        `| ${labelOf(r)} | ${r.seconds.toFixed(2)} s | ${r.peakRssMb.toFixed(0)} | ${String(r.counts['unchanged'])} | ${String(r.counts['dumpPasses'])} | ${r.rehash.seconds.toFixed(2)} s | ${r.rehash.peakRssMb.toFixed(0)} | ${String(r.rehash.counts['confirmed'])} |`,
      );
    }
  }
  if (memory.length) {
    lines.push(
      '',
      `| one input (leakcheck verify; MB of messages) | messages | MB | seconds | msg/s | MB/s | analysis threads | peak RSS MB | ≤ ${RSS_TARGET_MB} MB | verdicts |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
    );
    for (const m of memory) {
      const verdicts = Object.entries(m.checked).map(([verdict, n]) => `${verdict} ${n}`).join(', ');
      lines.push(
        `| ${m.input} | ${m.messages} | ${(m.bytes / 1e6).toFixed(1)} | ${m.seconds.toFixed(1)} | ${m.messagesPerSecond.toFixed(1)} | ${m.megabytesPerSecond.toFixed(1)} | ${m.analysisThreads} | ${m.peakRssMb.toFixed(0)} | ${m.withinRssTarget ? 'yes' : '**no**'} | ${verdicts} |`,
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
  const result = {
    when: new Date().toISOString(),
    machine: { cores: availableParallelism(), usableCores: USABLE_CORES, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    versions,
    smoke: args.smoke,
    /** 'cold': the kernel's caches were dropped before every timed run (--cold) */
    pageCache: args.cold ? 'cold' : 'warm',
    repeat: args.repeat,
    sizes: args.sizes,
    mailbox: args.mailbox,
    rssTargetMb: RSS_TARGET_MB,
    rows,
    measurements,
    reruns,
    memory,
  };
  const resultsDir = join(ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  // Cold results are kept apart from the warm ones (bench-*), which the targets are judged on.
  const kind = args.smoke ? 'smoke' : args.cold ? 'cold' : args.sizes.length === 0 && args.mailbox.length === 0 ? 'memory' : 'bench';
  const file = join(resultsDir, `${kind}-${result.when.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`bench: results written to ${file}\n`);
}

await main();
