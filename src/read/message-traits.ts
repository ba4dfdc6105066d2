import { isAscii, isUtf8 } from 'node:buffer';
import { createHash, hash as oneShotHash } from 'node:crypto';
import { TextDecoder } from 'node:util';
import { decodeBase64, decodeQuotedPrintable } from '../attachments/content-decode.ts';
import { TEXT_TYPES } from '../attachments/fast-inventory.ts';
import { isPlainTextMessage } from '../attachments/inventory-options.ts';
import { walkMime, type WalkedLeaf } from '../attachments/mime-walk.ts';
import { loadMimeLibraries, type MailsplitMimeNode } from '../attachments/parser-config.ts';
import { firstServerStamp } from '../checks/timeline.ts';
import { collapseWhitespace } from './blank-characters.ts';
import { fieldsNamed, firstValue, type ParsedHeaders } from './headers.ts';
import { messageIds } from './message-id.ts';
import { headerReader, parseMailDate } from './message-meta.ts';
import { isKnownCleanLineEnds, isKnownCrlfOnly, plainView } from './line-endings.ts';
import { BLANKS, scanAllBelow, scanBlanks, scannableMemory } from './line-scan.ts';
import { NormalisedTextHash, StreamedComposition, StreamedUtf8Check } from './streamed-text.ts';
import { WhitespaceRuns } from './whitespace-runs.ts';

/**
 * What the cross-dump checks compare between messages: content fingerprints that survive the
 * differences between copies of one message (each mailbox adds its own Received headers), thread
 * links, and the sender's habits.
 */
export interface MessageTraits {
  /**
   * sha256 of the body with line-end whitespace and trailing blank lines normalised away, and
   * every run of spaces and tabs as one space: the body as DKIM's relaxed canonicalization reads
   * it, so that a whitespace change a relaxed signature does not see is no difference either
   */
  bodySha256: string | null;
  /** sha256 of the headers a reader sees: From, To, Cc, Subject, Date */
  visibleSha256: string;
  /**
   * sha256 of the text a reader sees: every part read as message text, decoded from its transfer
   * encoding and charset and normalised as bodySha256 is, in order and with the multiparts around
   * it, in Unicode's composed form (NFC); the other parts (attachments, which the inventory lists
   * with the sha256 of their decoded content) stand as a mark of their place. Two copies stored in
   * different transfer encodings (a Sent copy quoted-printable, the received one 8bit) or Unicode
   * forms (NFC, NFD) have the same. null when it cannot be
   * read with certainty (a MIME shape the walk is not sure of, an unknown encoding or charset).
   */
  textSha256: string | null;
  /** each visible header (all its instances), RFC 2047 decoded, whitespace collapsed and in NFC, as sha256 */
  visibleFields: VisibleFields;
  /** the mailing list the copy came through, as its List-Id (RFC 2919) names it */
  mailingList: string | null;
  inReplyTo: string | null;
  references: string[];
  /** the Date header's UTC offset in minutes */
  dateOffsetMinutes: number | null;
  /** X-Mailer or User-Agent */
  mailer: string | null;
  /**
   * the bottom-most server stamp of the trace (a Received field's time, or an ARC seal's t=), ISO:
   * when the message was first delivered, whatever its Date says; null when it has none (a
   * Sent-folder copy, a draft)
   */
  firstStampAt: string | null;
}

const VISIBLE = ['from', 'to', 'cc', 'subject', 'date'] as const;
export type VisibleField = (typeof VISIBLE)[number];
export type VisibleFields = Record<VisibleField, string>;

/**
 * A DKIM body hash the verifier already computed over the whole body (sha256, no l=), hex, with
 * the length of the body it read: when the body is clean enough that its canonical form is its
 * normalised form, the fingerprint is that very hash and the body is not hashed again.
 */
export interface VerifierBodyHash {
  sha256: string;
  bodyLength: number;
  /** the body canonicalization it was computed with (the signature's c=, or the ARC fallback mailauth used) */
  canonicalization: 'relaxed' | 'simple';
}

