/**
 * Red team 6, A-01: a forger's own domain signs `CEO <ceo﹫bank.example` + 330 soft hyphens +
 * `@evil.example>`: an address at evil.example that reads as ceo@bank.example, verified, and
 * until now without a finding.
 */
import { describe, expect, it } from 'vitest';
import { auditFromAddressDisguised } from '../../src/checks/from-address-disguised.ts';
import { runMessageChecks } from '../../src/checks/index.ts';
import { context, headersWith, message } from './support.ts';

/** The check's context for a From field written as raw UTF-8 (RFC 6532), as the repro writes it. */
const contextFor = (from: string) => context(Buffer.from(message(headersWith({ From: from })), 'utf8'));
const findingFor = (from: string) => auditFromAddressDisguised(contextFor(from))[0];

describe('from-address-disguised', () => {
  it.each([
    ['soft hyphens', '\u00ad', { blankLooking: 0, invisible: 330 }, '330 invisible characters'],
    ['Hangul fillers', '\u3164', { blankLooking: 330, invisible: 0 }, '330 blank-looking characters'],
  ])('a local part padded with %s and a small "﹫" is a warning naming the domain', (_, pad, counts, said) => {
    const finding = findingFor(`CEO <ceo\ufe6bbank.example${pad.repeat(330)}@evil.example>`);
    expect(finding).toMatchObject({ code: 'from-address-disguised', severity: 'warning', evidence: { domain: 'evil.example', readAsAt: ['U+FE6B'], ...counts } });
    expect(finding?.text).toContain(`holds, before its "@", ${said} and a character that reads as "@" (U+FE6B)`);
    expect(finding?.text).toContain('The message is from the domain evil.example');
    // the padding is counted in the text, not written out
    expect(finding?.text).not.toContain(pad);
  });

  it('a local part padded with variation selectors: counted as invisible, and counted in the text', () => {
    const finding = findingFor(`CEO <ceo\ufe6bbank.example${'\ufe0f'.repeat(330)}@evil.example>`);
    expect(finding?.evidence).toMatchObject({ domain: 'evil.example', readAsAt: ['U+FE6B'], blankLooking: 0, invisible: 330 });
    expect(finding?.text).toContain('holds, before its "@", 330 invisible characters and a character that reads as "@" (U+FE6B)');
    expect(finding?.text).toContain('ceo\ufe6bbank.example [330 invisible characters] @evil.example');
    expect(findingFor('<ceo\ufe00@evil.example>')?.evidence).toMatchObject({ invisible: 1 });
  });

  it('a fullwidth "＠", or one invisible character, is enough', () => {
    expect(findingFor('CEO <ceo\uff20bank.example@evil.example>')?.evidence).toMatchObject({ readAsAt: ['U+FF20'], blankLooking: 0, invisible: 0 });
    expect(findingFor('<ceo\u200b@evil.example>')?.evidence).toMatchObject({ readAsAt: [], invisible: 1 });
  });

  it('says nothing of ordinary addresses, internationalised ones included, or of padding in the name', () => {
    expect(findingFor('Alice Example <alice.example+tag@example.com>')).toBeUndefined();
    expect(findingFor('Jürgen <jürgen@münchen.example>')).toBeUndefined();
    expect(findingFor(`CEO${'\u3164'.repeat(300)} <x@evil.example>`)).toBeUndefined();
  });

  it('runs with the other message checks', () => {
    const codes = runMessageChecks(contextFor(`CEO <ceo\ufe6bbank.example${'\u00ad'.repeat(330)}@evil.example>`)).map((f) => f.code);
    expect(codes).toContain('from-address-disguised');
    expect(codes).not.toContain('display-name-address');
  });
});
