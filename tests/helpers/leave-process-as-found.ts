/**
 * Loaded before every test file (vitest.config.ts, setupFiles): each file must leave its process
 * as it found it, because most files share a process with the files run after them (`isolate:
 * false`). A child process still running, a worker thread, a timer, an open file descriptor, a
 * listener on the process, a changed environment variable or working directory: any of these
 * fails the file that left it, named, instead of changing what a later file sees. A descriptor
 * left open by leakcheck's own code (an evidence file, a database) fails it the same way.
 */
import { afterAll, expect } from 'vitest';
import { leftBehind, processState, type ChangesAtLoad } from './process-state.ts';

/**
 * A child killed or a thread stopped by the last test may take a moment to be gone, and so do
 * vitest's own short timers (present at times while hooks run: the state is taken as this file
 * is loaded, before any hook, and compared once they have gone).
 */
const SETTLE_MS = 3_000;

/**
 * What modules the tests load change in the process as they load, once: tslib's helpers, which
 * tslib defines as globals whenever it loads as CommonJS (mailauth's certificate parsing pulls
 * it in through @peculiar's ASN.1 modules), zod's registry (the browser test's tooling), and
 * SQLITE_USE_URI, which src/store/open-store.ts sets for better-sqlite3 to read once.
 */
const AT_LOAD: ChangesAtLoad = {
  globals: (name) => /^__(?:extends|assign|rest|decorate|param|esDecorate|runInitializers|propKey|setFunctionName|metadata|awaiter|generator|exportStar|createBinding|values|read|spread|spreadArrays|spreadArray|await|asyncGenerator|asyncDelegator|asyncValues|makeTemplateObject|importStar|importDefault|classPrivateFieldGet|classPrivateFieldSet|classPrivateFieldIn|addDisposableResource|disposeResources|rewriteRelativeImportExtension|setModuleDefault)$/.test(name) || name.startsWith('__zod_'),
  env: new Set(['SQLITE_USE_URI']),
};

const before = processState();

afterAll(async () => {
  const deadline = Date.now() + SETTLE_MS;
  let left = leftBehind(before, processState(), AT_LOAD);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    left = leftBehind(before, processState(), AT_LOAD);
  }
  if (left.length > 0) {
    const file = expect.getState().testPath ?? 'this test file';
    throw new Error(`${file} left its process changed for the files that share it after it:\n- ${left.join('\n- ')}`);
  }
});
