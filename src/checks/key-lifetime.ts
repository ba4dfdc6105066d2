import type { KeySighting } from '../keys/types.ts';
import type { DkimSignatureResult } from '../verify/dkim.ts';
import type { Finding } from './types.ts';
import { signatureLabel } from './signed-headers.ts';

const DAY = 86_400_000;

/**
 * A signature that verifies with a key archived as in use from firstSeen to lastSeen, on a
 * message dated outside that window. Archives see keys at intervals, so a key may well have been
 * published before it was first seen: a warning to look closer, never proof of forgery.
 * Dates are compared by whole days. The key's known lifetime spans every source that saw it with
 * dates (seenWithDates), and the finding names each with its own dates: the record the signature
 * verified with may be a file with no dates while an archive of the same key has some.
 */
export function auditKeyLifetime(signatures: DkimSignatureResult[], messageTime: Date | null): Finding[] {
  const findings: Finding[] = [];
  for (const sig of signatures) {
    if (sig.outcome !== 'pass' || !sig.key) continue;
    const sightings: KeySighting[] = sig.key.seenWithDates?.length
      ? sig.key.seenWithDates
      : sig.key.firstSeen || sig.key.lastSeen
        ? [{ source: sig.key.source, origin: sig.key.origin, firstSeen: sig.key.firstSeen, lastSeen: sig.key.lastSeen }]
        : [];
    if (!sightings.length) continue;
    const signedAt = sig.tags.timestamp !== null ? new Date(sig.tags.timestamp * 1000) : messageTime;
    if (!signedAt) continue;
    const day = Math.floor(signedAt.getTime() / DAY);
    const firstSeen = earliest(sightings.map((s) => s.firstSeen));
    const lastSeen = latest(sightings.map((s) => s.lastSeen));
    const first = firstSeen ? Math.floor(Date.parse(firstSeen) / DAY) : null;
    const last = lastSeen ? Math.floor(Date.parse(lastSeen) / DAY) : null;
    const before = first !== null && day < first;
    const after = last !== null && day > last;
    if (!before && !after) continue;
    const span = (s: KeySighting): string => `${s.origin} saw this key only ${s.firstSeen?.slice(0, 10) ?? '?'} to ${s.lastSeen?.slice(0, 10) ?? '?'}`;
    findings.push({
      code: 'key-outside-known-lifetime',
      severity: 'warning',
      text: `Signed with a key not known to be in use at that date: the message is dated ${signedAt.toISOString().slice(0, 10)}, but ${sightings.map(span).join(', and ')}.`,
      evidence: {
        signature: signatureLabel(sig),
        signedAt: signedAt.toISOString(),
        signedAtSource: sig.tags.timestamp !== null ? 't=' : 'Date',
        firstSeen,
        lastSeen,
        keyOrigin: sig.key.origin,
        seenBy: sightings,
        fingerprint: sig.key.fingerprint,
      },
    });
  }
  return findings;
}

const earliest = (dates: Array<string | null>): string | null => dates.reduce<string | null>((a, b) => (a === null ? b : b === null || a < b ? a : b), null);
const latest = (dates: Array<string | null>): string | null => dates.reduce<string | null>((a, b) => (a === null ? b : b === null || a > b ? a : b), null);
