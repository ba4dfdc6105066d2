/**
 * The boundary of an unsigned Content-Type, read as mail programs read it (red team round 3,
 * finding 04): written in RFC 2231 form (`boundary*0=`, `boundary*=''x`) it had slipped past
 * `boundary-not-the-body`, which looked only for `boundary=`, while mailparser and Python showed a
 * forwarded message's part as the sender's own text. And a passing signature by any domain that
 * covered Content-Type switched that check and `content-header-ambiguous` off, the forger's own
 * included; only one aligned with the From domain does now.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { auditUnsignedBoundary } from '../../src/checks/part-headers.ts';
import { auditSignedHeaders } from '../../src/checks/signed-headers.ts';
import type { KeyLookup } from '../../src/keys/types.ts';
import { DATE_HEADER, SIGN_TIME, handSignature, rsaKey, tableLookup, type TestKey } from '../unit/support/signing.ts';
import { compromisedKey, context, fakeSignature, headersWith, message, weakKey } from './support.ts';

/**
 * The CFO's genuine forward: his own text, then the fraudulent invoice mail as a message/rfc822
 * part, whose own boundary INNERB a replaced Content-Type can name to show "Please pay" as his.
 */
const INNER =
  'From: Supplier <billing@supplier.example>\r\nSubject: Invoice 4471\r\nContent-Type: multipart/alternative; boundary="INNERB"\r\n\r\n' +
  '--INNERB\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nPlease pay invoice 4471 (EUR 480,000) to IBAN XX00 1234 5678 today.\r\n--INNERB--\r\n';
const FORWARD =
  '--OUTERB\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nDo NOT pay this. It is a fraud attempt.\r\n\r\n' +
  `--OUTERB\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n${INNER}\r\n--OUTERB--\r\n`;

const withContentType = (contentType: string): string => message(headersWith({ 'Content-Type': contentType }), FORWARD);

/** Signed as Gmail signs: by the From domain, Content-Type left out of h=. */
const ALIGNED_WITHOUT_CONTENT_TYPE = fakeSignature({ tags: 'v=1; d=example.com; s=a; h=mime-version:from:date:message-id:subject:to', aligned: true });
const ALIGNED_WITH_CONTENT_TYPE = fakeSignature({ tags: 'v=1; d=example.com; s=a; h=content-type:from:to:subject', aligned: true });
/** A forger's own signature over the Content-Type they wrote: d= is not the From domain. */
const FORGER_OVER_CONTENT_TYPE = fakeSignature({ tags: 'v=1; d=evil.example; s=s1; h=content-type:from', aligned: false, index: 1 });

const boundaryFindings = (contentType: string, signatures = [ALIGNED_WITHOUT_CONTENT_TYPE]) =>
  auditUnsignedBoundary(context(withContentType(contentType), signatures));

describe('boundary-not-the-body reads RFC 2231 boundaries', () => {
  it.each([
    ['a continuation, quoted', (b: string) => `multipart/mixed; boundary*0="${b.slice(0, 4)}"; boundary*1="${b.slice(4)}"`],
    ['a continuation, unquoted, in capitals', (b: string) => `multipart/mixed; BOUNDARY*0=${b.slice(0, 4)}; BOUNDARY*1=${b.slice(4)}`],
    ['a continuation of extended segments', (b: string) => `multipart/mixed; boundary*0*=us-ascii''${b.slice(0, 4)}; boundary*1*=%${b.charCodeAt(4).toString(16)}${b.slice(5)}`],
    ['an extended value without charset', (b: string) => `multipart/mixed; boundary*=''${b}`],
    ['an extended value with a charset', (b: string) => `multipart/mixed; boundary*=utf-8''${b}`],
    ['an extended value with a charset, a language and an escape', (b: string) => `multipart/mixed; boundary*=us-ascii'en'${b.slice(0, 2)}%${b.charCodeAt(2).toString(16)}${b.slice(3)}`],
  ])('%s: naming the inner boundary is a red flag, naming the own one is nothing', (_, write) => {
    expect(boundaryFindings(write('OUTERB'))).toEqual([]);
    const [finding, ...rest] = boundaryFindings(write('INNERB'));
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      code: 'boundary-not-the-body',
      severity: 'red-flag',
      evidence: { declaredBoundary: 'INNERB', delimiterFound: '--OUTERB', signatures: ['#1 d=example.com s=a'] },
    });
  });
});

