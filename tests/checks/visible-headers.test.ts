import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { auditVisibleHeaders } from '../../src/checks/visible-headers.ts';
import { SIGN_TIME, plainMessage, rsaKey, signed, tableLookup, type TestKey } from '../unit/support/signing.ts';
import { context, fakeSignature, headersWith, message } from './support.ts';

let key: TestKey;
beforeAll(() => {
  key = rsaKey(2048);
});
const lookup = () => tableLookup({ 'sel1._domainkey.example.com': key.txt });
const analyze = (raw: string) => analyzeMessage({ raw: Buffer.from(raw, 'latin1'), format: 'eml' }, lookup());

describe('visible-headers-unsigned', () => {
  it('says which visible headers a verifying signature leaves out (really signed)', async () => {
    const raw = await signed(plainMessage(), { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME, headerList: 'from:to:date' });
    const a = await analyze(raw);
    expect(a.verdict.verdict).toBe('verified');
    const finding = a.findings.find((f) => f.code === 'visible-headers-unsigned');
    expect(finding).toMatchObject({
      severity: 'info',
      evidence: { headers: ['Subject'], coveredHeaders: ['From', 'To', 'Date'], bodyFullyCovered: true, signatures: ['#1 d=example.com s=sel1'] },
    });
    expect(finding!.text).toBe('The body, From, To and Date are verified, but no verifying signature by the From domain covers Subject: it could have been changed without breaking the signature.');
  });

  it('lists Cc and Reply-To too, in reading order', () => {
    const raw = message(headersWith({}, ['Cc: Carol <carol@example.net>', 'Reply-To: Alice <alice@example.com>']));
    const sig = fakeSignature({ tags: 'v=1; a=rsa-sha256; d=example.com; s=sel1; h=from:subject' });
    const [finding] = auditVisibleHeaders(context(raw, [sig]));
    expect(finding?.evidence['headers']).toEqual(['To', 'Cc', 'Reply-To', 'Date']);
  });

  it('counts a header covered by any of several verifying signatures by the From domain', () => {
    const raw = message(headersWith());
    const sigs = [
      fakeSignature({ tags: 'v=1; d=example.com; s=a; h=from:subject', index: 0 }),
      fakeSignature({ tags: 'v=1; d=example.com; s=b; h=from:to:date', index: 1 }),
    ];
    expect(auditVisibleHeaders(context(raw, sigs))).toEqual([]);
  });

  // Red team 5 (03): a forger adds Cc and Reply-To to a genuine message whose signer leaves them
  // out of h=, and signs them with a domain of their own; that signature silenced the finding.
  it('a header signed only by another domain counts as unsigned, and the finding says who signed it', () => {
    const raw = message(headersWith({}, ['Cc: Regulator <tips@regulator.example>', 'Reply-To: ceo.private@evil.example']));
    const sigs = [
      fakeSignature({ tags: 'v=1; d=example.com; s=a; h=from:subject:date', index: 0 }),
      fakeSignature({ tags: 'v=1; d=evil.example; s=b; h=from:to:cc:reply-to', index: 1, aligned: false }),
    ];
    const [finding] = auditVisibleHeaders(context(raw, sigs));
    expect(finding?.evidence).toMatchObject({
      headers: ['To', 'Cc', 'Reply-To'],
      signatures: ['#1 d=example.com s=a'],
      signedOnlyByOtherDomains: ['To', 'Cc', 'Reply-To'],
      otherSignatures: ['#2 d=evil.example s=b'],
    });
    expect(finding!.text).toContain('To, Cc and Reply-To are signed only by evil.example, which does not speak for the From domain');
  });

  it('says nothing when only another domain\'s signature verifies: nothing is proven to cover', () => {
    const raw = message(headersWith());
    const sig = fakeSignature({ tags: 'v=1; d=esp.example; s=b; h=from', aligned: false });
    expect(auditVisibleHeaders(context(raw, [sig]))).toEqual([]);
  });

  it('says nothing when every visible header is signed (mailauth default header list)', async () => {
    const raw = await signed(plainMessage(), { key, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const a = await analyze(raw);
    expect(a.findings.filter((f) => f.code === 'visible-headers-unsigned')).toEqual([]);
  });

  it('says nothing when no signature verifies, or the header is absent', () => {
    const raw = message(headersWith({ Subject: null }));
    expect(auditVisibleHeaders(context(raw, []))).toEqual([]);
    const failed = fakeSignature({ tags: 'v=1; d=example.com; s=a; h=from', outcome: 'body-modified' });
    expect(auditVisibleHeaders(context(raw, [failed]))).toEqual([]);
    const covering = fakeSignature({ tags: 'v=1; d=example.com; s=a; h=from:to:date' });
    expect(auditVisibleHeaders(context(raw, [covering]))).toEqual([]);
  });

  it('does not claim the body when only part of it is signed', () => {
    const raw = message(headersWith());
    const sig = fakeSignature({ tags: 'v=1; d=example.com; s=a; l=5; h=from:to:date', bodyBytesSigned: 5, bodyBytesTotal: 40 });
    const [finding] = auditVisibleHeaders(context(raw, [sig]));
    expect(finding?.evidence['bodyFullyCovered']).toBe(false);
    expect(finding?.text.startsWith('From, To and Date are verified')).toBe(true);
  });
});
