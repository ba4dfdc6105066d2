import { FIELD_LINE, firstValue } from '../read/headers.ts';
import { signatureLabel } from './signed-headers.ts';
import type { Finding, MessageCheck } from './types.ts';

const MAX_DELIMITERS = 2_000;
const MAX_PART_HEADER_LINES = 100;
const MAX_LINE = 4_096;
const CONTINUATION = /^[ \t]+\S/;
const BLANK_WITH_SPACES = /^[ \t]+$/;

/**
 * A MIME part's header block must end with an empty line. One that ends with a line of only
 * spaces or tabs is read differently: mail programs take the lines after it for more headers, up
 * to the next empty line, so the part's first paragraph disappears from view. Relaxed body
 * canonicalization drops trailing whitespace, so the empty line and the line of spaces hash the
 * same, and a signature survives the change: an attacker can hide a signed paragraph ("only
 * after the audit clears") from a verified message. Red flag when a verifying signature reads
 * the body relaxed (the change is invisible to it), warning otherwise (the signer wrote it so).
 *
 * A bounded scan: lines that start with "--" (delimiter candidates, at most 2,000), each followed
 * by at most 100 header lines.
 */
export const auditPartHeaderEnds: MessageCheck = ({ bytes, headers, signatures }) => {
  if (!headers.hasBody) return [];
  const body = bytes.subarray(headers.headerBytes);
  const found: number[] = [];
  let scanned = 0;
  for (const start of delimiterCandidates(body)) {
    if (++scanned > MAX_DELIMITERS) break;
    const offset = blankLineEndingPartHeaders(body, start);
    if (offset !== null) found.push(headers.headerBytes + offset);
  }
  if (!found.length) return [];
  const relaxed = signatures.filter((s) => s.outcome === 'pass' && s.tags.canonicalization.split('/')[1] === 'relaxed');
  return [
    {
      code: 'part-header-end-ambiguous',
      severity: relaxed.length ? 'red-flag' : 'warning',
      text:
        `${found.length === 1 ? 'A MIME part\'s headers end' : `${found.length} MIME parts' headers end`} with a line of spaces instead of an empty line: mail programs read the text after it as more headers and do not show it.` +
        (relaxed.length ? ' The signature reads the body relaxed, which does not tell the two lines apart, so a blank line may have been turned into spaces after signing to hide signed text.' : ''),
      evidence: { byteOffsets: found.slice(0, 10), signatures: relaxed.map(signatureLabel) },
    },
  ];
};

/** Where the line of spaces that ends the part headers after the delimiter line at `start` is, if any. */
function blankLineEndingPartHeaders(body: Buffer, start: number): number | null {
  let lineStart = nextLine(body, start);
  let headerLines = 0;
  for (let i = 0; i < MAX_PART_HEADER_LINES && lineStart >= 0 && lineStart < body.length; i++) {
    const end = nextLine(body, lineStart);
    if ((end < 0 ? body.length : end) - lineStart > MAX_LINE) return null; // no header line is that long
    const line = body.subarray(lineStart, end < 0 ? body.length : end).toString('latin1').replace(/\r?\n$/, '');
    if (line === '') return null;
    if (BLANK_WITH_SPACES.test(line)) return headerLines > 0 ? lineStart : null;
    if (!FIELD_LINE.test(line) && !(headerLines > 0 && CONTINUATION.test(line))) return null;
    headerLines++;
    lineStart = end;
  }
  return null;
}

/** Starts of lines that begin with "--". */
function* delimiterCandidates(body: Buffer): Generator<number> {
  if (body[0] === 0x2d && body[1] === 0x2d) yield 0;
  for (let lf = body.indexOf('\n--', 0, 'latin1'); lf >= 0; lf = body.indexOf('\n--', lf + 1, 'latin1')) yield lf + 1;
}

const nextLine = (body: Buffer, from: number): number => {
  const lf = body.indexOf(0x0a, from);
  return lf < 0 ? -1 : lf + 1;
};

const MAX_PREAMBLE_SCAN = 64 * 1024;
const PART_HEADER_LINE = /^content-[a-z-]*[ \t]*:/i;

/**
 * Content-Type is left out of h= by many signers (Gmail among them), and it names the boundary
 * that cuts the body into parts. Replacing it with one that names a boundary found deeper in the
 * body (a forwarded message's own parts) makes mail programs show that inner part as the
 * message's own text, and the signature still verifies: nothing is added, so nothing can be
 * counted. What shows it is the body itself: before the first delimiter of the boundary the
 * Content-Type names, a genuine body has at most a line of preamble, never a delimiter followed
 * by a part's own Content- header. Red flag when no verifying signature covers Content-Type.
 */
export const auditUnsignedBoundary: MessageCheck = ({ bytes, headers, signatures }) => {
  const proving = signatures.filter((s) => s.outcome === 'pass');
  if (!headers.hasBody || !proving.length || proving.some((s) => s.tags.signedHeaders.includes('content-type'))) return [];
  const contentType = firstValue(headers, 'content-type');
  if (!contentType || !/^\s*multipart\//i.test(contentType)) return [];
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) return [];
  const body = bytes.subarray(headers.headerBytes, headers.headerBytes + MAX_PREAMBLE_SCAN);
  const own = `--${boundary}`;
  const ownLine = body.indexOf(`\n${own}`, 0, 'latin1');
  // where the first delimiter of the named boundary starts, or -1 when the body never uses it
  const firstOwn = body.subarray(0, own.length).toString('latin1') === own ? 0 : ownLine < 0 ? -1 : ownLine + 1;
  const preamble = firstOwn < 0 ? body : body.subarray(0, firstOwn);
  for (const start of delimiterCandidates(preamble)) {
    const lineEnd = nextLine(preamble, start);
    if (lineEnd < 0) break;
    const after = preamble.subarray(lineEnd, Math.min(preamble.length, lineEnd + 200)).toString('latin1');
    if (!PART_HEADER_LINE.test(after)) continue;
    const delimiter = preamble.subarray(start, lineEnd).toString('latin1').trimEnd().slice(0, 202);
    return [
      {
        code: 'boundary-not-the-body',
        severity: 'red-flag',
        text: `The Content-Type names the boundary "${boundary}", but the body ${firstOwn < 0 ? 'never uses it, and starts' : 'starts'} its parts with another one (${delimiter}): mail programs show the parts the Content-Type names, which are not the message's own. No verifying signature covers Content-Type, so it may have been replaced after signing.`,
        evidence: { declaredBoundary: boundary, delimiterFound: delimiter, byteOffset: headers.headerBytes + start, signatures: proving.map(signatureLabel) },
      },
    ];
  }
  return [];
};
