/**
 * Red team, round 4 (05): a single-part message whose signature leaves Content-Type out of h=.
 * Changed from text/plain to text/html (or added), "We will <not pay …> pay it on Friday" shows
 * as "We will pay it on Friday": the signed bytes, read otherwise.
 */
import { describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { multipartShownPartsProblem } from '../../src/checks/multipart-shown-parts.ts';
import { offlineFileLookup } from '../../src/keys/key-lookup.ts';
import { DEMO_KEYS } from '../helpers/cli.ts';
import { demoMessage, demoPrivateKey, handSign } from '../hostile/sign.ts';

const lookup = offlineFileLookup(DEMO_KEYS);
const analyze = (text: string): Promise<MessageAnalysis> => analyzeMessage({ raw: Buffer.from(text, 'latin1'), format: 'eml' }, lookup);
const BODY = 'We will <not pay this invoice. Legal says the contract is void> pay it on Friday as agreed.\r\n';

/** The demo message with `contentType` (or none), signed by demo.example with `signed` in h=. */
function signedWith(contentType: string | null, signed = ['from', 'to', 'subject', 'date', 'message-id']): string {
  const message = demoMessage({ id: 'ct', contentHeaders: contentType === null ? [] : [`Content-Type: ${contentType}`], body: BODY });
  return handSign(message, { privateKeyPem: demoPrivateKey(), tags: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=demo.example; s=s2048; h=${signed.join(':')}`, headers: signed });
}

describe('an unsigned Content-Type of a single-part message', () => {
  it.each([
    ['text/plain; charset=us-ascii'],
    ['text/plain; charset="UTF-8"'],
    ['text/plain; charset=iso-8859-1; format=flowed'],
    [null],
  ])('%s: plain text reads the same whatever the header says, and stays verified', async (contentType) => {
    const a = await analyze(signedWith(contentType));
    expect(a.verdict.verdict).toBe('verified');
    expect(a.findings.map((f) => f.code)).not.toContain('content-type-not-signed');
  });

  it.each([['text/html; charset=us-ascii'], ['text/plain; charset=utf-7'], ['application/octet-stream']])(
    '%s, unsigned: the bytes are genuine, what the reader sees is not proven',
    async (contentType) => {
      const a = await analyze(signedWith(contentType));
      expect(a.signatures[0]!.outcome).toBe('pass');
      expect(a.verdict.verdict).toBe('unverifiable');
      expect(a.verdict.reasons).toEqual(['content-type-not-signed']);
      expect(a.findings.find((f) => f.code === 'content-type-not-signed')).toMatchObject({ severity: 'warning' });
    },
  );

  // Red team 28, I-04: readers parse parameters; a pattern over the text found the wrong charset
  it.each([
    ["text/plain; charset*=us-ascii''utf-7", 'charset=utf-7'],
    ['text/plain; x="; charset=utf-8"; charset=utf-7', 'charset=utf-7'],
    ['text/plain; x="; charset=utf-8"; charset=utf-16', 'charset=utf-16'],
    ['text/plain; charset=utf-8; charset=utf-7', 'mail programs read differently'],
  ])('%s, unsigned: the charset as readers read it is not plain, or not agreed on', async (contentType, said) => {
    const a = await analyze(signedWith(contentType));
    expect(a.verdict.reasons).toEqual(['content-type-not-signed']);
    expect(a.findings.find((f) => f.code === 'content-type-not-signed')!.text).toContain(said);
  });

  it("a charset hidden in another parameter's quoted string is no charset: plain text stays verified", async () => {
    expect((await analyze(signedWith('text/plain; x="; charset=utf-7"; charset=utf-8'))).verdict.verdict).toBe('verified');
  });

  // Red team 28, I-06 and I-05: without a Content-Type, mailparser types the body by the file name
  // of its Content-Disposition; with one, an unsigned disposition makes the text an attachment.
  it.each([
    [null, 'inline; filename="note.html"', 'is absent, while a Content-Disposition names the body "note.html"'],
    [null, 'attachment; filename="request.eml"', 'names the body "request.eml"'],
    ['text/plain; charset=utf-8', 'attachment; filename="Resignation letter - Dana.txt"', 'presents the signed text as an attachment named "Resignation letter - Dana.txt"'],
    ['text/plain; charset=utf-8', 'inline; filename="note.txt"', 'gives the signed text the file name "note.txt"'],
    [null, 'inline; filename="note.txt"', 'gives the signed text the file name "note.txt"'],
    ['text/plain; charset=utf-8; name="note.txt"', null, 'the unsigned Content-Type names the body "note.txt"'],
  ])('Content-Type %s with Content-Disposition %s, both unsigned: not proven as shown', async (contentType, disposition, said) => {
    const headers = [...(contentType === null ? [] : [`Content-Type: ${contentType}`]), ...(disposition === null ? [] : [`Content-Disposition: ${disposition}`])];
    const message = demoMessage({ id: 'cd', contentHeaders: headers, body: BODY });
    const signed = ['from', 'to', 'subject', 'date', 'message-id'];
    const a = await analyze(handSign(message, { privateKeyPem: demoPrivateKey(), tags: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=demo.example; s=s2048; h=${signed.join(':')}`, headers: signed }));
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.verdict.reasons).toEqual(['content-type-not-signed']);
    expect(a.findings.find((f) => f.code === 'content-type-not-signed')!.text).toContain(said);
  });

  it('a bare inline disposition, typed or not, or a disposition the signature covers: verified', async () => {
    const sign = (headers: string[], signed: string[]): string =>
      handSign(demoMessage({ id: 'cd-ok', contentHeaders: headers, body: BODY }), { privateKeyPem: demoPrivateKey(), tags: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=demo.example; s=s2048; h=${signed.join(':')}`, headers: signed });
    const base = ['from', 'to', 'subject', 'date', 'message-id'];
    expect((await analyze(sign(['Content-Type: text/plain; charset=utf-8', 'Content-Disposition: inline'], base))).verdict.verdict).toBe('verified');
    expect((await analyze(sign(['Content-Disposition: inline'], base))).verdict.verdict).toBe('verified');
    expect((await analyze(sign(['Content-Type: text/plain; charset=utf-8', 'Content-Disposition: attachment; filename="a.txt"'], [...base, 'content-disposition']))).verdict.verdict).toBe('verified');
  });

  it('text/html under a signature that covers Content-Type is verified', async () => {
    const a = await analyze(signedWith('text/html; charset=us-ascii', ['from', 'to', 'subject', 'date', 'message-id', 'content-type']));
    expect(a.verdict.verdict).toBe('verified');
  });
});

/**
 * Red team, round 6 (A-02): the subtype of an unsigned multipart Content-Type decides which
 * signed parts a reader sees. A genuine multipart/mixed "Do NOT pay … below is their request",
 * followed by the request in HTML, changed to multipart/alternative shows only the request.
 */
describe('an unsigned multipart Content-Type', () => {
  const NEGATION = 'Do NOT pay invoice 4471. Below is the request they sent us; it is a fraud and Legal has been told.';
  const REQUEST = 'Please pay invoice 4471 (EUR 48,000) to IBAN XX00 1234 today. -- CEO';
  const part = (contentType: string, text: string, extra: string[] = []): string => [`Content-Type: ${contentType}`, ...extra, '', text, ''].join('\r\n');
  const multipart = (boundary: string, parts: string[]): string => `${parts.map((p) => `--${boundary}\r\n${p}`).join('')}--${boundary}--\r\n`;
  const signedMultipart = (contentType: string, body: string, signed = ['from', 'to', 'subject', 'date', 'message-id']): string =>
    handSign(demoMessage({ id: 'mp', contentHeaders: [`Content-Type: ${contentType}`], body }), {
      privateKeyPem: demoPrivateKey(),
      tags: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=demo.example; s=s2048; h=${signed.join(':')}`,
      headers: signed,
    });
  const fraud = multipart('B1', [part('text/plain; charset=utf-8', NEGATION), part('text/html; charset=utf-8', `<p>${REQUEST}</p>`)]);
  const notProven = (a: MessageAnalysis): string => {
    expect(a.signatures[0]!.outcome).toBe('pass');
    expect(a.verdict.verdict).toBe('unverifiable');
    expect(a.verdict.reasons).toEqual(['content-type-not-signed']);
    return a.findings.find((f) => f.code === 'content-type-not-signed')!.text;
  };
  const verified = (a: MessageAnalysis): void => {
    expect(a.findings.map((f) => f.code)).not.toContain('content-type-not-signed');
    expect(a.verdict.verdict).toBe('verified');
  };

  it('multipart/mixed shows every part: verified', async () => {
    verified(await analyze(signedMultipart('multipart/mixed; boundary="B1"', fraud)));
  });

  it('the same parts under multipart/alternative: only the request shows, so the signature does not prove what is seen', async () => {
    const text = notProven(await analyze(signedMultipart('multipart/alternative; boundary="B1"', fraud)));
    expect(text).toMatch(/multipart\/alternative.*only its last part, text\/html.*text\/plain part before it says other things/);
  });

  it('a plain part that says more than the HTML shown after it is not a version of it', async () => {
    const more = multipart('B1', [part('text/plain; charset=utf-8', `${NEGATION}\r\n\r\n${REQUEST}`), part('text/html; charset=utf-8', `<p>${REQUEST}</p>`)]);
    notProven(await analyze(signedMultipart('multipart/alternative; boundary="B1"', more)));
  });

  it('multipart/alternative under a signature that covers Content-Type is verified', async () => {
    verified(await analyze(signedMultipart('multipart/alternative; boundary="B1"', fraud, ['from', 'to', 'subject', 'date', 'message-id', 'content-type'])));
  });

  it('a genuine alternative (the same words, HTML entities, a link spelt out in the plain part, the HTML in a related part) is verified', async () => {
    const html = '<html><head><style>p{color:red}</style></head><body><p>Caf&eacute; at <a href="https://harbor.example/map">the harbor</a> on Friday &ndash; Alice</p></body></html>';
    const related = multipart('R1', [part('text/html; charset=utf-8', html), part('image/png; name="map.png"', 'iVBORw0KGgo=', ['Content-Transfer-Encoding: base64', 'Content-ID: <map@demo>'])]);
    const body = multipart('A1', [
      part('text/plain; charset=utf-8', 'Caf=C3=A9 at the harbor <https://harbor.example/map> on Friday =E2=80=93 Alice', ['Content-Transfer-Encoding: quoted-printable']),
      part('multipart/related; boundary="R1"; type="text/html"', related),
    ]);
    verified(await analyze(signedMultipart('multipart/alternative; boundary="A1"', body)));
  });

  // Red team 7 (01): compared as a bag of words, a short hidden note passed, its common words
  // all somewhere in the longer request.
  it('a short hidden note whose words all occur in the part shown, in another order, is not a version of it', async () => {
    const note = 'Do not pay this. It is not from me.';
    const request = '<p>Hi, this is from me: please pay invoice 4471 (EUR 48,000) to IBAN XX00 1234. Do not call me, it is urgent, and pay this today.</p>';
    const parts = multipart('B1', [part('text/plain; charset=utf-8', note), part('text/html; charset=utf-8', request)]);
    verified(await analyze(signedMultipart('multipart/mixed; boundary="B1"', parts)));
    expect(notProven(await analyze(signedMultipart('multipart/alternative; boundary="B1"', parts)))).toMatch(/word pairs are in the part shown/);
  });

  // Red team 7 (02): the part shown was not a text part, and nothing was compared.
  it.each([
    ['an image', part('image/png', 'iVBORw0KGgo=', ['Content-Transfer-Encoding: base64'])],
    ['a nested alternative', part('multipart/alternative; boundary="N1"', multipart('N1', [part('text/plain', REQUEST), part('text/html', `<p>${REQUEST}</p>`)]))],
    ['a forwarded message', part('message/rfc822', `From: x@harbor.example\r\nSubject: invoice\r\n\r\n${REQUEST}`)],
    ['text/enriched', part('text/enriched', REQUEST)],
  ])('under multipart/alternative, a note before %s shown last is hidden', async (_, last) => {
    const parts = multipart('B1', [part('text/plain; charset=utf-8', NEGATION), last]);
    verified(await analyze(signedMultipart('multipart/mixed; boundary="B1"', parts)));
    notProven(await analyze(signedMultipart('multipart/alternative; boundary="B1"', parts)));
  });

  // Red team 7 (03, 04): genuine Gmail alternatives made unverifiable: a Japanese plain part
  // wrapped in the middle of clauses, and images written "[image: alt]" in the plain part.
  it('a Japanese plain part wrapped mid-clause, and images as "[image: alt]", are versions of their HTML', async () => {
    const japanese = 'お世話になっております。来週の会議の資料を添付いたしましたので、ご確認のほどよろしくお願いいたします。ご不明な点がございましたら、お気軽にお問い合わせください。';
    const wrapped = japanese.match(/.{1,38}/gu)!.join('\r\n');
    const body = multipart('J1', [
      part('text/plain; charset=utf-8', Buffer.from(`${wrapped}\r\n\r\n[image: Harbor logo]\r\n[image: Facebook] [image: LinkedIn]`, 'utf8').toString('latin1')),
      part('text/html; charset=utf-8', Buffer.from(`<div dir="ltr"><b>${japanese.slice(0, 12)}</b>${japanese.slice(12)}<br><br><img src="cid:logo" alt="Harbor logo"><br><a href="https://facebook.example"><img alt="Facebook" src="x"></a> <img src='y' alt='LinkedIn'></div>`, 'utf8').toString('latin1')),
    ]);
    verified(await analyze(signedMultipart('multipart/alternative; boundary="J1"', body)));
  });

  it('multipart/related shows its root only: a text part after it is hidden', async () => {
    notProven(await analyze(signedMultipart('multipart/related; boundary="B1"', fraud)));
    const images = multipart('B1', [part('text/html; charset=utf-8', `<p>${REQUEST}</p>`), part('image/png', 'iVBORw0KGgo=', ['Content-Transfer-Encoding: base64'])]);
    verified(await analyze(signedMultipart('multipart/related; boundary="B1"', images)));
  });

  it('multipart/related whose start parameter names another root than the first part', async () => {
    const parts = multipart('B1', [part('text/html; charset=utf-8', `<p>${NEGATION}</p>`, ['Content-ID: <one@demo>']), part('text/html; charset=utf-8', `<p>${REQUEST}</p>`, ['Content-ID: <two@demo>'])]);
    expect(notProven(await analyze(signedMultipart('multipart/related; boundary="B1"; start="<two@demo>"', parts)))).toContain('part 2 of 2');
  });

  it('multipart/digest reads parts without a Content-Type as messages', async () => {
    const untyped = multipart('B1', [`\r\n${NEGATION}\r\n`, `\r\n${REQUEST}\r\n`]);
    verified(await analyze(signedMultipart('multipart/mixed; boundary="B1"', untyped)));
    expect(notProven(await analyze(signedMultipart('multipart/digest; boundary="B1"', untyped)))).toContain('2 parts without a Content-Type');
  });

  it('multipart/signed hides its second part unless that is a signature', async () => {
    notProven(await analyze(signedMultipart('multipart/signed; boundary="B1"; protocol="application/pgp-signature"', fraud)));
    const pgp = multipart('B1', [part('text/plain; charset=utf-8', NEGATION), part('application/pgp-signature', '-----BEGIN PGP SIGNATURE-----\r\n\r\niQEz\r\n-----END PGP SIGNATURE-----')]);
    verified(await analyze(signedMultipart('multipart/signed; boundary="B1"; protocol="application/pgp-signature"', pgp)));
  });

  /**
   * Red team 27, A-01: a single-part reply made multipart by its unsigned Content-Type, with a
   * boundary taken from a separator line of the signed text ("-----Original Message-----" is
   * "--" and a boundary). Every mail program then hides the author's own words above it as the
   * preamble, and shows the quoted request below as the message; not a byte of the body moved.
   */
  it('signed text a reader never sees, before the first part or after the last, is not proven to be seen', async () => {
    const reply = [
      'Jordan,', '', NEGATION, '', 'Alice', '',
      '-----Original Message-----', 'From: CEO <ceo@demo.example>', 'Sent: Monday, February 13, 2017 18:02', 'Subject: Payment', '', REQUEST, '',
    ].join('\r\n');
    const asSent = await analyze(signedMultipart('text/plain; charset=us-ascii', reply));
    expect(asSent.verdict.verdict).toBe('verified');
    const text = notProven(await analyze(signedMultipart('multipart/mixed; boundary="---Original Message-----"', reply)));
    expect(text).toMatch(/show none of the signed text in \d+ bytes before its first part/);
    // the same words after the closing delimiter (the epilogue), and a body that never uses its boundary
    expect(notProven(await analyze(signedMultipart('multipart/mixed; boundary="B1"', `${multipart('B1', [part('text/plain; charset=utf-8', REQUEST)])}\r\n${NEGATION}\r\n`)))).toMatch(/bytes after its last/);
    expect(notProven(await analyze(signedMultipart('multipart/mixed; boundary="NOT-THERE"', reply)))).toContain('the whole body');
    // the notice mail programs write there for readers that know no MIME, and blank lines, are not text a reader misses
    for (const notice of ['This is a multi-part message in MIME format.', 'This is an OpenPGP/MIME signed message (RFC 4880 and 3156)', '']) {
      verified(await analyze(signedMultipart('multipart/mixed; boundary="B1"', `${notice}\r\n\r\n${fraud}\r\n\r\n`)));
    }
  });
});

describe('the text of a quoted-printable part the check compares', () => {
  // libqp's decode() tried a match from every blank of a run: 60 KB of blanks before the words of
  // each part took 16 s, the 256 KB the check reads minutes (past the analysis's time limit).
  it('is decoded in time linear in its runs of blanks', () => {
    const blanks = ' '.repeat(250_000);
    const part = (type: string, text: string): string => `--b\r\nContent-Type: ${type}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${blanks}${text}\r\n`;
    const message = Buffer.from(`Content-Type: multipart/alternative; boundary="b"\r\n\r\n${part('text/plain', 'hello there friend')}${part('text/html', '<p>pay the invoice now</p>')}--b--\r\n`, 'latin1');
    const problem = multipartShownPartsProblem(message, message.indexOf('\r\n\r\n') + 4, 'multipart/alternative; boundary="b"');
    expect(problem).toContain('the text/plain part before it says other things');
  }, 5_000);
});