describe('a multipart boundary that mail programs read differently, or cannot read, is a red flag', () => {
  it.each([
    // libmime (mailparser) takes the last, Python's email the first
    ['two boundary=, the genuine one first', 'multipart/mixed; boundary="OUTERB"; boundary="INNERB"', ['INNERB', 'OUTERB']],
    ['two boundary=, the genuine one last', 'multipart/mixed; boundary="INNERB"; boundary="OUTERB"', ['OUTERB', 'INNERB']],
    // libmime takes boundary*, Python's compat32 boundary=
    ['boundary= and boundary*=', "multipart/mixed; boundary=\"OUTERB\"; boundary*=''INNERB", ['INNERB', 'OUTERB']],
    ['boundary*= and boundary=', "multipart/mixed; boundary*=utf-8''INNERB; boundary=OUTERB", ['INNERB', 'OUTERB']],
    ['a continuation and boundary=', 'multipart/mixed; boundary=INNERB; boundary*0="OUTE"; boundary*1="RB"', ['OUTERB', 'INNERB']],
    // Python's default policy decodes the encoded word, libmime does not
    ['an encoded word', 'multipart/mixed; boundary="=?us-ascii?Q?OUTERB?="', ['=?us-ascii?Q?OUTERB?=', 'OUTERB']],
  ])('%s', (_, contentType, readings) => {
    const [finding, ...rest] = boundaryFindings(contentType);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ code: 'boundary-not-the-body', severity: 'red-flag', evidence: { declaredBoundary: null, boundaryReadings: readings } });
    expect(finding!.text).toMatch(/cannot be read unambiguously \(mail programs read it differently/);
  });

  it.each([
    ['no boundary parameter (mailparser shows none of the text)', 'multipart/mixed', 'there is no boundary parameter'],
    ['an empty boundary', 'multipart/mixed; boundary=""', 'the boundary is empty'],
    ['continuation segments with a gap', 'multipart/mixed; boundary*0="OU"; boundary*2="TERB"', 'boundary* segments that do not run 0, 1, 2, …'],
    ['a continuation that does not start at 0', 'multipart/mixed; boundary*1="OUTERB"', 'boundary* segments that do not run 0, 1, 2, …'],
    ['one segment number twice', 'multipart/mixed; boundary*0="OUTERB"; boundary*0="INNERB"', 'boundary*0 given twice'],
    ['a comment before the name (libmime then finds no boundary)', 'multipart/mixed; (note) boundary="OUTERB"', 'a boundary parameter name with a comment or space in it'],
    ['text after the quoted value', 'multipart/mixed; boundary="OUTERB" INNERB', 'a boundary value that is neither a quoted string nor a token'],
    ['an extended value without its prefix', 'multipart/mixed; boundary*=OUTERB', "an RFC 2231 boundary value without its charset'language' prefix"],
    ['an escape outside ASCII', "multipart/mixed; boundary*=iso-8859-1''OUTERB%E9", 'the boundary is not printable ASCII'],
  ])('%s', (_, contentType, problem) => {
    const [finding, ...rest] = boundaryFindings(contentType);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ code: 'boundary-not-the-body', severity: 'red-flag', evidence: { declaredBoundary: null, problem } });
  });

  it('a multipart Content-Type too long to read is reported, quickly, not skipped', () => {
    const contentType = `multipart/mixed; x-pad="${'a'.repeat(1024 * 1024)}"; boundary*=''INNERB`;
    const started = performance.now();
    const [finding] = boundaryFindings(contentType);
    expect(performance.now() - started).toBeLessThan(500);
    expect(finding).toMatchObject({ code: 'boundary-not-the-body', evidence: { declaredBoundary: null, problem: `the Content-Type is ${contentType.length} characters long, too long to read` } });
  });

  it('the same boundary written twice alike is read as one; written differently it is not', () => {
    expect(boundaryFindings('multipart/mixed; boundary="OUTERB"; boundary=OUTERB')).toEqual([]);
    expect(boundaryFindings("multipart/mixed; boundary=OUTERB; boundary*=''OUTERB")).toEqual([]);
    expect(boundaryFindings('multipart/mixed; boundary=OUTERB; boundary=OUTERb')).toMatchObject([{ evidence: { declaredBoundary: null } }]);
  });
});

