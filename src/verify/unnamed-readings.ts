import { boundedMemo } from '../bounded-memo.ts';
import { parseKeyRecord, parseTags } from '../keys/parse-key.ts';
import type { SignatureTags } from './signature-tags.ts';

/**
 * Lenient readings that mailauth makes without naming them among its warnings, found by reading
 * the signature and the key record ourselves. A strict verifier (dkimpy, a colleague's, a court
 * expert's) rejects each, so a signature that verifies only so must say it, like the readings
 * mailauth names (src/checks/lenient-acceptance.ts; red team 28, F-06). None lets a forger in:
 * only the key holder makes the signature, and only the domain publishes the record.
 */
export function unnamedLenientReadings(tags: SignatureTags, recordTxt: string | null, bodyBytesTotal: number | null): string[] {
  const readings: string[] = [];
  // Node's base64 decoder takes the URL-safe alphabet too; RFC 6376's base64string does not
  if (/[-_]/.test(tags.b)) readings.push('signature-base64url');
  if (tags.valuesWithCapitals.length) readings.push('signature-value-case');
  // RFC 6376 section 3.5: l= "MUST NOT be larger than the actual number of octets in the
  // canonicalized message body"; OpenDKIM fails such a signature, mailauth and dkimpy hash the
  // whole body. Nothing is left unsigned: the reading is lenient, not unsafe.
  if (tags.bodyLength !== null && bodyBytesTotal !== null && tags.bodyLength > bodyBytesTotal) readings.push('body-length-beyond-body');
  if (recordTxt === null) return readings;
  readings.push(...keyRecordReadings(recordTxt));
  return readings;
}

/**
 * The readings of a key record, kept by its text: a dump's messages are signed with a few keys,
 * and reading each record's tags again for every signature was about 0.7 % of the analysis.
 */
const keyRecordReadings = boundedMemo(1024, (recordTxt: string) => readKeyRecord(recordTxt));

function readKeyRecord(recordTxt: string): readonly string[] {
  const readings: string[] = [];
  const names = recordTxt.split(';').flatMap((part) => (part.includes('=') ? [part.slice(0, part.indexOf('=')).trim()] : []));
  // RFC 6376 section 3.2: tag names are case-sensitive, so P= is no p= at all
  if (names.some((name) => name !== name.toLowerCase())) readings.push('key-tag-case');
  const record = parseTags(recordTxt);
  if (record.get('k') === '') readings.push('key-k-empty');
  const p = (record.get('p') ?? '').replace(/\s+/g, '');
  // RFC 8463 section 4.2 publishes the bare 32-byte key; a DER SubjectPublicKeyInfo is 44 bytes
  if (p && parseKeyRecord(recordTxt).keyType === 'ed25519' && Buffer.from(p, 'base64').length !== 32) readings.push('key-ed25519-spki');
  return Object.freeze(readings);
}
