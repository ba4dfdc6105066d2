import { signatureLabel } from './signed-headers.ts';
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
 * Content-Type is taken away. Multipart types are the boundary checks' (part-headers.ts), a
 * Content-Type present twice content-header-ambiguous's.
 *
 * A warning, and the signature does not prove the message (docs/verdicts.md): the bytes are
 * genuine, what the reader sees of them is not proven.
 */
export const auditUnsignedContentType: MessageCheck = ({ headers, signatures }) => {
  const fields = headers.fields.filter((f) => f.name === 'content-type');
  if (fields.length !== 1) return [];
  const value = fields[0]!.value;
  const type = (value.split(';')[0] ?? '').trim().toLowerCase();
  if (type.startsWith('multipart/')) return [];
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(value)?.[1]?.toLowerCase() ?? null;
  if ((type === 'text/plain' || type === '') && (charset === null || PLAIN_CHARSETS.test(charset))) return [];
  const declared = `${type || '(no type)'}${charset !== null ? `; charset=${charset}` : ''}`;
  const findings: Finding[] = [];
  for (const sig of signatures) {
    if (sig.outcome !== 'pass' || !sig.aligned || sig.tags.signedHeaders.includes('content-type')) continue;
    findings.push({
      code: 'content-type-not-signed',
      severity: 'warning',
      text:
        `The signature ${signatureLabel(sig)} does not cover Content-Type, which declares ${declared}: how the signed body is shown (as HTML, in which character set) ` +
        'may have been changed after signing, or the header added. The signed bytes are genuine; what a reader sees of them is not proven.',
      evidence: { signature: signatureLabel(sig), contentType: value.slice(0, 300) },
    });
  }
  return findings;
};
