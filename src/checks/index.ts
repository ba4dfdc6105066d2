import { auditKeyLifetime } from './key-lifetime.ts';
import { auditBodyLength, auditSignedHeaders } from './signed-headers.ts';
import type { Finding, MessageCheck, MessageCheckContext } from './types.ts';
import { auditWeakHash } from './weak-hash.ts';

/**
 * Every per-message check, in the order their findings are listed. Each is a pure function of
 * the message and its verification results, documented in docs/checks.md.
 */
export const MESSAGE_CHECKS: ReadonlyArray<MessageCheck> = [
  (c) => auditSignedHeaders(c.headers.fields, c.signatures),
  (c) => auditBodyLength(c.signatures),
  (c) => auditKeyLifetime(c.signatures, c.judgedAt),
  (c) => auditWeakHash(c.signatures),
];

export function runMessageChecks(context: MessageCheckContext): Finding[] {
  return MESSAGE_CHECKS.flatMap((check) => check(context));
}