describe('only a signature by the From domain that covers Content-Type switches the checks off', () => {
  it("a forger's own signature over the replaced Content-Type does not", () => {
    const swapped = 'multipart/mixed; boundary="INNERB"';
    expect(boundaryFindings(swapped, [ALIGNED_WITH_CONTENT_TYPE])).toEqual([]);
    const [finding, ...rest] = boundaryFindings(swapped, [ALIGNED_WITHOUT_CONTENT_TYPE, FORGER_OVER_CONTENT_TYPE]);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      code: 'boundary-not-the-body',
      severity: 'red-flag',
      evidence: { declaredBoundary: 'INNERB', coveredByUnaligned: ['#2 d=evil.example s=s1'] },
    });
    expect(finding!.text).toContain('a signature by another domain proves nothing about what the From domain sent');
    // with the forger's signature alone, too
    expect(boundaryFindings("multipart/mixed; boundary*=''INNERB", [FORGER_OVER_CONTENT_TYPE])).toMatchObject([{ evidence: { declaredBoundary: 'INNERB' } }]);
  });

  it("a forger's signature over both copies of Content-Type does not silence content-header-ambiguous", () => {
    const raw = message(headersWith({ 'Content-Type': 'multipart/mixed; boundary="OUTERB"' }, ['Content-Type: multipart/mixed; boundary="INNERB"']), FORWARD);
    const fields = context(raw).headers.fields;
    const forgerOverBoth = fakeSignature({ tags: 'v=1; d=evil.example; s=s1; h=content-type:content-type:from', aligned: false, index: 1 });
    const ambiguous = (signatures: ReturnType<typeof fakeSignature>[]) => auditSignedHeaders(fields, signatures).filter((f) => f.code === 'content-header-ambiguous');
    expect(ambiguous([ALIGNED_WITHOUT_CONTENT_TYPE, forgerOverBoth])).toMatchObject([
      { severity: 'red-flag', evidence: { header: 'content-type', present: 2, coveredByUnaligned: ['#2 d=evil.example s=s1'] } },
    ]);
    expect(ambiguous([forgerOverBoth])).toHaveLength(1);
    // the From domain's own signature over both copies: its signer wrote them
    const alignedOverBoth = fakeSignature({ tags: 'v=1; d=example.com; s=a; h=content-type:content-type:from', aligned: true });
    expect(ambiguous([alignedOverBoth, forgerOverBoth])).toEqual([]);
  });

  // Red team 27, A-02: a second signature of the From domain, made with its old 512-bit key or a
  // retired key whose private half was published, is one anyone can add over the swapped header.
  it('nor does a signature of the From domain made with a weak or compromised key', () => {
    const swapped = 'multipart/mixed; boundary="INNERB"';
    for (const [key, kind] of [[weakKey(), 'weak'], [compromisedKey(), 'compromised']] as const) {
      const overContentType = fakeSignature({ tags: 'v=1; d=example.com; s=old; h=from:content-type', key, index: 1 });
      const [finding, ...rest] = boundaryFindings(swapped, [ALIGNED_WITHOUT_CONTENT_TYPE, overContentType]);
      expect(rest, kind).toEqual([]);
      expect(finding, kind).toMatchObject({
        code: 'boundary-not-the-body',
        severity: 'red-flag',
        evidence: { coveredByUnaligned: [], coveredByKeyThatProvesNothing: ['#2 d=example.com s=old'] },
      });
      expect(finding!.text).toContain('with a key that proves nothing');

      const raw = message(headersWith({ 'Content-Type': 'multipart/mixed; boundary="OUTERB"' }, ['Content-Type: multipart/mixed; boundary="INNERB"']), FORWARD);
      const overBoth = fakeSignature({ tags: 'v=1; d=example.com; s=old; h=from:content-type:content-type', key, index: 1 });
      expect(auditSignedHeaders(context(raw).headers.fields, [ALIGNED_WITHOUT_CONTENT_TYPE, overBoth]).filter((f) => f.code === 'content-header-ambiguous'), kind).toMatchObject([
        { severity: 'red-flag', evidence: { coveredByKeyThatProvesNothing: ['#2 d=example.com s=old'] } },
      ]);
    }
  });
});

describe('genuine multipart mail signed by the From domain gets no finding', () => {
  it('whatever the syntax of its boundary, and whether or not the signature covers Content-Type', () => {
    const genuine = [
      'multipart/mixed; boundary="OUTERB"',
      'multipart/mixed; boundary=OUTERB',
      'Multipart/Mixed;\tBoundary="OUTERB"; charset=us-ascii',
      '"multipart/mixed"; boundary=OUTERB',
      'multipart/mixed; boundary*0="OUT"; boundary*1="ERB"',
      "multipart/mixed; boundary*=''OUTERB",
      "multipart/mixed; boundary*=utf-8'en'OUTERB",
      // a ";boundary=" inside another parameter's quoted value is not a boundary
      'multipart/mixed; x-note="see ;boundary=INNERB"; boundary="OUTERB"',
    ];
    for (const contentType of genuine) {
      for (const signature of [ALIGNED_WITHOUT_CONTENT_TYPE, ALIGNED_WITH_CONTENT_TYPE]) {
        expect(boundaryFindings(contentType, [signature]), `${contentType} ${signature.tags.signedHeaders.join(':')}`).toEqual([]);
      }
    }
  });
});

