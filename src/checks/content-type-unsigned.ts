import { signatureLabel } from './signed-headers.ts';
import { multipartShownPartsProblem } from './multipart-shown-parts.ts';
import type { Finding, MessageCheck } from './types.ts';

/** Character sets in which a text reads the same whatever a reader guesses among them for ASCII. */
const PLAIN_CHARSETS = /^(?:us-ascii|utf-8|iso-8859-\d{1,2}|windows-125\d)$/;

/**
 * A single-part message whose Content-Type no passing signature by the From domain covers, and
 * which declares anything but plain text in a common character set. The body's bytes are
 * signed, but how a mail program shows them is not: changed from text/plain to text/html (or
 * added where there was none), "We will <not pay this invoice…> pay it on Friday" shows as "We
 * will pay it on Friday" (red team, round 4). Plain text in a common character set is left alone:
 * most signers that leave Content-Type out of h= send exactly that, and it reads the same if a
 * Content-Type is taken away. A multipart type decides which parts are shown: it is held against
 * the parts (multipart-shown-parts.ts); its boundary is the boundary checks' (part-headers.ts), a
 * Content-Type present twice content-header-ambiguous's.
 *
 * A warning, and the signature does not prove the message (docs/verdicts.md): the bytes are
 * genuine, what the reader sees of them is not proven.
 */
export const auditUnsignedContentType: MessageCheck = ({ bytes, headers, signatures }) => {
  const fields = headers.fields.filter((f) => f.name === 'content-type');
  if (fields.length !== 1) return [];
  const unsigned = signatures.filter((sig) => sig.outcome === 'pass' && sig.aligned && !sig.tags.signedHeaders.includes('content-type'));
  if (!unsigned.length) return [];
  const value = fields[0]!.value;
  const problem = shownPartsProblem(value, bytes, headers.headerBytes);
  if (problem === null) return [];
  return unsigned.map(
    (sig): Finding => ({
      code: 'content-type-not-signed',
      severity: 'warning',
      text: `The signature ${signatureLabel(sig)} does not cover Content-Type, which ${problem.what}: ${problem.consequence}`,
      evidence: { signature: signatureLabel(sig), contentType: value.slice(0, 300) },
    }),
  );
};

/** What the unsigned Content-Type decides about what a reader sees, when that is not the signed bytes as plain text. */
function shownPartsProblem(value: string, bytes: Buffer, bodyStart: number): { what: string; consequence: string } | null {
  const type = (value.split(';')[0] ?? '').trim().toLowerCase();
  if (type.startsWith('multipart/')) {
    const problem = multipartShownPartsProblem(bytes, bodyStart, value);
    return problem === null
      ? null
      : { what: problem, consequence: 'which of the signed parts a reader sees may have been changed after signing. The signed bytes are genuine; what a reader sees of them is not proven.' };
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(value)?.[1]?.toLowerCase() ?? null;
  if ((type === 'text/plain' || type === '') && (charset === null || PLAIN_CHARSETS.test(charset))) return null;
  return {
    what: `declares ${type || '(no type)'}${charset !== null ? `; charset=${charset}` : ''}`,
    consequence: 'how the signed body is shown (as HTML, in which character set) may have been changed after signing, or the header added. The signed bytes are genuine; what a reader sees of them is not proven.',
  };
}
