import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchHistory, renderHistory, targetsMet, type BenchResultFile } from './bench-history.ts';

/**
 * `npm run bench:history [-- DIR]`: every recorded bench run against issue 8's targets, as a
 * Markdown table (see bench-history.ts), then how many of the 2,000-message runs met each target.
 */
const dir = process.argv[2] ?? new URL('./results/', import.meta.url).pathname;
const files = readdirSync(dir)
  .filter((name) => /^bench-.*\.json$/.test(name))
  .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as BenchResultFile);
const rows = benchHistory(files);
process.stdout.write(renderHistory(rows));
const mix = rows.filter((r) => r.size === 2000);
const count = (test: (met: ReturnType<typeof targetsMet>) => boolean | null): number => mix.filter((r) => test(targetsMet(r)) === true).length;
process.stdout.write(
  `\n2,000 messages: ${mix.length} runs; ≥ 1,200 msg/s and ≥ 216 MB/s in ${count((m) => m.throughput)}, at or above OpenDKIM in ${count((m) => m.overOpenDkim)}, ≥ 3× the mailauth loop in ${count((m) => m.overMailauth)}.\n`,
);
