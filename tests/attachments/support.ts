/**
 * Messages for the attachment tests: composed with nodemailer's MailComposer (what real mail
 * looks like) or written by hand (what hostile mail looks like), signed and verified with
 * mailauth and a key made on the spot.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { dkimSign, dkimVerify } from 'mailauth';
import type { DKIMResult } from 'mailauth';

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

export type ComposeOptions = ConstructorParameters<typeof MailComposer>[0];

/** The raw message nodemailer builds for `options`. */
export function compose(options: ComposeOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    new MailComposer(options).compile().build((err, message) => (err ? reject(err) : resolve(message)));
  });
}

export interface SigningKey {
  privatePem: string;
  txt: string;
  domain: string;
  selector: string;
}

let cachedKey: SigningKey | null = null;

export function signingKey(): SigningKey {
  if (!cachedKey) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    cachedKey = {
      privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      txt: `v=DKIM1; k=rsa; p=${spki.toString('base64')}`,
      domain: 'example.com',
      selector: 'test',
    };
  }
  return cachedKey;
}

/** `message` with a DKIM-Signature prepended (rsa-sha256, `c=` as given, `l=` when given). */
export async function sign(
  message: Buffer,
  options: { canonicalization?: string; maxBodyLength?: number } = {},
): Promise<Buffer> {
  const key = signingKey();
  const entry: Parameters<typeof dkimSign>[1] = {
    signingDomain: key.domain,
    selector: key.selector,
    privateKey: key.privatePem,
    canonicalization: options.canonicalization ?? 'relaxed/relaxed',
  };
  if (options.maxBodyLength !== undefined) entry.maxBodyLength = options.maxBodyLength;
  const result = await dkimSign(message, { ...entry, signTime: new Date('2016-03-14T09:26:53Z'), signatureData: [entry] });
  if (result.errors.length || !result.signatures) throw new Error('signing failed');
  return Buffer.concat([Buffer.from(result.signatures, 'latin1'), message]);
}

/** mailauth's verdicts on the signatures of `message`, keys answered from memory. */
export async function verify(message: Buffer): Promise<DKIMResult[]> {
  const key = signingKey();
  const resolver = async (name: string): Promise<string[][]> => {
    if (name.toLowerCase() === `${key.selector}._domainkey.${key.domain}`) return [[key.txt]];
    const err = new Error(`no record for ${name}`) as Error & { code: string };
    err.code = 'ENOTFOUND';
    throw err;
  };
  const result = await dkimVerify(message, { resolver, curTime: new Date('2016-03-15T00:00:00Z') });
  return result.results;
}

/** A hand-written message; lines are joined with CRLF. */
export function crlf(...lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

/** The common header block of hand-written test messages, ending with the empty line. */
export function headers(contentType: string, extra: string[] = []): string[] {
  return [
    'From: Alice <alice@example.com>',
    'To: Bob <bob@example.org>',
    'Subject: attachments',
    'Date: Mon, 14 Mar 2016 09:26:50 +0000',
    'Message-ID: <attachments@example.com>',
    'MIME-Version: 1.0',
    `Content-Type: ${contentType}`,
    ...extra,
    '',
  ];
}

/** Base64 of `data` in 76-character lines. */
export function base64Lines(data: Buffer): string[] {
  const encoded = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += 76) lines.push(encoded.slice(i, i + 76));
  return lines;
}
