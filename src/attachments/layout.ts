/**
 * Where the parts of a message lie in its bytes, and which of them a DKIM signature with an
 * l= tag covers.
 *
 * With l=, a signature covers only the first l bytes of the canonicalized body, and anyone can
 * append to the body without breaking it. A part's decoded content is therefore pinned by the
 * signature only if nothing appended can change it: the part must be closed, within the signed
 * bytes, by the complete delimiter line (its line break included) that ends it. The MIME parser
 * reads line by line and a closed part never changes afterwards, whatever follows.
 *
 * - a part whose closing delimiter line ends at or before canonical body offset l is covered;
 * - a part still open at l (its delimiter, or the line break of it, lies after l) is not: more
 *   content could be appended to it;
 * - the body of a non-multipart message is never closed, so never covered under l=;
 * - nested parts are judged on their own closing delimiter (that of their own multipart), so a
 *   part inside a multipart that is still open at l can be covered.
 *
 * Offsets are computed exactly, in canonicalized bytes: the scan uses mailsplit's Splitter, the
 * very code that splits the message for the inventory (same options, same part numbers), and
 * every raw line is measured as DKIM canonicalization measures it (bare LF counted as CRLF, as
 * mailauth rewrites it; with relaxed, whitespace runs as one space and trailing whitespace
 * dropped). Parts are matched to the inventory by their MIME part number (`partId`), not by
 * order.
 *
 * What this does not check, and the caller must: that the signature's h= covers Content-Type
 * (the boundary and the multipart structure come from it); and that with relaxed body
 * canonicalization only the canonical form is signed: for parts that are not base64 encoded,
 * whitespace inside lines could differ from what was signed without breaking the signature.
 */
import { loadSplitter, SPLITTER_OPTIONS } from './parser-config.ts';
import type { SplitterChunk, SplitterNode } from './parser-config.ts';
import type { BodyCanonicalization, MimePartRecord } from './types.ts';

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const DASH = 0x2d;

/** One leaf part of the MIME tree, with raw byte offsets into the message. */
export interface LeafLayout {
  /** the MIME part number, as in MimePartRecord.partId (null for the body of a non-multipart message) */
  partId: string | null;
  /** offset of the first byte of the part's header; null when it could not be located */
  headerStart: number | null;
  /** offset of the first byte of the part's content, after the empty line ending its header */
  contentStart: number | null;
  /**
   * offset just past the line break of the delimiter line that closes the part; null when the
   * part is never closed (the message ends inside it) or the delimiter could not be located
   */
  closedAt: number | null;
  /** the part's declared media type, lower-case, and its file name, decoded; null when absent */
  contentType: string | null;
  filename: string | null;
}

