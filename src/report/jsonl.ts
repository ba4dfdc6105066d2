import type { ExportRow } from './export-rows.ts';

/** One JSON object per line; JSON.stringify escapes every control character, so rows stay one line. */
export const jsonlLine = (row: ExportRow): string => `${JSON.stringify(row)}\n`;
