/**
 * Messages a mailbox converter wrote anew, because the store they came from keeps no copy of the
 * bytes that were sent.
 *
 * Outlook keeps mail in a PST (or OST) file as MAPI properties: the transport headers as
 * received, the text, the HTML and each attachment, but not the MIME message. A newsroom handed
 * a PST converts it with readpst (libpst, in every Linux distribution), which writes each
 * message again: the stored headers with its carriage returns removed and every MIME-Version,
 * Content-Type, Content-Transfer-Encoding, Content-class, X-MimeOLE and X-From_ field of the
 * original taken out (Bcc is kept since libpst 0.6.55), then a MIME-Version and a
 * `multipart/mixed` (or `multipart/report`)
 * Content-Type of its own, whose boundary is always `--boundary-LibPST-iamunique-<number>_-_-`,
 * then a body it builds from the stored text, HTML and attachments (libpst's readpst.c,
 * write_normal_email). The body a DKIM signature hashed is gone, so every body hash fails, on
 * genuine mail as on forged.
 *
 * Read from the message bytes alone (the analysis is a function of the bytes): the message's
 * Content-Type, as mail programs read it (the first), names that boundary. No mail program
 * writes it; anyone can, and what follows from it (docs/verdicts.md, "Messages rebuilt from an
 * Outlook PST by readpst") is never "verified", only "not proven".
 */
import { boundaryParam } from '../checks/check-support.ts';
import { isFieldLineAt, type HeaderField } from './headers.ts';

/** What a converter wrote of a message, as far as a signature is concerned. */
export interface RebuiltMessage {
  /** the program, as the reader is told it */
  converter: string;
  /** the top-level boundary that shows it */
  boundary: string;
  /** lower-case names of the header fields the converter takes out of the original and may write again with other values */
  rewrittenFields: readonly string[];
}

const LIBPST_BOUNDARY = /^--boundary-LibPST-iamunique-\d{1,11}_-_-$/;
const LIBPST_TYPES: ReadonlySet<string> = new Set(['multipart/mixed', 'multipart/report']);
const LIBPST_REWRITTEN = ['mime-version', 'content-type', 'content-transfer-encoding', 'content-class', 'x-mimeole', 'x-from_'] as const;

/** The converter that wrote this message anew, or null when nothing shows one did. */
export function rebuiltByConverter(fields: readonly HeaderField[]): RebuiltMessage | null {
  const contentType = fields.find((f) => f.name === 'content-type')?.value;
  if (!contentType) return null;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const boundary = boundaryParam(contentType);
  if (!LIBPST_TYPES.has(type) || boundary === null || !LIBPST_BOUNDARY.test(boundary)) return null;
  return { converter: 'readpst (libpst), converting an Outlook PST or OST file', boundary, rewrittenFields: LIBPST_REWRITTEN };
}

/** The fields a signature covers that the converter wrote again: a header hash over them cannot hold. */
export const rewrittenFieldsSigned = (rebuilt: RebuiltMessage, signedHeaders: readonly string[]): string[] =>
  rebuilt.rewrittenFields.filter((name) => signedHeaders.includes(name));

/**
 * The file holds a header block and no body: nothing after the blank line that ends the header
 * fields but line ends and blanks, or no blank line and nothing but header fields. pffexport (libpff), the other PST
 * converter in Linux distributions, writes each message of a PST as a folder, its transport
 * headers as received in `InternetHeaders.txt` and its text apart in `Message.txt`; a dump of
 * such folders, or of headers saved alone ("show original" copied up to the body), holds genuine
 * header blocks whose signatures' body hashes cannot match. A body taken out says nothing of the
 * header fields a signature covers, which still verify or not.
 */
export function headerBlockOnly(message: Buffer, headerBytes: number, hasBody: boolean): boolean {
  if (!hasBody) return everyLineAHeaderField(message);
  for (let at = headerBytes; at < message.length; at++) {
    const b = message[at];
    if (b !== 0x0d && b !== 0x0a && b !== 0x20 && b !== 0x09) return false;
  }
  return true;
}

/**
 * A file with no blank line holds no body only when each of its lines is a header field or the
 * continuation of one. A line that is neither is where mail programs begin the body: a forged
 * text written with no blank line above it was read as "no body", and beside its verified twin
 * got a warning, where the same text after a blank line is a red flag (red team X, X-02).
 * (Exchange's export begins with "Microsoft Mail Internet Headers Version 2.0", before any
 * field: allowed as the first line.)
 */
function everyLineAHeaderField(message: Buffer): boolean {
  // Read line by line in the bytes (lines end in CRLF, LF or CR alone), and given up at the first
  // line that is neither: the whole file made one string and split into lines cost a 50 MB file
  // of header lines 50 MB and 670,000 strings more, and its run peaked past 300 MB.
  let nextCr = message.indexOf(CR);
  let nextLf = message.indexOf(LF);
  for (let start = 0, line = 0; start < message.length; line++) {
    if (nextCr !== -1 && nextCr < start) nextCr = message.indexOf(CR, start);
    if (nextLf !== -1 && nextLf < start) nextLf = message.indexOf(LF, start);
    const end = Math.min(nextCr === -1 ? message.length : nextCr, nextLf === -1 ? message.length : nextLf);
    if (!isFieldLineAt(message, start, end) && !(line > 0 && end > start && (message[start] === SP || message[start] === TAB)) && !(line === 0 && startsWith(message, start, end, EXCHANGE_FIRST_LINE))) {
      return false;
    }
    start = end + (message[end] === CR && message[end + 1] === LF ? 2 : 1);
  }
  return true;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const EXCHANGE_FIRST_LINE = Buffer.from('Microsoft Mail Internet Headers');

function startsWith(message: Buffer, start: number, end: number, prefix: Buffer): boolean {
  return end - start >= prefix.length && message.subarray(start, start + prefix.length).equals(prefix);
}
