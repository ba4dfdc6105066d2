/**
 * The test files that run in a process of their own. Every other file shares its vitest worker's
 * process with the files that worker ran before it (vitest.config.ts, `isolate: false`), which
 * saves a process start and a fresh import of vitest, mailauth and the analysis code per file.
 *
 * A file belongs here when what it measures or replaces belongs to the whole process, so that
 * the files run before it could change its result, or it could change theirs:
 * - module mocks: vi.mock replaces a module in the registry the process's files share;
 * - the process's own memory, read before and after (heap, array buffers, RSS);
 * - which modules the process has loaded (its require cache).
 * tests/unit/process-alone.test.ts fails when a file does one of these and is not listed. What a
 * file leaves open or changed in its process (a child process, a thread, a timer, a descriptor,
 * the environment) fails the file itself, whether it runs alone or not
 * (tests/helpers/leave-process-as-found.ts).
 */
export const PROCESS_ALONE: readonly string[] = [
  // module mocks
  'tests/keys/key-measured-is-key-used.test.ts',
  'tests/verify/key-candidates-work.test.ts',
  // the process's memory, before and after
  'tests/attachments/memory.test.ts',
  'tests/attachments/zip.test.ts',
  'tests/pipeline/worker-pool.test.ts',
  'tests/read/release-now.test.ts',
  'tests/unit/analyze.test.ts',
  // the modules loaded
  'tests/verify/joi-stand-in.test.ts',
];

/**
 * What in a test file (or in a helper of tests/ it imports) makes it depend on the process it
 * runs in: each pattern names one of the reasons above.
 */
export const PROCESS_WIDE_PATTERNS: ReadonlyArray<{ reason: string; pattern: RegExp }> = [
  { reason: 'a module mock (vi.mock)', pattern: /\bvi\.(?:mock|doMock)\(/ },
  { reason: "the process's memory (process.memoryUsage / resourceUsage)", pattern: /\bprocess\.(?:memoryUsage|resourceUsage)\(/ },
  { reason: 'the modules loaded (the require cache)', pattern: /\brequire\.cache\b/ },
];
