import { jsonText } from './json-text.ts';
import type { ExportRow } from './export-rows.ts';

/** One JSON object per line; every control character is escaped (jsonText), so rows stay one line. */
export const jsonlLine = (row: ExportRow): string => `${jsonText(row)}\n`;
