/**
 * A selector with several key records (an archive of a key rotated over the years, a colleague's
 * file beside it): each record is a whole verification of the message again. A record is tried
 * only when a failing signature could pass under it: never for a body hash, which no key changes,
 * nor under an RSA key that b= does not decode under. A forged message was verified once for
 * each record of its selector.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { KeyAnswer, KeyLookup } from '../../src/keys/types.ts';
import { parseHeaders } from '../../src/read/headers.ts';
import { verifyDkim } from '../../src/verify/dkim.ts';
import { SIGN_TIME, ed25519Key, plainMessage, rsaKey, signed, type TestKey } from '../unit/support/signing.ts';

const runs = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/verify/mailauth-direct.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/verify/mailauth-direct.ts')>();
  return {
    ...real,
    dkimVerifyDirect: (...args: Parameters<typeof real.dkimVerifyDirect>) => {
      runs.count++;
      return real.dkimVerifyDirect(...args);
    },
  };
});

const NAME = 'sel._domainkey.example.com';
let keys: TestKey[] = [];
beforeAll(() => {
  keys = Array.from({ length: 6 }, () => rsaKey(1024));
});

/** The selector's records in this order. */
const recordsOf = (order: TestKey[]): KeyLookup => async (name: string): Promise<KeyAnswer> => {
  const records = name.toLowerCase() === NAME ? order : name.toLowerCase() === 'esp._domainkey.esp.example.net' ? [keys[5]!] : [];
  return records.length ? { status: 'found', name, records: records.map((k) => ({ txt: k.txt, source: 'file', origin: 'archive.json' })) } : { status: 'absent', name, detail: 'not on record' };
};

async function verify(message: string, lookup: KeyLookup) {
  const bytes = Buffer.from(message, 'latin1');
  runs.count = 0;
  const result = await verifyDkim(bytes, parseHeaders(bytes).fields, { lookup, curTime: SIGN_TIME });
  return { signature: result.signatures.find((s) => s.keyName === NAME)!, runs: runs.count };
}

describe('a selector with several key records', () => {
  it('a body changed after signing is verified once, not once a record: no key changes a body hash', async () => {
    // signed by a second domain too (an ESP, a list), as much mail is: every key is then asked
    // for before mailauth compares the body hashes
    const author = await signed(plainMessage(), { key: keys[0]!, domain: 'example.com', selector: 'sel', signTime: SIGN_TIME });
    const genuine = await signed(author, { key: keys[5]!, domain: 'esp.example.net', selector: 'esp', signTime: SIGN_TIME });
    const forged = genuine.replace(/\r\n$/, '\r\nAnd one more line nobody signed.\r\n');
    const { signature, runs } = await verify(forged, recordsOf([keys[3]!, keys[1]!, keys[2]!, keys[0]!, keys[4]!, keys[5]!]));
    expect(signature.outcome).toBe('body-modified');
    // still judged against the record whose key made it
    expect(signature.key?.txt).toBe(keys[0]!.txt);
    expect(runs).toBe(1);
  });

  it('a signature that fails under the first record is verified again under the RSA record whose key made it, and under no other', async () => {
    const genuine = await signed(plainMessage(), { key: keys[0]!, domain: 'example.com', selector: 'sel', signTime: SIGN_TIME });
    const { signature, runs } = await verify(genuine, recordsOf([keys[3]!, keys[1]!, keys[0]!, keys[4]!, keys[5]!]));
    expect(signature.outcome).toBe('pass');
    expect(signature.key?.txt).toBe(keys[0]!.txt);
    // the first pass, then the third record's: b= does not decode under the second record's key
    expect(runs).toBe(2);
  });

  it('a changed header is verified once, not once a record: b= decodes under one RSA key of the selector at most', async () => {
    const genuine = await signed(plainMessage(), { key: keys[0]!, domain: 'example.com', selector: 'sel', signTime: SIGN_TIME });
    const forged = genuine.replace(/\r\nSubject: [^\r]*/, '\r\nSubject: Wire the money today');
    expect(forged).not.toBe(genuine);
    const { signature, runs } = await verify(forged, recordsOf([keys[0]!, keys[1]!, keys[2]!, keys[3]!, keys[4]!, keys[5]!]));
    expect(signature.outcome).toBe('signature-mismatch');
    expect(signature.signedByKey).toBe(true);
    expect(signature.key?.txt).toBe(keys[0]!.txt);
    expect(runs).toBe(1);
  });

  it('Ed25519 records are each tried: no structure in the signature tells the key that made it', async () => {
    const eds = [ed25519Key(), ed25519Key(), ed25519Key()];
    const genuine = await signed(plainMessage(), { key: eds[2]!, domain: 'example.com', selector: 'sel', signTime: SIGN_TIME });
    const { signature, runs } = await verify(genuine, recordsOf([eds[0]!, eds[1]!, eds[2]!]));
    expect(signature.outcome).toBe('pass');
    expect(signature.key?.txt).toBe(eds[2]!.txt);
    expect(runs).toBe(3);
  });
});
