// before mailauth: see joi-stand-in.ts and mailauth-patches.ts
import './joi-stand-in.ts';
import './mailauth-patches.ts';
import { createRequire } from 'node:module';
import { readAddressList } from '../checks/address-syntax.ts';
import type { Finding } from '../checks/types.ts';
import { signatureLabel } from '../checks/signed-headers.ts';
import type { HeaderField } from '../read/headers.ts';
import { extractAddress } from '../read/message-meta.ts';
import type { DkimSignatureResult } from './dkim.ts';

// Required, not imported: an ESM import of a CommonJS file puts it in require's cache when the
// module graph is linked, before mailauth-patches.ts runs, and tools.js would go unpatched.
const { getAlignment } = createRequire(import.meta.url)('mailauth/lib/tools.js') as typeof import('mailauth/lib/tools.js');

/**
 * Who the message says wrote it: the domains of every mailbox of its From field, or why that
 * cannot be told with certainty.
 */
export interface Authors {
  /** the (first) From field's value, for evidence */
  fromValue: string | null;
  domains: string[];
  /** why the authors are not certain (several From fields, a field readers read differently), or null */
  problem: string | null;
}

/**
 * mailauth aligns a signature with the first mailbox of the first From field, as its address
 * parser reads it. A forger who signs with a domain of their own can then name someone else
 * too: a second mailbox (`From: me@evil.example, ceo@bank.example`), a second From field (mail
 * programs that show the last one show only the CEO), or a field that parsers read differently
 * (`<ceo@bank.example <me@evil.example>>`, read as evil.example by mailauth and as bank.example
 * by RFC 5322 readers). DMARC treats several author domains as all having to align (RFC 7489,
 * section 6.6.1). So the authors are certain only when there is one From field, which the
 * strict reader (address-syntax.ts) and the lenient one (message-meta.ts) read alike, and a
 * signature speaks for them only when every one of their domains is aligned with it.
 */
export function readAuthors(fields: readonly HeaderField[]): Authors {
  const from = fields.filter((f) => f.name === 'from');
  const fromValue = from[0]?.value ?? null;
  const uncertain = (problem: string): Authors => ({ fromValue, domains: [], problem });
  if (fromValue === null) return uncertain('no From field');
  if (from.length > 1) return uncertain(`${from.length} From fields`);
  const reading = readAddressList(fromValue);
  if (reading.problem) return uncertain(reading.problem);
  if (!reading.addresses.length) return uncertain('no address');
  const lenient = extractAddress(fromValue);
  if (lenient !== reading.addresses[0]) return uncertain(`read as ${reading.addresses[0]} by one reader and as ${lenient ?? 'no address'} by another`);
  return { fromValue, domains: [...new Set(reading.addresses.map((a) => a.slice(a.lastIndexOf('@') + 1).replace(/\.$/, '')))], problem: null };
}

/**
 * Signatures mailauth found aligned with the first author, checked against all of them. A
 * signature that does not speak for every author loses its alignment, and a finding says why.
 */
export function alignWithAuthors(signatures: DkimSignatureResult[], authors: Authors): { signatures: DkimSignatureResult[]; findings: Finding[] } {
  const findings: Finding[] = [];
  const out = signatures.map((sig) => {
    if (!sig.aligned || !sig.tags.domain) return sig;
    const d = sig.tags.domain.toLowerCase();
    const others = authors.domains.filter((domain) => !getAlignment(domain, [d]));
    if (authors.problem === null && others.length === 0) return sig;
    findings.push({
      code: 'author-not-proven',
      severity: 'warning',
      text:
        `The signature by ${d} is aligned with the first address of the From field, but ` +
        (authors.problem !== null
          ? `the From field cannot be read as certain authors (${authors.problem})`
          : `the From field also names ${others.join(', ')}, for which ${d} does not speak`) +
        ': it proves nothing about who wrote the message.',
      evidence: { signature: signatureLabel(sig), from: authors.fromValue?.slice(0, 300) ?? null, problem: authors.problem, unalignedAuthorDomains: others },
    });
    return { ...sig, aligned: false };
  });
  return { signatures: out, findings };
}