export function readMessageTraits(
  bytes: Buffer,
  headers: ParsedHeaders,
  verifierHashes: readonly VerifierBodyHash[] = [],
  { readerText = true, walked }: { readerText?: boolean; walked?: readonly WalkedLeaf[] | undefined } = {},
): MessageTraits {
  const visible = VISIBLE.map((name) => fieldsNamed(headers, name).map((f) => collapseWhitespace(f.value)).join('\u0000')).join('\n');
  const offset = /([+-])(\d{2})(\d{2})\s*(?:\([^)]*\))?\s*$/.exec(firstValue(headers, 'date') ?? '');
  const mailer = firstValue(headers, 'x-mailer') ?? firstValue(headers, 'user-agent');
  const read = headerReader(headers, bytes);
  const bodySha256 = headers.hasBody ? normalisedBodyHash(bytes.subarray(headers.headerBytes), verifierHashes) : null;
  return {
    bodySha256,
    visibleSha256: oneShotHash('sha256', Buffer.from(visible, 'latin1'), 'hex'),
    textSha256: bodySha256 === null || !readerText ? null : readerTextHash(bytes, headers, bodySha256, walked),
    visibleFields: Object.fromEntries(
      VISIBLE.map((name) => [name, sha256(fieldsNamed(headers, name).map((f) => readerView(name, f.value, read)).join('\u0000'))]),
    ) as VisibleFields,
    mailingList: mailingListOf(headers),
    inReplyTo: messageIds(firstValue(headers, 'in-reply-to'))[0] ?? null,
    references: messageIds(firstValue(headers, 'references')).slice(0, 200),
    dateOffsetMinutes: offset ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) : null,
    mailer: mailer ? mailer.slice(0, 200) : null,
    firstStampAt: firstServerStamp(headers.fields)?.toISOString() ?? null,
  };
}

/**
 * The body with trailing whitespace of every line and trailing empty lines removed, and runs of
 * spaces and tabs within a line as one space, hashed. Most bodies have no whitespace before a
 * line end: those are hashed in a few calls, without walking their lines (a 10 MB attachment has
 * 130,000 of them), and the runs are found by searching for them (base64 has none).
 */
export function normalisedBodyHash(body: Buffer, verifierHashes: readonly VerifierBodyHash[] = []): string {
  // A body in a worker's read buffer is scanned for tabs, two spaces in a row and CRs that end no
  // line in one pass (line-scan.ts); elsewhere those are searched for below as they are needed.
  // Where the scan answered, a relaxed hash of the body is taken at once; elsewhere only for a
  // body that is not clean (below), where the search for CRs, a call per line, costs less than
  // reading the body again line by line. A clean body (base64 above all) reuses a hash below
  // when it has no runs, after a few searches that a call per line would cost base64 more than.
  const blanks = scanBlanks(body);
  const relaxed = verifierHashes.find((h) => h.canonicalization === 'relaxed' && h.bodyLength === body.length);
  if (relaxed && blanks !== null && (blanks & BLANKS.crEndingNoLine) === 0) return relaxed.sha256;
  let end = body.length;
  while (end > 0 && (body[end - 1] === 0x0a || body[end - 1] === 0x0d)) end--;
  const trimmed = body.subarray(0, end);
  // Each line is already its own normalised form when every line ends in CRLF with no space,
  // tab or extra CR before it, and the last line ends in neither.
  // One memchr for a tab answers two questions below (a multi-byte search is several times slower).
  const hasTab = blanks === null ? body.indexOf(0x09) >= 0 : (blanks & BLANKS.tab) !== 0;
  const clean =
    end > 0 &&
    body[end - 1] !== 0x20 &&
    body[end - 1] !== 0x09 &&
    (isKnownCleanLineEnds(trimmed) ||
      (trimmed.indexOf(' \r\n') < 0 && (!hasTab || trimmed.indexOf('\t\r\n') < 0) && trimmed.indexOf('\r\r\n') < 0)) &&
    ((isKnownCrlfOnly(trimmed) && trimmed[0] !== 0x0a) || isCrlfOnly(trimmed));
  if (!clean) {
    // The relaxed canonical form is the normalised form of a body whose every CR ends a line
    // (see hasOnlyLineEndCrs): flowed text and indented HTML, whose lines end in blanks, are then
    // not read again line by line (a fifth of the analysis of 1,500 format=flowed messages).
    if (relaxed && blanks === null && hasOnlyLineEndCrs(body)) return relaxed.sha256;
    return slowNormalisedBodyHash(body);
  }
  // Both DKIM canonicalizations of such a body are its normalised form too, when what was cut
  // off the end is whole CRLF pairs (a lone CR is content to DKIM) and no line has a tab or a
  // run of spaces (relaxed would collapse them): the same bytes, so the same sha256.
  const runs = new WhitespaceRuns(body, hasTab, blanks === null || (blanks & BLANKS.twoSpaces) !== 0);
  const reused = verifierHashes.find((h) => h.bodyLength === body.length);
  const noRuns = blanks === null ? runs.next(0) < 0 : (blanks & (BLANKS.tab | BLANKS.twoSpaces)) === 0;
  if (reused && endsInCrlfPairs(body, end) && noRuns) return reused.sha256;
  const hash = createHash('sha256');
  runs.update(hash, 0, end);
  return hash.update('\r\n').digest('hex');
}

