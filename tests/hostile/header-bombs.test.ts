/**
 * "A 1 MB header line", in every header that leakcheck or mailauth parses, in every shape that
 * makes a backtracking regex or a naive parser go quadratic: long runs of one character class,
 * of whitespace, of folds, of unbalanced quotes and comments, of encoded-word starts. Each
 * message is analysed on a worker thread with a watchdog (src/fuzz/pool.ts): linear code takes
 * milliseconds on 128 KB; quadratic code takes seconds to hours, and fails here by name.
 * A last test shows what such a message does to a real CLI run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFuzz, type FuzzReport } from '../../src/fuzz/pool.ts';
import { DEMO_DUMP, DEMO_KEYS, tempDir } from '../helpers/cli.ts';
import { readResults, runCliMeasured } from './support.ts';

const SIZE = 128 * 1024;
const TIMEOUT_MS = 2_500;

const PAYLOADS: Record<string, (n: number) => string> = {
  'letters': (n) => 'a'.repeat(n),
  'digits': (n) => '1'.repeat(n),
  'dots': (n) => 'a.'.repeat(n / 2),
  'equals': (n) => '='.repeat(n),
  'spaces inside': (n) => `a${' '.repeat(n)}b`,
  'folds inside': (n) => `a${'\r\n\t'.repeat(n / 3)}b`,
  'escaped quotes': (n) => `"${'\\"'.repeat(n / 2)}`,
  'escaped parens': (n) => `(${'\\('.repeat(n / 2)}`,
  'open parens': (n) => '('.repeat(n),
  'open angles': (n) => '<'.repeat(n),
  'at signs': (n) => '@'.repeat(n),
  'encoded-word starts': (n) => '=?utf-8?q?'.repeat(n / 10),
  'empty tags': (n) => 'a=;'.repeat(n / 3),
  'addresses': (n) => 'a@b,'.repeat(n / 4),
};

// mailauth's own parsers were quadratic on folds, whitespace runs and empty tags until
// src/verify/mailauth-patches.ts made them linear; none is excused any more.

const HEADERS = [
  'From', 'To', 'Cc', 'Reply-To', 'Sender', 'Subject', 'Date', 'Message-ID', 'In-Reply-To', 'References',
  'Received', 'Return-Path', 'Content-Type', 'MIME-Version', 'User-Agent', 'X-Mailer', 'List-Id',
  'DKIM-Signature', 'ARC-Seal', 'ARC-Message-Signature', 'ARC-Authentication-Results', 'Authentication-Results',
  '(body line)',
];

/** The genuine Q1 budget message with `header` replaced by (or given) the hostile value. */
function bomb(base: string, header: string, value: string): Buffer {
  const split = base.indexOf('\r\n\r\n');
  if (header === '(body line)') return Buffer.from(`${base}${value}\r\n`, 'latin1');
  const head = base.slice(0, split);
  const field = new RegExp(`^${header}:[^\\r\\n]*(?:\\r\\n[ \\t][^\\r\\n]*)*`, 'mi');
  const replaced = field.test(head) ? head.replace(field, () => `${header}: ${value}`) : `${header}: ${value}\r\n${head}`;
  return Buffer.from(replaced + base.slice(split), 'latin1');
}

describe(`header bombs: 128 KB values in every parsed header, analysed within ${TIMEOUT_MS} ms each`, () => {
  const base = readFileSync(join(DEMO_DUMP, 'inbox/2017-02-14 Q1 budget.eml'), 'latin1');
  const inputs = HEADERS.flatMap((header) =>
    Object.entries(PAYLOADS).map(([shape, make]) => ({ name: `${header} / ${shape}`, bytes: bomb(base, header, make(SIZE)), format: 'eml' as const })),
  );
  let report: FuzzReport;

  beforeAll(async () => {
    report = await runFuzz({ seed: 0, cases: inputs.length, inputs, keysPath: DEMO_KEYS, workers: 2, timeoutMs: TIMEOUT_MS, batchSize: 4 });
    process.stdout.write(`header bombs: ${inputs.length} messages in ${(report.elapsedMs / 1000).toFixed(1)} s, ${report.failures.length} failure(s), slowest passing ${report.slowestMs.toFixed(0)} ms\n`);
  }, 300_000);

  it('every bomb is accounted for', () => {
    expect(report.accounted).toBe(inputs.length);
  });

  it.each(HEADERS)('%s: every value shape is analysed in time, without a throw', (header) => {
    const failed = report.failures
      .filter((f) => f.seedName?.startsWith(`${header} / `))
      .map((f) => `${f.seedName}: ${f.failures.map((t) => t.split('\n')[0]).join(' | ')}`);
    expect(failed).toEqual([]);
  });
});

describe('a message built to be slow to parse does not stall a CLI run', () => {
  const tmp = tempDir('leakcheck-bomb-');
  afterAll(() => tmp.cleanup());

  it('a dump holding 256 KB From and DKIM-Signature bombs is verified within 20 s, every message judged', () => {
    const base = readFileSync(join(DEMO_DUMP, 'inbox/2017-02-14 Q1 budget.eml'), 'latin1');
    const dump = join(tmp.path, 'dump');
    mkdirSync(dump);
    writeFileSync(join(dump, 'from-letters.eml'), bomb(base, 'From', 'a'.repeat(256 * 1024)));
    writeFileSync(join(dump, 'dkim-spaces.eml'), bomb(base, 'DKIM-Signature', `v=1; z=a${' '.repeat(256 * 1024)}b`));
    writeFileSync(join(dump, 'date-parens.eml'), bomb(base, 'Date', '('.repeat(256 * 1024)));
    writeFileSync(join(dump, 'genuine.eml'), base);
    const db = join(tmp.path, 'bomb.db');
    const run = runCliMeasured(['verify', dump, '--offline', '--keys', DEMO_KEYS, '--jobs', '2', '--db', db, '--quiet'], { timeoutMs: 20_000, heapMb: 256 });
    expect(run.timedOut, 'the run was still going after 20 s').toBe(false);
    expect(run.status, run.stderr.slice(-2000)).toBe(0);
    const { files, messages } = readResults(db);
    expect(files).toHaveLength(4);
    expect(messages.filter((m) => m.verdict === null)).toEqual([]);
    expect(messages).toHaveLength(4);
  }, 60_000);
});
