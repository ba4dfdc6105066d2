// before mailauth: see joi-stand-in.ts and mailauth-patches.ts
import './joi-stand-in.ts';
import './mailauth-patches.ts';
import { createRequire } from 'node:module';
import { readAddressList } from '../checks/address-syntax.ts';
import type { Finding } from '../checks/types.ts';
import { signatureLabel } from '../checks/signed-headers.ts';
import type { HeaderField } from '../read/headers.ts';
import { extractAddress, readUtf8 } from '../read/message-meta.ts';
import { readDomain, readSigningDomain, showDomain, type ReadDomain } from './domain-names.ts';
import type { DkimSignatureResult } from './dkim.ts';

// Required, not imported: an ESM import of a CommonJS file puts it in require's cache when the
// module graph is linked, before mailauth-patches.ts runs, and tools.js would go unpatched.
const { getAlignment } = createRequire(import.meta.url)('mailauth/lib/tools.js') as typeof import('mailauth/lib/tools.js');

/** Whether the author domain is aligned with the signing domain: the one rule (see ReadDomain in domain-names.ts). */
export function domainsAligned(author: ReadDomain, signer: ReadDomain): boolean {
  if (author.problem !== null || signer.problem !== null || !author.aLabel || !signer.aLabel) return false;
  return Boolean(getAlignment(author.aLabel, [signer.aLabel]));
}

/**
 * Who the message says wrote it: the domains of every mailbox of its From field, or why that
 * cannot be told with certainty.
 */
export interface Authors {
  /** the (first) From field's value, for evidence */
  fromValue: string | null;
  domains: ReadDomain[];
  /** why the authors are not certain (several From fields, a field readers read differently), or null */
  problem: string | null;
}

/** The domain of an address, after its last "@", without a trailing dot. */
const addressDomain = (address: string): string => address.slice(address.lastIndexOf('@') + 1).replace(/\.$/, '');

/**
 * mailauth aligns a signature with the first mailbox of the first From field, as its address
 * parser reads it. A forger who signs with a domain of their own can then name someone else
 * too: a second mailbox (`From: me@evil.example, ceo@bank.example`), a second From field (mail
 * programs that show the last one show only the CEO), or a field that parsers read differently
 * (`<ceo@bank.example <me@evil.example>>`, read as evil.example by mailauth and as bank.example
 * by RFC 5322 readers). DMARC treats several author domains as all having to align (RFC 7489,
 * section 6.6.1). So the authors are certain only when there is one From field, which the
 * strict reader (address-syntax.ts) and the lenient one (message-meta.ts) read alike, and a
 * signature speaks for them only when every one of their domains is aligned with it. The field
 * is read as UTF-8 when its bytes are (RFC 6532), as readers show it; see ReadDomain.
 */
export function readAuthors(fields: readonly HeaderField[]): Authors {
  const from = fields.filter((f) => f.name === 'from');
  const fromValue = from[0]?.value ?? null;
  const uncertain = (problem: string): Authors => ({ fromValue, domains: [], problem });
  if (fromValue === null) return uncertain('no From field');
  if (from.length > 1) return uncertain(`${from.length} From fields`);
  const { text, utf8 } = readUtf8(fromValue);
  const reading = readAddressList(text);
  if (reading.problem) return uncertain(reading.problem);
  if (!reading.addresses.length) return uncertain('no address');
  const lenient = extractAddress(text);
  if (lenient !== reading.addresses[0]) return uncertain(`read as ${reading.addresses[0]} by one reader and as ${lenient ?? 'no address'} by another`);
  const domains = [...new Set(reading.addresses.map(addressDomain))];
  return { fromValue, domains: domains.map((domain) => readDomain(domain, utf8)), problem: null };
}

/**
 * The A-labels of every domain the From fields name, as either address reader reads them: a
 * signature that claims one of them is one that may speak for the author, and is checked before
 * any other when a message carries more signatures than are checked (dkim.ts, chooseChecked).
 * Wider than readAuthors, which names no domain at all when the authors are uncertain.
 */
export function claimedAuthorDomains(fields: readonly HeaderField[]): string[] {
  const domains = new Set<string>();
  for (const domain of readAuthors(fields).domains) if (domain.aLabel) domains.add(domain.aLabel);
  for (const field of fields) {
    if (field.name !== 'from') continue;
    const { text, utf8 } = readUtf8(field.value);
    const address = extractAddress(text);
    const aLabel = address ? readDomain(addressDomain(address), utf8).aLabel : null;
    if (aLabel) domains.add(aLabel);
  }
  return [...domains];
}

/** Whether d= is aligned (relaxed) with one of `authorDomains` (claimedAuthorDomains). */
export function claimsAuthor(d: string, authorDomains: readonly string[]): boolean {
  if (!authorDomains.length) return false;
  const signer = readSigningDomain(d).aLabel;
  return signer !== null && authorDomains.some((author) => Boolean(getAlignment(author, [signer])));
}

