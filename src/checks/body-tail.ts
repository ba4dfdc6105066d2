import type { DkimSignatureResult } from '../verify/dkim.ts';
import { boundaryParam, escapeControls, topBoundary } from './check-support.ts';
import { signatureLabel } from './signed-headers.ts';
import type { Finding, MessageCheck, MessageCheckContext } from './types.ts';

/** How much of the unsigned tail (and of the body, for boundary declarations) is scanned for MIME structure. */
export const TAIL_SCAN_BYTES = 64 * 1024;
const PREVIEW_CHARS = 200;

/**
 * Describes what follows the signed length of a signature with `l=`: how many bytes and lines,
 * and whether they add MIME parts. `body-content-after-l` (signed-headers.ts) is the red flag;
 * this finding tells the examiner what the unsigned content is.
 *
 * l= counts canonicalized body bytes. The offset in the stored body where the signed part
 * ends is found by replaying the signature's body canonicalization over the (CRLF) bytes as
 * verified: with `simple` it is l itself; with `relaxed` every run of spaces and tabs counts
 * as one byte and spaces before a line end count as none (RFC 6376 section 3.4.4).
 */
export const describeBodyTail: MessageCheck = ({ bytes, headers, signatures }) => {
  const findings: Finding[] = [];
  if (!headers.hasBody) return findings;
  const body = bytes.subarray(headers.headerBytes);
  for (const sig of signatures) {
    if (sig.outcome !== 'pass' || sig.tags.bodyLength === null) continue;
    const signed = sig.bodyBytesSigned ?? 0;
    const total = sig.bodyBytesTotal ?? 0;
    if (total <= signed) continue;
    const cut = rawOffsetOfCanonical(body, signed, bodyCanonicalization(sig));
    if (cut >= body.length) continue;
    findings.push(describe(sig, body, cut, signed, total, topBoundary(headers.fields)));
  }
  return findings;
};

/**
 * The stored bytes past what a signature with `l=` covers (empty when the message has no body:
 * simple canonicalization then signs a CRLF of its own making).
 */
export function unsignedTail({ bytes, headers }: Pick<MessageCheckContext, 'bytes' | 'headers'>, sig: DkimSignatureResult): Buffer {
  if (!headers.hasBody) return Buffer.alloc(0);
  const body = bytes.subarray(headers.headerBytes);
  return body.subarray(rawOffsetOfCanonical(body, sig.bodyBytesSigned ?? 0, bodyCanonicalization(sig)));
}

function describe(sig: DkimSignatureResult, body: Buffer, cut: number, signed: number, total: number, top: string | null): Finding {
  const tail = body.subarray(cut);
  const lines = countLines(tail);
  const boundaries = declaredBoundaries(body, top);
  const scanned = tail.subarray(0, TAIL_SCAN_BYTES).toString('latin1');
  const delimiterLines: string[] = [];
  const contentTypes: string[] = [];
  let addsPart = false;
  let closes = false;
  for (const line of scanned.split('\r\n')) {
    if (line.startsWith('--')) {
      for (const b of boundaries) {
        if (!line.startsWith(`--${b}`)) continue;
        const rest = line.slice(b.length + 2);
        if (rest.startsWith('--')) closes = true;
        else if (/^[ \t]*$/.test(rest)) addsPart = true;
        else continue;
        if (delimiterLines.length < 10) delimiterLines.push(line.slice(0, 200));
        break;
      }
    } else if (/^content-type[ \t]*:/i.test(line)) {
      if (contentTypes.length < 5) contentTypes.push(line.slice(line.indexOf(':') + 1).trim().slice(0, 200));
    }
  }
  const addsMimeParts = addsPart || contentTypes.length > 0;
  const preview = escapeControls(new TextDecoder('utf-8').decode(tail.subarray(0, PREVIEW_CHARS * 4)), PREVIEW_CHARS);
  const startsMidLine = cut > 0 && body[cut - 1] !== 0x0a;
  return {
    code: 'body-tail-described',
    severity: 'info',
    text: `After the ${signed} bytes the signature by ${sig.tags.domain} covers (l=${sig.tags.bodyLength}), the body goes on for ${tail.length} unsigned bytes on ${lines} line${lines === 1 ? '' : 's'}${
      addsMimeParts ? `, which add ${contentTypes.length ? `a MIME part (${escapeControls(contentTypes[0]!, 100)})` : 'a MIME part'}` : closes ? ', which only close the MIME structure' : ''
    }.`,
    evidence: {
      signature: signatureLabel(sig),
      l: sig.tags.bodyLength,
      bodyCanonicalization: bodyCanonicalization(sig),
      signedCanonicalBytes: signed,
      unsignedCanonicalBytes: total - signed,
      unsignedOffset: cut,
      unsignedBytes: tail.length,
      unsignedLines: lines,
      startsMidLine,
      addsMimeParts,
      closesMultipart: closes,
      boundaryLines: delimiterLines,
      contentTypes,
      scannedBytes: Math.min(tail.length, TAIL_SCAN_BYTES),
      preview,
    },
  };
}

const bodyCanonicalization = (sig: DkimSignatureResult): 'simple' | 'relaxed' =>
  sig.tags.canonicalization.split('/')[1]?.trim() === 'relaxed' ? 'relaxed' : 'simple';

/**
 * The offset in the stored body at which `canonical` canonicalized bytes have been consumed.
 * Linear; for `relaxed`, a run of WSP emits one byte unless the line ends right after it.
 */
export function rawOffsetOfCanonical(body: Buffer, canonical: number, mode: 'simple' | 'relaxed'): number {
  if (mode === 'simple') return Math.min(canonical, body.length);
  let emitted = 0;
  let i = 0;
  while (i < body.length && emitted < canonical) {
    const byte = body[i]!;
    if (byte === 0x20 || byte === 0x09) {
      let j = i;
      while (j < body.length && (body[j] === 0x20 || body[j] === 0x09)) j++;
      const lineEnds = j >= body.length || (body[j] === 0x0d && body[j + 1] === 0x0a);
      if (!lineEnds) emitted += 1;
      i = j;
      continue;
    }
    emitted += 1;
    i += 1;
  }
  return i;
}

function countLines(tail: Buffer): number {
  if (tail.length === 0) return 0;
  let lines = 0;
  let at = tail.indexOf(0x0a);
  while (at >= 0) {
    lines++;
    at = tail.indexOf(0x0a, at + 1);
  }
  return tail[tail.length - 1] === 0x0a ? lines : lines + 1;
}

/** The top-level boundary and any declared in the first TAIL_SCAN_BYTES of the body (nested multiparts). */
function declaredBoundaries(body: Buffer, top: string | null): string[] {
  const found = new Set<string>();
  if (top) found.add(top);
  const text = body.subarray(0, TAIL_SCAN_BYTES).toString('latin1');
  const re = /boundary[ \t]*=/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null && found.size < 50) {
    const b = boundaryParam(text.slice(m.index, m.index + 300));
    if (b) found.add(b);
  }
  // Longest first, so that a boundary that is a prefix of another does not claim its lines.
  return [...found].sort((a, b) => b.length - a.length);
}
