import { describe, expect, it } from 'vitest';
import { auditLookalikeDomain } from '../../src/checks/lookalike-domain.ts';
import { context, headersWith, message } from './support.ts';

/** The From header as raw UTF-8 bytes (RFC 6532), as the checks read a message. */
const findingFor = (from: string) => auditLookalikeDomain(context(Buffer.from(message(headersWith({ From: from })), 'utf8')))[0];

describe('from-domain-lookalike', () => {
  it('a Latin domain with one Cyrillic letter is a warning that names its DNS name', () => {
    const finding = findingFor('CEO <ceo@b\u0430nk.example>');
    expect(finding).toMatchObject({ code: 'from-domain-lookalike', severity: 'warning', evidence: { aLabel: 'xn--bnk-6cd.example', readsAs: ['bank.example'] } });
    expect(finding!.text).toContain('It can pass for the ASCII domain bank.example: \u0430 (U+0430, Cyrillic) reads as a.');
  });

  it('a label all in Cyrillic letters that read as Latin ones is a warning too, naming what it reads as', () => {
    const finding = findingFor('<x@\u0430\u0440\u0440\u04cf\u0435.com>');
    expect(finding).toMatchObject({ severity: 'warning', evidence: { readsAs: ['appie.com', 'apple.com'], lookalikeLabels: [{ label: '\u0430\u0440\u0440\u04cf\u0435', readsAs: 'appie' }] } });
    expect(finding!.text).toContain('can pass for the ASCII domain appie.com or apple.com');
  });

  // Red team S, S-03: the judgement is by what letters look like (Unicode's confusables), not by script.
  it.each([
    ['b\u0251nk.example', 'bank.example', 'U+0251, Latin'],
    ['paypa\u0131.example', 'paypal.example', 'U+0131, Latin'],
    ['gma\u0269l.example', 'gmail.example', 'U+0269, Latin'],
    ['\u0261oogle.example', 'google.example', 'U+0261, Latin'],
    ['dem\u2c9f.example', 'demo.example', 'U+2C9F, Coptic'],
    ['\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com', 'example.com', 'U+FF45, Latin'],
  ])('%s, whose letters are Latin or Coptic lookalikes, is a warning that it reads as %s', (domain, readsAs, letter) => {
    const finding = findingFor(`CEO <ceo@${domain}>`);
    expect(finding).toMatchObject({ severity: 'warning' });
    expect(finding!.evidence['readsAs']).toContain(readsAs);
    expect(finding!.text).toContain(readsAs);
    expect(finding!.text).toContain(letter);
  });

  // Red team S, S-02: mail programs that decode IDNs show an A-label as its U-label, as leakcheck's explanations do.
  it('a lookalike written as an A-label is judged by the U-label it shows as', () => {
    const apple = findingFor('Support <support@xn--80ak6aa92e.example>');
    expect(apple).toMatchObject({ code: 'from-domain-lookalike', severity: 'warning', evidence: { aLabel: 'xn--80ak6aa92e.example', shown: '\u0430\u0440\u0440\u04cf\u0435.example', readsAs: ['appie.example', 'apple.example'] } });
    expect(apple!.text).toContain('show as \u0430\u0440\u0440\u04cf\u0435.example');
    expect(findingFor('<ceo@XN--BNK-6CD.example>')).toMatchObject({ severity: 'warning', evidence: { readsAs: ['bank.example'] } });
    expect(findingFor('<amt@xn--mnchen-3ya.example>')).toMatchObject({ severity: 'info', evidence: { shown: 'm\u00fcnchen.example', lookalikeLabels: [] } });
  });

  it('an xn-- label that is no A-label gets an info finding that says so', () => {
    expect(findingFor('<x@xn--a.example>')).toMatchObject({ severity: 'info', evidence: { invalidALabel: true, aLabel: null } });
  });

  // Red team S, S-08: a genuine Cyrillic or Greek name whose letters read as no Latin ones is no lookalike.
  it.each(['\u043f\u0440\u0438\u043c\u0435\u0440.example', 'bl\u00e6k.example', 'c\u0153ur.example', '\u03b5\u03bb\u03bb\u03ac\u03b4\u03b1.example', '\u0440\u0443\u0441.\u0440\u0444'])('%s is genuine IDN mail, which reads as no ASCII domain: info', (domain) => {
    const finding = findingFor(`Press <press@${domain}>`);
    expect(finding).toMatchObject({ severity: 'info', evidence: { readsAs: [], lookalikeLabels: [] } });
    expect(finding!.text).not.toContain('pass for');
  });

  it('a label mixing ASCII letters with lookalikes is a warning under a Unicode top-level domain too', () => {
    expect(findingFor('<x@b\u0430nk.\u0440\u0444>')).toMatchObject({ severity: 'warning', evidence: { readsAs: [], lookalikeLabels: [{ label: 'b\u0430nk', readsAs: 'bank' }] } });
  });

  it.each([
    ['Unicode', `${'\u0251\u2c9f.'.repeat(2000)}example`],
    ['A-labels', `${'xn--bnk-gsb.'.repeat(600)}example`],
  ])('a hostile long domain of lookalikes (%s) is judged in one bounded pass, with bounded text and evidence', (_, domain) => {
    const started = performance.now();
    const finding = findingFor(`<x@${domain}>`);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(finding).toMatchObject({ severity: 'warning' });
    expect(finding!.text.length).toBeLessThan(2000);
    expect((finding!.evidence['lookalikeLabels'] as unknown[]).length).toBeLessThanOrEqual(8);
  });

  it('genuine IDN mail gets only an info finding with the A-label', () => {
    expect(findingFor('Amt <amt@m\u00fcnchen.example>')).toMatchObject({ severity: 'info', evidence: { aLabel: 'xn--mnchen-3ya.example', lookalikeLabels: [] } });
    // a Cyrillic domain under a Cyrillic top-level domain is what it says
    expect(findingFor('<x@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444>')?.severity).toBe('info');
  });

  it('says nothing of a From whose bytes are not UTF-8 (author-domain-not-shown-name speaks for it)', () => {
    const latin1 = Buffer.from(message(headersWith({ From: 'Amt <amt@m\u00fcnchen.example>' })), 'latin1');
    expect(auditLookalikeDomain(context(latin1))).toEqual([]);
  });

  it('says nothing of an ASCII domain', () => {
    expect(findingFor('Alice <alice@bank.example>')).toBeUndefined();
  });
});
