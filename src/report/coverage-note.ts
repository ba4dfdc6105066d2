import { normalizeFileName } from '../attachments/inventory.ts';
import type { DocumentMatch, DocumentRecord, NameConflict } from '../store/documents-pass.ts';
import { recordedLabel } from './message-label.ts';

/** Why a match with a verified message does not prove the document's bytes. */
export function coverageNote(m: DocumentMatch): string {
  if (m.verdict !== 'verified') return '';
  if (m.strength === 'covered-except-whitespace') return '; its signature does not fix the whitespace of this attachment';
  if (m.strength === 'not-covered') return '; its signature does not cover this attachment';
  return '';
}

/**
 * What a verified email that forwarded the matching message proves (red team 10, finding 11):
 * text to be escaped by the caller, or '' when no verified email carried it.
 */
export function carrierNote(m: DocumentMatch): string {
  const c = m.carrier;
  if (!c) return '';
  const signed = `${c.signers.length ? `signed by ${c.signers.join(', ')}` : 'verified'}${c.date ? `, dated ${c.date}` : ''}`;
  const how = c.strength === 'verified-content' ? 'covers' : 'covers all but the whitespace of';
  return `forwarded inside ${recordedLabel(c)} (${signed}), whose signature ${how} the forwarded message holding these bytes`;
}

/**
 * Which document of a verified email a name conflict is about, as the start of a sentence: one
 * of the same name or of a name that only reads like it (letters that look alike), sent in a
 * verified email (whose signature may not fix the name) or forwarded inside one. Text to be
 * escaped by the caller.
 */
export function conflictSubject(c: NameConflict): string {
  const which = c.readsLike ? `a document whose name reads like this one but is spelt with other characters (${c.filename ?? '?'})` : 'a document with this name';
  // (red team Y, Y-02)
  if (c.nameUnsigned) return `${which} was sent in a verified email whose signature does not fix the name`;
  // An attachment of a forwarded message: the verified email that forwarded it fixes its bytes.
  if (c.carrier) return `${which} was forwarded inside the verified email ${recordedLabel(c.carrier)}`;
  return c.exceptWhitespace ? `${which} was sent in a verified email whose signature fixes all of it but its whitespace` : `${which} was sent in a verified email`;
}

/**
 * How the document differs from the attachment of a name conflict, as the end of its sentence:
 * in content, or in the spaces and tabs of its lines alone (red team 15, F-DOC-3).
 */
export const conflictDifference = (c: NameConflict): string =>
  c.blanksMoved
    ? 'with the same content but for spaces and tabs inside its lines, which the signature does not fix (in tab-separated or aligned text, values moved to other columns)'
    : 'with different content';

/** The red flag's label in the documents listing. */
export function conflictLabel(conflicts: readonly NameConflict[]): string {
  if (conflicts.every((c) => c.readsLike)) return 'RED FLAG: look-alike name';
  return conflicts.every((c) => c.blanksMoved) ? 'RED FLAG: spaces or tabs moved' : 'RED FLAG: name conflict';
}

/**
 * ", sent as NAME" when the email sent these bytes under another name than the document's: a
 * rejected draft saved as final-signed-contract.pdf read as the email's attachment (red team Y, Y-19).
 */
export function sentAs(d: Pick<DocumentRecord, 'path'>, m: Pick<DocumentMatch, 'filename'>): string {
  const own = normalizeFileName(d.path.split('/').pop() ?? '');
  return m.filename !== null && normalizeFileName(m.filename) !== own ? `, sent as ${m.filename}` : '';
}
