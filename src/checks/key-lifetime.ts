import type { KeySighting } from '../keys/types.ts';
import type { HeaderField } from '../read/headers.ts';
import type { DkimSignatureResult } from '../verify/dkim.ts';
import { headerAttested } from './check-support.ts';
import type { Finding } from './types.ts';
import { signatureLabel } from './signed-headers.ts';

const DAY = 86_400_000;

/**
 * A signature that verifies with a key archived as in use from firstSeen to lastSeen, made or
 * dated outside that window. Archives see keys at intervals, so a key may well have been
 * published before it was first seen: a warning to look closer, never proof of forgery.
 * Two times are compared, each named in the text as what it is: the signing time (t=), and the
 * Date when this signature covers it. They can disagree (an author's clock days off, a message
 * held in an outbox), and a Date the key's own signature vouches for that falls outside the key's
 * known lifetime is as worth a look as a t= outside it (red team R, R-08: only t= was compared, and
 * it was called the date). An unsigned Date is anyone's to edit and is not compared.
 * Dates are compared by whole days. The key's known lifetime spans every source that saw it with
 * dates (seenWithDates), and the finding names each with its own dates: the record the signature
 * verified with may be a file with no dates while an archive of the same key has some.
 */
export function auditKeyLifetime(signatures: DkimSignatureResult[], fields: HeaderField[], date: string | null): Finding[] {
  const findings: Finding[] = [];
  for (const sig of signatures) {
    if (sig.outcome !== 'pass' || !sig.key) continue;
    const sightings: KeySighting[] = sig.key.seenWithDates?.length
      ? sig.key.seenWithDates
      : sig.key.firstSeen || sig.key.lastSeen
        ? [{ source: sig.key.source, origin: sig.key.origin, firstSeen: sig.key.firstSeen, lastSeen: sig.key.lastSeen }]
        : [];
    if (!sightings.length) continue;
    const firstSeen = earliest(sightings.map((s) => s.firstSeen));
    const lastSeen = latest(sightings.map((s) => s.lastSeen));
    const first = firstSeen ? Math.floor(Date.parse(firstSeen) / DAY) : null;
    const last = lastSeen ? Math.floor(Date.parse(lastSeen) / DAY) : null;
    const outside = (at: Date): boolean => {
      const day = Math.floor(at.getTime() / DAY);
      return (first !== null && day < first) || (last !== null && day > last);
    };
    const signedAt = sig.tags.timestamp !== null ? new Date(sig.tags.timestamp * 1000) : null;
    const signedDate = date !== null && headerAttested(fields, [sig], 'date') ? new Date(date) : null;
    const tOutside = signedAt !== null && outside(signedAt);
    const dateOutside = signedDate !== null && outside(signedDate);
    if (!tOutside && !dateOutside) continue;
    const dateSays = `its Date, which this signature covers`;
    const times =
      tOutside && dateOutside && day(signedAt) === day(signedDate)
        ? [`it was signed (t=) on ${day(signedAt)}, as ${dateSays}, says`]
        : [...(tOutside ? [`it was signed (t=) on ${day(signedAt!)}`] : []), ...(dateOutside ? [`${dateSays}, is ${day(signedDate!)}`] : [])];
    const span = (s: KeySighting): string => `${s.origin} saw this key only ${s.firstSeen?.slice(0, 10) ?? '?'} to ${s.lastSeen?.slice(0, 10) ?? '?'}`;
    findings.push({
      code: 'key-outside-known-lifetime',
      severity: 'warning',
      text: `Signed with a key not known to be in use at that date: ${times.join(', and ')}, but ${sightings.map(span).join(', and ')}.`,
      evidence: {
        signature: signatureLabel(sig),
        signedAt: (signedAt ?? signedDate)!.toISOString(),
        signedAtSource: signedAt ? 't=' : 'Date',
        signedDate: signedDate?.toISOString() ?? null,
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

const day = (at: Date): string => at.toISOString().slice(0, 10);
const earliest = (dates: Array<string | null>): string | null => dates.reduce<string | null>((a, b) => (a === null ? b : b === null || a < b ? a : b), null);
const latest = (dates: Array<string | null>): string | null => dates.reduce<string | null>((a, b) => (a === null ? b : b === null || a > b ? a : b), null);