export interface MimeLayout {
  /** offset of the first body byte of the message (after the header's empty line) */
  bodyStart: number;
  leaves: LeafLayout[];
  /** why the scan stopped early (a limit of the MIME parser), null when it read the whole message */
  error: string | null;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Scans the MIME structure of `message` with mailsplit and returns every leaf part with its
 * offsets. Never throws: a parser error ends the scan, with what was found before it.
 */
export async function mimeLayout(message: Buffer): Promise<MimeLayout> {
  const Splitter = loadSplitter();
  const splitter = new Splitter({ ...SPLITTER_OPTIONS });
  const leaves: LeafLayout[] = [];
  let bodyStart: number | null = null;
  let open: LeafLayout | null = null;
  let error: string | null = null;

  // The message is written in one piece, so every line and chunk mailsplit hands out is a view
  // into it and its offset is known exactly. Anything else (mailsplit copies a lone CR in one
  // corner case) is not located, and the part is then left uncovered.
  const base = message.byteOffset;
  const viewOffset = (view: Buffer | undefined): number | null => {
    if (!view || view.buffer !== message.buffer) return null;
    const offset = view.byteOffset - base;
    return offset >= 0 && offset + view.length <= message.length ? offset : null;
  };

  const delimiterEnd = (chunk: SplitterChunk): number | null => {
    const start = viewOffset(chunk.value);
    if (start === null) return null;
    const end = start + chunk.value.length;
    let pos = start;
    // the line break ending the part's last line belongs to the delimiter and opens the chunk
    if (pos < end && message[pos] === CR) pos++;
    if (pos < end && message[pos] === LF) pos++;
    if (pos + 1 >= end || message[pos] !== DASH || message[pos + 1] !== DASH) return null;
    const lf = message.indexOf(LF, pos);
    return lf !== -1 && lf < end ? lf + 1 : null;
  };

  await new Promise<void>((resolve) => {
    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      resolve();
    };
    splitter.on('data', (data: SplitterNode | SplitterChunk) => {
      if (data.type === 'node') {
        const node = data;
        open = null;
        const headerStart = viewOffset(node._headersLines[0]);
        const contentStart = headerStart === null ? null : headerStart + node._headerlen;
        if (node.root && bodyStart === null) bodyStart = contentStart ?? Math.min(node._headerlen, message.length);
        if (!node.multipart) {
          const partId =
            node._parentBoundary && Array.isArray(node.partNr)
              ? node.partNr.filter((nr) => typeof nr === 'number').join('.') || null
              : null;
          const leaf: LeafLayout = {
            partId,
            headerStart,
            contentStart,
            closedAt: null,
            contentType: node.contentType || null,
            filename: node.filename || null,
          };
          leaves.push(leaf);
          open = leaf;
        }
        return;
      }
      if (data.type === 'data' && open) {
        // the first data chunk after a leaf's content is the delimiter line that closes it
        open.closedAt = delimiterEnd(data);
        open = null;
      }
    });
    splitter.on('error', (err: Error) => {
      error = describe(err);
      settle();
    });
    splitter.on('end', settle);
    splitter.on('close', settle);
    splitter.end(message);
  });

  return { bodyStart: bodyStart ?? message.length, leaves, error };
}

/** The length of a line's content (line break excluded) after relaxed body canonicalization. */
function relaxedLength(message: Buffer, start: number, end: number): number {
  let length = 0;
  let inWsp = false;
  for (let i = start; i < end; i++) {
    const c = message[i];
    if (c === SP || c === TAB) {
      inWsp = true;
    } else {
      if (inWsp) {
        length++;
        inWsp = false;
      }
      length++;
    }
  }
  // trailing whitespace is dropped
  return length;
}

/**
 * Maps raw offsets that fall at line ends (just past an LF) of the body of `message` to offsets
 * in the canonicalized body, as DKIM counts them for l=. Every line break counts as CRLF (bare
 * LFs are rewritten by the verifier); a CR not followed by LF is content. Empty lines at the end
 * of the body, which canonicalization drops, do not matter here: a target is the end of a
 * non-empty line. The scan stops once the canonical offset passes `stopAfter`; targets beyond
 * it, or not at a line end, are absent from the result.
 */
export function canonicalBodyOffsets(
  message: Buffer,
  bodyStart: number,
  rawLineEnds: readonly number[],
  canonicalization: BodyCanonicalization,
  stopAfter = Number.POSITIVE_INFINITY,
): Map<number, number> {
  const targets = [...new Set(rawLineEnds)].filter((t) => t > bodyStart).sort((a, b) => a - b);
  const result = new Map<number, number>();
  let pos = bodyStart;
  let canonical = 0;
  let next = 0;
  while (next < targets.length && pos < message.length && canonical <= stopAfter) {
    const lf = message.indexOf(LF, pos);
    if (lf === -1) break; // the last line has no line break: no target can end there
    let contentEnd = lf;
    if (contentEnd > pos && message[contentEnd - 1] === CR) contentEnd--;
    const contentLength = canonicalization === 'relaxed' ? relaxedLength(message, pos, contentEnd) : contentEnd - pos;
    canonical += contentLength + 2;
    const lineEnd = lf + 1;
    while (next < targets.length && targets[next]! < lineEnd) next++;
    if (next < targets.length && targets[next] === lineEnd) {
      result.set(lineEnd, canonical);
      next++;
    }
    pos = lineEnd;
  }
  return result;
}

