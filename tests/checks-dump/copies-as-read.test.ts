import { describe, expect, it } from 'vitest';
import { conflictingCopies, verifiedCopiesDiffer } from '../../src/checks/dump/conflicting-copies.ts';
import { dateAfterDump } from '../../src/checks/dump/future-date.ts';
import { threadOrder } from '../../src/checks/dump/threads.ts';
import type { DumpCopy, DumpProof } from '../../src/checks/dump/types.ts';
import { parseHeaders } from '../../src/read/headers.ts';
import { readMessageTraits, type MessageTraits } from '../../src/read/message-traits.ts';

/*
 * What the cross-dump checks compare copies on (message-traits.ts), and who may accuse whom
 * (src/checks/dump): the rules on messages as the store gives them (DumpCopy).
 */

function traits(message: string): MessageTraits {
  const bytes = Buffer.from(message, 'latin1');
  return readMessageTraits(bytes, parseHeaders(bytes));
}

const HEAD = 'From: Carol <carol@partner.example>\r\nTo: Dan <dan@corp.example>\r\nSubject: Contract\r\nDate: Wed, 15 Feb 2017 11:00:00 +0100\r\nMessage-ID: <b1@partner.example>\r\nMIME-Version: 1.0\r\n';
const text = (contentType: string, encoding: string, body: string): string =>
  `${HEAD}Content-Type: ${contentType}\r\n${encoding ? `Content-Transfer-Encoding: ${encoding}\r\n` : ''}\r\n${body}`;
/** "Le tarif est de 10 000 €, payé à la signature." in UTF-8 bytes (a latin1 string) */
const UTF8 = Buffer.from('Le tarif est de 10 000 \u20ac, pay\u00e9 \u00e0 la signature.\r\n', 'utf8').toString('latin1');
const HEX = /^[0-9a-f]{64}$/;

describe('the text a reader sees (MessageTraits.textSha256)', () => {
  const received = traits(text('text/plain; charset=utf-8', '8bit', UTF8));

  it('is the same for the same text in 8bit, quoted-printable (soft line breaks), base64, and another charset', () => {
    expect(received.textSha256).toMatch(HEX);
    const qp = traits(text('text/plain; charset="UTF-8"', 'quoted-printable', 'Le tarif est de 10 000 =E2=82=AC, pay=C3=A9 =\r\n=C3=A0 la signature.\r\n'));
    const b64 = traits(text('text/plain; charset=utf-8', 'base64', `${Buffer.from(UTF8, 'latin1').toString('base64')}\r\n`));
    const cp1252 = traits(text('text/plain; charset=windows-1252', 'quoted-printable', 'Le tarif est de 10 000 =80, pay=E9 =E0 la signature.\r\n'));
    for (const copy of [qp, b64, cp1252]) {
      expect(copy.bodySha256).not.toBe(received.bodySha256);
      expect(copy.textSha256).toBe(received.textSha256);
    }
  });

  it('differs when a word, the text type, or the layout of the parts differs', () => {
    expect(traits(text('text/plain; charset=utf-8', '8bit', UTF8.replace('10 000', '90 000'))).textSha256).not.toBe(received.textSha256);
    expect(traits(text('text/html; charset=utf-8', '8bit', UTF8)).textSha256).not.toBe(received.textSha256);
    const parts = (kind: string): string =>
      `${HEAD}Content-Type: multipart/${kind}; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nPlain.\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>Rich.</p>\r\n--b--\r\n`;
    const mixed = traits(parts('mixed'));
    expect(mixed.textSha256).toMatch(HEX);
    // a mail program shows both texts of a mixed, one of an alternative
    expect(traits(parts('alternative')).textSha256).not.toBe(mixed.textSha256);
  });

  it('is not read (null) for a transfer encoding or a charset it does not know', () => {
    expect(traits(text('text/plain; charset=utf-8', 'x-uuencode', 'begin 644 x\r\n')).textSha256).toBeNull();
    expect(traits(text('text/plain; charset=x-unknown-charset', 'quoted-printable', 'a=E9\r\n')).textSha256).toBeNull();
  });
});

