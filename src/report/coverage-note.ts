import type { DocumentMatch } from '../store/documents-pass.ts';

/** Why a match with a verified message does not prove the document's bytes. */
export function coverageNote(m: DocumentMatch): string {
  if (m.verdict !== 'verified') return '';
  if (m.strength === 'covered-except-whitespace') return '; its signature does not fix the whitespace of this attachment';
  if (m.strength === 'not-covered') return '; its signature does not cover this attachment';
  return '';
}
