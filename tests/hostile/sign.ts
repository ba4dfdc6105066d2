/**
 * Signing for hostile test inputs. `signWithFixtureKey` uses mailauth's own signer with a
 * committed demo key (so fixtures/demo-keys.json verifies it); `handSign` writes a
 * DKIM-Signature by hand with any tag list at all (duplicate tags, absurd l=), which no
 * well-behaved signer would produce, but an attacker can.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dkimSign } from 'mailauth';
import { ROOT } from '../helpers/cli.ts';
import { handSignatureHeader } from '../helpers/hand-sign.ts';

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

/** A hand-made signature (tests/helpers/hand-sign.ts) on top of the message. */
export function handSign(message: string, spec: { privateKeyPem: string; tags: string; headers: string[]; bodyLength?: number }): string {
  return handSignatureHeader(message, spec) + message;
}