/**
 * Which of `parts` (by partIndex) lie entirely within the signed part of the body: all of them
 * when `signedBodyBytes` is null (no l= tag), otherwise those closed within the first
 * `signedBodyBytes` canonicalized body bytes (see the module comment). `bodyCanonicalization`
 * is the body half of the signature's c= tag (default 'simple', as in DKIM).
 *
 * Async because mailsplit is a stream; it rescans the message, which is only needed for
 * signatures with l=.
 */
export async function partsWithinSignedLength(
  message: Buffer,
  parts: ReadonlyArray<Pick<MimePartRecord, 'partIndex' | 'partId'>>,
  signedBodyBytes: number | null,
  bodyCanonicalization: BodyCanonicalization = 'simple',
): Promise<Set<number>> {
  if (signedBodyBytes === null) return new Set(parts.map((p) => p.partIndex));
  const covered = new Set<number>();
  if (!(signedBodyBytes > 0) || parts.length === 0) return covered;

  const layout = await mimeLayout(message);
  const byPartId = leavesByPartId(layout);
  const ends: number[] = [];
  for (const leaf of byPartId.values()) if (leaf?.closedAt != null) ends.push(leaf.closedAt);
  const canonical = canonicalBodyOffsets(message, layout.bodyStart, ends, bodyCanonicalization, signedBodyBytes);

  for (const part of parts) {
    if (part.partId === null) continue;
    const leaf = byPartId.get(part.partId);
    if (!leaf || leaf.closedAt === null) continue;
    const end = canonical.get(leaf.closedAt);
    if (end !== undefined && end <= signedBodyBytes) covered.add(part.partIndex);
  }
  return covered;
}

/** The leaves of a layout by part number; a part number seen twice is not trusted for either part (null). */
function leavesByPartId(layout: MimeLayout): Map<string, LeafLayout | null> {
  const byPartId = new Map<string, LeafLayout | null>();
  for (const leaf of layout.leaves) {
    if (leaf.partId !== null) byPartId.set(leaf.partId, byPartId.has(leaf.partId) ? null : leaf);
  }
  return byPartId;
}

/**
 * Which of `parts`, covered by a signature, have decoded bytes that the signature does not pin
 * exactly, whitespace only being free to differ from what was signed (red team 10, findings 01
 * and 02). Base64 parts are pinned: decoders skip the whitespace that canonicalization lets
 * change. Other parts (7bit, 8bit, quoted-printable, binary) are not pinned:
 * - with relaxed body canonicalization, runs of spaces and tabs inside a line may be longer or
 *   shorter, and whitespace at line ends may come or go;
 * - with simple, a part that no delimiter closes (the body of a single-part message, or the last
 *   part of a multipart that is never closed) runs to the end of the body, where empty lines may
 *   be added or taken away (both canonicalizations ignore them). A closed part's line breaks are
 *   fixed by the delimiter after them.
 */
export async function partsWithUnpinnedWhitespace(
  message: Buffer,
  parts: ReadonlyArray<Pick<MimePartRecord, 'partIndex' | 'partId' | 'transferEncoding'>>,
  bodyCanonicalization: BodyCanonicalization,
): Promise<Set<number>> {
  const textual = parts.filter((p) => p.transferEncoding !== 'base64');
  if (bodyCanonicalization === 'relaxed' || textual.length === 0) return new Set(textual.map((p) => p.partIndex));
  const unpinned = new Set(textual.filter((p) => p.partId === null).map((p) => p.partIndex));
  const inMultipart = textual.filter((p) => p.partId !== null);
  if (inMultipart.length) {
    const byPartId = leavesByPartId(await mimeLayout(message));
    for (const part of inMultipart) if (byPartId.get(part.partId!)?.closedAt == null) unpinned.add(part.partIndex);
  }
  return unpinned;
}