/**
 * Whether mailauth evaluated the signature, and so read the From field for it. One it left out
 * (an algorithm or canonicalization it does not support, a tag list it could not read) has a
 * stand-in (dkim.ts, unprocessed): mailauth's result "neutral", no key looked up, and an outcome
 * that never proves anything. One mailauth evaluated to the same end reads alike: its alignment
 * is a label only, as it can prove nothing.
 */
const evaluatedByMailauth = (sig: DkimSignatureResult): boolean =>
  !(sig.result === 'neutral' && sig.keyLookup === 'not-needed' && (sig.outcome === 'unsupported-algorithm' || sig.outcome === 'malformed'));

/**
 * Whether each signature is aligned with the From domain, decided here for every signature by
 * one rule (ReadDomain): it is when the authors are certain and every author domain is aligned
 * with its d=, and mailauth (its reading of the first From mailbox) agrees, unless a From domain
 * is written in Unicode, which mailauth reads as latin1 bytes. mailauth's own `aligned` alone
 * (its own IDN conversion maps `。` to `.` and would let mapped names through) never aligns a
 * signature: it tells which signatures claimed alignment, so that a finding says why they lost it.
 *
 * Findings: `author-not-proven` for a signature aligned with some author (or by mailauth) that
 * does not speak for all of them; `author-domain-not-shown-name` for a From domain that names
 * no one domain, or a domain other than the one shown (see ReadDomain).
 */
export function alignWithAuthors(signatures: DkimSignatureResult[], authors: Authors): { signatures: DkimSignatureResult[]; findings: Finding[] } {
  const findings: Finding[] = [];
  const out = signatures.map((sig) => {
    if (!sig.tags.domain) return sig.aligned ? { ...sig, aligned: false } : sig;
    const signer = readSigningDomain(sig.tags.domain);
    const d = showDomain(signer);
    const alignedWith = authors.domains.map((domain) => domainsAligned(domain, signer));
    // mailauth's reading must agree too, as a third reader, except for a From domain written in
    // Unicode, which mailauth reads byte by byte (latin1) and so never aligns
    const unicodeAuthor = authors.domains.some((domain) => domain.written !== domain.aLabel);
    // nor for a signature mailauth left out (an unsupported a= or c=, a tag list it could not
    // read): its stand-in was never aligned by mailauth, which is no reading that disagrees
    const aligned = authors.problem === null && authors.domains.length > 0 && alignedWith.every(Boolean) && (sig.aligned || unicodeAuthor || !evaluatedByMailauth(sig));
    // mapped domains are the A-label's they would be if shown as such: the claim a finding answers
    const claimed = sig.aligned || authors.domains.some((domain) => domain.aLabel !== null && signer.aLabel !== null && Boolean(getAlignment(domain.aLabel, [signer.aLabel])));
    if (aligned || !claimed) return sig.aligned === aligned ? sig : { ...sig, aligned };
    const others = authors.domains.filter((_, i) => !alignedWith[i]);
    const unproven = others.map(showDomain);
    findings.push({
      code: 'author-not-proven',
      severity: 'warning',
      text:
        (authors.problem !== null
          ? `The signature by ${d} is aligned with the first address of the From field, but the From field cannot be read as certain authors (${authors.problem})`
          : others.length === 0
            ? // every author domain is aligned as the two readers read the field, and mailauth's reading is another
              `The signature by ${d} is aligned with the From field as two address readers read it, but not as a third one (mailauth) reads it: the From field can be read as naming different authors`
            : others.length < authors.domains.length
              ? `The signature by ${d} is aligned with the first address of the From field, but the From field also names ${unproven.join(', ')}, for which ${d} does not speak`
              : `The signature by ${d} would be aligned with the From field only as IDNA maps it: the From field names ${unproven.join(', ')}, for which ${d} does not speak`) +
        ': it proves nothing about who wrote the message.',
      evidence: {
        signature: signatureLabel(sig),
        from: authors.fromValue?.slice(0, 300) ?? null,
        problem: authors.problem,
        unalignedAuthorDomains: others.map((o) => o.written),
        unalignedAuthorALabels: others.map((o) => o.aLabel),
      },
    });
    return { ...sig, aligned: false };
  });
  const unshown = authors.domains.filter((domain) => domain.problem === 'mapped' || domain.problem === 'not-utf8');
  if (unshown.length) {
    findings.push({
      code: 'author-domain-not-shown-name',
      severity: 'warning',
      text:
        `The From field's domain ${unshown.map(showDomain).join(', ')} is not a domain name as written: ` +
        'a mail program shows it as written, so no signature is taken to speak for it, not even one by the domain it may be read as.',
      evidence: { from: authors.fromValue?.slice(0, 300) ?? null, domains: unshown.map((o) => ({ written: o.written, aLabel: o.aLabel, problem: o.problem })) },
    });
  }
  return { signatures: out, findings };
}
