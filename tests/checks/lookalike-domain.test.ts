import { describe, expect, it } from 'vitest';
import { auditLookalikeDomain } from '../../src/checks/lookalike-domain.ts';
import { context, headersWith, message } from './support.ts';

/** The From header as raw UTF-8 bytes (RFC 6532), as the checks read a message. */
const findingFor = (from: string) => auditLookalikeDomain(context(Buffer.from(message(headersWith({ From: from })), 'utf8')))[0];

describe('from-domain-lookalike', () => {
  it('a Latin domain with one Cyrillic letter is a warning that names its DNS name', () => {
    const finding = findingFor('CEO <ceo@b\u0430nk.example>');
    expect(finding).toMatchObject({ code: 'from-domain-lookalike', severity: 'warning', evidence: { aLabel: 'xn--bnk-6cd.example' } });
    expect(finding!.text).toContain('Cyrillic letters mixed with Latin ones');
  });

  it('a label all in Cyrillic under an ASCII top-level domain is a warning too', () => {
    expect(findingFor('<x@\u0430\u0440\u0440\u04cf\u0435.com>')).toMatchObject({ severity: 'warning', evidence: { lookalikeLabels: [{ scripts: ['Cyrillic'], mixedWithLatin: false }] } });
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
