import { stringify } from 'csv-stringify/sync';
import type { ExportFinding, ExportRow } from './export-rows.ts';

export const CSV_COLUMNS = [
  'path', 'index', 'sha256', 'message_id', 'from', 'date', 'subject', 'verdict', 'reasons', 'repairs',
  'signing_domains', 'key_sources', 'arc', 'explanation', 'from_address', 'findings', 'date_zone_known', 'container',
] as const;

/**
 * Spreadsheets execute a cell that starts with = + - @ (and tab or CR, which some strip first).
 * Such a cell gets a leading apostrophe, the OWASP-recommended neutraliser, which spreadsheets
 * hide and which keeps the text readable. docs/export.md says so. Also neutralised: those
 * characters after leading blanks or line breaks (some importers trim them), their fullwidth
 * forms (＝, which some spreadsheets read as =), and a leading apostrophe, which a spreadsheet
 * would swallow and so show "'=1+1" as "=1+1" (red team 14, checked without a spreadsheet).
 */
const FORMULA_START = /^(?:[\s\u00a0\u3000]*[=+\-@\uff1d\uff0b\uff0d\uff20]|[\t\r\n'])/u;

export function neutralizeFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

const findingLine = (f: ExportFinding): string => `${f.severity} ${f.code}: ${f.text}`;

/** Where the findings are among the cells. */
const FINDINGS_CELL = CSV_COLUMNS.indexOf('findings');

function cells(row: ExportRow): string[] {
  const values: Array<string | number | null> = [
    row.path,
    row.index,
    row.sha256,
    row.message_id,
    row.from,
    row.date,
    row.subject,
    row.verdict,
    row.reasons.join(' '),
    row.repairs.join(' '),
    row.signatures.map((s) => `${s.domain ?? '?'}:${s.result}`).join(' '),
    [...new Set(row.signatures.map((s) => s.key_source).filter(Boolean))].join(' '),
    row.arc.result,
    row.explanation,
    // added at the end: the columns before them keep their places for scripts that read them by position
    row.from_address,
    // one a line: a verified message's warnings (an unsigned Subject, a display name that reads
    // as another address) were in no column, and a spreadsheet showed it proven whole (red team K, K-07)
    row.findings.map(findingLine).join('\n'),
    // `date` holds a zoneless Date read as UTC too: a spreadsheet must be able to tell it from an exact one
    row.date_zone_known === null ? null : String(row.date_zone_known),
    row.container,
  ];
  return values.map((v) => (v === null ? '' : String(v)));
}

/**
 * What `export --bom` writes first. Excel opened by double-click reads a CSV without it in the
 * ANSI code page (every accented name and CJK subject as mojibake); a naive parser reads it as
 * part of the first column's name, so it is asked for, never written by default.
 */
export const UTF8_BOM = '\ufeff';

/**
 * One record of every CSV leakcheck writes (RFC 4180: CRLF records, quotes doubled, UTF-8), each
 * cell neutralised against formulas. A cell holding a line feed, a CR, a comma or a quote is
 * quoted: csv-stringify quotes only the record delimiter it writes (CRLF), and a file name with a
 * bare line feed split its record in two, the second part a cell of its own that the formula
 * guard had never seen (red team Z, Z-09).
 */
export const csvRecord = (values: ReadonlyArray<string>): string =>
  stringify([values.map(neutralizeFormula)], { record_delimiter: 'windows', quoted_match: /[",\r\n]/ });

export const csvHeader = (): string => csvRecord(CSV_COLUMNS);
export const csvLine = (row: ExportRow): string => csvRecord(cells(row));

/**
 * The same record, in pieces of about `pieceChars`, with `findings` in place of the row's, for a
 * message with more than one (red team BB, BB-07: a message's findings are not held whole). Its
 * cell holds line feeds and so is quoted, and starts with a severity, never a formula.
 */
export function* csvLinePieces(row: ExportRow, findings: Iterable<ExportFinding>, pieceChars = 64 * 1024): Generator<string> {
  const all = cells({ ...row, findings: [] });
  let piece = FINDINGS_CELL ? `${csvRecord(all.slice(0, FINDINGS_CELL)).slice(0, -2)},"` : '"';
  let first = true;
  for (const f of findings) {
    piece += (first ? '' : '\n') + findingLine(f).replaceAll('"', '""');
    first = false;
    if (piece.length >= pieceChars) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}",${csvRecord(all.slice(FINDINGS_CELL + 1))}`;
}
