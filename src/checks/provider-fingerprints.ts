import { escapeControls, topBoundary } from './check-support.ts';
import { isGmailMessageId } from './gmail-boundary.ts';
import type { Finding, MessageCheck } from './types.ts';

export type Provider = 'gmail' | 'outlook' | 'icloud';

const PROVIDER_NAME: Record<Provider, string> = { gmail: 'Gmail', outlook: 'Outlook.com', icloud: 'iCloud Mail' };

/** The consumer provider a From domain belongs to, or null for every other domain. */
export function providerOfDomain(domain: string | null): Provider | null {
  if (!domain) return null;
  const d = domain.toLowerCase();
  if (d === 'gmail.com' || d === 'googlemail.com') return 'gmail';
  if (d === 'msn.com' || d === 'windowslive.com' || /^(?:outlook|hotmail|live)\.(?:com|(?:co\.|com\.)?[a-z]{2})$/.test(d)) return 'outlook';
  if (d === 'icloud.com' || d === 'me.com' || d === 'mac.com') return 'icloud';
  return null;
}

/** A trace left by the software that built the message. */
interface Mark {
  field: 'Message-ID' | 'boundary' | 'X-Mailer' | 'User-Agent';
  value: string;
  /** who made it */
  maker: 'gmail' | 'microsoft' | 'icloud-web' | 'apple-mail' | 'thunderbird';
  /** in words, for the sentence */
  says: string;
}

/** Marks that only a provider's own servers leave, and the provider they belong to. */
const SERVER_MAKER: Partial<Record<Mark['maker'], Provider>> = { gmail: 'gmail', microsoft: 'outlook', 'icloud-web': 'icloud' };

function marks(messageId: string | null, boundary: string | null, mailer: { field: 'X-Mailer' | 'User-Agent'; value: string } | null): Mark[] {
  const found: Mark[] = [];
  const host = messageId ? /@([^@<>\s]{1,255})>?\s*$/.exec(messageId.slice(0, 1000))?.[1]?.toLowerCase() ?? null : null;
  if (messageId && host) {
    if (isGmailMessageId(messageId)) found.push({ field: 'Message-ID', value: messageId, maker: 'gmail', says: "Gmail's composer (web or app) made the Message-ID" });
    else if (host === 'mx.google.com') found.push({ field: 'Message-ID', value: messageId, maker: 'gmail', says: "Gmail's outgoing servers made the Message-ID" });
    else if (/\.outlook\.com$/.test(host) || /(?:^|\.)phx\.gbl$/.test(host)) {
      found.push({ field: 'Message-ID', value: messageId, maker: 'microsoft', says: "Microsoft's mail servers (Outlook.com, Hotmail, Exchange Online) made the Message-ID" });
    }
  }
  if (boundary) {
    if (/^0{12}[0-9a-f]{16}$/.test(boundary)) found.push({ field: 'boundary', value: boundary, maker: 'gmail', says: 'the MIME boundary is in the form only Gmail writes' });
    else if (/^_\d{3}_.{8,}_$/.test(boundary)) found.push({ field: 'boundary', value: boundary, maker: 'microsoft', says: 'the MIME boundary is in the form Microsoft Exchange and Outlook.com write' });
    else if (/^Apple-Mail[=-]/.test(boundary)) found.push({ field: 'boundary', value: boundary, maker: 'apple-mail', says: "the MIME boundary is Apple Mail's" });
    else if (/^-{12}[0-9A-Za-z]{24}$/.test(boundary)) found.push({ field: 'boundary', value: boundary, maker: 'thunderbird', says: "the MIME boundary is Thunderbird's" });
  }
  if (mailer) {
    const v = mailer.value.slice(0, 300);
    if (/iCloud MailClient/i.test(v)) found.push({ ...mailer, value: v, maker: 'icloud-web', says: `${mailer.field} names iCloud's web mail` });
    else if (/^(?:Apple Mail|iPhone Mail|iPad Mail)\b/i.test(v)) found.push({ ...mailer, value: v, maker: 'apple-mail', says: `${mailer.field} names Apple Mail` });
    else if (/Thunderbird|Icedove/i.test(v)) found.push({ ...mailer, value: v, maker: 'thunderbird', says: `${mailer.field} names Thunderbird` });
  }
  return found;
}

