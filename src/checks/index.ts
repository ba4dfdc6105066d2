import { describeBodyTail, unsignedTail } from './body-tail.ts';
import { auditUnsignedContentType } from './content-type-unsigned.ts';
import { auditDateWeekday } from './date-weekday.ts';
import { auditDisplayNameAddress } from './display-name.ts';
import { auditFromAddressDisguised } from './from-address-disguised.ts';
import { auditGmailBoundary } from './gmail-boundary.ts';
import { auditHeaderCharset, auditHeaderRawBytes } from './header-charset.ts';
import { auditKeyLifetime } from './key-lifetime.ts';
import { auditKeyTestingMode } from './key-testing-mode.ts';
import { auditLenientAcceptance } from './lenient-acceptance.ts';
import { auditLookalikeDomain } from './lookalike-domain.ts';
import { auditPartHeaderEnds, auditUnsignedBoundary } from './part-headers.ts';
import { auditProviderFingerprints } from './provider-fingerprints.ts';
import { auditBodyLength, auditSignedHeaders } from './signed-headers.ts';
import { auditStructure } from './structure.ts';
import { auditTimeline } from './timeline.ts';
import type { Finding, MessageCheck, MessageCheckContext } from './types.ts';
import { auditVisibleHeaders } from './visible-headers.ts';
import { auditWeakHash } from './weak-hash.ts';

/**
 * Every per-message check, in the order their findings are listed. Each is a pure function of
 * the message and its verification results, documented in docs/checks.md.
 */
export const MESSAGE_CHECKS: ReadonlyArray<MessageCheck> = [
  (c) => auditSignedHeaders(c.headers.fields, c.signatures),
  (c) => auditBodyLength(c.signatures, (sig) => unsignedTail(c, sig)),
  describeBodyTail,
  auditVisibleHeaders,
  auditDisplayNameAddress,
  auditFromAddressDisguised,
  auditHeaderCharset,
  auditHeaderRawBytes,
  auditLookalikeDomain,
  // (a signed zoneless Date may be 14 h off: the key's dates are compared only with a Date that names its zone)
  (c) => auditKeyLifetime(c.signatures, c.headers.fields, c.meta.dateZoneKnown ? c.meta.date : null),
  (c) => auditKeyTestingMode(c.signatures),
  (c) => auditWeakHash(c.signatures),
  (c) => auditLenientAcceptance(c.signatures),
  auditTimeline,
  auditDateWeekday,
  auditStructure,
  auditPartHeaderEnds,
  auditUnsignedBoundary,
  auditUnsignedContentType,
  auditGmailBoundary,
  auditProviderFingerprints,
];

/**
 * Runs every check. A check that throws (a bug met on hostile input) contributes no finding
 * rather than failing the message: a check that cannot decide says nothing.
 */
export function runMessageChecks(context: MessageCheckContext): Finding[] {
  return MESSAGE_CHECKS.flatMap((check) => {
    try {
      return check(context);
    } catch {
      return [];
    }
  });
}
