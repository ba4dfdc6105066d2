/**
 * Parts whose content Apple Mail keeps outside the message file.
 *
 * Apple Mail stores a message whose attachment it keeps apart as `NNN.partial.emlx`: the
 * attachment's MIME part keeps its header, gains an `X-Apple-Content-Length` field (the length
 * of what was taken out), and its content is left empty; the content itself lives in the
 * mailbox's `Attachments/NNN/<part>/<file name>` (or `NNN.<part>.emlxpart`). The body a DKIM
 * signature hashed is then not all in the file, and its body hash cannot match.
 *
 * Read from the message bytes alone, whatever the file is called (the analysis is a function of
 * the bytes): a part counts when it has the field, with a length above zero, and its content is
 * empty (nothing but line breaks and blanks before the delimiter that closes it).
 */
import { includesAsciiIgnoringCase } from '../read/find-ascii.ts';
import { parseHeaders } from '../read/headers.ts';
import type { DkimSignatureResult } from '../verify/dkim.ts';
import { canonicalBodyOffsets, mimeLayout } from './layout.ts';

/** One MIME part Apple Mail emptied, and what its header still says about it. */
export interface StoredApartPart {
  /** the IMAP-style part number ("2", "1.2"), the number Mail files the content under */
  partId: string;
  /** declared media type, lower-case; null when the part declares none */
  contentType: string | null;
  /** file name, decoded; null when the part has none */
  filename: string | null;
  /** X-Apple-Content-Length as written: how many bytes Mail took out */
  appleContentLength: number;
  /** raw offset of the part's (empty) content in the message */
  contentStart: number;
}

/** The emptied parts of a message, and where its body starts (for l= coverage). */
export interface StoredApart {
  bodyStart: number;
  parts: StoredApartPart[];
}

const MARKER = 'x-apple-content-length';
const LENGTH = /^\d{1,15}$/;
const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const DASH = 0x2d;

/** The parts of `message` Apple Mail emptied and kept apart; null when there are none. */
export async function partsStoredApart(message: Buffer): Promise<StoredApart | null> {
  // a full MIME scan only for the messages that name the field at all
  if (!includesAsciiIgnoringCase(message, MARKER)) return null;
  const layout = await mimeLayout(message);
  const parts: StoredApartPart[] = [];
  for (const leaf of layout.leaves) {
    if (leaf.partId === null || leaf.headerStart === null || leaf.contentStart === null || leaf.closedAt === null) continue;
    const fields = parseHeaders(message.subarray(leaf.headerStart, leaf.contentStart)).fields.filter((f) => f.name === MARKER);
    // one field, a plain decimal length above zero: an empty part that says nothing was taken out explains nothing
    if (fields.length !== 1 || !LENGTH.test(fields[0]!.value)) continue;
    const appleContentLength = Number(fields[0]!.value);
    if (appleContentLength === 0 || !contentIsEmpty(message, leaf.contentStart, leaf.closedAt)) continue;
    parts.push({ partId: leaf.partId, contentType: leaf.contentType, filename: leaf.filename, appleContentLength, contentStart: leaf.contentStart });
  }
  return parts.length ? { bodyStart: layout.bodyStart, parts } : null;
}

/** Nothing but blanks and line breaks from `start` to the delimiter line that closes the part. */
function contentIsEmpty(message: Buffer, start: number, closedAt: number): boolean {
  let at = start;
  while (at < closedAt && (message[at] === CR || message[at] === LF || message[at] === SP || message[at] === TAB)) at++;
  const atLineStart = at === start || message[at - 1] === LF;
  return atLineStart && at + 1 < closedAt && message[at] === DASH && message[at + 1] === DASH;
}

/**
 * Whether the body `sig` hashed reaches an emptied part: always without l=; with l=, when the
 * part's content starts inside the signed length (a part wholly past it was never hashed, and
 * its absence cannot break the signature).
 */
export function signedBodyReachesStoredApart(message: Buffer, storedApart: { bodyStart: number; parts: readonly { contentStart: number }[] }, sig: Pick<DkimSignatureResult, 'tags'>): boolean {
  const limit = sig.tags.bodyLength;
  if (limit === null) return true;
  const canonicalization = sig.tags.canonicalization.split('/')[1] === 'relaxed' ? 'relaxed' : 'simple';
  const starts = storedApart.parts.map((p) => p.contentStart);
  const offsets = canonicalBodyOffsets(message, storedApart.bodyStart, starts, canonicalization, limit);
  return starts.some((start) => {
    const offset = start === storedApart.bodyStart ? 0 : offsets.get(start);
    return offset !== undefined && offset < limit;
  });
}