// Red team S, S-05: a copy whose accents a conversion step decomposed (NFD: "e" and U+0301, as
// macOS tools write) was "altered" beside the verified one, though a reader sees the same text.
describe('text in either Unicode form (NFC, NFD) is the same text', () => {
  const utf8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
  const SUBJECT = 'R\u00e9union \u00e0 l\u2019\u00c9lys\u00e9e';
  const copy = (form: 'NFC' | 'NFD', body = 'Ordre du jour : budget, s\u00e9curit\u00e9.\r\n', encoding = '8bit'): MessageTraits =>
    traits(
      utf8(`From: ${'\u00c9milie Lef\u00e8vre'.normalize(form)} <emilie@demo.example>\r\nSubject: ${SUBJECT.normalize(form)}\r\nMIME-Version: 1.0\r\n` +
        `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: ${encoding}\r\n\r\n`) +
        (encoding === 'base64' ? `${Buffer.from(body.normalize(form), 'utf8').toString('base64')}\r\n` : utf8(body.normalize(form))),
    );

  it('a From and a Subject written in NFD read as the NFC ones', () => {
    const composed = copy('NFC');
    const decomposed = copy('NFD');
    expect(decomposed.visibleSha256).not.toBe(composed.visibleSha256);
    expect(decomposed.visibleFields).toEqual(composed.visibleFields);
  });

  it('a body in NFD, as it is or in base64, reads as the NFC one; another word still differs', () => {
    const composed = copy('NFC');
    for (const decomposed of [copy('NFD'), copy('NFD', undefined, 'base64')]) {
      expect(decomposed.bodySha256).not.toBe(composed.bodySha256);
      expect(decomposed.textSha256).toBe(composed.textSha256);
    }
    expect(copy('NFD', 'Ordre du jour : budget, s\u00e9curit\u00e9 et paie.\r\n').textSha256).not.toBe(composed.textSha256);
  });
});

describe('the visible headers, decoded (MessageTraits.visibleFields), and the mailing list', () => {
  it('a Subject in quoted-printable words, in base64 words, or folded is the same Subject', () => {
    const withSubject = (subject: string): MessageTraits => traits(`From: a@example.com\r\nSubject: ${subject}\r\n\r\nx\r\n`);
    const q = withSubject('=?UTF-8?Q?Contrat_sign=C3=A9?=');
    const b = withSubject(`=?UTF-8?B?${Buffer.from('Contrat signé').toString('base64')}?=`);
    const folded = withSubject('Contrat\r\n sign\xc3\xa9');
    expect(q.visibleFields.subject).toMatch(HEX);
    expect(b.visibleFields).toEqual(q.visibleFields);
    expect(folded.visibleFields).toEqual(q.visibleFields);
    expect(b.visibleSha256).not.toBe(q.visibleSha256);
    expect(withSubject('Contrat annul\xc3\xa9').visibleFields.subject).not.toBe(q.visibleFields.subject);
  });

  // Red team 27, A-04: a genuine Sent copy beside the delivered one was called altered for
  // differences no reader shows
  it('a display name with or without its optional quotes, and one Date in two time zones, are the same to a reader', () => {
    const copy = (to: string, date: string): MessageTraits['visibleFields'] =>
      traits(`From: Alice <alice@demo.example>\r\nTo: ${to}\r\nSubject: Q1\r\nDate: ${date}\r\n\r\nx\r\n`).visibleFields;
    const delivered = copy('Jordan Reyes <jordan@harbor.example>', 'Tue, 14 Feb 2017 10:12:03 +0100');
    expect(copy('"Jordan Reyes" <jordan@harbor.example>', 'Tue, 14 Feb 2017 10:12:03 +0100')).toEqual(delivered);
    expect(copy('Jordan Reyes <jordan@harbor.example>', 'Tue, 14 Feb 2017 09:12:03 +0000')).toEqual(delivered);
    expect(copy('Jordan Reyes <jordan@harbor.example>', 'Tue, 14 Feb 2017 10:12:03 +0100 (CET)')).toEqual(delivered);
    // what a reader does see differently still differs: another time, name or address, a missing
    // name, and quotes that keep a comma inside the name (without them it reads as two mailboxes)
    expect(copy('Jordan Reyes <jordan@harbor.example>', 'Tue, 14 Feb 2017 10:13:03 +0100').date).not.toBe(delivered.date);
    for (const to of ['Jordan Ryes <jordan@harbor.example>', 'Jordan Reyes <jordan@harb0r.example>', 'jordan@harbor.example']) {
      expect(copy(to, 'Tue, 14 Feb 2017 10:12:03 +0100').to, to).not.toBe(delivered.to);
    }
    expect(copy('"Reyes, Jordan" <jordan@harbor.example>', 'Tue, 14 Feb 2017 10:12:03 +0100').to).not.toBe(copy('Reyes, Jordan <jordan@harbor.example>', 'Tue, 14 Feb 2017 10:12:03 +0100').to);
  });

  it('the list a copy came through, by its List-Id; List-Post or List-Unsubscribe alone (bulk senders add them) is not a list', () => {
    const list = (...headers: string[]): string | null => traits(`From: a@example.com\r\n${headers.join('\r\n')}\r\n\r\nx\r\n`).mailingList;
    expect(list('List-Id: Team list <Team.Lists.Example>')).toBe('team.lists.example');
    expect(list('List-Post: <mailto:team@lists.example>', 'List-Unsubscribe: <mailto:leave@news.example>')).toBeNull();
  });
});

