import { describe, expect, it } from 'vitest';
import { auditDisplayNameAddress } from '../../src/checks/display-name.ts';
import { context, headersWith, message } from './support.ts';

const findingFor = (from: string) => auditDisplayNameAddress(context(message(headersWith({ From: from }))))[0];

describe('display-name-address', () => {
  it('a display name that spells another address is a warning naming both', () => {
    expect(findingFor('"ceo@bank.example" <x@evil.example>')).toMatchObject({
      code: 'display-name-address',
      severity: 'warning',
      evidence: { displayedAddresses: ['ceo@bank.example'], fromAddress: 'x@evil.example' },
    });
  });

  it('reads the name as a reader sees it: an encoded word that decodes to an address counts', () => {
    const name = Buffer.from('CEO <ceo@bank.example>', 'utf8').toString('base64');
    expect(findingFor(`=?utf-8?b?${name}?= <x@evil.example>`)?.evidence['displayedAddresses']).toEqual(['ceo@bank.example']);
  });

  it('says nothing of a name that repeats the From address, or of a plain name', () => {
    expect(findingFor('"Alice@Example.com" <alice@example.com>')).toBeUndefined();
    expect(findingFor('Alice Example <alice@example.com>')).toBeUndefined();
    expect(findingFor('alice@example.com')).toBeUndefined();
  });

  it('the other authors of a From naming several are not display names', () => {
    expect(findingFor('Alice <alice@example.com>, Bob <bob@example.org>')).toBeUndefined();
    expect(findingFor('Alice <alice@example.com>, "carol@example.net" <bob@example.org>')?.evidence['displayedAddresses']).toEqual(['carol@example.net']);
  });
});
