import { describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { CORPUS_SKIP_NOTE, GENUINE, GENUINE_THIRD_PARTY, HAS_CORPUS, corpusFile, dnsJsonLookup } from '../helpers/corpus.ts';

/**
 * Real signed mail with archived keys, and tampered copies of it (see ../shared/corpus/MANIFEST.md).
 * The lists follow the MANIFEST's sanity-check table: genuine messages that pass in all three
 * reference verifiers, the tampered copies that fail in all three, and messages whose key is absent.
 */

const TAMPERED: Array<[string, string, string]> = [
  ['mimekit', 'messages/gmail-fail-body.msg', 'dkim-body-modified'],
  ['mimekit', 'messages/gmail-fail-headers.msg', 'dkim-signature-mismatch'],
  ['podesta-driusan', 'messages/podesta-edgar-mitchell.byte2048-q.eml', 'dkim-body-modified'],
  ['zk-email', 'messages/email-body-tampered.eml', 'dkim-body-modified'],
  ['zk-email', 'messages/email-invalid-domain.eml', 'dkim-signature-mismatch'],
  ['authheaders', 'messages/test.message_multi', 'dkim-signature-mismatch'],
  ['authheaders', 'messages/test.message_multi2', 'dkim-signature-mismatch'],
  ['authheaders', 'messages/test.message_sub', 'dkim-signature-mismatch'],
];

const KEY_ABSENT: Array<[string, string]> = [
  ['zk-email', 'messages/email-invalid-selector.eml'],
  ['zk-email', 'messages/multi-dkim-sig.eml'],
  ['authheaders', 'messages/test.message_np1'],
  ['authheaders', 'messages/test.message_np2'],
  ['mailauth', 'messages/arc-pass.eml'],
  ['ocaml-arc', 'messages/003.mail'],
];

const analyze = (set: string, path: string) => analyzeMessage({ raw: corpusFile(set, path), format: 'eml' }, dnsJsonLookup(set));

describe.skipIf(!HAS_CORPUS)(`real-world corpus${CORPUS_SKIP_NOTE}`, () => {
  // The signature is genuine and passes, but it is a third party's: it proves what that domain
  // sent, not that the From domain sent it.
  it.each(GENUINE_THIRD_PARTY)('%s %s passes, by a third party: unverifiable, signature-not-aligned', async (set, path) => {
    const analysis = await analyze(set, path);
    expect(analysis.verdict.verdict).toBe('unverifiable');
    expect(analysis.verdict.reasons).toEqual(['signature-not-aligned']);
    expect(analysis.signatures.some((s) => s.outcome === 'pass' && !s.aligned && s.key?.fingerprint)).toBe(true);
    expect(analysis.verdict.explanation).toMatch(/is not the From domain/);
  });

  it.each(GENUINE)('%s %s is verified', async (set, path) => {
    const analysis = await analyze(set, path);
    expect(analysis.verdict.verdict, analysis.verdict.explanation).toBe('verified');
    // GitHub's 2016 mail is signed with rsa-sha1 only: still verified, with the reason said.
    expect(analysis.verdict.reasons[0]).toBe('dkim-verified');
    expect(analysis.verdict.reasons.slice(1).every((r) => r === 'rsa-sha1')).toBe(true);
    expect(analysis.signatures.some((s) => s.outcome === 'pass' && s.key?.fingerprint)).toBe(true);
  });

  it.each(TAMPERED)('%s %s is suspicious (%s)', async (set, path, reason) => {
    const analysis = await analyze(set, path);
    expect(analysis.verdict.verdict).toBe('suspicious');
    expect(analysis.verdict.reasons).toContain(reason);
  });

  it.each(KEY_ABSENT)('%s %s is unverifiable for want of a key', async (set, path) => {
    const analysis = await analyze(set, path);
    expect(analysis.verdict.verdict).toBe('unverifiable');
    expect(analysis.verdict.reasons).toContain('key-not-found');
    expect(analysis.verdict.explanation).toMatch(/not the same as fake/i);
  });

  // The corpus's "fail (body removed, body hash cannot match)" is the signature's result; the
  // file holds the header block alone, whose signed fields still verify: no body is shown, and
  // nothing shown was changed (docs/verdicts.md, "A header block and no body").
  it('zk-email messages/email-bodyless.eml fails DKIM, as expected, and is unverifiable (body-not-in-file), its headers verifying', async () => {
    const analysis = await analyze('zk-email', 'messages/email-bodyless.eml');
    expect(analysis.signatures[0]).toMatchObject({ outcome: 'body-modified', headerSignatureValid: true });
    expect(analysis.verdict.verdict).toBe('unverifiable');
    expect(analysis.verdict.reasons).toEqual(['body-not-in-file']);
  });

  it('tells a changed body from changed headers on the Podesta tamper', async () => {
    const analysis = await analyze('podesta-driusan', 'messages/podesta-edgar-mitchell.byte2048-q.eml');
    const sig = analysis.signatures[0]!;
    expect(sig.outcome).toBe('body-modified');
    // The headers still verify under Gmail's 2012 key: only the body was touched.
    expect(sig.headerSignatureValid).toBe(true);
    expect(analysis.repairs).toEqual(['crlf']);
  });

  it('without the key, the same genuine Podesta message is unverifiable, not suspicious', async () => {
    const analysis = await analyzeMessage(
      { raw: corpusFile('podesta-driusan', 'messages/podesta-edgar-mitchell.eml'), format: 'eml' },
      async (name) => ({ status: 'absent', name, detail: 'rotated out of DNS' }),
    );
    expect(analysis.verdict.verdict).toBe('unverifiable');
    expect(analysis.verdict.reasons).toEqual(['key-not-found']);
  });
});
