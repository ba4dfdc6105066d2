import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.ts';

const ANALYSIS_THREADS = new URL('../../src/pipeline/analysis-threads.ts', import.meta.url).href;
const THREAD_BUDGET = new URL('../../src/pipeline/thread-budget.ts', import.meta.url).href;

interface Tiering {
  cores: number;
  efficiency: boolean;
  /** whether a small hot function reached TurboFan's code within 10,000 calls */
  turbofan: boolean;
}

/**
 * A child process that asks tuneCompilers for `threads` analysis threads (0: not at all), then
 * calls a small function up to 10,000 times, and says whether V8 gave it TurboFan's code. V8's
 * own threshold is about 3,000 calls (1,723 for this one here); efficiency mode waits for
 * 15,000. Optimising compilations are made at once, not on a helper thread, so that the answer
 * does not depend on how soon a helper gets a core.
 */
const tiering = (threads: number | 'cores' | 'fewer'): Tiering => {
  const script = `
    const { tuneCompilers } = await import(${JSON.stringify(ANALYSIS_THREADS)});
    const { defaultThreadBudget } = await import(${JSON.stringify(THREAD_BUDGET)});
    const cores = defaultThreadBudget().usableCores;
    const asked = ${JSON.stringify(threads)};
    const threads = asked === 'cores' ? cores : asked === 'fewer' ? cores - 1 : asked;
    if (threads > 0) tuneCompilers(threads);
    function hot(n) { let sum = 0; for (let i = 0; i < n; i++) sum += i; return sum; }
    for (let calls = 0; calls < 10000 && !%ActiveTierIsTurbofan(hot); calls++) hot(10);
    console.log(JSON.stringify({ cores, efficiency: %IsEfficiencyModeEnabled(), turbofan: %ActiveTierIsTurbofan(hot) }));`;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--no-concurrent-recompilation', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as Tiering;
};

describe('tuneCompilers', () => {
  it('keeps hot code in Maglev past TurboFan’s usual threshold when every core runs an analysis thread', () => {
    const untuned = tiering(0);
    expect(untuned).toMatchObject({ efficiency: false, turbofan: true });
    expect(tiering('cores')).toMatchObject({ efficiency: true, turbofan: false });
  }, 60_000);

  it('leaves V8 as it is when a core is left over for its compilers (--jobs under the cores)', () => {
    const { cores } = tiering(0);
    // on a single core there is no fewer: one thread is every core, and is tuned
    expect(tiering(cores > 1 ? 'fewer' : 'cores')).toMatchObject(cores > 1 ? { efficiency: false, turbofan: true } : { efficiency: true, turbofan: false });
  }, 60_000);

  it('waits, when asked by a verify, until as many analysis threads have started as there are cores', () => {
    // one thread, then the rest up to the cores: efficiency mode is on only once they take every core
    const script = `
      const { startAnalysisThread, stopAnalysisThread, tuneCompilersOnceCoresTaken } = await import(${JSON.stringify(ANALYSIS_THREADS)});
      const { defaultThreadBudget } = await import(${JSON.stringify(THREAD_BUDGET)});
      const cores = defaultThreadBudget().usableCores;
      tuneCompilersOnceCoresTaken();
      const seen = [%IsEfficiencyModeEnabled()];
      const threads = [];
      for (let i = 0; i < cores; i++) {
        threads.push(await startAnalysisThread());
        seen.push(%IsEfficiencyModeEnabled());
      }
      await Promise.all(threads.map(({ worker }) => stopAnalysisThread(worker)));
      console.log(JSON.stringify({ cores, seen }));`;
    // a file, not -e: the threads inherit the child's flags, and --input-type would stop them loading
    const tmp = tempDir('leakcheck-compiler-tuning-');
    try {
      const file = join(tmp.path, 'threads.mjs');
      writeFileSync(file, script);
      const out = execFileSync(process.execPath, ['--allow-natives-syntax', file], { encoding: 'utf8' });
      const { cores, seen } = JSON.parse(out) as { cores: number; seen: boolean[] };
      // before any thread, and after each: off until the last core is taken
      expect(seen).toEqual([false, ...Array.from({ length: cores }, (_, i) => i + 1 >= cores)]);
    } finally {
      tmp.cleanup();
    }
  }, 60_000);
});
