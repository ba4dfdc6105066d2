/** What a report needs to name a message. */
export interface Labelled {
  path: string;
  index: number;
  format: string;
  /** found inside another file: its path is one leakcheck made (`x.zip!a.eml`, `fwd.eml#attachment-1`) */
  derived: boolean;
}

/** What follows the path in a message's label: `#index` for a message of an mbox or one found at an index, else nothing. */
export const labelIndex = (m: Pick<Labelled, 'index' | 'format'>): string => (m.format === 'mbox' || m.index > 0 ? `#${m.index}` : '');

/** What every report calls a message: its file's path, then labelIndex. */
export function messageLabel(m: Labelled): string {
  return `${m.path}${labelIndex(m)}`;
}

/**
 * Whether the label is shown quoted, to tell it from a label leakcheck makes: a file of the dump
 * whose own name holds "#" or "!", the separators of those labels (an mbox's "#2", a zip's
 * "!entry.eml", a forwarded message's "#attachment-1"). A file named "archive.mbox#2" read as
 * message 2 of archive.mbox in every report (red team 14, finding 08).
 */
export const labelQuoted = (m: Labelled): boolean => !m.derived && /[#!]/.test(m.path);

/** A label a document record carries (DocumentMatch), as plain text: quoted when labelQuoted said so. Escaped by the caller. */
export const recordedLabel = (m: { message: string; messageQuoted?: true }): string => (m.messageQuoted ? `"${m.message}"` : m.message);