/**
 * Whether every CR of `body` is followed by an LF. Relaxed canonicalization (RFC 6376 section
 * 3.4.4, as mailauth reads it) and the normalised form then read the body alike: each LF ends a
 * line (a bare LF too: mailauth makes it CRLF), runs of spaces and tabs are one space, blanks at
 * a line's end and empty lines at the body's end go, and a body with content ends in one CRLF.
 * They differ only on a CR that does not end a line: content to relaxed, and taken away with the
 * blanks before a line end by the normalised form ("a\r\r\n", "a \r\n" from a CR CR LF).
 */
function hasOnlyLineEndCrs(body: Buffer): boolean {
  // (the builtin search: see plainView)
  const bytes = plainView(body);
  for (let cr = bytes.indexOf(0x0d); cr >= 0; cr = bytes.indexOf(0x0d, cr + 2)) if (bytes[cr + 1] !== 0x0a) return false;
  return true;
}

function endsInCrlfPairs(body: Buffer, from: number): boolean {
  if ((body.length - from) % 2) return false;
  for (let i = from; i < body.length; i += 2) if (body[i] !== 0x0d || body[i + 1] !== 0x0a) return false;
  return true;
}

function isCrlfOnly(buffer: Buffer): boolean {
  let lf = buffer.indexOf(0x0a);
  while (lf >= 0) {
    if (lf === 0 || buffer[lf - 1] !== 0x0d) return false;
    lf = buffer.indexOf(0x0a, lf + 1);
  }
  return true;
}

export function slowNormalisedBodyHash(body: Buffer): string {
  const hash = createHash('sha256');
  const runs = new WhitespaceRuns(body, body.indexOf(0x09) >= 0);
  let pendingBlank = 0;
  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length;
    let lineEnd = end;
    while (lineEnd > start && (body[lineEnd - 1] === 0x0d || body[lineEnd - 1] === 0x20 || body[lineEnd - 1] === 0x09)) lineEnd--;
    if (lineEnd === start) pendingBlank++;
    else {
      for (; pendingBlank > 0; pendingBlank--) hash.update('\r\n');
      runs.update(hash, start, lineEnd);
      hash.update('\r\n');
    }
    start = end + 1;
  }
  return hash.digest('hex');
}

/** (one call: createHash costs a few microseconds a time, six times a message) */
const sha256 = (text: string): string => oneShotHash('sha256', text, 'hex');

/**
 * A header value as a reader sees it (message-meta.ts reads From and Subject so), whitespace runs
 * (folding) collapsed: a copy whose Subject was encoded otherwise (a Sent copy written by the
 * client, the received one re-encoded by a server) compares equal. In Unicode's composed form
 * (NFC): "é" written as e and U+0301 is drawn as the precomposed "é", and a copy normalised by a
 * conversion step (macOS tools write NFD) is the same text, not an altered one (red team S, S-05).
 */
const readableHeaderValue = (value: string, read: (value: string) => string): string => {
  const collapsed = collapseWhitespace(read(value));
  // (ASCII, most values, is its own NFC)
  return NOT_ASCII.test(collapsed) ? collapsed.normalize('NFC') : collapsed;
};
const NOT_ASCII = /[^\x00-\x7f]/;

/** A quoted display name whose quotes change nothing: words and blanks, no character that separates or addresses. */
const OPTIONAL_QUOTES = /"([^"\\,;:<>@()[\]]*)"/g;

