import type { HeaderField } from '../read/headers.ts';
import type { DkimSignatureResult } from '../verify/dkim.ts';
import { speaksForAuthor } from './check-support.ts';
import type { Finding } from './types.ts';

/**
 * Fields a reader relies on, or that change how the body is shown. RFC 5322 allows each of the
 * first group once; an extra unsigned copy above the signed one is what mail programs display,
 * which is the header-injection attack of "Composition Kills" (USENIX Security 2020).
 */
export const SINGLETON_FIELDS = [
  'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'message-id', 'in-reply-to', 'references', 'subject', 'date',
] as const;
const CONTENT_FIELDS = ['content-type', 'content-transfer-encoding', 'mime-version'];
const PROTECTED = new Set<string>([...SINGLETON_FIELDS, ...CONTENT_FIELDS]);

/**
 * For every signature that verifies, compares how often each field in h= occurs in the message
 * with how often it was signed. DKIM signs the bottom-most instances, so extra instances are
 * the top-most ones.
 */
export function auditSignedHeaders(fields: HeaderField[], signatures: DkimSignatureResult[]): Finding[] {
  const findings: Finding[] = [];
  for (const sig of signatures) {
    if (sig.outcome !== 'pass') continue;
    const signedCount = new Map<string, number>();
    for (const name of sig.tags.signedHeaders) signedCount.set(name, (signedCount.get(name) ?? 0) + 1);
    for (const [name, signed] of signedCount) {
      const present = fields.filter((f) => f.name === name);
      if (present.length <= signed) continue;
      const extra = present.slice(0, present.length - signed);
      const evidence = {
        signature: signatureLabel(sig),
        header: name,
        present: present.length,
        signed,
        unsignedValues: extra.map((f) => f.value.slice(0, 500)),
        unsignedPositions: extra.map((f) => f.position),
      };
      findings.push(
        PROTECTED.has(name)
          ? {
              code: 'header-injected',
              severity: 'red-flag',
              text: `The message has ${present.length} ${displayName(name)} headers but the signature by ${sig.tags.domain} covers only ${signed}: the extra one above the signed one was added afterwards, and it is what mail programs display.`,
              evidence,
            }
          : {
              code: 'header-unsigned-instance',
              severity: 'info',
              text: `${present.length - signed} ${displayName(name)} header(s) above the ones signed by ${sig.tags.domain} were added after signing, as relays normally do for this header.`,
              evidence,
            },
      );
    }
  }
  findings.push(...auditUnsignedContentFields(fields, signatures));
  return dedupe(findings);
}

/**
 * Content-Type and Content-Transfer-Encoding decide how the signed body bytes are shown: which
 * part is the text, where parts begin, how they decode. Many signers leave them out of h=
 * (Gmail does), so a copy added to a verified message changes what the reader sees without
 * breaking the signature, and mail programs differ in which copy they use. One copy unsigned is
 * normal; two, when no verifying signature aligned with the From domain covers the field, are a
 * red flag. A signature by another domain does not count: a forger who adds a copy can sign both
 * copies with a domain of their own (h= naming the field twice), and then no count is off.
 */
function auditUnsignedContentFields(fields: HeaderField[], signatures: DkimSignatureResult[]): Finding[] {
  const proving = signatures.filter((s) => s.outcome === 'pass');
  if (!proving.length) return [];
  return ['content-type', 'content-transfer-encoding'].flatMap((name) => {
    const present = fields.filter((f) => f.name === name);
    if (present.length < 2 || proving.some((s) => speaksForAuthor(s) && s.tags.signedHeaders.includes(name))) return [];
    const { coveredByUnaligned, coveredByKeyThatProvesNothing, note } = signedWithoutProof(proving, name);
    return [
      {
        code: 'content-header-ambiguous',
        severity: 'red-flag' as const,
        text:
          `The message has ${present.length} ${displayName(name)} headers and no verifying signature by the From domain covers them: one was added after signing, and the copy a mail program uses decides how the signed body is shown.` +
          (note ? ` ${note.charAt(0).toUpperCase()}${note.slice(1)}.` : ''),
        evidence: {
          header: name,
          present: present.length,
          signatures: proving.map(signatureLabel),
          coveredByUnaligned,
          coveredByKeyThatProvesNothing,
          values: present.slice(0, 10).map((f) => f.value.slice(0, 500)),
          positions: present.slice(0, 10).map((f) => f.position),
        },
      },
    ];
  });
}

