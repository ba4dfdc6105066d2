import { Resolver } from 'node:dns/promises';
import type { KeyAnswer } from './types.ts';

const ABSENT_CODES = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

/**
 * One live TXT lookup with a timeout. Every answer, including failures, is returned as data so
 * that the caller can store it: a lookup that happened is part of the evidence trail.
 */
export async function lookupKeyInDns(name: string, timeoutMs = 5000): Promise<KeyAnswer> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  const fetchedAt = new Date().toISOString();
  try {
    const answers = await resolver.resolveTxt(name);
    // Only DKIM key records count: a selector name can also carry unrelated TXT records.
    const txts = answers.map((parts) => parts.join('')).filter((t) => /(^|;)\s*p\s*=/.test(t) || /^\s*v\s*=\s*DKIM1/i.test(t));
    if (!txts.length) return { status: 'absent', name, detail: 'no DKIM key record in the TXT answer' };
    return { status: 'found', name, records: txts.map((txt) => ({ txt, source: 'dns', origin: 'system resolver', fetchedAt })) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    if (ABSENT_CODES.has(code)) return { status: 'absent', name, detail: `DNS says ${code}` };
    return { status: 'error', name, code, detail: (err as Error).message };
  }
}
