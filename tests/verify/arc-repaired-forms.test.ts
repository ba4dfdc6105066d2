/**
 * Red team L, L-01 and L-06. The ARC chain was validated only on the form of the message DKIM
 * chose (repairVariants), so a repair DKIM asked for, or did not ask for, decided the chain's
 * result: a genuine unsigned message Gmail sealed on delivery came out `arc-body-modified` when
 * its body carried mbox `>From ` quoting (an .eml cut out of an mbox with the quoting left in, the
 * unquoted form never tried; an mboxo file's own `>From ` line, unquoted by leakcheck), and after
 * the gateway Subject-tag repair a chain that validates on the file as found read `ARC: fail`,
 * "a header field it signs was changed after it was sealed". The chain's result is now that of
 * the form as found, or of the form a repair made it validate on, the repair recorded.
 */
import { createSeal } from 'mailauth';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import type { ContainerKind } from '../../src/discover/types.ts';
import { SIGN_TIME, plainMessage, rsaKey, signed, tableLookup, type TestKey } from '../unit/support/signing.ts';

let author: TestKey;
let sealer: TestKey;

beforeAll(() => {
  author = rsaKey(2048);
  sealer = rsaKey(2048);
});

/** `message` as `by` sealed it on delivery, recording what it saw in its ARC-Authentication-Results. */
async function sealedBy(by: string, message: string, saw: string): Promise<string> {
  const sealed = await createSeal(Buffer.from(message, 'latin1'), {
    seal: { signingDomain: by, selector: 'arc', privateKey: sealer.privatePem, cv: 'none', signTime: new Date(SIGN_TIME.getTime() + 60_000), authResults: `mx.${by}; ${saw}` },
  } as Parameters<typeof createSeal>[1]);
  expect(sealed.errors).toEqual([]);
  return `${sealed.headers.join('\r\n')}\r\n${message}`;
}

const analyze = (message: string, by: string, format: ContainerKind = 'eml'): Promise<MessageAnalysis> =>
  analyzeMessage(
    { raw: Buffer.from(message, 'latin1'), format },
    tableLookup({ [`arc._domainkey.${by}`]: sealer.txt, 'sel1._domainkey.example.com': author.txt }),
  );

const codes = (a: MessageAnalysis): string[] => a.findings.map((f) => f.code);

const QUOTED_BODY = 'Hi Bob,\r\n\r\nthe notes are below.\r\n\r\nFrom the desk of the director: budget approved.\r\n\r\nAlice\r\n';
const quoted = (message: string): string => message.replace('\r\nFrom the desk', '\r\n>From the desk');

describe('an unsigned message Gmail sealed on delivery, its body carrying mbox ">From " quoting (L-01)', () => {
  it('the original, as a control: unsigned and ARC only, nothing repaired', async () => {
    const a = await analyze(await sealedBy('google.com', plainMessage({ body: QUOTED_BODY }), 'dkim=none'), 'google.com');
    expect(a.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['unsigned', 'arc-only'] });
    expect(a.arc.result).toBe('pass');
    expect(a.repairs).toEqual([]);
  });

  it('an .eml cut out of an mbox with the quoting left in: the chain validates unquoted, the repair recorded, never arc-body-modified', async () => {
    const a = await analyze(quoted(await sealedBy('google.com', plainMessage({ body: QUOTED_BODY }), 'dkim=none')), 'google.com');
    expect(a.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['unsigned', 'arc-only'] });
    expect(a.arc.result).toBe('pass');
    expect(a.arc.failure).toBeUndefined();
    expect(a.repairs).toEqual(['mboxrd-unquote']);
    expect(codes(a)).not.toContain('arc-body-modified');
    // the explanation names the repair the chain needed, as for a signature
    expect(a.verdict.explanation).toMatch(/Checked after repairing: mbox ">From " quoting undone\.$/);
  });

  it("an mboxo file holding the author's own \">From \" line: the chain validates as found, the unquoting DKIM's form got is not held against it", async () => {
    const body = 'Hi Bob,\r\n\r\nyou wrote:\r\n>From what I hear the budget is approved.\r\n\r\nGood.\r\nAlice\r\n';
    const stored = (await sealedBy('google.com', plainMessage({ body }), 'dkim=none')).replace(/\r\n/g, '\n');
    const a = await analyze(stored, 'google.com', 'mbox');
    expect(a.verdict).toMatchObject({ verdict: 'unverifiable', reasons: ['unsigned', 'arc-only'] });
    expect(a.arc.result).toBe('pass');
    expect(a.repairs).toEqual(['crlf']);
    expect(codes(a)).not.toContain('arc-body-modified');
  });

  it('the body edited after sealing, quoting or no quoting: arc-body-modified, as it fails on every form', async () => {
    const edited = quoted(await sealedBy('google.com', plainMessage({ body: QUOTED_BODY }), 'dkim=none')).replace('budget approved', 'budget cut');
    const a = await analyze(edited, 'google.com');
    expect(a.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['arc-body-modified'] });
    expect(a.arc.failure).toMatchObject({ part: 'message-signature', what: 'body', headersVerify: true });
  });

  it("a signed copy, as a control: DKIM's repair verifies it, and the chain with it", async () => {
    const message = await signed(plainMessage({ body: QUOTED_BODY }), { key: author, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    const a = await analyze(quoted(await sealedBy('google.com', message, 'dkim=pass header.d=example.com header.s=sel1')), 'google.com');
    expect(a.verdict).toMatchObject({ verdict: 'verified', reasons: ['dkim-verified'] });
    expect(a.arc.result).toBe('pass');
    expect(a.repairs).toEqual(['mboxrd-unquote']);
  });
});

describe("a gateway's Subject tag, then the mailbox provider's seal over it (L-06)", () => {
  const taggedThenSealed = async (): Promise<string> => {
    const message = await signed(plainMessage({ subject: 'Board minutes' }), { key: author, domain: 'example.com', selector: 'sel1', signTime: SIGN_TIME });
    return sealedBy('microsoft.com', message.replace('Subject: Board minutes', 'Subject: [EXTERNAL] Board minutes'), 'dkim=pass header.d=example.com');
  };

  it('verified with the tag removed, and the chain, which validates on the file as found, passes with no warning', async () => {
    const a = await analyze(await taggedThenSealed(), 'microsoft.com');
    expect(a.verdict).toMatchObject({ verdict: 'verified', reasons: ['dkim-verified'] });
    expect(a.repairs).toEqual(['gateway-subject-tag']);
    expect(a.arc.result).toBe('pass');
    expect(codes(a)).not.toContain('arc-chain-failed');
    expect(a.verdict.explanation).not.toContain('changed after it was sealed');
  });

  it('the body edited after the seal: the failure holds on both forms, and is told as the file was found, where the signed headers verify', async () => {
    const a = await analyze((await taggedThenSealed()).replace('attached as promised', 'attached; wire the fee'), 'microsoft.com');
    expect(a.verdict.verdict).toBe('suspicious');
    expect(a.verdict.reasons).toEqual(['dkim-body-modified', 'arc-body-modified']);
    expect(a.arc.failure).toMatchObject({ part: 'message-signature', what: 'body', headersVerify: true });
  });
});
