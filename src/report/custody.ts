import { changesRecorded, type CustodyChange, type RunRecordSummary } from '../store/queries.ts';
import { csvRecord } from './csv.ts';
import { jsonText } from './json-text.ts';
import { terminalSafe } from './terminal-safe.ts';
import { changeTally } from './change-counts.ts';
import { describeChange } from './text.ts';

/**
 * `leakcheck custody`: every run on the database and every change of the dump the runs found,
 * oldest first. The summaries list the latest changes; this lists all of them, for an analyst's
 * spreadsheet or a court's exhibit.
 */
export const CUSTODY_CSV_COLUMNS = [
  'run_id', 'noticed_at', 'path', 'change', 'old_size', 'old_mtime', 'old_sha256', 'new_size', 'new_mtime', 'new_sha256', 'detail',
] as const;

/** File times as UTC ISO 8601, the form every other time in the exports takes; empty if unknown. */
const instant = (ms: number | null | undefined): string => (ms === null || ms === undefined || !Number.isFinite(ms) ? '' : new Date(ms).toISOString());

function row(c: CustodyChange): Record<(typeof CUSTODY_CSV_COLUMNS)[number], string | number | null> {
  return {
    run_id: c.runId,
    noticed_at: c.noticedAt,
    path: c.path,
    change: c.change,
    old_size: c.old?.size ?? null,
    old_mtime: instant(c.old?.mtimeMs) || null,
    old_sha256: c.old?.sha256 ?? null,
    new_size: c.new?.size ?? null,
    new_mtime: instant(c.new?.mtimeMs) || null,
    new_sha256: c.new?.sha256 ?? null,
    detail: c.detail,
  };
}

export const custodyCsvHeader = (): string => csvRecord(CUSTODY_CSV_COLUMNS);

export function custodyCsvLine(change: CustodyChange): string {
  const values = row(change);
  return csvRecord(CUSTODY_CSV_COLUMNS.map((k) => (values[k] === null ? '' : String(values[k]))));
}

export const custodyJsonl = (change: CustodyChange): string => `${jsonText(row(change))}\n`;

/** What a run did to the chain of custody, in a line. */
function runLine(run: RunRecordSummary): string {
  const counts = run.counts ?? {};
  const n = (key: string): number => (typeof counts[key] === 'number' ? (counts[key] as number) : 0);
  const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;
  const parts = [`${plural(n('files'), 'file')}, ${plural(n('messages'), 'message')} analysed`];
  if (run.options['rehash'] === true) parts.push(`--rehash: ${n('confirmed')} matched their sha256`);
  const found = { changed: n('changed'), removed: n('removed'), added: n('added'), unconfirmed: n('unconfirmed') };
  if (changesRecorded(found)) parts.push(changeTally(found));
  return `  #${run.id}  ${run.startedAt}  ${run.status.padEnd(11)}  leakcheck ${terminalSafe(run.toolVersion, 20)}  ${parts.join('; ')}`;
}

export function renderCustodyText(runs: RunRecordSummary[], changes: Iterable<CustodyChange>): string {
  const lines = [`Runs (${runs.length})`, ...runs.map(runLine), ''];
  const listed: string[] = [];
  for (const change of changes) listed.push(`  ${describeChange(change)}  noticed ${terminalSafe(change.noticedAt, 40)}`);
  if (listed.length) lines.push(`Changes to the dump (${listed.length}), oldest first`, ...listed);
  else lines.push('No file of the dump was found changed, removed or added, or could not be read again, by any run.');
  return `${lines.join('\n')}\n`;
}
