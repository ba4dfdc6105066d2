import type { ParsedHeaders } from '../read/headers.ts';
import type { KeyLookup } from '../keys/types.ts';
import { arcKeyNamesAsked, verifyArc, type ArcVerification } from './arc.ts';
import { verifyDkim, type DkimVerification } from './dkim.ts';
import { mayCarrySignatureFields } from './signature-fields.ts';

/** A message with no ARC chain, or none that could be read. */
export const NO_ARC: ArcVerification = { result: 'none', reason: null, instances: [], sealerSawDkim: [] };

/** What verifyDkim makes of a message with no field mailauth would read as a signature or a seal. */
const NOTHING_SIGNED: SignaturesVerified['dkim'] = { signatures: [], notChecked: null, bodyHashes: [] };

export interface SignaturesVerified {
  dkim: Pick<DkimVerification, 'signatures' | 'notChecked' | 'bodyHashes'>;
  arc: ArcVerification;
}

/**
 * The DKIM signatures and the ARC chain of a message whose line endings are CRLF, judged at
 * `judgedAt` (see verifyDkim). Unsigned mail, most of a mailbox's Sent folder, is not handed to
 * mailauth, which would find nothing in it (mayCarrySignatureFields): the answer is the one
 * verifyDkim and verifyArc give such a message, which tests/verify/signature-fields.test.ts
 * compares on every message of the shared corpus.
 */
export async function verifySignatures(
  bytes: Buffer,
  { fields, headerBytes }: Pick<ParsedHeaders, 'fields' | 'headerBytes'>,
  judgedAt: Date | null,
  lookup: KeyLookup,
): Promise<SignaturesVerified> {
  if (!mayCarrySignatureFields(bytes, headerBytes)) return { dkim: NOTHING_SIGNED, arc: NO_ARC };
  // With no time at all, expiry is not judged (epoch) rather than judged at today, which would
  // make the verdict depend on the day of the run.
  const dkim = await verifyDkim(bytes, fields, { lookup, curTime: judgedAt ?? new Date(0), askAhead: arcKeyNamesAsked(fields) });
  return { dkim, arc: await verifyArc(dkim.arc, fields) };
}
