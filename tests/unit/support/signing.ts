/**
 * Test inputs built from scratch: key pairs made with node:crypto, messages signed with
 * mailauth's own signer, and key lookups answering from an in-memory table.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dkimSign } from 'mailauth';
import type { DKIMSignOptions } from 'mailauth';
import type { KeyAnswer, KeyLookup, KeyRecord } from '../../../src/keys/types.ts';
import { normalizeKeyName } from '../../../src/keys/types.ts';
import { handSignatureHeader } from '../../helpers/hand-sign.ts';

export interface TestKey {
  kind: 'rsa' | 'ed25519';
  privatePem: string;
  publicKey: KeyObject;
  /** DER SubjectPublicKeyInfo of the public key */
  spki: Buffer;
  /** the DKIM TXT record publishing the public key */
  txt: string;
}

/*
 * RSA pairs made once, as PKCS#8 PEM by size: a fresh 2048-bit pair costs 0.1-0.5 s of CPU, and
 * the test files asked for about seventy. Only that the keys of one file differ from one another
 * matters (a forger's key is not the signer's), and each file loads this module afresh: its n-th
 * key of a size is the pool's n-th, and past the pool it gets fresh pairs.
 */
const POOL = JSON.parse(readFileSync(new URL('rsa-key-pool.json', import.meta.url), 'utf8')) as Record<string, string[]>;
const taken = new Map<number, number>();

function rsaPair(bits: number): { privateKey: KeyObject; publicKey: KeyObject } {
  const next = taken.get(bits) ?? 0;
  taken.set(bits, next + 1);
  const pem = POOL[bits]?.[next];
  if (pem === undefined) return generateKeyPairSync('rsa', { modulusLength: bits });
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

export function rsaKey(bits: number): TestKey {
  const { privateKey, publicKey } = rsaPair(bits);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    kind: 'rsa',
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey,
    spki,
    txt: `v=DKIM1; k=rsa; p=${spki.toString('base64')}`,
  };
}

export function ed25519Key(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    kind: 'ed25519',
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey,
    spki,
    txt: `v=DKIM1; k=ed25519; p=${spki.subarray(spki.length - 32).toString('base64')}`,
  };
}

export interface SignSpec {
  key: TestKey;
  domain: string;
  selector: string;
  signTime: Date;
  headerList?: string;
  expires?: Date;
  maxBodyLength?: number;
  canonicalization?: string;
  /** i=, the signing identity (AUID) */
  identity?: string;
}

/** The DKIM-Signature header(s) mailauth makes for `message`, CRLF-terminated. */
export async function signatureFor(message: string | Buffer, spec: SignSpec): Promise<string> {
  const entry: DKIMSignOptions = { signingDomain: spec.domain, selector: spec.selector, privateKey: spec.key.privatePem };
  if (spec.headerList) entry.headerList = spec.headerList;
  if (spec.maxBodyLength !== undefined) entry.maxBodyLength = spec.maxBodyLength;
  if (spec.canonicalization) entry.canonicalization = spec.canonicalization;
  if (spec.identity) entry.identity = spec.identity;
  const options: DKIMSignOptions = { ...entry, signTime: spec.signTime, signatureData: [entry] };
  if (spec.expires) options.expires = spec.expires;
  const res = await dkimSign(typeof message === 'string' ? Buffer.from(message, 'latin1') : message, options);
  if (res.errors.length || !res.signatures) {
    throw new Error(`signing failed: ${res.errors.map((e) => e.err.message).join('; ')}`);
  }
  return res.signatures;
}

/** `message` with a signature by `spec` prepended. */
export async function signed(message: string, spec: SignSpec): Promise<string> {
  return (await signatureFor(message, spec)) + message;
}

export type LookupTable = Record<string, string | string[] | KeyAnswer>;

/**
 * A key lookup answering from a table of TXT records (or full answers), names matched
 * case-insensitively; a name not in the table is absent. Records every name asked.
 */
export function tableLookup(table: LookupTable, origin = 'test-keys.json'): KeyLookup & { calls: string[] } {
  const entries = new Map(Object.entries(table).map(([k, v]) => [normalizeKeyName(k), v]));
  const calls: string[] = [];
  const lookup = async (name: string): Promise<KeyAnswer> => {
    calls.push(name);
    const value = entries.get(normalizeKeyName(name));
    if (value === undefined) return { status: 'absent', name, detail: 'not in the test table' };
    if (typeof value === 'object' && !Array.isArray(value)) return value;
    const records: KeyRecord[] = (typeof value === 'string' ? [value] : value).map((txt) => ({ txt, source: 'file', origin }));
    return { status: 'found', name, records };
  };
  return Object.assign(lookup, { calls });
}

export const SIGN_TIME = new Date('2016-03-14T09:26:53Z');
/** RFC 5322 form of SIGN_TIME, a few seconds earlier, as a Date header. */
export const DATE_HEADER = 'Mon, 14 Mar 2016 09:26:50 +0000';

/** A plain CRLF message from alice@example.com. */
export function plainMessage(overrides: { from?: string; subject?: string; body?: string; extraHeaders?: string[]; date?: string; messageId?: string } = {}): string {
  const headers = [
    `From: ${overrides.from ?? 'Alice Example <alice@example.com>'}`,
    'To: Bob <bob@example.org>',
    `Subject: ${overrides.subject ?? 'Quarterly numbers'}`,
    `Date: ${overrides.date ?? DATE_HEADER}`,
    `Message-ID: ${overrides.messageId ?? '<20160314092650.1234@example.com>'}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    ...(overrides.extraHeaders ?? []),
  ];
  const body = overrides.body ?? 'Hi Bob,\r\n\r\nThe numbers are attached as promised.\r\n\r\nAlice\r\n';
  return `${headers.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * A DKIM-Signature (relaxed/relaxed, rsa-sha256) made by hand with node:crypto, for what
 * mailauth's signer refuses to make, such as an h= without From. `headers` lists the fields to
 * sign, bottom-most instance first as RFC 6376 section 5.4.2 prescribes.
 */
export function handSignature(
  message: string,
  spec: { key: TestKey; domain: string; selector: string; headers: string[]; signTime: Date },
): string {
  const t = Math.floor(spec.signTime.getTime() / 1000);
  return handSignatureHeader(message, {
    privateKeyPem: spec.key.privatePem,
    tags: `v=1; a=rsa-sha256; c=relaxed/relaxed; d=${spec.domain}; s=${spec.selector}; t=${t}; h=${spec.headers.join(':')}`,
    headers: spec.headers,
  });
}
