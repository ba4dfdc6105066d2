import trustlist from 'mailauth/lib/arc/trustlist.js';

/**
 * ARC sealers whose seals are widely relied on: mailauth's trust list (Google, Microsoft and the
 * ARC community sealer list). RFC 8617 leaves trust in a sealer to the receiver.
 *
 * A module of its own, apart from the ARC verification: the verdict code needs the list on the
 * main thread, which must not load mailauth (a tenth of a second a process).
 */
export const WELL_KNOWN_ARC_SEALERS: ReadonlySet<string> = new Set(trustlist.trusted);
