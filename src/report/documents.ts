import type { DocumentCounts, DocumentRecord, DocumentStatus } from '../store/documents-pass.ts';
import { carrierNote, conflictDifference, conflictLabel, conflictSubject, coverageNote } from './coverage-note.ts';
import { csvRecord } from './csv.ts';
import { jsonText } from './json-text.ts';
import { recordedLabel } from './message-label.ts';
import { shownPath, terminalSafe } from './terminal-safe.ts';

/** One document per JSON line: path, sha256, size, status, the matching messages, name conflicts (the first NAME_CONFLICTS_KEPT, and how many in all). */
export const documentJsonl = (d: DocumentRecord): string =>
  `${jsonText({ path: d.path, sha256: d.sha256, size: d.size, status: d.status, matching_messages: d.matches, name_conflicts: d.nameConflicts, name_conflicts_total: d.nameConflictsTotal })}\n`;

/** "…and N more": the name conflicts a document has beyond those kept. */
export const moreConflicts = (d: DocumentRecord): string => {
  const more = d.nameConflictsTotal - d.nameConflicts.length;
  return more > 0 ? `…and ${more} more attachment${more === 1 ? '' : 's'} of this name with other bytes (name_conflicts_total ${d.nameConflictsTotal})` : '';
};

export const DOCUMENT_CSV_COLUMNS = ['path', 'sha256', 'size', 'status', 'matching_messages', 'name_conflict'] as const;

export const documentCsvHeader = (): string => csvRecord(DOCUMENT_CSV_COLUMNS);

export function documentCsvLine(d: DocumentRecord): string {
  const cells = [
    d.path,
    d.sha256,
    d.size === null ? '' : String(d.size),
    d.status,
    d.matches.map((m) => `${recordedLabel(m)} (${m.verdict}${m.signers.length ? `, signed by ${m.signers.join(' ')}` : ''}${m.date ? `, ${m.date}` : ''})`).join('; '),
    [
      ...d.nameConflicts.map((c) => `${recordedLabel(c)}: ${c.filename ?? '?'}${c.readsLike ? ' (a name that reads alike)' : ''}${c.otherName ? ' (another name, which the signature does not fix)' : c.nameUnsigned ? ' (a name the signature does not fix)' : ''}${c.blanksMoved ? ' (differs only in spaces and tabs inside lines)' : ''} sha256 ${c.attachmentSha256}, ${c.attachmentSize} bytes`),
      moreConflicts(d),
    ].filter(Boolean).join('; '),
  ];
  return csvRecord(cells);
}

/** The first line of the text listing: how many documents it lists, by status. */
export const documentsTextHead = (counts: Pick<DocumentCounts, 'total' | DocumentStatus>): string =>
  `${counts.total} loose document(s): ${counts['verified-by-email']} verified-by-email, ${counts['seen-in-unverified-email']} seen-in-unverified-email, ${counts['no-email-match']} no-email-match\n`;

/** One document of the text listing, every match and name conflict on a line of its own. */
export function documentText(d: DocumentRecord): string {
  const lines: string[] = ['', `${shownPath(d.path)}  ${d.status}${d.nameConflicts.length ? `  ${conflictLabel(d.nameConflicts)}` : ''}`, `  sha256 ${d.sha256}, ${d.size ?? '?'} bytes`];
  for (const m of d.matches) {
    lines.push(`  = attachment ${terminalSafe(m.filename ?? '')} of ${shownPath(m.message, 300, m.messageQuoted === true)} (${m.verdict}${terminalSafe(`${m.signers.length ? `, signed by ${m.signers.join(', ')}` : ''}${m.date ? `, dated ${m.date}` : ''}`)}${coverageNote(m)})`);
    if (m.carrier) lines.push(`    ${terminalSafe(carrierNote(m), 600)}`);
  }
  for (const c of d.nameConflicts) {
    lines.push(
      `  ! ${terminalSafe(conflictSubject(c))}, ${conflictDifference(c)}: ${terminalSafe(c.filename ?? '')} in ${shownPath(c.message, 300, c.messageQuoted === true)}` +
        ` (signed by ${c.signers.join(', ') || '?'}${c.date ? `, ${c.date}` : ''}): sha256 ${c.attachmentSha256}, ${c.attachmentSize} bytes; this file: sha256 ${d.sha256}, ${d.size ?? '?'} bytes`,
    );
  }
  if (moreConflicts(d)) lines.push(`  ! ${moreConflicts(d)}`);
  return `${lines.join('\n')}\n`;
}