/**
 * What a reader is shown of a visible header, so that two copies of one message that a reader
 * cannot tell apart compare equal (red team 27, A-04: a genuine Sent copy was called altered
 * beside the delivered copy): a Date as the instant it names (a reader shows it in its own time
 * zone: `09:12:03 +0000` and `10:12:03 +0100 (CET)` are one time), and an address field with the
 * quotes a mail program may or may not put around a display name taken away where they change
 * nothing (`"Jordan Reyes" <jordan@…>` is shown as `Jordan Reyes <jordan@…>`). Quotes around a
 * name with a comma, a colon or an "@" stay: without them the field reads as other mailboxes.
 */
function readerView(name: VisibleField, value: string, read: (value: string) => string): string {
  if (name === 'date') return parseMailDate(value)?.toISOString() ?? readableHeaderValue(value, read);
  const text = readableHeaderValue(value, read);
  return name === 'subject' ? text : text.replace(OPTIONAL_QUOTES, (_, inner: string) => inner.trim());
}

/**
 * The mailing list a copy came through, by its List-Id (RFC 2919), lower-case: what list
 * software (mailman, Sympa, Google Groups, …) adds to every copy it distributes, and what a
 * signer can sign. List-Post and List-Unsubscribe alone do not count: bulk senders add them to
 * every copy they send.
 */
function mailingListOf(headers: ParsedHeaders): string | null {
  const listId = firstValue(headers, 'list-id');
  if (!listId) return null;
  return (/<([^<>]{1,255})>/.exec(listId)?.[1] ?? listId).trim().toLowerCase().slice(0, 255) || null;
}

/** Transfer encodings that leave the bytes as they are. */
const PASSED_THROUGH = new Set(['', '7bit', '8bit', 'binary']);
/** Charsets whose bytes are taken as they are: UTF-8, and ASCII, which is a part of it. */
const AS_IS_CHARSETS = new Set(['', 'utf-8', 'utf8', 'us-ascii', 'ascii']);

/**
 * The fingerprint of the text a reader sees (MessageTraits.textSha256). What it leaves out is
 * exactly what the attachment inventory lists, so that the two together cover every part:
 * - a message the inventory does not read (analyze-message.ts: a text type without a
 *   disposition of attachment or a file name) is all text;
 * - in any other, a part is text when mailparser reads it as message text (fast-inventory.ts:
 *   text/plain, text/html or message/delivery-status, inline), and its place is marked otherwise.
 * The common case, one text part in 7bit or 8bit UTF-8 or ASCII, is its body fingerprint and
 * costs nothing more; other single parts are decoded (they are small); a multipart is walked
 * with the inventory's own walk (mime-walk.ts), which says when it is not sure.
 */
function readerTextHash(bytes: Buffer, headers: ParsedHeaders, bodySha256: string, walked: readonly WalkedLeaf[] | undefined): string | null {
  const contentType = firstValue(headers, 'content-type') ?? 'text/plain';
  const readWhole = isPlainTextMessage(contentType, firstValue(headers, 'content-disposition') ?? '');
  if (readWhole) {
    const type = contentType.split(';')[0]!.trim().toLowerCase();
    const encoding = (firstValue(headers, 'content-transfer-encoding') ?? '').replace(/\([^)]*\)/g, '').trim().toLowerCase();
    const charset = /charset/i.test(contentType) ? charsetOf(contentType) : '';
    // text that reads as it is stored is its body fingerprint (which may be the verifier's own hash)
    const text = charset === null ? null : textFingerprint(bytes, headers.headerBytes, bytes.length, encoding, charset, bodySha256);
    return text === null ? null : sha256(textLine('', type, text));
  }
  // the attachment inventory's walk of these bytes, when it made one: the same parts, not walked twice
  const leaves = walked ?? walkMime(bytes, loadMimeLibraries().MimeNode);
  if (!leaves) return null;
  const lines: string[] = [];
  for (const leaf of leaves) {
    const node = leaf.node as MailsplitMimeNode & { charset?: string | false };
    const type = node.contentType || (node.root ? 'text/plain' : false);
    if (type === false) return null; // the fast inventory is not sure of such a part either
    const path = ancestorsOf(node);
    if (!readAsText(node, type)) {
      lines.push(`${path}\t#part`);
      continue;
    }
    const text = textFingerprint(bytes, leaf.contentStart, leaf.contentEnd, node.encoding || '', (node.charset || '').trim().toLowerCase());
    if (text === null) return null;
    lines.push(textLine(path, type, text));
  }
  return sha256(lines.join('\n'));
}

