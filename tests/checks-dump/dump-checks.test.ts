import { parse } from 'csv-parse/sync';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conflictingCopies } from '../../src/checks/dump/conflicting-copies.ts';
import { dateAfterDump } from '../../src/checks/dump/future-date.ts';
import { selectorTimeline } from '../../src/checks/dump/selector-timeline.ts';
import { senderProfile } from '../../src/checks/dump/sender-profile.ts';
import { threadOrder } from '../../src/checks/dump/threads.ts';
import type { DumpCopy } from '../../src/checks/dump/types.ts';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
import { demoMessage, signWithFixtureKey } from '../hostile/sign.ts';
import { exportRows } from '../helpers/in-process.ts';

let nextId = 1;
/** A proof by the From domain that signs every visible header: what a verified message of these tests has. */
const FROM_DOMAIN_PROOF = { domain: 'example.com', selector: 's1', aligned: true, signedHeaders: ['from', 'to', 'cc', 'subject', 'date', 'message-id'] };
function message(over: Partial<DumpCopy> = {}): DumpCopy {
  const id = nextId++;
  return {
    id,
    where: `m${id}.eml`,
    sha256: `sha${id}`,
    messageId: `<m${id}@example.com>`,
    fromAddress: 'alice@example.com',
    date: '2017-03-01T10:00:00.000Z',
    dateOffsetMinutes: 60,
    dateZoneKnown: true,
    mailer: null,
    bodySha256: 'body',
    visibleSha256: 'visible',
    textSha256: null,
    partsSha256: null,
    visibleFields: null,
    subject: null,
    mailingList: null,
    inReplyTo: null,
    references: [],
    // delivered when written, unless a test says otherwise: its own trace bears out its Date
    firstStampAt: over.date ?? '2017-03-01T10:00:00.000Z',
    verdict: 'unverifiable',
    signatures: [],
    proofs: over.verdict === 'verified' ? [FROM_DOMAIN_PROOF] : [],
    ...over,
  };
}
const codes = (findings: Array<{ messageId: number; finding: { code: string; severity: string } }>) =>
  findings.map((f) => `${f.messageId}:${f.finding.code}:${f.finding.severity}`);

