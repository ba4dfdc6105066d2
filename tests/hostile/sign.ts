/**
 * Signing for hostile test inputs. `signWithFixtureKey` uses mailauth's own signer with a
 * committed demo key (so fixtures/demo-keys.json verifies it); `handSign` writes a
 * DKIM-Signature by hand with any tag list at all (duplicate tags, absurd l=), which no
 * well-behaved signer would produce, but an attacker can.
 */
import { createHash, createPrivateKey, sign as cryptoSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dkimSign } from 'mailauth';
import { ROOT } from '../helpers/cli.ts';

export const DEMO_DOMAIN = 'demo.example';
export const DEMO_SELECTOR = 's2048';
export const demoPrivateKey = (): string => readFileSync(join(ROOT, 'fixtures/keys/s2048._domainkey.demo.example.pem'), 'utf8');

/** A plain CRLF message from the demo domain, Message-ID made from `id` (copies with one Message-ID but different content are a finding of their own). */
export function demoMessage(options: { id: string; extraHeaders?: string[]; contentHeaders?: string[]; body?: string; subject?: string }): string {
  const headers = [
    'From: Alice Moreau <alice@demo.example>',
    'To: Jordan Reyes <jordan@harbor.example>',
    `Subject: ${options.subject ?? 'Hostile input'}`,
    'Date: Tue, 14 Feb 2017 10:12:03 +0100',
    `Message-ID: <${options.id}.1487063523@smtp.demo.example>`,
    'MIME-Version: 1.0',
    ...(options.contentHeaders ?? ['Content-Type: text/plain; charset=us-ascii']),
    ...(options.extraHeaders ?? []),
  ];
  return `${headers.join('\r\n')}\r\n\r\n${options.body ?? 'Hello Jordan,\r\n\r\nsee you on Friday.\r\n\r\nAlice\r\n'}`;
}

/** `message` with a DKIM-Signature by demo.example/s2048 (relaxed/relaxed) prepended. */
export async function signWithFixtureKey(message: string): Promise<string> {
  const privateKey = demoPrivateKey();
  const entry = { signingDomain: DEMO_DOMAIN, selector: DEMO_SELECTOR, privateKey, canonicalization: 'relaxed/relaxed' };
  const res = await dkimSign(Buffer.from(message, 'latin1'), {
    ...entry,
    signTime: new Date('2017-02-14T09:12:05Z'),
    signatureData: [entry],
  });
  if (res.errors.length || !res.signatures) throw new Error(`signing failed: ${res.errors.map((e) => e.err.message).join('; ')}`);
  return res.signatures + message;
}

const relaxedField = (raw: string): string => {
  const colon = raw.indexOf(':');
  const name = raw.slice(0, colon).trim().toLowerCase();
  const value = raw.slice(colon + 1).replace(/\r\n/g, '').replace(/[ \t]+/g, ' ').trim();
  return `${name}:${value}`;
};

const relaxedBody = (body: string): string => {
  let canon = body
    .split('\r\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').replace(/ $/, ''))
    .join('\r\n')
    .replace(/(\r\n)*$/, '');
  if (canon !== '') canon += '\r\n';
  return canon;
};

/**
 * A relaxed/relaxed rsa-sha256 DKIM-Signature written by hand. `tags` is the tag list up to
 * (not including) `bh=` and `b=`, exactly as it will appear, e.g.
 * `v=1; a=rsa-sha256; c=relaxed/relaxed; d=demo.example; s=s2048; l=99999999999999999999; h=from:to:subject`.
 * The body hash covers the first `bodyLength` canonical bytes when given, else the whole body.
 * `headers` are the fields to sign (bottom-most instance first).
 */
export function handSign(message: string, spec: { privateKeyPem: string; tags: string; headers: string[]; bodyLength?: number }): string {
  const split = message.indexOf('\r\n\r\n');
  const fields = message
    .slice(0, split)
    .split(/\r\n(?![ \t])/)
    .map((raw) => ({ name: raw.slice(0, raw.indexOf(':')).trim().toLowerCase(), raw }));
  const canonBody = Buffer.from(relaxedBody(message.slice(split + 4)), 'latin1');
  const hashed = spec.bodyLength === undefined ? canonBody : canonBody.subarray(0, spec.bodyLength);
  const bh = createHash('sha256').update(hashed).digest('base64');
  const used = new Map<string, number>();
  const lines: string[] = [];
  for (const name of spec.headers) {
    const lower = name.toLowerCase();
    const instances = fields.filter((f) => f.name === lower);
    const n = used.get(lower) ?? 0;
    used.set(lower, n + 1);
    const field = instances[instances.length - 1 - n];
    if (field) lines.push(relaxedField(field.raw));
  }
  const unsigned = `DKIM-Signature: ${spec.tags}; bh=${bh}; b=`;
  const data = [...lines, relaxedField(unsigned)].join('\r\n');
  const b = cryptoSign('sha256', Buffer.from(data, 'latin1'), createPrivateKey(spec.privateKeyPem)).toString('base64');
  return `${unsigned}${b}\r\n${message}`;
}