describe('end to end, with real signatures (the red team repro)', () => {
  let bank: TestKey;
  let evil: TestKey;
  let lookup: KeyLookup;
  beforeAll(() => {
    bank = rsaKey(2048);
    evil = rsaKey(2048);
    lookup = tableLookup({ 's1._domainkey.bank.example': bank.txt, 's1._domainkey.evil.example': evil.txt });
  });

  const GMAIL_HEADERS = ['mime-version', 'from', 'date', 'message-id', 'subject', 'to'];
  const unsignedForward = (contentType: string): string =>
    [
      'From: CFO <cfo@bank.example>',
      'To: Treasury <treasury@bank.example>',
      'Subject: Fwd: Invoice 4471',
      `Date: ${DATE_HEADER}`,
      'Message-ID: <fwd4471@bank.example>',
      'MIME-Version: 1.0',
      `Content-Type: ${contentType}`,
      '',
      FORWARD,
    ].join('\r\n');
  /** The CFO's forward signed by bank.example as Gmail signs, then its Content-Type replaced. */
  const forged = (contentType: string): string => {
    const genuine = unsignedForward('multipart/mixed; boundary="OUTERB"');
    const signature = handSignature(genuine, { key: bank, domain: 'bank.example', selector: 's1', headers: GMAIL_HEADERS, signTime: SIGN_TIME });
    return signature + genuine.replace('multipart/mixed; boundary="OUTERB"', contentType);
  };
  const analyze = (raw: string): Promise<MessageAnalysis> => analyzeMessage({ raw: Buffer.from(raw, 'latin1'), format: 'eml' }, lookup);

  it.each([
    ['boundary*0/*1', 'multipart/mixed; boundary*0="INNE"; boundary*1="RB"'],
    ["boundary*=''", "multipart/mixed; boundary*=''INNERB"],
    ["boundary*=utf-8''", "multipart/mixed; boundary*=utf-8''INNERB"],
  ])('the inner boundary named as %s makes the verified forward suspicious', async (_, contentType) => {
    expect((await analyze(forged('multipart/mixed; boundary="OUTERB"'))).verdict.verdict).toBe('verified');
    const a = await analyze(forged(contentType));
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['boundary-not-the-body']);
  });

  it("a forger's own signature over the replaced Content-Type changes nothing", async () => {
    const swapped = forged('multipart/mixed; boundary="INNERB"');
    const message = handSignature(swapped, { key: evil, domain: 'evil.example', selector: 's1', headers: ['content-type', 'from'], signTime: SIGN_TIME }) + swapped;
    const a = await analyze(message);
    expect(a.signatures.map((s) => [s.tags.domain, s.outcome, s.aligned])).toEqual([
      ['evil.example', 'pass', false],
      ['bank.example', 'pass', true],
    ]);
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toContain('boundary-not-the-body');
    expect(a.findings.find((f) => f.code === 'boundary-not-the-body')?.evidence).toMatchObject({ coveredByUnaligned: ['#1 d=evil.example s=s1'] });
  });

  it("a forger's signature over an added second Content-Type changes nothing", async () => {
    const genuine = unsignedForward('multipart/mixed; boundary="OUTERB"');
    const signed = handSignature(genuine, { key: bank, domain: 'bank.example', selector: 's1', headers: GMAIL_HEADERS, signTime: SIGN_TIME }) + genuine;
    const added = signed.replace('From: CFO', 'Content-Type: multipart/mixed; boundary="INNERB"\r\nFrom: CFO');
    const message = handSignature(added, { key: evil, domain: 'evil.example', selector: 's1', headers: ['content-type', 'content-type', 'from'], signTime: SIGN_TIME }) + added;
    const a = await analyze(message);
    expect(a.signatures.every((s) => s.outcome === 'pass')).toBe(true);
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(expect.arrayContaining(['content-header-ambiguous', 'boundary-not-the-body']));
  });

  it('the genuine forward, with an RFC 2231 boundary and signed with or without Content-Type, stays verified with no boundary finding', async () => {
    for (const contentType of ['multipart/mixed; boundary*0="OUTE"; boundary*1="RB"', "multipart/mixed; boundary*=utf-8''OUTERB"]) {
      const genuine = unsignedForward(contentType);
      for (const headers of [GMAIL_HEADERS, ['content-type', ...GMAIL_HEADERS]]) {
        const a = await analyze(handSignature(genuine, { key: bank, domain: 'bank.example', selector: 's1', headers, signTime: SIGN_TIME }) + genuine);
        expect(a.verdict.verdict, `${contentType} h=${headers.join(':')}`).toBe('verified');
        expect(a.findings.map((f) => f.code)).not.toContain('boundary-not-the-body');
      }
    }
    // and the red flag is there when the same message names the inner boundary in that syntax
    const a = await analyze(forged('multipart/mixed; boundary*0="INNE"; boundary*1="RB"'));
    expect(a.verdict.reasons).toEqual(['boundary-not-the-body']);
  });
});
