import trustlist from 'mailauth/lib/arc/trustlist.js';

/**
 * ARC sealers whose seals are widely relied on: mailauth's trust list (Google, Microsoft and the
 * ARC community sealer list). RFC 8617 leaves trust in a sealer to the receiver.
 *
 * A module of its own, apart from the ARC verification: the verdict code needs the list on the
 * main thread, which must not load mailauth (a tenth of a second a process).
 */
export const WELL_KNOWN_ARC_SEALERS: ReadonlySet<string> = new Set(trustlist.trusted);

/** A sealer whose record is believed (docs/verdicts.md, rule 3): well known, or named with --trust-arc-sealer. */
export const isTrustedSealer = (domain: string | null | undefined, userTrusted: ReadonlySet<string>): domain is string =>
  domain != null && (WELL_KNOWN_ARC_SEALERS.has(domain) || userTrusted.has(domain));

/**
 * The sealers a user names (`verify --trust-arc-sealer`), as the ARC code compares them: lower
 * case, no trailing dot, sorted and without repeats (the list is part of a run's record and of
 * its analysis context, so the same sealers must always give the same list).
 */
export function trustedSealerList(domains: readonly string[]): string[] {
  const list = domains.map((d) => d.trim().toLowerCase().replace(/\.$/, ''));
  for (const domain of list) {
    if (!DOMAIN.test(domain)) throw new RangeError(`--trust-arc-sealer: ${JSON.stringify(domain)} is not a domain name`);
  }
  return [...new Set(list)].sort();
}

/** Labels of letters, digits and hyphens (punycode for IDNs), at least two of them. */
const DOMAIN = /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;
