import { describe, expect, it } from 'vitest';
import { trustedSealerList, WELL_KNOWN_ARC_SEALERS } from '../../src/verify/arc-sealers.ts';

describe('trustedSealerList (verify --trust-arc-sealer)', () => {
  it('gives the same list for the same sealers however they were written', () => {
    expect(trustedSealerList(['Lists.Example.', 'b.example.org', 'lists.example'])).toEqual(['b.example.org', 'lists.example']);
  });

  it.each(['bad domain', 'localhost', '', '-a.example', 'a..example', 'exa_mple.com', 'müller.example'])('refuses %j', (domain) => {
    expect(() => trustedSealerList([domain])).toThrow(/is not a domain name/);
  });

  it('accepts punycode', () => {
    expect(trustedSealerList(['xn--mller-kva.example'])).toEqual(['xn--mller-kva.example']);
  });

  it('the well-known list is mailauth\'s, with the big sealers on it', () => {
    expect(WELL_KNOWN_ARC_SEALERS.has('google.com')).toBe(true);
    expect(WELL_KNOWN_ARC_SEALERS.has('lists.example')).toBe(false);
  });
});
