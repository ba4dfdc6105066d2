import type { DumpCheck, DumpFinding, DumpMessage } from './types.ts';

/** Clocks of different senders disagree by minutes; a reply is not flagged for less. */
export const THREAD_TOLERANCE_MS = 15 * 60_000;

/** The Message-IDs a message answers (In-Reply-To, then References), each once, never its own. */
export function parentIds(reply: DumpMessage): string[] {
  return [...new Set([reply.inReplyTo, ...reply.references].filter((id): id is string => !!id && id !== reply.messageId))];
}

/**
 * A reply cannot be older than the message it answers. When the parent is in the dump and
 * dated after its reply, one of the two dates is false; the unverified one carries the flag
 * (a verified Date is signed and proven).
 */
export const threadOrder: DumpCheck = (messages) => {
  const byMessageId = new Map<string, DumpMessage>();
  for (const m of messages) if (m.messageId && !byMessageId.has(m.messageId)) byMessageId.set(m.messageId, m);
  return messages.flatMap((reply) => replyFindings(reply, (id) => byMessageId.get(id)));
};

/**
 * What one message says about its thread, given the dump's first message (in path order) for
 * each Message-ID: findings for the reply, and for a parent dated after it. The dump pass calls
 * it reply by reply, looking the parents up in the database, so that no map of the whole dump is
 * held in memory.
 */
export function replyFindings(reply: DumpMessage, firstWithId: (messageId: string) => DumpMessage | undefined): DumpFinding[] {
  const parents = parentIds(reply);
  if (!parents.length) return [];
  const findings: DumpFinding[] = [];
  const present = parents.map(firstWithId).filter((p): p is DumpMessage => p !== undefined);
  if (reply.inReplyTo && !firstWithId(reply.inReplyTo)) {
    findings.push({
      messageId: reply.id,
      finding: {
        code: 'thread-parent-missing',
        severity: 'info',
        text: 'This message replies to a message that is not in the dump.',
        evidence: { inReplyTo: reply.inReplyTo },
      },
    });
  }
  if (!reply.date) return findings;
  for (const parent of present) {
    if (!parent.date) continue;
    const lead = Date.parse(parent.date) - Date.parse(reply.date);
    if (lead <= THREAD_TOLERANCE_MS) continue;
    const evidence = {
      reply: { where: reply.where, date: reply.date, verdict: reply.verdict },
      parent: { where: parent.where, messageIdHeader: parent.messageId, date: parent.date, verdict: parent.verdict },
      leadMinutes: Math.round(lead / 60_000),
      toleranceMinutes: THREAD_TOLERANCE_MS / 60_000,
    };
    const text = `${reply.where} replies to ${parent.where}, which is dated ${Math.round(lead / 60_000)} minutes after it: a reply cannot come before its parent.`;
    const bothVerified = reply.verdict === 'verified' && parent.verdict === 'verified';
    const flagged = bothVerified ? [reply, parent] : reply.verdict === 'verified' ? [parent] : [reply];
    for (const m of flagged) {
      findings.push({
        messageId: m.id,
        finding: {
          code: 'reply-before-parent',
          severity: bothVerified ? 'warning' : 'red-flag',
          text,
          evidence,
        },
      });
    }
  }
  return findings;
}