/**
 * The passing signatures that cover `name` without speaking for the author (speaksForAuthor):
 * another domain's, and the From domain's made with a weak or compromised key; and a sentence
 * saying why neither counts, or '' when there are none.
 */
export function signedWithoutProof(passing: DkimSignatureResult[], name: string): { coveredByUnaligned: string[]; coveredByKeyThatProvesNothing: string[]; note: string } {
  const covering = passing.filter((s) => s.tags.signedHeaders.includes(name) && !speaksForAuthor(s));
  const coveredByUnaligned = covering.filter((s) => !s.aligned).map(signatureLabel);
  const coveredByKeyThatProvesNothing = covering.filter((s) => s.aligned).map(signatureLabel);
  const notes = [
    coveredByUnaligned.length ? `${coveredByUnaligned.join(', ')} covers it, but a signature by another domain proves nothing about what the From domain sent` : '',
    coveredByKeyThatProvesNothing.length ? `${coveredByKeyThatProvesNothing.join(', ')} covers it, but with a key that proves nothing (too weak, or known to be compromised): anyone may have made that signature` : '',
  ].filter(Boolean);
  return { coveredByUnaligned, coveredByKeyThatProvesNothing, note: notes.join('; ') };
}

/** Content after the signed length (l=) is what an attacker appends to a genuine message. */
export function auditBodyLength(signatures: DkimSignatureResult[], tailOf?: (sig: DkimSignatureResult) => Buffer): Finding[] {
  const findings: Finding[] = [];
  // A second signature by the From domain over the whole body (an application signs with l=,
  // the outbound server again without) covers what the first leaves out: then the unsigned tail
  // is only a fact about the first signature, not content nobody signed.
  const wholeBody = signatures.find(
    (s) => speaksForAuthor(s) && s.tags.bodyLength === null && s.tags.signedHeaders.includes('from'),
  );
  for (const sig of signatures) {
    if (sig.outcome !== 'pass' || sig.tags.bodyLength === null) continue;
    const signed = sig.bodyBytesSigned ?? 0;
    const total = sig.bodyBytesTotal ?? 0;
    if (total <= signed) continue;
    const evidence = { signature: signatureLabel(sig), l: sig.tags.bodyLength, signedBytes: signed, totalBytes: total, unsignedBytes: total - signed };
    // Simple canonicalization signs a CRLF of its own for an empty body and keeps one line end
    // of trailing blank lines: with l=0, or l= short of it, those bytes are "more" without being
    // anything a reader sees, and a genuine message read as added to (red team P, P-01). Blanks
    // alone add nothing either; relaxed canonicalization drops them all.
    const tail = tailOf?.(sig);
    if (tail && BLANK_ONLY.test(tail.toString('latin1'))) {
      findings.push({
        code: 'body-blank-after-l',
        severity: 'info',
        text: `The signature by ${sig.tags.domain} covers the first ${signed} bytes of the body (l=${sig.tags.bodyLength}); what follows is ${tail.length ? `${tail.length} bytes of blank lines and spaces` : 'the line end simple canonicalization gives an empty body'}, which show nothing.`,
        evidence: { ...evidence, unsignedStoredBytes: tail.length },
      });
      continue;
    }
    findings.push(
      wholeBody
        ? {
            code: 'body-content-after-l',
            severity: 'info',
            text: `The signature by ${sig.tags.domain} covers only the first ${signed} bytes of the body (l=${sig.tags.bodyLength}); the ${total - signed} bytes after them are covered by ${signatureLabel(wholeBody)}, a signature by the From domain over the whole body.`,
            evidence: { ...evidence, coveredBy: signatureLabel(wholeBody) },
          }
        : {
            code: 'body-content-after-l',
            severity: 'red-flag',
            text: `The signature by ${sig.tags.domain} covers only the first ${signed} bytes of the body (l=${sig.tags.bodyLength}); ${total - signed} more bytes follow that nobody signed.`,
            evidence,
          },
    );
  }
  return findings;
}

/** Spaces, tabs and line ends only: nothing a reader is shown. */
const BLANK_ONLY = /^[ \t\r\n]*$/;

export const signatureLabel = (sig: DkimSignatureResult): string =>
  `#${sig.index + 1} d=${sig.tags.domain ?? '?'} s=${sig.tags.selector ?? '?'}`;

const displayName = (name: string): string => name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.code}:${String(f.evidence['header'])}:${String(f.evidence['signature'])}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
