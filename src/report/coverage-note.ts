import { normalizeFileName } from '../attachments/inventory.ts';
import { isRedFlag, type DocumentMatch, type DocumentRecord, type NameConflict } from '../store/documents-pass.ts';
import { recordedLabel } from './message-label.ts';

/** Why a match with a verified message does not prove the document's bytes. */
export function coverageNote(m: DocumentMatch): string {
  if (m.verdict !== 'verified') return '';
  if (m.strength === 'covered-except-whitespace') return '; its signature does not fix the whitespace of this attachment';
  if (m.strength === 'covered-ambiguous-decoding') return '; its signature fixes the base64 text of this attachment, which mail programs decode to different bytes (data after its padding, or characters outside the alphabet)';
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
  const spelt = c.readsLike ? `a document whose name reads like this one but is spelt with other characters (${c.otherName ?? c.filename ?? '?'})` : 'a document with this name';
  // a name the part declares beside the one leakcheck lists it by, which other readers save it under (red team Y, Y-16)
  const declared = c.otherName !== undefined ? `${spelt} (one of the names the attachment declares, which some mail programs save it under; others name it ${c.filename ?? '?'})` : spelt;
  const which = c.genericName ? `${declared}, one mail programs give to parts their sender did not name,` : declared;
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
export function conflictDifference(c: NameConflict): string {
  const difference = c.blanksMoved
    ? 'with the same content but for spaces and tabs inside its lines, which the signature does not fix (in tab-separated or aligned text, values moved to other columns)'
    : 'with different content';
  // (generic-names.ts: thousands of unrelated emails send an image001.png each)
  return c.genericName ? `${difference}, as is expected under such a name: not a red flag, since the name says nothing about which document this is` : difference;
}

/** The listing's label for a document's name conflicts: its red flags, or a note when all are on names mail programs make up. */
export function conflictLabel(conflicts: readonly NameConflict[]): string {
  const flags = conflicts.filter(isRedFlag);
  if (!flags.length) return 'note: a name mail programs make up';
  if (flags.every((c) => c.readsLike)) return 'RED FLAG: look-alike name';
  return flags.every((c) => c.blanksMoved) ? 'RED FLAG: spaces or tabs moved' : 'RED FLAG: name conflict';
}

/**
 * Whether the name conflicts a report leaves out past the first `shown` may hold a red flag:
 * red flags are kept first (NAME_CONFLICTS_KEPT), so those past the kept ones may be red flags
 * only when the last kept one is.
 */
export const redFlagsPast = (d: Pick<DocumentRecord, 'nameConflicts' | 'nameConflictsTotal'>, shown: number): boolean =>
  d.nameConflicts.slice(shown).some(isRedFlag) || (d.nameConflictsTotal > d.nameConflicts.length && isRedFlag(d.nameConflicts.at(-1)!));

/**
 * ", sent as NAME" when the email sent these bytes under another name than the document's: a
 * rejected draft saved as final-signed-contract.pdf read as the email's attachment (red team Y, Y-19).
 */
export function sentAs(d: Pick<DocumentRecord, 'path'>, m: Pick<DocumentMatch, 'filename'>): string {
  const own = normalizeFileName(d.path.split('/').pop() ?? '');
  return m.filename !== null && normalizeFileName(m.filename) !== own ? `, sent as ${m.filename}` : '';
}
