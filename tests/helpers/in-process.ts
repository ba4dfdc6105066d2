import { storeKeyFiles, readKeyFiles, type ImportReport } from '../../src/pipeline/key-commands.ts';
import { runVerify, type VerifyOptions, type VerifyResult } from '../../src/pipeline/run-verify.ts';
import { exportText } from '../../src/report/export-text.ts';
import { openStore } from '../../src/store/open-store.ts';
import { acquireRunLock } from '../../src/store/run-lock.ts';

// `verify --offline`, the CLI's readers and `keys import`, run in this process, for tests that
// compare what databases hold rather than test the CLI: a child process costs a Node start-up
// (about 0.3 s of CPU) a call. verify is the command's runVerify and the export its own code
// (src/report/export-text.ts); `keys import` follows its action in src/cli/key-commands.ts.

/** The text `leakcheck export --format jsonl --db DB` writes to stdout. */
export function exportJsonl(dbPath: string): string {
  const db = openStore(dbPath, { readonly: true });
  try {
    return [...exportText(db, 'jsonl')].join('');
  } finally {
    db.close();
  }
}

/** The rows `leakcheck export --format jsonl --db DB` writes, parsed. */
export function exportRows<Row = Record<string, unknown>>(dbPath: string): Row[] {
  return exportJsonl(dbPath).trim().split('\n').map((line) => JSON.parse(line) as Row);
}

/**
 * `leakcheck verify DUMP --keys KEYS... --offline --db DB --quiet` (the command's own runVerify,
 * the run recorded under that command line): for tests of what a run records, not of the
 * command's exit codes, signals or output.
 */
export function verifyOffline(dumpRoot: string, dbPath: string, keyFiles: readonly string[] = [], more: Partial<VerifyOptions> = {}): Promise<VerifyResult> {
  const argv = ['leakcheck', 'verify', dumpRoot, ...keyFiles.flatMap((file) => ['--keys', file]), '--offline', '--db', dbPath, '--quiet'];
  return runVerify({ dumpRoot, dbPath, keyFiles: [...keyFiles], offline: true, argv, ...more });
}

/** `leakcheck keys import --db DB FILES...`: under the database's lock, as the command takes it. */
export function keysImportInProcess(dbPath: string, ...files: string[]): ImportReport[] {
  const read = readKeyFiles(files);
  const release = acquireRunLock(dbPath, 'keys import');
  try {
    const db = openStore(dbPath);
    try {
      return storeKeyFiles(db, read);
    } finally {
      db.close();
    }
  } finally {
    release();
  }
}
