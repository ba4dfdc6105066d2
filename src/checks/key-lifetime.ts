import type { DkimSignatureResult } from '../verify/dkim.ts';
import type { Finding } from './types.ts';
import { signatureLabel } from './signed-headers.ts';

const DAY = 86_400_000;

/**
 * A signature that verifies with a key archived as in use from firstSeen to lastSeen, on a
 * message dated outside that window. Archives see keys at intervals, so a key may well have been
 * published before it was first seen: a warning to look closer, never proof of forgery.
 * Dates are compared by whole days.
 */
export function auditKeyLifetime(signatures: DkimSignatureResult[], messageTime: Date | null): Finding[] {
  const findings: Finding[] = [];
  for (const sig of signatures) {
    if (sig.outcome !== 'pass' || !sig.key || (!sig.key.firstSeen && !sig.key.lastSeen)) continue;
    const signedAt = sig.tags.timestamp !== null ? new Date(sig.tags.timestamp * 1000) : messageTime;
    if (!signedAt) continue;
    const day = Math.floor(signedAt.getTime() / DAY);
    const first = sig.key.firstSeen ? Math.floor(Date.parse(sig.key.firstSeen) / DAY) : null;
    const last = sig.key.lastSeen ? Math.floor(Date.parse(sig.key.lastSeen) / DAY) : null;
    const before = first !== null && day < first;
    const after = last !== null && day > last;
    if (!before && !after) continue;
    findings.push({
      code: 'key-outside-known-lifetime',
      severity: 'warning',
      text: `Signed with a key not known to be in use at that date: the message is dated ${signedAt.toISOString().slice(0, 10)}, but ${sig.key.origin} saw this key only ${sig.key.firstSeen?.slice(0, 10) ?? '?'} to ${sig.key.lastSeen?.slice(0, 10) ?? '?'}.`,
      evidence: {
        signature: signatureLabel(sig),
        signedAt: signedAt.toISOString(),
        signedAtSource: sig.tags.timestamp !== null ? 't=' : 'Date',
        firstSeen: sig.key.firstSeen,
        lastSeen: sig.key.lastSeen,
        keyOrigin: sig.key.origin,
        fingerprint: sig.key.fingerprint,
      },
    });
  }
  return findings;
}
