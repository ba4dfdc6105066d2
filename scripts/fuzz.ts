/**
 * Seeded mutation fuzzer over the demo dump's messages (src/fuzz/). CI runs a few thousand cases
 * in tests/hostile/fuzz.test.ts; this script runs as many as you like:
 *
 *   npm run fuzz -- --cases 100000 --seed 42 [--workers N] [--timeout-ms 5000] [--dump DIR --keys FILE]
 *   npm run fuzz -- --seed 42 --case 1234          # replay one case and print what it did
 *
 * Exit 0 when every case held every property, 1 when some failed (each printed with its seed and
 * case number, which replays it exactly), 2 on bad arguments.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { analyzeMessage } from '../src/analyze/analyze-message.ts';
import { checkAnalysis, loadSeedMessages, makeCase } from '../src/fuzz/cases.ts';
import { offlineFileLookup } from '../src/keys/key-lookup.ts';
import { runFuzz } from '../src/fuzz/pool.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// `npm run fuzz | head` closes the pipe early: that is not a failure of the fuzzer.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

function usage(message: string): never {
  process.stderr.write(`fuzz: ${message}\nusage: npm run fuzz -- [--cases N] [--seed N] [--workers N] [--timeout-ms N] [--case N [--out FILE]] [--dump DIR] [--keys FILE]\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      cases: { type: 'string', default: '10000' },
      seed: { type: 'string' },
      workers: { type: 'string' },
      'timeout-ms': { type: 'string', default: '5000' },
      case: { type: 'string' },
      out: { type: 'string' },
      dump: { type: 'string', default: join(ROOT, 'fixtures/demo-dump') },
      keys: { type: 'string', default: join(ROOT, 'fixtures/demo-keys.json') },
    },
    strict: true,
  }));
} catch (error) {
  usage((error as Error).message);
}

const whole = (name: string, text: string | undefined, min = 0): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) usage(`--${name} must be a whole number >= ${min}`);
  return n;
};

const seed = whole('seed', values.seed) ?? Math.floor(Math.random() * 2 ** 31);
const cases = whole('cases', values.cases, 1)!;
const workers = whole('workers', values.workers, 1);
const timeoutMs = whole('timeout-ms', values['timeout-ms'], 1)!;
const single = whole('case', values.case);

if (single !== undefined) {
  // Replay: in this process, so that a debugger or a stack trace sees it directly.
  const lookup = offlineFileLookup(values.keys);
  const seeds = await loadSeedMessages(values.dump, lookup);
  const input = makeCase(seed, single, seeds);
  process.stdout.write(`seed ${seed} case ${single}: ${input.seedName} (${input.format}), ops ${input.ops.join(', ')}, ${input.bytes.length} bytes\n`);
  if (values.out) {
    writeFileSync(values.out, input.bytes);
    process.stdout.write(`mutated message written to ${values.out}\n`);
  }
  const analysis = await analyzeMessage({ raw: input.bytes, format: input.format }, lookup);
  const failures = checkAnalysis(input, analysis);
  process.stdout.write(`verdict ${analysis.verdict.verdict} (${analysis.verdict.reasons.join(', ')})\n`);
  for (const failure of failures) process.stdout.write(`FAIL ${failure}\n`);
  process.exit(failures.length ? 1 : 0);
}

process.stdout.write(`fuzz: seed ${seed}, ${cases} cases, timeout ${timeoutMs} ms per case\n`);
let lastPrinted = 0;
const report = await runFuzz({
  seed,
  cases,
  dumpRoot: values.dump,
  keysPath: values.keys,
  timeoutMs,
  ...(workers ? { workers } : {}),
  onProgress: ({ done, failures }) => {
    const now = performance.now();
    if (now - lastPrinted < 2000 && done !== cases) return;
    lastPrinted = now;
    process.stdout.write(`  ${done}/${cases} cases, ${failures} failure(s)\n`);
  },
});

process.stdout.write(
  `fuzz: ${report.accounted}/${report.cases} cases accounted for in ${(report.elapsedMs / 1000).toFixed(1)} s ` +
    `from ${report.seedMessages} seed messages; verdicts ${JSON.stringify(report.verdicts)}; slowest case ${report.slowestCase} (${report.slowestMs.toFixed(0)} ms)\n`,
);
for (const failure of report.failures) {
  process.stdout.write(`FAIL seed ${failure.seed} case ${failure.caseIndex} (${failure.seedName ?? '?'}; ${failure.ops.join(', ') || '?'}):\n`);
  for (const text of failure.failures) process.stdout.write(`    ${text.split('\n').slice(0, 6).join('\n    ')}\n`);
  process.stdout.write(`    replay: npm run fuzz -- --seed ${failure.seed} --case ${failure.caseIndex}\n`);
}
process.exit(report.failures.length || report.accounted !== report.cases ? 1 : 0);
