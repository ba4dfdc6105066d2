import { isRedFlag, type DocumentCounts, type DocumentRecord, type DocumentStatus, type EmailVerdicts, type NameConflict } from '../store/documents-pass.ts';
import { carrierNote, conflictDifference, conflictLabel, conflictSubject, coverageNote, redFlagsPast, sentAs } from './coverage-note.ts';
import { csvRecord } from './csv.ts';
import { jsonText } from './json-text.ts';
import { recordedLabel } from './message-label.ts';
import { shownPath, terminalSafe } from './terminal-safe.ts';

/**
 * One document per JSON line: path, sha256, size, status, the matching messages, name conflicts
 * (the first NAME_CONFLICTS_KEPT, and how many in all), and its own verdict as email (null for a
 * file not read as email).
 */
export const documentJsonl = (d: DocumentRecord): string =>
  `${jsonText({ path: d.path, sha256: d.sha256, size: d.size, status: d.status, matching_messages: d.matches, name_conflicts: d.nameConflicts, name_conflicts_total: d.nameConflictsTotal, as_email: d.asEmail ?? null, symlink_to: d.symlinkTo ?? null })}\n`;

/** A file's own verdict as email: "unverifiable (unsigned)", or "3 messages: 2 verified, 1 suspicious". */
export function emailVerdictText(e: EmailVerdicts): string {
  const byVerdict = Object.entries(e.verdicts).map(([verdict, n]) => (e.messages === 1 ? verdict : `${n} ${verdict}`));
  return e.messages === 1 ? `${byVerdict[0]} (${(e.reasons ?? []).join(', ')})` : `${e.messages} messages: ${byVerdict.join(', ')}`;
}

/**
 * What a match of a file that is an email itself does not say (red team Y, Y-03): the email that
 * carried it proves these bytes, not that this email is genuine; and one that verifies on its own
 * is not made doubtful by an unverified carrier.
 */
function asEmailLine(d: DocumentRecord): string | null {
  if (!d.asEmail) return null;
  const own = d.asEmail.verdicts;
  const allVerified = (own['verified'] ?? 0) === d.asEmail.messages;
  const note =
    d.status === 'verified-by-email' && !allVerified
      ? ': an email that carried these bytes is verified, which proves they existed then, not who wrote this one'
      : d.status !== 'verified-by-email' && (own['verified'] ?? 0) > 0
        ? ': its own signature proves it, whatever the emails that carried it'
        : '';
  return `as an email itself: ${emailVerdictText(d.asEmail)}${note}`;
}

/** "…and N more": the name conflicts a document has beyond those kept. */
export const moreConflicts = (d: DocumentRecord): string => {
  const more = d.nameConflictsTotal - d.nameConflicts.length;
  // (not "of this name": those past the first 100 may be of a look-alike name; red team AA, AA-19)
  return more > 0 ? `…and ${more} more name conflict${more === 1 ? '' : 's'} (name_conflicts_total ${d.nameConflictsTotal})` : '';
};

/** Columns are added at the end only: scripts read them by position too. */
export const DOCUMENT_CSV_COLUMNS = ['path', 'sha256', 'size', 'status', 'matching_messages', 'name_conflict', 'as_email'] as const;

export const documentCsvHeader = (): string => csvRecord(DOCUMENT_CSV_COLUMNS);

export function documentCsvLine(d: DocumentRecord): string {
  const cells = [
    d.path,
    d.sha256,
    d.size === null ? '' : String(d.size),
    d.status,
    d.matches.map((m) => `${recordedLabel(m)}${sentAs(d, m)} (${m.verdict}${m.signers.length ? `, signed by ${m.signers.join(' ')}` : ''}${m.date ? `, ${m.date}` : ''})`).join('; '),
    [
      ...d.nameConflicts.map((c) => `${recordedLabel(c)}: ${c.filename ?? '?'}${c.otherName !== undefined ? ` (also named ${c.otherName}, the name it matched)` : ''}${c.readsLike ? ' (a name that reads alike)' : ''}${c.nameUnsigned ? ' (a name the signature does not fix)' : ''}${c.blanksMoved ? ' (differs only in spaces and tabs inside lines)' : ''}${c.genericName ? ' (a name mail programs give to unnamed parts: not a red flag)' : ''} sha256 ${c.attachmentSha256}, ${c.attachmentSize} bytes`),
      moreConflicts(d),
    ].filter(Boolean).join('; '),
    d.asEmail ? emailVerdictText(d.asEmail) : '',
  ];
  return csvRecord(cells);
}

/**
 * Who signed the message of a name conflict, and its date: an unsigned forwarded message (its
 * bytes fixed by the verified email that carried it) is said to be unsigned, and its Date its
 * own, never "signed by ?" (red team Y, Y-13).
 */
const signedOrNot = (c: NameConflict): string =>
  c.signers.length ? `signed by ${c.signers.join(', ')}${c.date ? `, ${c.date}` : ''}` : `not signed itself${c.date ? `, its own Date ${c.date}, not proven` : ''}`;

/** The first line of the text listing: how many documents it lists, by status. */
export const documentsTextHead = (counts: Pick<DocumentCounts, 'total' | DocumentStatus>): string =>
  `${counts.total} loose document(s): ${counts['verified-by-email']} verified-by-email, ${counts['seen-in-unverified-email']} seen-in-unverified-email, ${counts['no-email-match']} no-email-match\n`;

/** One document of the text listing, every match and name conflict on a line of its own. */
export function documentText(d: DocumentRecord): string {
  const lines: string[] = ['', `${shownPath(d.path)}  ${d.status}${d.nameConflicts.length ? `  ${conflictLabel(d.nameConflicts)}` : ''}`, `  sha256 ${d.sha256}, ${d.size ?? '?'} bytes${d.symlinkTo === undefined ? '' : `, a symbolic link to ${terminalSafe(d.symlinkTo, 300)}`}`];
  for (const m of d.matches) {
    lines.push(`  = attachment ${terminalSafe(m.filename ?? '')} of ${shownPath(m.message, 300, m.messageQuoted === true)} (${m.verdict}${terminalSafe(`${m.signers.length ? `, signed by ${m.signers.join(', ')}` : ''}${m.date ? `, dated ${m.date}` : ''}`)}${coverageNote(m)})`);
    if (m.carrier) lines.push(`    ${terminalSafe(carrierNote(m), 600)}`);
  }
  const asEmail = asEmailLine(d);
  if (asEmail) lines.push(`  ${terminalSafe(asEmail, 600)}`);
  // (a red flag is marked "!", a conflict on a name mail programs make up is a note)
  for (const c of d.nameConflicts) {
    lines.push(
      `  ${isRedFlag(c) ? '!' : 'note:'} ${terminalSafe(conflictSubject(c))}, ${conflictDifference(c)}: ${terminalSafe(c.filename ?? '')}${c.otherName !== undefined ? ` (also named ${terminalSafe(c.otherName)})` : ''} in ${shownPath(c.message, 300, c.messageQuoted === true)}` +
        ` (${signedOrNot(c)}): sha256 ${c.attachmentSha256}, ${c.attachmentSize} bytes; this file: sha256 ${d.sha256}, ${d.size ?? '?'} bytes`,
    );
  }
  if (moreConflicts(d)) lines.push(`  ${redFlagsPast(d, d.nameConflicts.length) ? '!' : 'note:'} ${moreConflicts(d)}`);
  return `${lines.join('\n')}\n`;
}