let nextId = 1;
const proof = (domain: string, aligned = true, signedHeaders = ['from', 'to', 'cc', 'subject', 'date', 'message-id', 'list-id']): DumpProof => ({ domain, selector: 's1', aligned, signedHeaders });
function message(over: Partial<DumpCopy> = {}): DumpCopy {
  const id = nextId++;
  return {
    id,
    where: `m${id}.eml`,
    sha256: `sha${id}`,
    messageId: '<x@corp.example>',
    fromAddress: 'alice@corp.example',
    date: '2017-03-01T10:00:00.000Z',
    dateOffsetMinutes: 60,
    dateZoneKnown: true,
    mailer: null,
    bodySha256: 'body',
    visibleSha256: 'visible',
    textSha256: 'text',
    partsSha256: 'parts',
    visibleFields: { from: 'f', to: 't', cc: 'c', subject: 's', date: 'd' },
    subject: 'Budget',
    mailingList: null,
    inReplyTo: null,
    references: [],
    // delivered when written, unless a test says otherwise: its own trace bears out its Date
    firstStampAt: over.date ?? '2017-03-01T10:00:00.000Z',
    verdict: 'unverifiable',
    signatures: [],
    proofs: [],
    ...over,
  };
}
const codes = (findings: Array<{ messageId: number; finding: { code: string; severity: string } }>): string[] =>
  findings.map((f) => `${f.messageId}:${f.finding.code}:${f.finding.severity}`);
const verifiedBy = (domain: string, aligned = true, over: Partial<DumpCopy> = {}): DumpCopy => message({ verdict: 'verified', proofs: [proof(domain, aligned)], ...over });

