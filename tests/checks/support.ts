/**
 * Building blocks for the per-message check tests: a check context from raw message text, and
 * signature results made from a DKIM-Signature value without any cryptography (the checks
 * only read tags and outcomes).
 */
import type { MessageCheckContext } from '../../src/checks/types.ts';
import { parseHeaders } from '../../src/read/headers.ts';
import { readMessageMeta } from '../../src/read/message-meta.ts';
import type { ArcVerification } from '../../src/verify/arc.ts';
import type { DkimSignatureResult, KeyUsed, SignatureOutcome } from '../../src/verify/dkim.ts';
import { readSignatureTags } from '../../src/verify/signature-tags.ts';

export const NO_ARC: ArcVerification = { result: 'none', reason: null, instances: [], sealerSawDkim: [] };

/** A CRLF message from header lines and a body. */
export function message(headers: string[], body = 'Hello Bob,\r\n\r\nSee you tomorrow.\r\n\r\nAlice\r\n'): string {
  return `${headers.join('\r\n')}\r\n\r\n${body}`;
}

/** The usual headers of a small message, with any replaced or added. */
export function headersWith(overrides: Record<string, string | null> = {}, extra: string[] = []): string[] {
  const base: Record<string, string> = {
    From: 'Alice Example <alice@example.com>',
    To: 'Bob <bob@example.org>',
    Subject: 'Quarterly numbers',
    Date: 'Mon, 14 Mar 2016 09:26:50 +0000',
    'Message-ID': '<20160314092650.1234@example.com>',
    'MIME-Version': '1.0',
    'Content-Type': 'text/plain; charset=us-ascii',
  };
  const lines: string[] = [...extra];
  for (const [name, value] of Object.entries({ ...base, ...overrides })) if (value !== null) lines.push(`${name}: ${value}`);
  return lines;
}

export interface FakeSignature {
  /** the DKIM-Signature value (tags); b= and bh= may be left out */
  tags: string;
  outcome?: SignatureOutcome;
  aligned?: boolean;
  bodyBytesSigned?: number | null;
  bodyBytesTotal?: number | null;
  index?: number;
  /**
   * the key the outcome was reached with: by default, for a passing signature, a strong RSA key
   * nobody else holds (what a real pass has), and none otherwise; `weakKey` and
   * `compromisedKey` give the keys that prove nothing
   */
  key?: KeyUsed | null;
}

/** A strong RSA key from a key file, known to no compromised list. */
export function strongKey(overrides: Partial<KeyUsed> = {}): KeyUsed {
  return {
    name: 'sel._domainkey.example.com',
    txt: 'v=DKIM1; k=rsa; p=MIIB',
    source: 'file',
    origin: 'keys.json',
    fetchedAt: null,
    firstSeen: null,
    lastSeen: null,
    keyType: 'rsa',
    bits: 2048,
    fingerprint: 'sha256:00',
    fingerprintMd5: null,
    revoked: false,
    strong: true,
    compromised: null,
    ...overrides,
  };
}

export const weakKey = (): KeyUsed => strongKey({ bits: 512, strong: false });
export const compromisedKey = (): KeyUsed => strongKey({ compromised: 'compromised.txt' });

export function fakeSignature(spec: FakeSignature): DkimSignatureResult {
  const tags = readSignatureTags(spec.tags);
  return {
    index: spec.index ?? 0,
    tags,
    result: spec.outcome === 'pass' || spec.outcome === undefined ? 'pass' : 'neutral',
    comment: null,
    outcome: spec.outcome ?? 'pass',
    keyName: tags.domain && tags.selector ? `${tags.selector}._domainkey.${tags.domain}` : null,
    key: spec.key !== undefined ? spec.key : (spec.outcome ?? 'pass') === 'pass' ? strongKey({ name: tags.domain && tags.selector ? `${tags.selector}._domainkey.${tags.domain}` : 'unknown' }) : null,
    keyLookup: 'found',
    aligned: spec.aligned ?? true,
    headerSignatureValid: null,
    bodyBytesSigned: spec.bodyBytesSigned ?? null,
    bodyBytesTotal: spec.bodyBytesTotal ?? null,
    warnings: [],
  };
}

/** The context a check sees, for `raw` (CRLF text or bytes). */
export function context(raw: string | Buffer, signatures: DkimSignatureResult[] = [], arc: ArcVerification = NO_ARC): MessageCheckContext {
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw;
  const headers = parseHeaders(bytes);
  const meta = readMessageMeta(headers, bytes);
  return { bytes, headers, meta, signatures, arc, judgedAt: meta.date ? new Date(meta.date) : null };
}

/** Unix seconds of an ISO time, for t= tags. */
export const unix = (isoTime: string): number => Date.parse(isoTime) / 1000;
