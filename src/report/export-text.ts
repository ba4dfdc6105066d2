import type { Db } from '../store/open-store.ts';
import { iterateFindings, iterateMessages, type MessageFilter } from '../store/queries.ts';
import { csvHeader, csvLine, csvLinePieces, UTF8_BOM } from './csv.ts';
import { EXPORT_FINDINGS_HELD, exportFinding, toExportRow } from './export-rows.ts';
import { jsonlLine, jsonlLinePieces } from './jsonl.ts';

/**
 * The text of `leakcheck export`, piece by piece, as it is written: one line a message, or a
 * message with many findings in pieces. Every finding is written (the export is the complete
 * record), but a message's beyond the first EXPORT_FINDINGS_HELD are read and written a page at a
 * time (red team BB, BB-07).
 */
export function* exportText(db: Db, format: 'jsonl' | 'csv', filter: MessageFilter = {}, options: { bom?: boolean } = {}): Generator<string> {
  if (format === 'csv') yield (options.bom ? UTF8_BOM : '') + csvHeader();
  for (const message of iterateMessages(db, filter, undefined, { findingsShown: EXPORT_FINDINGS_HELD })) {
    const row = toExportRow(message);
    if (!message.findingsNotRead?.length) {
      yield format === 'csv' ? csvLine(row) : jsonlLine(row);
      continue;
    }
    const findings = (function* () {
      yield* row.findings;
      for (const f of iterateFindings(db, message.id, row.findings.length)) yield exportFinding(f);
    })();
    yield* (format === 'csv' ? csvLinePieces : jsonlLinePieces)(row, findings);
  }
}
