import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import type { Reporter, TestModule } from 'vitest/node';
import { PROCESS_ALONE } from './tests/helpers/process-alone.ts';

/**
 * Ends the run with one plain line, "Tests: N passed, N failed, N skipped", which CI systems
 * read whatever the test runner; followed by ", N errors" when the run had errors outside any
 * test (a test process that crashed, a rejection nobody awaited, a file's afterAll that threw).
 */
class PlainSummary implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      // A file whose setup failed (a beforeAll that threw) marks its tests skipped: they count as
      // failed here, or the line would read "0 failed" for a red run.
      const broken = module.state() === 'failed' || module.errors().length > 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        // Only a test the suite chose to skip is skipped. One still pending at the end never
        // finished: its test process died under it (a crash counted as "4 skipped" once).
        else if (state === 'skipped' && !broken) counts.skipped++;
        else counts.failed++;
      }
    }
    // A file's errors outside its tests (an afterAll that threw: the tests passed, the file
    // failed) count with the run's: the line must not read "0 failed" alone for a red run.
    const errorCount = unhandledErrors.length + testModules.reduce((sum, module) => sum + module.errors().length, 0);
    const errors = errorCount ? `, ${errorCount} error${errorCount === 1 ? '' : 's'}` : '';
    process.stdout.write(`\nTests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${errors}\n`);
  }
}

export default defineConfig({
  test: {
    // Vitest's default, one file at a time less than the cores, runs one file at a time on two
    // cores. Most files spend their time waiting for the CLI processes they start, so two at once
    // use the cores better: the suite took 207 s instead of 260 s on this 2-core machine, with
    // every test passing (and 245 s with other work running beside it).
    maxWorkers: Math.max(availableParallelism() - 1, Math.min(2, availableParallelism())),
    // Node's cache of compiled code, as bin/leakcheck.js enables it for every run: the analysis
    // threads that the tests start in-process (runVerify) then load in 0.25 s instead of 0.4 s,
    // and skip stripping the types of every module again. It changes no result.
    env: { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'leakcheck-compile-cache') },
    setupFiles: ['tests/helpers/patch-mailauth-first.ts', 'tests/helpers/leave-process-as-found.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', new PlainSummary()],
    // Most files share their vitest worker's process with the files it ran before (isolate:
    // false): a fresh process per file, importing vitest, mailauth and the analysis code again,
    // cost 0.25-0.3 s of wall time a file on two cores. The whole suite, run back to back: 330 s
    // with a process per file, 282 s shared; 63 in-process files, three rounds each: 60-64 s
    // against 42-46 s. Sharing holds because the analysis keeps nothing from one run to the
    // next that a test could see, every file makes its own databases and folders, and spies are
    // restored after the tests that set them. The files that measure or replace something of the
    // whole process run alone (tests/helpers/process-alone.ts, kept complete by
    // tests/unit/process-alone.test.ts); a run with the files shuffled passed too. A file that
    // leaves a child process, a thread, a timer, a descriptor, a listener or a changed
    // environment behind fails (tests/helpers/leave-process-as-found.ts, a setup file).
    projects: [
      { extends: true, test: { name: 'shared', include: ['tests/**/*.test.ts'], exclude: [...configDefaults.exclude, ...PROCESS_ALONE], isolate: false } },
      { extends: true, test: { name: 'alone', include: [...PROCESS_ALONE], isolate: true } },
    ],
  },
});
