import { signatureLabel } from './signed-headers.ts';
import type { Finding, MessageCheck } from './types.ts';

const MAX_DELIMITERS = 2_000;
const MAX_PART_HEADER_LINES = 100;
const MAX_LINE = 4_096;
const HEADER_LINE = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;
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
    if (!HEADER_LINE.test(line) && !(headerLines > 0 && CONTINUATION.test(line))) return null;
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