describe('a proven twin: proven by its From domain, which is the accused copy\'s', () => {
  it('a copy verified only by a signature of another domain than its From is no twin', () => {
    const thirdParty = verifiedBy('lists.example', false);
    const copy = message({ bodySha256: 'other', textSha256: 'other' });
    expect(codes(conflictingCopies([thirdParty, copy]))).toEqual([`${copy.id}:divergent-copies:warning`]);
  });

  it("a copy of a forger's own, its From changed to their domain and signed there, does not accuse the genuine one", () => {
    const forged = verifiedBy('evil.example', true, { fromAddress: 'alice@evil.example', bodySha256: 'other', textSha256: 'other', visibleFields: { from: 'f2', to: 't', cc: 'c', subject: 's', date: 'd' } });
    const genuine = message();
    const findings = conflictingCopies([forged, genuine]);
    expect(codes(findings)).toEqual([`${genuine.id}:divergent-copies:warning`]);
    expect(findings[0]!.finding.text).toMatch(/not by this copy's From domain \(corp\.example\)/);
  });

  // Red team 5 (02): any user of a public mail provider gets mail genuinely signed by it.
  it("on a public mail provider, another user's verified copy under the Message-ID does not accuse a genuine one", () => {
    const planted = verifiedBy('gmail.com', true, { messageId: '<a1@mail.gmail.com>', fromAddress: 'mallory@gmail.com', textSha256: 'other', visibleFields: { from: 'f2', to: 't', cc: 'c', subject: 's', date: 'd' } });
    const genuine = message({ messageId: '<a1@mail.gmail.com>', fromAddress: 'alice@gmail.com' });
    const findings = conflictingCopies([planted, genuine]);
    expect(codes(findings)).toEqual([`${genuine.id}:divergent-copies:warning`]);
    expect(findings[0]!.finding.text).toMatch(/is by gmail\.com, a public mail provider, and the two copies are from different addresses/);
    // from the same address, the provider's proof is the author's, and it accuses
    const sameAuthor = message({ messageId: '<a1@mail.gmail.com>', fromAddress: 'mallory@gmail.com' });
    expect(codes(conflictingCopies([planted, sameAuthor]))).toEqual([`${sameAuthor.id}:conflicting-copy:red-flag`]);
  });

  it('on an organisation\'s own domain, a colleague\'s proven copy still accuses', () => {
    const proven = verifiedBy('corp.example', true, { fromAddress: 'bob@corp.example', bodySha256: 'other', textSha256: 'other' });
    const copy = message({ fromAddress: 'alice@corp.example' });
    expect(codes(conflictingCopies([proven, copy]))).toEqual([`${copy.id}:conflicting-copy:red-flag`]);
  });

  // Red team 28, I-02: a planted copy of the signed body under another charset, transfer encoding
  // or multipart subtype verifies under a signature that leaves those headers out, and reads
  // otherwise; the author's unsigned copy of the same bytes is not altered for that.
  it('the same body bytes read otherwise: evidence only against a proof that signs Content-Type and Content-Transfer-Encoding', () => {
    const planted = verifiedBy('corp.example', true, { textSha256: 'read as windows-1252' });
    const sent = message();
    const findings = conflictingCopies([planted, sent]);
    expect(codes(findings)).toEqual([`${sent.id}:divergent-copies:warning`]);
    expect(findings[0]!.finding.evidence['differsIn']).toEqual(['mime-headers']);
    expect(findings[0]!.finding.text).toContain('MIME headers (the same body bytes, read otherwise), which its signature (d=corp.example) does not sign');
    const signsMime = message({ verdict: 'verified', textSha256: 'read as windows-1252', proofs: [proof('corp.example', true, ['from', 'subject', 'message-id', 'content-type', 'content-transfer-encoding'])] });
    expect(codes(conflictingCopies([signsMime, message()]))).toEqual([expect.stringMatching(/:conflicting-copy:red-flag$/)]);
    // other bytes that read otherwise are a changed body, as before
    expect(codes(conflictingCopies([verifiedBy('corp.example', true, { bodySha256: 'other', textSha256: 'other' }), message()]))).toEqual([expect.stringMatching(/:conflicting-copy:red-flag$/)]);
  });

  // Apple Mail keeps an attachment's content outside a .partial.emlx (body-stored-apart);
  // Thunderbird rewrites the part of an attachment its user deleted or detached (red team N)
  it.each([
    ['body-stored-apart', 'copy-parts-stored-apart'],
    ['attachment-removed-by-client', 'copy-attachment-removed-by-client'],
  ] as const)('a copy whose attachment content is not in the file (%s): a warning, unless its text, read, differs', (notInFile, code) => {
    const whole = verifiedBy('corp.example', true, { partsSha256: 'with the pdf' });
    const sameText = message({ partsNotInFile: notInFile, partsSha256: 'pdf emptied', bodySha256: 'other' });
    const unreadText = message({ partsNotInFile: notInFile, textSha256: null, bodySha256: 'other' });
    const changedText = message({ partsNotInFile: notInFile, textSha256: 'pay now', bodySha256: 'other' });
    const changedSubject = message({ partsNotInFile: notInFile, partsSha256: 'pdf emptied', visibleFields: { from: 'f', to: 't', cc: 'c', subject: 's2', date: 'd' } });
    expect(codes(conflictingCopies([whole, sameText, unreadText, changedText, changedSubject]))).toEqual([
      `${sameText.id}:${code}:warning`,
      `${unreadText.id}:${code}:warning`,
      `${changedText.id}:conflicting-copy:red-flag`,
      `${changedSubject.id}:conflicting-copy:red-flag`,
    ]);
  });

  it('copies that read the same are not compared on their bytes; a copy not read so is', () => {
    const proven = verifiedBy('corp.example');
    const sentCopy = message({ bodySha256: 'quoted-printable bytes', visibleSha256: 'encoded otherwise' });
    expect(conflictingCopies([proven, sentCopy])).toEqual([]);
    // not read (an unusual MIME shape), or its inventory stopped early: its bytes decide
    const unread = message({ bodySha256: 'quoted-printable bytes', textSha256: null });
    const partial = message({ bodySha256: 'quoted-printable bytes', partsSha256: null });
    expect(codes(conflictingCopies([proven, unread, partial]))).toEqual([`${unread.id}:conflicting-copy:red-flag`, `${partial.id}:conflicting-copy:red-flag`]);
  });

  it('a copy that reads exactly as one proven copy is not accused by another that differs (that is for the two proven copies)', () => {
    const first = verifiedBy('corp.example', true, { textSha256: 'v1' });
    const second = verifiedBy('corp.example', true, { textSha256: 'v2' });
    const copyOfSecond = message({ textSha256: 'v2' });
    expect(codes(conflictingCopies([first, second, copyOfSecond]))).toEqual([]);
    expect(codes(verifiedCopiesDiffer([first, second, copyOfSecond]))).toEqual([`${first.id}:verified-copies-differ:warning`, `${second.id}:verified-copies-differ:warning`]);
  });
});

describe('a List-Id excuses differences only when something a forger cannot add vouches for it', () => {
  const tagged = { mailingList: 'all.corp.example', subject: '[all] Budget', bodySha256: 'with footer', textSha256: 'with footer', visibleFields: { from: 'f', to: 't', cc: 'c', subject: 's2', date: 'd' } };

  it('a proven list copy whose proof signs List-Id: the direct copy gets a warning; when its proof does not sign it, a red flag', () => {
    const direct = message();
    expect(codes(conflictingCopies([verifiedBy('corp.example', true, tagged), direct]))).toEqual([`${direct.id}:copy-changed-by-list:warning`]);
    // (a List-Id added to a proven copy after signing leaves it verified)
    const unsignedListId = message({ verdict: 'verified', proofs: [proof('corp.example', true, ['from', 'to', 'cc', 'subject', 'date', 'message-id'])], ...tagged });
    expect(codes(conflictingCopies([unsignedListId, direct]))).toEqual([`${direct.id}:conflicting-copy:red-flag`]);
  });

  it('an unproven list copy beside a proven one: excused only if it still carries that copy\'s signature, broken, and is not suspicious for it', () => {
    const proven = verifiedBy('corp.example');
    // a forger's altered copy, its signature stripped and a List-Id added
    const forged = message(tagged);
    // a list copy whose author signature the footer broke, which a well-known ARC sealer vouched for
    const viaList = message({ ...tagged, signatures: [{ domain: 'corp.example', selector: 's1', outcome: 'body-modified' }] });
    // the same broken signature, unexplained: suspicious on its own
    const brokenUnexplained = message({ ...tagged, verdict: 'suspicious', signatures: [{ domain: 'corp.example', selector: 's1', outcome: 'body-modified' }] });
    // a signature of the same domain under another selector, whose key nobody has
    const otherSelector = message({ ...tagged, signatures: [{ domain: 'corp.example', selector: 'gone', outcome: 'body-modified' }] });
    expect(codes(conflictingCopies([proven, forged, viaList, brokenUnexplained, otherSelector]))).toEqual([
      `${forged.id}:conflicting-copy:red-flag`,
      `${viaList.id}:copy-changed-by-list:warning`,
      `${brokenUnexplained.id}:conflicting-copy:red-flag`,
      `${otherSelector.id}:conflicting-copy:red-flag`,
    ]);
  });
});

describe('verified copies that differ', () => {
  it('a warning on each, naming the other, when both proofs sign what differs: neither decides', () => {
    const a = verifiedBy('corp.example', true, { where: 'inbox/a.eml' });
    const b = verifiedBy('corp.example', true, { where: 'sent/b.eml', visibleFields: { from: 'f', to: 't2', cc: 'c', subject: 's', date: 'd' } });
    const findings = verifiedCopiesDiffer([a, b]);
    expect(codes(findings)).toEqual([`${a.id}:verified-copies-differ:warning`, `${b.id}:verified-copies-differ:warning`]);
    expect(findings[0]!.finding.text).toContain('sent/b.eml');
    expect(findings[1]!.finding.text).toContain('inbox/a.eml');
    expect(findings[0]!.finding.text).toMatch(/in its To, which both copies' signatures sign.*d=corp\.example signed both versions/);
  });

  // Red team 29, K-01: a copy verified by a signature that leaves Subject out, its Subject edited,
  // beside the sent copy whose signature signs Subject, was told "d=… signed both versions"
  it('what only one copy\'s proof signs: the other copy\'s version is contradicted, never "signed both versions"', () => {
    const subjectEdited = { subject: 'URGENT: new bank details', visibleFields: { from: 'f', to: 't', cc: 'c', subject: 's2', date: 'd' } };
    const sent = verifiedBy('corp.example', true, { where: 'sent.eml' });
    const inbox = message({ where: 'inbox.eml', verdict: 'verified', proofs: [proof('corp.example', true, ['from', 'to', 'date', 'message-id'])], ...subjectEdited });
    const findings = verifiedCopiesDiffer([sent, inbox]);
    expect(codes(findings)).toEqual([`${sent.id}:verified-copy-other-unsigned:info`, `${inbox.id}:verified-copy-contradicted:warning`]);
    for (const { finding } of findings) expect(finding.text).not.toMatch(/signed both versions|Neither proof/);
    expect(findings[0]!.finding.text).toMatch(/in its Subject, which this copy's signature \(d=corp\.example\) signs and that copy's does not: what that copy shows there is proven by nothing\. Other copy: inbox\.eml/);
    expect(findings[1]!.finding.text).toMatch(/in its Subject, which that copy's signature signs and this copy's \(d=corp\.example\) does not: what this copy shows there is proven by nothing/);
    expect(findings[1]!.finding.evidence).toMatchObject({ differsIn: ['subject'], unsignedHere: ['subject'] });
    // the same two copies, one of them not verified: the red flag (the verified one stays verified, so a warning above)
    expect(codes(conflictingCopies([sent, { ...inbox, verdict: 'unverifiable', proofs: [] }]))).toEqual([`${inbox.id}:conflicting-copy:red-flag`]);
  });

  it('a body both sign and a Subject only one signs: each said of its own', () => {
    const sent = verifiedBy('corp.example', true);
    const inbox = message({ verdict: 'verified', proofs: [proof('corp.example', true, ['from', 'to', 'date', 'message-id'])], bodySha256: 'other body', textSha256: 'other text', visibleFields: { from: 'f', to: 't', cc: 'c', subject: 's2', date: 'd' } });
    const findings = verifiedCopiesDiffer([sent, inbox]);
    expect(codes(findings)).toEqual([
      `${sent.id}:verified-copies-differ:warning`, `${sent.id}:verified-copy-other-unsigned:info`,
      `${inbox.id}:verified-copy-contradicted:warning`, `${inbox.id}:verified-copies-differ:warning`,
    ]);
    expect(findings[0]!.finding.text).toMatch(/in its body, which both copies' signatures sign/);
    expect(findings[0]!.finding.evidence['differsIn']).toEqual(['body']);
  });

  it('what neither proof signs, or only a proof that cannot bear witness: a warning on each that it is proven by nothing', () => {
    const noSubject = ['from', 'to', 'date', 'message-id'];
    const a = message({ verdict: 'verified', proofs: [proof('corp.example', true, noSubject)] });
    const b = message({ verdict: 'verified', proofs: [proof('corp.example', true, noSubject)], visibleFields: { from: 'f', to: 't', cc: 'c', subject: 's2', date: 'd' } });
    const findings = verifiedCopiesDiffer([a, b]);
    expect(codes(findings)).toEqual([`${a.id}:verified-copies-differ:warning`, `${b.id}:verified-copies-differ:warning`]);
    for (const { finding } of findings) {
      expect(finding.text).toMatch(/in its Subject, which this copy's signature does not sign, nor does that copy's: what either shows there is proven by nothing/);
      expect(finding.text).not.toContain('signed both versions');
    }
    // the other copy's proof signs Subject but not the Message-ID: it does not show the two are one message
    const c = message({ verdict: 'verified', proofs: [proof('corp.example', true, ['from', 'to', 'subject', 'date'])] });
    const [onB] = verifiedCopiesDiffer([c, b]).filter((f) => f.messageId === b.id);
    expect(onB!.finding.code).toBe('verified-copies-differ');
    expect(onB!.finding.text).toMatch(/which this copy's signature does not sign, and that copy's signature \(d=corp\.example\) does not sign the Message-ID/);
  });

  // Red team 29, K-03: the tag a recipient's gateway puts before the Subject is no alteration
  it('a Subject that differs only by a mail gateway\'s tag does not differ; any other change still does', () => {
    const proven = verifiedBy('corp.example');
    const tagged = message({ subject: '[EXTERNAL] Budget', visibleFields: { from: 'f', to: 't', cc: 'c', subject: 's-tagged', date: 'd' } });
    expect(conflictingCopies([proven, tagged])).toEqual([]);
    const changed = message({ subject: '[EXTERNAL] Budget approved', visibleFields: { from: 'f', to: 't', cc: 'c', subject: 's-changed', date: 'd' } });
    expect(codes(conflictingCopies([proven, changed]))).toEqual([`${changed.id}:conflicting-copy:red-flag`]);
  });

  it('when a list accounts for the difference, only the list\'s copy gets a warning, saying so', () => {
    const direct = verifiedBy('corp.example');
    const listed = verifiedBy('corp.example', true, { mailingList: 'all.corp.example', subject: '[all] Budget', bodySha256: 'with footer', textSha256: 'with footer', visibleFields: { from: 'f', to: 't', cc: 'c', subject: 's2', date: 'd' } });
    const findings = verifiedCopiesDiffer([direct, listed]);
    expect(codes(findings)).toEqual([`${listed.id}:copy-changed-by-list:warning`]);
    expect(findings[0]!.finding.text).toMatch(/^This copy came through the mailing list all\.corp\.example/);
  });
});

describe('a reply accuses its parent only with a Date signed by the parent\'s own domain', () => {
  /** what a reply's proof must sign to accuse: its Date, and the In-Reply-To that names the parent */
  const THREAD_SIGNED = ['from', 'to', 'subject', 'date', 'in-reply-to'];
  const parent = (over: Partial<DumpCopy> = {}): DumpCopy => message({ messageId: '<p@corp.example>', date: '2017-03-03T10:00:00.000Z', ...over });
  const reply = (over: Partial<DumpCopy> = {}): DumpCopy => message({ messageId: '<r@example.net>', inReplyTo: '<p@corp.example>', date: '2017-03-01T10:00:00.000Z', ...over });

  it("a reply verified only by a signature of another domain than its From: no red flag on the parent, a warning on both", () => {
    const p = parent();
    const r = reply({ fromAddress: 'frank@corp.example', verdict: 'verified', proofs: [proof('evil.example', false)] });
    expect(codes(threadOrder([p, r]))).toEqual([`${r.id}:reply-before-parent:warning`, `${p.id}:reply-before-parent:warning`]);
  });

  it("a reply proven by its own From domain, another than the parent's: a warning on both", () => {
    const p = parent();
    const r = reply({ fromAddress: 'frank@evil.example', verdict: 'verified', proofs: [proof('evil.example')] });
    expect(codes(threadOrder([p, r]))).toEqual([`${r.id}:reply-before-parent:warning`, `${p.id}:reply-before-parent:warning`]);
  });

  it("a reply proven by the parent's domain (or one above it), whose signature signs Date: a red flag on the parent", () => {
    const p = parent({ fromAddress: 'gina@mail.corp.example' });
    const r = reply({ fromAddress: 'hal@corp.example', verdict: 'verified', proofs: [proof('corp.example', true, THREAD_SIGNED)] });
    expect(codes(threadOrder([p, r]))).toEqual([`${p.id}:reply-before-parent:red-flag`]);
    // a signature that does not sign Date proves no Date
    const undated = reply({ fromAddress: 'hal@corp.example', verdict: 'verified', proofs: [proof('corp.example', true, ['from', 'subject'])] });
    expect(codes(threadOrder([p, undated]))).toEqual([`${undated.id}:reply-before-parent:warning`, `${p.id}:reply-before-parent:warning`]);
  });

  // Red team 5 (02): a "reply" from another user of a public mail provider, dated before a user's
  // genuine message, is signed by the parent's domain, and proves nothing about the parent.
  it('a reply by another user of a public mail provider: a warning on both, saying why', () => {
    const p = parent({ fromAddress: 'bob@gmail.com' });
    const r = reply({ fromAddress: 'mallory@gmail.com', verdict: 'verified', proofs: [proof('gmail.com')] });
    const findings = threadOrder([p, r]);
    expect(codes(findings)).toEqual([`${r.id}:reply-before-parent:warning`, `${p.id}:reply-before-parent:warning`]);
    expect(findings[0]!.finding.text).toMatch(/gmail\.com is a public mail provider and the two are from different addresses/);
    // the same user answering their own message: the provider's proof is theirs
    const own = reply({ fromAddress: 'bob@gmail.com', verdict: 'verified', proofs: [proof('gmail.com', true, THREAD_SIGNED)] });
    expect(codes(threadOrder([p, own]))).toEqual([`${p.id}:reply-before-parent:red-flag`]);
  });
});

describe('the latest proven date of the dump', () => {
  it('a message verified only by another domain than its From neither moves the reference nor escapes the check', () => {
    const proven = verifiedBy('corp.example', true, { date: '2017-03-01T00:00:00.000Z' });
    const thirdParty = verifiedBy('esp.example', false, { date: '2019-01-01T00:00:00.000Z' });
    const late = message({ date: '2018-03-01T00:00:00.000Z' });
    expect(codes(dateAfterDump([proven, thirdParty, late]))).toEqual([`${thirdParty.id}:date-after-dump:warning`, `${late.id}:date-after-dump:warning`]);
  });
});