const textLine = (path: string, type: string, hash: string): string => `${path}\t${type}\t${hash}`;

/** The multipart types around a part, outermost first: the same texts laid out otherwise read otherwise. */
function ancestorsOf(node: MailsplitMimeNode): string {
  const types: string[] = [];
  for (let p = node.parentNode; p; p = p.parentNode) types.unshift(p.contentType || '');
  return types.join('>');
}

/** createNode in mailparser's mail-parser.js, as listedLeaves in fast-inventory.ts reads it: inline text is message text. */
function readAsText(node: MailsplitMimeNode, type: string): boolean {
  if (!TEXT_TYPES.includes(type)) return false;
  const disposition = node.disposition || '';
  return disposition === '' || disposition === 'inline';
}

/** The charset parameter, lower-case ('' without one); null when it cannot be read with certainty. */
function charsetOf(contentType: string): string | null {
  try {
    const charset = loadMimeLibraries().libmime.parseHeaderValue(contentType).params['charset'];
    return typeof charset === 'string' ? charset.trim().toLowerCase() : '';
  } catch {
    return null;
  }
}

/** The encoding each charset label names, as TextDecoder knows it; null for a label it does not know. */
const charsetEncodings = new Map<string, string | null>();

function encodingOf(charset: string): string | null {
  let encoding = charsetEncodings.get(charset);
  if (encoding === undefined) {
    try {
      encoding = new TextDecoder(charset).encoding;
    } catch {
      encoding = null;
    }
    charsetEncodings.set(charset, encoding);
  }
  return encoding;
}

/** Bytes of text read at a time where they are stored as they are (7bit, 8bit, binary). */
const TEXT_CHUNK = 64 * 1024;

/**
 * [start, end) of `message` decoded from its transfer encoding in chunks, by mailsplit's own
 * decoders as the inventory does (the sink gets views of memory they reuse); false for an
 * encoding that is not known.
 */
function decodeTransfer(message: Buffer, start: number, end: number, encoding: string, sink: (bytes: Buffer) => void): boolean {
  if (encoding === 'base64') decodeBase64(message, start, end, loadMimeLibraries().decodeBase64, sink);
  else if (encoding === 'quoted-printable') decodeQuotedPrintable(message, start, end, sink);
  else if (PASSED_THROUGH.has(encoding)) for (let at = start; at < end; at += TEXT_CHUNK) sink(message.subarray(at, Math.min(end, at + TEXT_CHUNK)));
  else return false;
  return true;
}

/** Encoded text up to this size is decoded once by textFingerprint, and what it decodes to kept for its second pass. */
const DECODED_KEPT_BYTES = 1024 * 1024;
/** that text, reused from text to text (a thread decodes one at a time) */
let decodedText: Buffer | null = null;
let decodedKept = 0;

function keepDecoded(bytes: Buffer): void {
  // (WebAssembly memory where it can be, so that the normalising of the text asks the scan of
  // line-scan.ts for its blanks instead of searching for two spaces: the pages are taken only
  // as text is written to them)
  decodedText ??= scannableMemory(DECODED_KEPT_BYTES) ?? Buffer.allocUnsafeSlow(DECODED_KEPT_BYTES);
  decodedKept += bytes.copy(decodedText, decodedKept);
}

/**
 * The fingerprint of one text: [start, end) of `message` decoded from its transfer encoding and
 * its charset to UTF-8, in Unicode's composed form (NFC), as readableHeaderValue reads headers
 * (the text of a copy whose accents were decomposed is the text a reader sees in the other), and
 * normalised as bodySha256 is. Text taken as UTF-8 is composed only when all of it is UTF-8 and
 * not all ASCII: a reading would replace what it cannot decode, and two different texts could
 * then compare equal. `storedFingerprint`, when the caller has it, is the fingerprint of the
 * stored bytes, returned when the text is those bytes. null for an encoding or charset that is
 * not known, which is then no reading at all.
 *
 * Decoded, composed and hashed in chunks as they come (StreamedComposition,
 * NormalisedTextHash): read whole, a 50 MB text in windows-1251 cost 540 MB, one in decomposed
 * UTF-8 380 MB (red team BB, BB-02), for the same sha256.
 */
