import { speaksForAuthor } from './check-support.ts';
import { signatureLabel } from './signed-headers.ts';
import type { Finding, MessageCheck } from './types.ts';

/**
 * The headers a mail program shows a reader, besides From (which every passing signature
 * covers). Sender is shown too, where it differs from From: Outlook writes "Sender on behalf of
 * From".
 */
export const VISIBLE_HEADERS = ['subject', 'to', 'cc', 'reply-to', 'date', 'sender'] as const;

const DISPLAY: Record<string, string> = { subject: 'Subject', to: 'To', cc: 'Cc', 'reply-to': 'Reply-To', date: 'Date', sender: 'Sender', from: 'From' };

/**
 * Which visible headers present in the message no verifying signature by the From domain covers.
 * A signature proves only what its h= lists: an unsigned Subject or Date could have been changed
 * without breaking it. A signature by another domain covers nothing here: a forger who adds a Cc
 * or a Reply-To can sign it with a domain of their own, and such a signature says nothing about
 * what the From domain sent. Reported only when a signature by the From domain verifies
 * (otherwise nothing is proven, and the verdict says so).
 */
export const auditVisibleHeaders: MessageCheck = ({ headers, signatures }) => {
  const passing = signatures.filter((s) => s.outcome === 'pass');
  // (a weak or published key of the From domain covers nothing either: see speaksForAuthor)
  const proving = passing.filter(speaksForAuthor);
  if (proving.length === 0) return [];
  const covered = new Set(proving.flatMap((s) => s.tags.signedHeaders));
  const present = new Set(headers.fields.map((f) => f.name));
  const unsigned = VISIBLE_HEADERS.filter((h) => present.has(h) && !covered.has(h));
  if (unsigned.length === 0) return [];
  const others = passing.filter((s) => !s.aligned);
  const signedByOthers = unsigned.filter((h) => others.some((s) => s.tags.signedHeaders.includes(h))).map((h) => DISPLAY[h]!);
  const bodyFullyCovered = proving.some((s) => s.tags.bodyLength === null || (s.bodyBytesTotal ?? 0) <= (s.bodyBytesSigned ?? 0));
  const coveredVisible = ['from', ...VISIBLE_HEADERS].filter((h) => present.has(h) && covered.has(h));
  const names = unsigned.map((h) => DISPLAY[h]!);
  const verifiedPart = [bodyFullyCovered ? 'the body' : null, ...coveredVisible.map((h) => DISPLAY[h]!)].filter(Boolean);
  const finding: Finding = {
    code: 'visible-headers-unsigned',
    severity: 'info',
    text:
      `${capitalise(listing(verifiedPart as string[]))} ${verifiedPart.length === 1 ? 'is' : 'are'} verified, but no verifying signature by the From domain covers ${listing(names)}: ${names.length === 1 ? 'it' : 'they'} could have been changed without breaking the signature.` +
      (signedByOthers.length
        ? ` ${listing(signedByOthers)} ${signedByOthers.length === 1 ? 'is' : 'are'} signed only by ${listing([...new Set(others.map((s) => s.tags.domain ?? '?'))])}, which does not speak for the From domain (anyone can add a header and sign it with a domain of their own).`
        : ''),
    evidence: {
      headers: names,
      coveredHeaders: coveredVisible.map((h) => DISPLAY[h]!),
      bodyFullyCovered,
      signatures: proving.map(signatureLabel),
      signedOnlyByOtherDomains: signedByOthers,
      otherSignatures: others.map(signatureLabel),
    },
  };
  return [finding];
};

function listing(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
