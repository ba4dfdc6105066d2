import { jsonText } from './json-text.ts';
import type { ExportFinding, ExportRow } from './export-rows.ts';

/** One JSON object per line; every control character is escaped (jsonText), so rows stay one line. */
export const jsonlLine = (row: ExportRow): string => `${jsonText(row)}\n`;

/**
 * The same line, in pieces of about `pieceChars`, with `findings` in place of the row's: a
 * message's findings are not held whole (red team BB, BB-07). `findings` and `container` are the
 * row's last fields, so the line is the row's JSON without them, then them.
 */
export function* jsonlLinePieces(row: ExportRow, findings: Iterable<ExportFinding>, pieceChars = 64 * 1024): Generator<string> {
  const { findings: _held, container, ...head } = row;
  let piece = `${jsonText(head).slice(0, -1)},"findings":[`;
  let first = true;
  for (const f of findings) {
    piece += (first ? '' : ',') + jsonText(f);
    first = false;
    if (piece.length >= pieceChars) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}],"container":${jsonText(container)}}\n`;
}