export function textFingerprint(message: Buffer, start: number, end: number, encoding: string, charset: string, storedFingerprint?: string): string | null {
  if (encoding !== 'base64' && encoding !== 'quoted-printable' && !PASSED_THROUGH.has(encoding)) return null;
  const asUtf8 = AS_IS_CHARSETS.has(charset) || encodingOf(charset) === 'utf-8';
  if (!asUtf8 && encodingOf(charset) === null) return null;
  const passedThrough = PASSED_THROUGH.has(encoding);
  const hash = new NormalisedTextHash();
  let compose = true;
  let decodeAgain = (sink: (bytes: Buffer) => void): void => void decodeTransfer(message, start, end, encoding, sink);
  /** the decoded text, when it was kept */
  let kept: Buffer | null = null;
  if (asUtf8) {
    if (passedThrough) {
      const stored = message.subarray(start, end);
      compose = !isAscii(stored) && isUtf8(stored);
    } else {
      const check = new StreamedUtf8Check();
      const keep = end - start <= DECODED_KEPT_BYTES;
      decodedKept = 0;
      decodeTransfer(message, start, end, encoding, (bytes) => {
        check.update(bytes);
        if (keep) keepDecoded(bytes);
      });
      compose = check.composable();
      // The pass below reads the text kept here rather than decoding it again: a quoted-printable
      // text part decoded twice was a sixth of the analysis of 1,500 such messages. (Decoded,
      // base64 and quoted-printable are no longer than the bytes they were decoded from.)
      if (keep) {
        const text = (kept = decodedText!.subarray(0, decodedKept));
        decodeAgain = (sink) => sink(text);
      }
    }
    if (!compose) {
      if (passedThrough) return storedFingerprint ?? normalisedBodyHash(message.subarray(start, end));
      decodeAgain((bytes) => hash.update(bytes));
      return hash.digest();
    }
  }
  // UTF-8 whose composed form is itself is hashed as the bytes it is (valid UTF-8 decoded and
  // encoded again is the same bytes), so nothing is hashed until composing changes something:
  // what came before that is those bytes, hashed then. Text stored as it is read has
  // storedFingerprint for its own; encoded text kept decoded is hashed from what was kept, in
  // WebAssembly memory where the normalising asks the scan of line-scan.ts for its blanks.
  // Ordinary text with accents is composed already, and its normalising and hashing was a sixth
  // of the analysis of 1,500 format=flowed messages.
  const unchangedBytes = !asUtf8 ? null : passedThrough ? (storedFingerprint === undefined ? null : message.subarray(start, end)) : kept;
  const unchangedFingerprint = (): string => {
    if (passedThrough) return storedFingerprint!;
    hash.update(unchangedBytes!);
    return hash.digest();
  };
  // UTF-8 with no byte from 0xCC on has no character from U+0300 on, and is its own composed form
  // (see MAY_COMPOSE in streamed-text.ts): most European mail, answered by a scan of its bytes
  // instead of decoding and composing them (a twentieth of the analysis of 1,500 format=flowed
  // messages)
  if (unchangedBytes && scanAllBelow(unchangedBytes, 0xcc) === true) return unchangedFingerprint();
  // (no BOM taken away from UTF-8 read as it is: Buffer#toString kept it)
  const decoder = asUtf8 ? new TextDecoder('utf-8', { ignoreBOM: true }) : new TextDecoder(charset);
  let unhashed = 0;
  const composed: StreamedComposition = new StreamedComposition((bytes) => {
    if (unchangedBytes && !composed.changed) {
      unhashed += bytes.length;
      return;
    }
    if (unhashed > 0) hash.update(unchangedBytes!.subarray(0, unhashed));
    unhashed = 0;
    hash.update(bytes);
  });
  decodeAgain((bytes) => composed.write(decoder.decode(bytes, { stream: true })));
  composed.end(decoder.decode());
  // (text stored as it is read and left as it is by composing, with no storedFingerprint given,
  // was hashed from the bytes composing handed on: the same bytes)
  if (unchangedBytes && !composed.changed) return unchangedFingerprint();
  return hash.digest();
}