describe('conflicting copies (same Message-ID, different content)', () => {
  it('flags the unverified copy that differs from a verified twin, naming the twin', () => {
    const genuine = message({ messageId: '<x@example.com>', verdict: 'verified' });
    const altered = message({ messageId: '<x@example.com>', bodySha256: 'other body' });
    const findings = conflictingCopies([genuine, altered]);
    expect(codes(findings)).toEqual([`${altered.id}:conflicting-copy:red-flag`]);
    expect(findings[0]!.finding.text).toContain(genuine.where);
    expect(findings[0]!.finding.text).toMatch(/body/);
  });

  it('warns on both copies when neither is verified', () => {
    const a = message({ messageId: '<y@example.com>' });
    const b = message({ messageId: '<y@example.com>', visibleSha256: 'other subject' });
    expect(codes(conflictingCopies([a, b]))).toEqual([`${a.id}:divergent-copies:warning`, `${b.id}:divergent-copies:warning`]);
  });

  it('says nothing about identical copies (the same mail in inbox and archive)', () => {
    const a = message({ messageId: '<z@example.com>', verdict: 'verified' });
    const b = message({ messageId: '<z@example.com>' });
    expect(conflictingCopies([a, b])).toEqual([]);
  });

  it('names the same twin and the same other copy as a search of every copy would, in linear time', () => {
    // The definition: for each unverified copy, the first verified copy that differs from it,
    // else (with no verified copy at all) the first copy that differs from it, first in the order
    // of their content (sha256), not of their names. The check finds these without a search per
    // copy; 3,000 random dumps of small groups must agree with it.
    const differs = (a: DumpCopy, b: DumpCopy): boolean => a.bodySha256 !== b.bodySha256 || a.visibleSha256 !== b.visibleSha256;
    const expected = (messages: DumpCopy[]): Array<[number, string, number]> => {
      const out: Array<[number, string, number]> = [];
      const groups = new Map<string, DumpCopy[]>();
      for (const m of messages) if (m.messageId) groups.set(m.messageId, [...(groups.get(m.messageId) ?? []), m]);
      for (const group of groups.values()) {
        if (group.length < 2) continue;
        const copies = group.toSorted((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
        const verified = copies.filter((c) => c.verdict === 'verified');
        for (const copy of copies) {
          if (copy.verdict === 'verified') continue;
          if (verified.some((v) => !differs(v, copy))) continue; // as good as a verified copy
          const twin = verified.find((v) => differs(v, copy));
          if (twin) out.push([copy.id, 'conflicting-copy', twin.id]);
          else if (!verified.length) {
            const other = copies.find((c) => c !== copy && differs(c, copy));
            if (other) out.push([copy.id, 'divergent-copies', other.id]);
          }
        }
      }
      return out;
    };
    let x = 20261204;
    const pick = <T,>(items: readonly T[]): T => {
      x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return items[x % items.length]!;
    };
    let findings = 0;
    for (let round = 0; round < 3_000; round++) {
      const messages = Array.from({ length: pick([2, 3, 5, 8, 13]) }, () =>
        message({
          messageId: pick(['<a@example.com>', '<b@example.com>', null]),
          bodySha256: pick(['body', 'body2', null]),
          visibleSha256: pick(['visible', 'visible2']),
          verdict: pick(['verified', 'unverifiable', 'suspicious']),
        }),
      );
      const got = conflictingCopies(messages).map((f) => {
        const other = (f.finding.evidence as { otherCopy: { where: string } }).otherCopy.where;
        return [f.messageId, f.finding.code, messages.find((m) => m.where === other)!.id] as [number, string, number];
      });
      expect(got).toEqual(expected(messages));
      findings += got.length;
    }
    expect(findings).toBeGreaterThan(1_000);
  });

  it('says the same of each copy whatever the files are named: the differences from all other versions, the copies named by content (M-08)', () => {
    const versions = [
      { sha256: 'aa', bodySha256: 'A', visibleSha256: 'v' },
      { sha256: 'bb', bodySha256: 'B', visibleSha256: 'v' },
      { sha256: 'aa', bodySha256: 'A', visibleSha256: 'v' },
      { sha256: 'dd', bodySha256: 'C', visibleSha256: 'other subject' },
    ];
    const said = (names: string[]): Map<string, string> => {
      const copies = versions.map((v, i) => message({ ...v, messageId: '<four@example.com>', where: names[i]! }));
      const byName = new Map(copies.map((c, i) => [c.id, i]));
      // each finding keyed by the version it is on, its text with names put back as versions
      return new Map(conflictingCopies(copies).map((f) => [`${byName.get(f.messageId)}`, names.reduce((text, name, i) => text.replaceAll(name, `#${i === 2 ? 0 : i}`), f.finding.text)]));
    };
    const fresh = said(['a.eml', 'b.eml', 'c.eml', 'd.eml']);
    expect(said(['z4.eml', 'z3.eml', 'z2.eml', 'z1.eml'])).toEqual(fresh);
    expect(fresh.get('0')).toMatch(/^2 other versions .* differ from this one, together in their body and visible headers/);
    expect(fresh.get('3')).toContain('Other copies: #0, #1.');
  });

  it('compares a forged copy with its proven twin however many proven copies of other domains share its Message-ID, in time linear in the copies', () => {
    const id = '<crowded@example.com>';
    const planted = Array.from({ length: 5_000 }, (_, i) => [
      message({ messageId: id, fromAddress: `n${i}@evil.example`, verdict: 'verified', proofs: [{ ...FROM_DOMAIN_PROOF, domain: 'evil.example' }], bodySha256: `b${i}`, sha256: `0${i}` }),
      message({ messageId: id, fromAddress: `u${i}@example.com`, bodySha256: `u${i}`, sha256: `1${i}` }),
    ]).flat();
    const genuine = message({ messageId: id, verdict: 'verified', sha256: 'f1' });
    const forged = message({ messageId: id, bodySha256: 'wire the money', sha256: 'f2' });
    const started = performance.now();
    const findings = conflictingCopies([...planted, genuine, forged]);
    expect(performance.now() - started).toBeLessThan(10_000);
    const onForged = findings.filter((f) => f.messageId === forged.id);
    expect(codes(onForged)).toEqual([`${forged.id}:conflicting-copy:red-flag`]);
    expect(onForged[0]!.finding.text).toContain(`Verified twin: ${genuine.where}.`);
  });
});

describe('thread order', () => {
  it('flags a reply dated before its parent: a red flag where one Date is proven and the other not, a warning on both where neither is', () => {
    const parent = message({ date: '2017-03-03T10:00:00.000Z' });
    const reply = message({ inReplyTo: parent.messageId, date: '2017-03-01T10:00:00.000Z' });
    // Nothing tells which Date is false: a forger could have planted a later-dated "parent"
    // under the Message-ID a genuine reply answers.
    expect(codes(threadOrder([parent, reply]))).toEqual([`${reply.id}:reply-before-parent:warning`, `${parent.id}:reply-before-parent:warning`]);
    expect(threadOrder([parent, reply])[0]!.finding.text).toMatch(/which of the two is false cannot be told/);
    const provenParent = { ...parent, verdict: 'verified' as const, proofs: [FROM_DOMAIN_PROOF] };
    expect(codes(threadOrder([provenParent, reply]))).toEqual([`${reply.id}:reply-before-parent:red-flag`]);
    const provenReply = { ...reply, verdict: 'verified' as const, proofs: [{ ...FROM_DOMAIN_PROOF, signedHeaders: [...FROM_DOMAIN_PROOF.signedHeaders, 'in-reply-to'] }] };
    expect(codes(threadOrder([parent, provenReply]))).toEqual([`${parent.id}:reply-before-parent:red-flag`]);
  });

  // Red team R, R-10 and R-05: three days were given as "4257 minutes", and a red flag beyond
  // 27 h did not say that a wrong date set on the sender's computer explains it too.
  it('gives the lead in days and hours, and beyond 27 h names a wrong date setting', () => {
    const parent = { ...message({ date: '2017-03-04T09:00:00.000Z' }), verdict: 'verified' as const, proofs: [FROM_DOMAIN_PROOF] };
    const reply = message({ inReplyTo: parent.messageId, date: '2017-03-01T10:03:00.000Z' });
    const [found] = threadOrder([parent, reply]);
    expect(found!.finding.text).toContain('dated 2 days 22 h after it');
    expect(found!.finding.text).not.toContain('minutes after it');
    expect(found!.finding.text).toContain('a wrong date set on the computer that wrote the unsigned Date');
  });

  // Red team R, R-05: a genuine unsigned reply from a PC whose calendar date was wrong, which its
  // own Received stamps put an hour after its proven parent, was called fabricated. The unproven
  // side is accused only when its own first recorded delivery bears its Date out.
  it("beyond 27 h, accuses the reply only when its own trace agrees with its Date; a trace that contradicts it, or none, is a warning", () => {
    const parent = { ...message({ date: '2017-03-03T10:00:00.000Z' }), verdict: 'verified' as const, proofs: [FROM_DOMAIN_PROOF] };
    const replyStamped = (firstStampAt: string | null) => message({ inReplyTo: parent.messageId, date: '2017-03-01T10:00:00.000Z', firstStampAt });
    const agrees = replyStamped('2017-03-01T10:00:20.000Z');
    const [accused] = threadOrder([parent, agrees]);
    expect(codes([accused!])).toEqual([`${agrees.id}:reply-before-parent:red-flag`]);
    expect(accused!.finding.text).toContain("The reply's own trace agrees with its Date: the bottom-most server stamp of its trace (its first recorded delivery, at 2017-03-01T10:00:20.000Z) is 47 h 59 min before the parent's Date too");
    const contradicts = replyStamped('2017-03-03T11:00:00.000Z');
    const [contradicted] = threadOrder([parent, contradicts]);
    expect(codes([contradicted!])).toEqual([`${contradicts.id}:reply-before-parent:warning`]);
    expect(contradicted!.finding.text).toContain("The reply's own trace contradicts its Date: the bottom-most server stamp of its trace (its first recorded delivery, at 2017-03-03T11:00:00.000Z) is 1 h after the parent's Date");
    expect(contradicted!.finding.text).toContain('the computer that wrote that Date had the wrong date set');
    expect(contradicted!.finding.evidence).toMatchObject({ ownTrace: { message: 'reply', firstStampAt: '2017-03-03T11:00:00.000Z', agrees: false } });
    const sentCopy = replyStamped(null);
    const [unstamped] = threadOrder([parent, sentCopy]);
    expect(codes([unstamped!])).toEqual([`${sentCopy.id}:reply-before-parent:warning`]);
    expect(unstamped!.finding.text).toContain('The reply has no server stamp in its trace (a Sent-folder copy or a draft has none), so no trace confirms or refutes its Date.');
    // stamped before the parent's Date, but within what a wrong clock on the parent's computer explains
    const close = replyStamped('2017-03-03T08:00:00.000Z');
    const [near] = threadOrder([parent, close]);
    expect(codes([near!])).toEqual([`${close.id}:reply-before-parent:warning`]);
    expect(near!.finding.text).toContain("does not bear out its Date: the bottom-most server stamp of its trace (its first recorded delivery, at 2017-03-03T08:00:00.000Z) is only 2 h before the parent's Date");
  });

  it('beyond 27 h, accuses the parent only when its own trace agrees with its Date; a trace that contradicts it, or none, is a warning', () => {
    const provenReply = message({ date: '2017-03-01T10:00:00.000Z', verdict: 'verified', proofs: [{ ...FROM_DOMAIN_PROOF, signedHeaders: [...FROM_DOMAIN_PROOF.signedHeaders, 'in-reply-to'] }] });
    const parentStamped = (firstStampAt: string | null) => message({ date: '2017-03-03T10:00:00.000Z', firstStampAt });
    const answering = (parent: DumpCopy) => ({ ...provenReply, inReplyTo: parent.messageId });
    const agrees = parentStamped('2017-03-03T10:00:20.000Z');
    const [accused] = threadOrder([agrees, answering(agrees)]);
    expect(codes([accused!])).toEqual([`${agrees.id}:reply-before-parent:red-flag`]);
    expect(accused!.finding.text).toContain("The parent's own trace agrees with its Date: the bottom-most server stamp of its trace (its first recorded delivery, at 2017-03-03T10:00:20.000Z) is 2 days after the reply's Date too");
    const contradicts = parentStamped('2017-03-01T09:00:00.000Z');
    const [contradicted] = threadOrder([contradicts, answering(contradicts)]);
    expect(codes([contradicted!])).toEqual([`${contradicts.id}:reply-before-parent:warning`]);
    expect(contradicted!.finding.text).toContain("The parent's own trace contradicts its Date: the bottom-most server stamp of its trace (its first recorded delivery, at 2017-03-01T09:00:00.000Z) is 1 h before the reply's Date, as when the computer that wrote that Date had the wrong date set; but that stamp is as unsigned as the Date");
    const draft = parentStamped(null);
    const [unstamped] = threadOrder([draft, answering(draft)]);
    expect(codes([unstamped!])).toEqual([`${draft.id}:reply-before-parent:warning`]);
    expect(unstamped!.finding.text).toContain('The parent has no server stamp in its trace (a Sent-folder copy or a draft has none), so no trace confirms or refutes its Date.');
  });

  // Red team 27, E-01: a reply from a PC whose clock ran 25 minutes slow was called fabricated.
  // An unsigned Date within 27 h of a proven one is as likely a wrong clock or zone as an edit.
  it('within 27 hours of a proven Date, an unproven one before it is a warning, saying a clock explains it', () => {
    const parent = { ...message({ date: '2017-03-03T10:00:00.000Z' }), verdict: 'verified' as const, proofs: [FROM_DOMAIN_PROOF] };
    for (const [date, severity] of [['2017-03-03T09:35:00.000Z', 'warning'], ['2017-03-02T08:00:00.000Z', 'warning'], ['2017-03-02T06:59:00.000Z', 'red-flag']] as const) {
      const reply = message({ inReplyTo: parent.messageId, date });
      const found = threadOrder([parent, reply]);
      expect(codes(found), date).toEqual([`${reply.id}:reply-before-parent:${severity}`]);
      if (severity === 'warning') expect(found[0]!.finding.text).toMatch(/wrong clock or time-zone setting/);
    }
  });

  // Red team 6, C-04: any verified message of the domain, with an unsigned In-Reply-To (or
  // References) added, would "answer" a genuine message dated after it and accuse it.
  it('a proven reply accuses its parent only when its proof signs the header that names the parent', () => {
    const parent = message({ date: '2017-03-03T10:00:00.000Z' });
    const replayed = message({ inReplyTo: parent.messageId, date: '2017-03-01T10:00:00.000Z', verdict: 'verified', proofs: [FROM_DOMAIN_PROOF] });
    const findings = threadOrder([parent, replayed]);
    expect(codes(findings)).toEqual([`${replayed.id}:reply-before-parent:warning`, `${parent.id}:reply-before-parent:warning`]);
    expect(findings[0]!.finding.text).toMatch(/In-Reply-To or References header that makes it a reply to this message is not/);
    const byReferences = message({ references: [parent.messageId!], date: '2017-03-01T10:00:00.000Z', verdict: 'verified', proofs: [{ ...FROM_DOMAIN_PROOF, signedHeaders: [...FROM_DOMAIN_PROOF.signedHeaders, 'in-reply-to'] }] });
    expect(codes(threadOrder([parent, byReferences]))).toEqual([`${byReferences.id}:reply-before-parent:warning`, `${parent.id}:reply-before-parent:warning`]);
    const signedReferences = { ...byReferences, proofs: [{ ...FROM_DOMAIN_PROOF, signedHeaders: [...FROM_DOMAIN_PROOF.signedHeaders, 'references'] }] };
    expect(codes(threadOrder([parent, signedReferences]))).toEqual([`${parent.id}:reply-before-parent:red-flag`]);
  });

  // Red team 6, C-01: an unsigned message planted under the parent's Message-ID, first in path
  // order, hid the proven parent from the forged reply.
  it('every message under the parent Message-ID counts, not the first: a planted decoy does not hide the proven parent', () => {
    const parentId = '<p1@example.com>';
    const decoy = message({ messageId: parentId, fromAddress: 'x@evil.example', date: '2016-01-01T10:00:00.000Z' });
    const parent = message({ messageId: parentId, date: '2017-03-03T10:00:00.000Z', verdict: 'verified' });
    const forged = message({ inReplyTo: parentId, date: '2017-03-01T10:00:00.000Z' });
    expect(codes(threadOrder([decoy, parent, forged]))).toEqual([`${forged.id}:reply-before-parent:red-flag`]);
    // a later-dated unproven copy too: the reply carries one finding, the gravest
    const laterDecoy = { ...decoy, id: nextId++, date: '2017-03-05T10:00:00.000Z' };
    expect(codes(threadOrder([laterDecoy, parent, forged]))).toEqual([`${forged.id}:reply-before-parent:red-flag`, `${laterDecoy.id}:reply-before-parent:warning`]);
  });

  // A forger plants a message of their own, signed by their own domain, under the Message-ID a
  // genuine unsigned reply answers, dated after it: the reply must not become suspicious.
  it('a proven parent accuses the reply only when its Message-ID is shown to be its own', () => {
    const reply = message({ inReplyTo: '<b7@corp.example>', date: '2017-03-01T10:00:00.000Z' });
    const parentBy = (fromAddress: string, domain: string, messageId: string, signedHeaders = ['from', 'date', 'message-id']) =>
      message({ messageId, fromAddress, date: '2017-03-03T10:00:00.000Z', verdict: 'verified', proofs: [{ domain, selector: 's1', aligned: true, signedHeaders }] });
    const planted = parentBy('mallory@evil.example', 'evil.example', '<b7@corp.example>');
    const findings = threadOrder([planted, reply]);
    expect(codes(findings)).toEqual([`${reply.id}:reply-before-parent:warning`, `${planted.id}:reply-before-parent:warning`]);
    expect(findings[0]!.finding.text).toMatch(/its Message-ID is not shown to be its own/);
    // the Message-ID unsigned, or in a public provider's domain: the same
    expect(codes(threadOrder([parentBy('bob@corp.example', 'corp.example', '<b7@corp.example>', ['from', 'date']), reply]))).toEqual([
      `${reply.id}:reply-before-parent:warning`,
      expect.stringMatching(/:reply-before-parent:warning$/),
    ]);
    const gmailReply = message({ inReplyTo: '<CA+x@mail.gmail.com>', date: '2017-03-01T10:00:00.000Z' });
    expect(codes(threadOrder([parentBy('bob@gmail.com', 'gmail.com', '<CA+x@mail.gmail.com>'), gmailReply]))[0]).toBe(`${gmailReply.id}:reply-before-parent:warning`);
    // signed by the domain of its Message-ID (or one above it): the reply carries the red flag
    const own = parentBy('bob@corp.example', 'corp.example', '<b7@mx.corp.example>');
    const replyToOwn = message({ fromAddress: 'alice@corp.example', inReplyTo: '<b7@mx.corp.example>', date: '2017-03-01T10:00:00.000Z' });
    expect(codes(threadOrder([own, replyToOwn]))).toEqual([`${replyToOwn.id}:reply-before-parent:red-flag`]);
  });

  // Red team 30, M-01: a correspondent planted a copy of their own message, signed by their own
  // domain, dated after the victim's genuine unsigned reply, which became suspicious.
  it("a proven parent accuses the reply only with a Date proven by the reply's own domain, and not when that domain dated another copy before the reply", () => {
    const lureId = '<lure@attacker.example>';
    const byAttacker = (date: string) => message({ messageId: lureId, fromAddress: 'press@attacker.example', date, verdict: 'verified',
      proofs: [{ domain: 'attacker.example', selector: 'a1', aligned: true, signedHeaders: ['from', 'date', 'message-id'] }] });
    const original = byAttacker('2017-02-13T08:00:00.000Z');
    const planted = byAttacker('2017-02-17T08:00:00.000Z');
    const reply = message({ fromAddress: 'alice@demo.example', inReplyTo: lureId, date: '2017-02-14T09:12:03.000Z' });
    const alone = threadOrder([planted, reply]);
    expect(codes(alone)).toEqual([`${reply.id}:reply-before-parent:warning`, `${planted.id}:reply-before-parent:warning`]);
    expect(alone[0]!.finding.text).toMatch(/signed by its From domain \(d=attacker\.example\), not by the reply's \(demo\.example\)/);
    expect(alone[0]!.finding.evidence).toMatchObject({ parent: { dateSignedBy: ['attacker.example'] } });
    // the same domain dated its other copy before the reply: nothing against the reply
    expect(codes(threadOrder([original, planted, reply]))).toEqual([`${planted.id}:reply-before-parent:warning`]);
    // the parent's own domain is the reply's: still a red flag, unless that domain contradicts itself
    const byDemo = (date: string) => message({ messageId: '<b9@demo.example>', fromAddress: 'bob@demo.example', date, verdict: 'verified',
      proofs: [{ domain: 'demo.example', selector: 's1', aligned: true, signedHeaders: ['from', 'date', 'message-id'] }] });
    const colleague = byDemo('2017-02-17T08:00:00.000Z');
    const replyToColleague = { ...reply, id: nextId++, inReplyTo: '<b9@demo.example>' };
    expect(codes(threadOrder([colleague, replyToColleague]))).toEqual([`${replyToColleague.id}:reply-before-parent:red-flag`]);
    expect(codes(threadOrder([byDemo('2017-02-13T08:00:00.000Z'), colleague, replyToColleague]))).toEqual([]);
  });

  // Red team 7 (05): 16 unverified decoys first in path order pushed the forged parent past the
  // copies a reply is compared with.
  it('a reply that can accuse is compared with every copy under the parent Message-ID, however many decoys come first', () => {
    const parentId = '<p2@example.com>';
    const decoys = Array.from({ length: 20 }, () => message({ messageId: parentId, fromAddress: 'x@evil.example', date: '2016-01-01T10:00:00.000Z' }));
    const forgedParent = message({ messageId: parentId, date: '2017-03-03T10:00:00.000Z' });
    const reply = message({ inReplyTo: parentId, date: '2017-03-01T10:00:00.000Z', verdict: 'verified', proofs: [{ ...FROM_DOMAIN_PROOF, signedHeaders: [...FROM_DOMAIN_PROOF.signedHeaders, 'in-reply-to'] }] });
    expect(codes(threadOrder([...decoys, forgedParent, reply]))).toEqual([`${forgedParent.id}:reply-before-parent:red-flag`]);
  });

  // Found in the thirty-fifth round: one finding per parent Message-ID grew as messages x References.
  it('a reply answering several parents dated after it carries one finding, the gravest, counting the others', () => {
    const unproven = message({ date: '2017-03-03T10:00:00.000Z' });
    const proven = { ...message({ date: '2017-03-04T10:00:00.000Z' }), verdict: 'verified' as const, proofs: [FROM_DOMAIN_PROOF] };
    const alsoUnproven = message({ date: '2017-03-05T10:00:00.000Z' });
    const reply = message({ inReplyTo: unproven.messageId, references: [unproven.messageId!, proven.messageId!, alsoUnproven.messageId!], date: '2017-03-01T10:00:00.000Z' });
    const findings = threadOrder([unproven, proven, alsoUnproven, reply]);
    // the red flag from the proven parent, though its Message-ID comes after one giving a warning; each unproven parent keeps its own warning
    expect(codes(findings)).toEqual([`${reply.id}:reply-before-parent:red-flag`, `${unproven.id}:reply-before-parent:warning`, `${alsoUnproven.id}:reply-before-parent:warning`]);
    const [onReply] = findings;
    expect(onReply!.finding.text).toContain(`replies to ${proven.where}`);
    expect(onReply!.finding.text).toContain('2 other messages of the dump that it answers (named in its In-Reply-To or References) are dated after it as well, none with a graver finding; the evidence (otherParents) names them.');
    expect(onReply!.finding.evidence['otherParents']).toEqual({ count: 2, where: [unproven.where, alsoUnproven.where].sort() });
  });

  it('tolerates clock skew of a few minutes, and reports a missing parent as info', () => {
    const parent = message({ date: '2017-03-01T10:10:00.000Z' });
    const reply = message({ inReplyTo: parent.messageId, date: '2017-03-01T10:00:00.000Z' });
    expect(threadOrder([parent, reply])).toEqual([]);
    const orphan = message({ inReplyTo: '<gone@example.com>' });
    expect(codes(threadOrder([orphan]))).toEqual([`${orphan.id}:thread-parent-missing:info`]);
  });
});

describe('sender profile', () => {
  it('warns on a message whose time zone is outside a strong habit, and tolerates DST', () => {
    const usual = Array.from({ length: 12 }, (_, i) => message({ fromAddress: 'bob@example.com', dateOffsetMinutes: i % 3 === 0 ? 120 : 60 }));
    const odd = message({ fromAddress: 'bob@example.com', dateOffsetMinutes: -300 });
    const findings = senderProfile([...usual, odd]);
    expect(codes(findings)).toEqual([`${odd.id}:sender-profile-outlier:warning`]);
    expect(findings[0]!.finding.evidence).toMatchObject({ attribute: 'timezone', value: '-0500' });
  });

  // Red team 30, M-07: 30 planted unsigned messages "from" alice set her habits, and her three
  // genuine verified messages were called unusual against "91% of their 33 messages".
  it('never judges a verified message by habits drawn from unverified ones; habits come from verified messages where there are enough', () => {
    const alice = 'alice@demo.example';
    const proof = { ...FROM_DOMAIN_PROOF, domain: 'demo.example' };
    const genuine = Array.from({ length: 3 }, () => message({ fromAddress: alice, dateOffsetMinutes: 120, mailer: 'Apple Mail (2.3259)', verdict: 'verified', proofs: [proof] }));
    const planted = Array.from({ length: 40 }, () => message({ fromAddress: alice, dateOffsetMinutes: -300, mailer: 'Microsoft Outlook 16.0' }));
    expect(senderProfile([...genuine, ...planted])).toEqual([]);
    // an unverified message is still judged by such habits, and the text says how few of them are verified
    const odd = message({ fromAddress: alice, dateOffsetMinutes: 540 });
    const found = senderProfile([...genuine, ...planted, odd]);
    expect(codes(found)).toEqual([`${odd.id}:sender-profile-outlier:warning`]);
    expect(found[0]!.finding.text).toMatch(/of their 44 messages \(only 3 of them verified by their From domain/);
    // with ten verified messages, they alone make the habits, and judge every message
    const verified = Array.from({ length: 10 }, () => message({ fromAddress: alice, dateOffsetMinutes: 120, verdict: 'verified', proofs: [proof] }));
    const byVerified = senderProfile([...verified, ...planted]);
    expect(codes(byVerified)).toEqual(planted.map((m) => `${m.id}:sender-profile-outlier:warning`));
    expect(byVerified[0]!.finding.text).toMatch(/100% of their 10 messages verified by their From domain use "\+0200"/);
  });

  it('counts only signatures that verified towards a selector habit', () => {
    const bob = 'bob@demo.example';
    const sig = (selector: string, outcome: string) => [{ domain: 'demo.example', selector, outcome }];
    const usual = Array.from({ length: 12 }, () => message({ fromAddress: bob, signatures: sig('s2048', 'pass') }));
    const failing = Array.from({ length: 200 }, () => message({ fromAddress: bob, signatures: sig('fake', 'body-hash-mismatch') }));
    const found = senderProfile([...usual, ...failing]);
    expect(found.length).toBe(200);
    expect(found.every((f) => f.finding.evidence['attribute'] === 'selector' && f.finding.evidence['value'] === 'fake._domainkey.demo.example')).toBe(true);
  });

  it('says nothing for senders with few messages or no strong habit', () => {
    const few = Array.from({ length: 5 }, () => message({ fromAddress: 'carol@example.com' }));
    const mixed = Array.from({ length: 12 }, (_, i) => message({ fromAddress: 'dan@example.com', dateOffsetMinutes: (i % 6) * 60 }));
    expect(senderProfile([...few, message({ fromAddress: 'carol@example.com', dateOffsetMinutes: -300 }), ...mixed])).toEqual([]);
  });
});

describe('selector timeline', () => {
  it('warns when an unverifiable message claims a selector far outside its proven span', () => {
    const sig = (outcome: string) => [{ domain: 'example.com', selector: 's1', outcome }];
    const proven = [message({ date: '2017-01-01T00:00:00Z', verdict: 'verified', signatures: sig('pass') }), message({ date: '2017-06-01T00:00:00Z', verdict: 'verified', signatures: sig('pass') })];
    const far = message({ date: '2019-06-01T00:00:00.000Z', signatures: sig('key-not-found') });
    const near = message({ date: '2017-08-01T00:00:00.000Z', signatures: sig('key-not-found') });
    expect(codes(selectorTimeline([...proven, far, near]))).toEqual([`${far.id}:selector-outside-timeline:warning`]);
  });
});

describe('date after the dump', () => {
  it('warns on an unverified message dated long after the latest verified one', () => {
    const proven = message({ date: '2017-03-01T00:00:00Z', verdict: 'verified' });
    const late = message({ date: '2018-03-01T00:00:00.000Z' });
    const ok = message({ date: '2017-03-10T00:00:00.000Z' });
    expect(codes(dateAfterDump([proven, late, ok]))).toEqual([`${late.id}:date-after-dump:warning`]);
  });

  // Red team 30, M-06: one message signed by the forger's own domain, dated 2031, moved the
  // reference past every forgery and was itself never reported.
  it("one signing domain's late Dates do not move the reference; the late message gets an info, and the finding names the reference file", () => {
    const byDomain = (domain: string, date: string) => message({ fromAddress: `x@${domain}`, date, verdict: 'verified', proofs: [{ ...FROM_DOMAIN_PROOF, domain }] });
    const genuine = [byDomain('demo.example', '2017-04-10T00:00:00.000Z'), byDomain('demo.example', '2017-04-12T00:00:00.000Z'), byDomain('other.example', '2017-04-01T00:00:00.000Z')];
    const plant = byDomain('attacker.example', '2031-01-01T00:00:00.000Z');
    const forged = message({ fromAddress: 'alice@demo.example', date: '2017-12-18T00:00:00.000Z' });
    const findings = dateAfterDump([...genuine, plant, forged]);
    expect(codes(findings)).toEqual([`${plant.id}:date-after-dump:info`, `${forged.id}:date-after-dump:warning`]);
    expect(findings[1]!.finding.text).toContain(`(2017-04-12, ${genuine[1]!.where})`);
    expect(findings[1]!.finding.text).toMatch(/Only d=attacker\.example signs later Dates/);
    expect(findings[1]!.finding.evidence).toMatchObject({ referenceFile: genuine[1]!.where, referenceDomain: 'demo.example' });
    expect(findings[0]!.finding.evidence).toMatchObject({ referenceFile: genuine[1]!.where });
    // an unproven message of the late domain itself is compared with its own domain's Dates
    expect(codes(dateAfterDump([...genuine, plant, message({ fromAddress: 'news@attacker.example', date: '2030-12-01T00:00:00.000Z' })]))).toEqual([`${plant.id}:date-after-dump:info`]);
  });

  it("the domain that proves the most messages, the mailbox's own as a rule, sets the end of the dump alone", () => {
    const byDomain = (domain: string, date: string) => message({ fromAddress: `x@${domain}`, date, verdict: 'verified', proofs: [{ ...FROM_DOMAIN_PROOF, domain }] });
    const own = ['2017-01-01', '2018-06-01', '2019-05-20'].map((d) => byDomain('demo.example', `${d}T00:00:00.000Z`));
    const correspondent = byDomain('other.example', '2017-03-20T00:00:00.000Z');
    const unsigned = message({ fromAddress: 'bob@third.example', date: '2019-05-01T00:00:00.000Z' });
    expect(dateAfterDump([...own, correspondent, unsigned])).toEqual([]);
  });

  it('takes a dump of any size: 200,000 verified dates (spread into Math.max, they overflowed the stack)', () => {
    const start = Date.parse('2017-01-01T00:00:00Z');
    const proven = Array.from({ length: 200_000 }, (_, i) => message({ date: new Date(start + i * 60_000).toISOString(), verdict: 'verified' }));
    const late = message({ date: '2018-06-01T00:00:00.000Z' });
    expect(codes(dateAfterDump([...proven, late]))).toEqual([`${late.id}:date-after-dump:warning`]);
  });
});

describe('cross-dump pass in a real run', () => {
  it('an altered copy of a verified message is suspicious, naming its verified twin; its own verdict is kept', async () => {
    const tmp = tempDir();
    try {
      const dump = join(tmp.path, 'dump');
      mkdirSync(join(dump, 'sent'), { recursive: true });
      const genuinePath = join(DEMO_DUMP, 'inbox/2017-02-14 Q1 budget.eml');
      copyFileSync(genuinePath, join(dump, 'original.eml'));
      // The forger's copy: same Message-ID, signature stripped, one figure changed.
      const forged = readFileSync(genuinePath, 'latin1').replace(/^DKIM-Signature:[^\n]*\n(?:[ \t][^\n]*\n)*/m, '');
      const changed = forged.replace(/(\r?\n\r?\n[\s\S]*?)(\d)/, (_, before: string, digit: string) => `${before}${(Number(digit) + 1) % 10}`);
      expect(changed).not.toBe(forged);
      writeFileSync(join(dump, 'sent/copy.eml'), changed, 'latin1');
      const db = join(tmp.path, 'x.db');
      await runVerify({ dumpRoot: dump, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
      const rows = exportRows<{ path: string; verdict: string; reasons: string[]; findings: Array<{ code: string; text: string }> }>(db);
      const copy = rows.find((r) => r.path === 'sent/copy.eml')!;
      expect(copy.verdict).toBe('suspicious');
      // its own reason follows the red flag (red team 29, K-08)
      expect(copy.reasons).toEqual(['conflicting-copy', 'unsigned']);
      expect(copy.findings.find((f) => f.code === 'conflicting-copy')!.text).toContain('original.eml');
      expect(rows.find((r) => r.path === 'original.eml')!.verdict).toBe('verified');
    } finally {
      tmp.cleanup();
    }
  });
});

// Red team R, R-05 (repro/thread.ts): a genuine unsigned reply written on a PC whose date was three
// days behind, answering a verified parent of its own domain, was suspicious, though its Received
// stamps show it leaving smtp.demo.example and reaching the domain's MX an hour after the parent.
describe('a reply dated before its proven parent, in a real run, by its own trace', () => {
  it('is unverifiable with a warning naming its first stamp when the trace puts it after the parent, and suspicious when the trace agrees with its Date', async () => {
    const tmp = tempDir();
    try {
      const dump = join(tmp.path, 'dump');
      mkdirSync(dump, { recursive: true });
      const parent = demoMessage({ id: 'plan', subject: 'Plan' });
      writeFileSync(join(dump, 'parent.eml'), `Received: from smtp.demo.example by mx.demo.example; Tue, 14 Feb 2017 09:12:25 +0000\r\n${await signWithFixtureKey(parent)}`, 'latin1');
      const reply = (id: string, stamps: string[]) =>
        [...stamps.map((s) => `Received: ${s}`), 'From: Bob <bob@demo.example>', 'To: Alice Moreau <alice@demo.example>', 'Subject: Re: Plan',
          'Date: Sat, 11 Feb 2017 11:15:00 +0100', `Message-ID: <${id}@demo.example>`, 'In-Reply-To: <plan.1487063523@smtp.demo.example>',
          'MIME-Version: 1.0', 'Content-Type: text/plain; charset=us-ascii', '', 'OK.', ''].join('\r\n');
      writeFileSync(join(dump, 'wrong-calendar.eml'), reply('r1', [
        'from smtp.demo.example by mx.demo.example; Tue, 14 Feb 2017 10:15:09 +0000',
        'from bobs-pc.demo.example by smtp.demo.example; Tue, 14 Feb 2017 10:15:02 +0000',
      ]), 'latin1');
      writeFileSync(join(dump, 'backdated.eml'), reply('r2', [
        'from smtp.demo.example by mx.demo.example; Sat, 11 Feb 2017 10:15:09 +0000',
        'from bobs-pc.demo.example by smtp.demo.example; Sat, 11 Feb 2017 10:15:02 +0000',
      ]), 'latin1');
      const db = join(tmp.path, 'x.db');
      await runVerify({ dumpRoot: dump, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
      const rows = exportRows<{ path: string; verdict: string; findings: Array<{ code: string; severity: string; text: string }> }>(db);
      const thread = (path: string) => rows.find((r) => r.path === path)!.findings.filter((f) => f.code === 'reply-before-parent');
      expect(rows.find((r) => r.path === 'parent.eml')!.verdict).toBe('verified');
      expect(rows.find((r) => r.path === 'wrong-calendar.eml')!.verdict).toBe('unverifiable');
      expect(thread('wrong-calendar.eml').map((f) => f.severity)).toEqual(['warning']);
      expect(thread('wrong-calendar.eml')[0]!.text).toContain("The reply's own trace contradicts its Date: the bottom-most server stamp of its trace (its first recorded delivery, at 2017-02-14T10:15:02.000Z) is 1 h 2 min after the parent's Date");
      expect(rows.find((r) => r.path === 'backdated.eml')!.verdict).toBe('suspicious');
      expect(thread('backdated.eml').map((f) => f.severity)).toEqual(['red-flag']);
      expect(thread('backdated.eml')[0]!.text).toContain("The reply's own trace agrees with its Date");
    } finally {
      tmp.cleanup();
    }
  });
});

// Red team R, R-02, the part left after the per-message fix: a Date with no zone was read for the
// timeline check but not stored, so the checks across the dump never saw it.
describe('a Date with no zone, in a real run, in a thread', () => {
  const threadOf = async (files: Record<string, string>) => {
    const tmp = tempDir();
    try {
      const dump = join(tmp.path, 'dump');
      mkdirSync(dump, { recursive: true });
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dump, name), text, 'latin1');
      const db = join(tmp.path, 'x.db');
      await runVerify({ dumpRoot: dump, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
      const rows = exportRows<{ path: string; verdict: string; date_zone_known: boolean | null; findings: Array<{ code: string; severity: string; text: string }> }>(db);
      // the CSV's column says it too: its `date` holds the zoneless reading as well
      const csv = parse(runCli(['export', '--format', 'csv', '--db', db]).stdout, { columns: true }) as Array<Record<string, string>>;
      const zoneCell = (path: string): string | undefined => csv.find((row) => row['path'] === path)?.['date_zone_known'];
      return (path: string) => {
        const row = rows.find((r) => r.path === path)!;
        return { verdict: row.verdict, dateZoneKnown: row.date_zone_known, csvZone: zoneCell(path), thread: row.findings.filter((f) => f.code === 'reply-before-parent') };
      };
    } finally {
      tmp.cleanup();
    }
  };
  const unsigned = (headers: string[]) => [...headers, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=us-ascii', '', 'OK.', ''].join('\r\n');

  it('a forged unsigned parent dated four days after the proven reply that answers it, written without a zone, is suspicious', async () => {
    const of = await threadOf({
      'reply.eml': await signWithFixtureKey(demoMessage({ id: 'answer', subject: 'Re: Plan', extraHeaders: ['In-Reply-To: <plan@demo.example>'] })),
      'parent.eml': unsigned(['Received: from smtp.demo.example by mx.demo.example; Sat, 18 Feb 2017 09:00:20 +0000', 'From: Bob <bob@demo.example>',
        'To: Alice Moreau <alice@demo.example>', 'Subject: Plan', 'Date: Sat, 18 Feb 2017 10:00:00', 'Message-ID: <plan@demo.example>']),
    });
    expect(of('reply.eml').verdict).toBe('verified');
    expect(of('parent.eml').dateZoneKnown).toBe(false);
    expect(of('parent.eml').csvZone).toBe('false');
    expect(of('reply.eml').csvZone).toBe('true');
    expect(of('parent.eml').verdict).toBe('suspicious');
    expect(of('parent.eml').thread.map((f) => f.severity)).toEqual(['red-flag']);
    expect(of('parent.eml').thread[0]!.text).toContain("The parent's Date names no time zone leakcheck can read, so it is read as UTC");
  });

  it('a genuine reply from New York written without a zone, read 5 h early, two hours after its verified parent, gets nothing', async () => {
    const of = await threadOf({
      'parent.eml': await signWithFixtureKey(demoMessage({ id: 'plan', subject: 'Plan' })),
      // 06:12 in New York is 11:12 UTC, two hours after the parent's 09:12 UTC; read as UTC it is three hours before
      'reply.eml': unsigned(['Received: from smtp.demo.example by mx.demo.example; Tue, 14 Feb 2017 11:12:20 +0000', 'From: Bob <bob@demo.example>',
        'To: Alice Moreau <alice@demo.example>', 'Subject: Re: Plan', 'Date: Tue, 14 Feb 2017 06:12:03', 'Message-ID: <r1@demo.example>',
        'In-Reply-To: <plan.1487063523@smtp.demo.example>']),
    });
    expect(of('parent.eml').verdict).toBe('verified');
    expect(of('reply.eml').dateZoneKnown).toBe(false);
    expect(of('reply.eml').verdict).toBe('unverifiable');
    expect([...of('reply.eml').thread, ...of('parent.eml').thread]).toEqual([]);
  });
});