/**
 * The software fingerprints of a message (Message-ID form, MIME boundary style, X-Mailer or
 * User-Agent) against the provider its From address belongs to, and against each other.
 * Only traces one provider's own servers leave are compared with the From provider: a Gmail
 * address used in Apple Mail or Thunderbird is ordinary. Warnings, never proof: "send mail
 * as" and Gmailify legitimately send one provider's address from another's composer, so a
 * message whose From domain's own signature verifies is not reported.
 */
export const auditProviderFingerprints: MessageCheck = ({ headers, meta, signatures }) => {
  const fields = headers.fields;
  const mailerField = fields.find((f) => f.name === 'x-mailer') ?? fields.find((f) => f.name === 'user-agent');
  const mailer = mailerField ? { field: (mailerField.name === 'x-mailer' ? 'X-Mailer' : 'User-Agent') as 'X-Mailer' | 'User-Agent', value: mailerField.value } : null;
  const found = marks(meta.messageId, topBoundary(fields), mailer);
  if (found.length === 0) return [];
  const findings: Finding[] = [];
  const evidenceOf = (m: Mark) => ({ field: m.field, value: m.value.slice(0, 300), madeBy: m.maker });

  const claimed = providerOfDomain(meta.fromDomain);
  const fromDomainVerified = signatures.some((s) => s.outcome === 'pass' && s.aligned);
  if (claimed && !fromDomainVerified) {
    const foreign = found.filter((m) => SERVER_MAKER[m.maker] !== undefined && SERVER_MAKER[m.maker] !== claimed);
    if (foreign.length) {
      const other = PROVIDER_NAME[SERVER_MAKER[foreign[0]!.maker]!];
      findings.push({
        code: 'provider-fingerprint-mismatch',
        severity: 'warning',
        text: `The From address is at ${escapeControls(meta.fromDomain ?? '', 100)} (${PROVIDER_NAME[claimed]}), but ${foreign.map((m) => m.says).join(' and ')}: the message was built by ${other}, not ${PROVIDER_NAME[claimed]}. Sending one provider's address through another ("send mail as") does this; so does a forgery.`,
        evidence: { fromDomain: meta.fromDomain, claimedProvider: PROVIDER_NAME[claimed], builtBy: other, fingerprints: foreign.map(evidenceOf) },
      });
    }
  }

  const gmailBoundary = found.find((m) => m.field === 'boundary' && m.maker === 'gmail');
  const gmailComposerId = found.find((m) => m.field === 'Message-ID' && m.maker === 'gmail' && isGmailMessageId(m.value));
  const clientMailer = found.find((m) => (m.field === 'X-Mailer' || m.field === 'User-Agent') && (m.maker === 'apple-mail' || m.maker === 'thunderbird'));
  const clientBoundary = found.find((m) => m.field === 'boundary' && (m.maker === 'apple-mail' || m.maker === 'thunderbird'));
  const pairs: Array<[Mark, Mark]> = [];
  if (gmailBoundary && clientMailer) pairs.push([gmailBoundary, clientMailer]);
  if (gmailComposerId && clientBoundary) pairs.push([gmailComposerId, clientBoundary]);
  if (pairs.length) {
    findings.push({
      code: 'fingerprint-conflict',
      severity: 'warning',
      text: `The message's own traces disagree about which program made it: ${pairs.map(([a, b]) => `${a.says}, but ${b.says}`).join('; ')}. One program builds a message; parts of two suggest it was pieced together.`,
      evidence: { pairs: pairs.map(([a, b]) => [evidenceOf(a), evidenceOf(b)]) },
    });
  }
  return findings;
};
