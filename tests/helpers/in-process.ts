import { storeKeyFiles, readKeyFiles, type ImportReport } from '../../src/pipeline/key-commands.ts';
import { EXPORT_FINDINGS_HELD, exportFinding, toExportRow } from '../../src/report/export-rows.ts';
import { jsonlLine, jsonlLinePieces } from '../../src/report/jsonl.ts';
import { openStore } from '../../src/store/open-store.ts';
import { iterateFindings, iterateMessages } from '../../src/store/queries.ts';
import { acquireRunLock } from '../../src/store/run-lock.ts';

// The CLI's readers and `keys import`, run in this process, for tests that compare what databases
// hold rather than test the CLI: a child process costs a Node start-up (about 0.3 s of CPU) a call.
// Each mirrors its command's action in src/cli (main.ts `export`, key-commands.ts `keys import`).

/** The text `leakcheck export --format jsonl --db DB` writes to stdout. */
export function exportJsonl(dbPath: string): string {
  const db = openStore(dbPath, { readonly: true });
  try {
    let text = '';
    for (const message of iterateMessages(db, {}, undefined, { findingsShown: EXPORT_FINDINGS_HELD })) {
      const row = toExportRow(message);
      if (!message.findingsNotRead?.length) {
        text += jsonlLine(row);
        continue;
      }
      const findings = (function* () {
        yield* row.findings;
        for (const f of iterateFindings(db, message.id, row.findings.length)) yield exportFinding(f);
      })();
      for (const piece of jsonlLinePieces(row, findings)) text += piece;
    }
    return text;
  } finally {
    db.close();
  }
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
