import { findHeaderEnd } from '../read/headers.ts';

/**
 * Whether mailauth could read a DKIM-Signature or an ARC field in a message. When it could not,
 * it has nothing to verify, and a run need not ask it: on unsigned mail (a Sent folder, mail
 * between the accounts of one server, most mail before 2010) its parse of the header and its
 * pass over the body were 13 % of an analysis thread's time for nothing (50,000 messages of
 * 1-2 KB, docs/performance.md).
 *
 * The answer is false only when no field name mailauth could form is spelt in the bytes: it
 * forms a name from the bytes before the first colon of an unfolded line, with the line breaks
 * of a fold taken out, its ends trimmed of blanks and ASCII letters lowered (tools.js
 * parseHeaders, read as latin1), and reads only the lines before the first empty one (its
 * MessageParser, which ends the header at the first LF LF or LF CR LF, where findHeaderEnd does;
 * `headerEnd` is that end, as parseHeaders found it). So the bytes up to there,
 * lowered and with every CR and LF removed, hold "dkim-signature" or "arc-" wherever mailauth
 * would find such a field; the test asks no more than that, and any doubt (a name that is only
 * a substring of a longer one, the words in a Received line, a header past MAX_SCANNED) leaves
 * the message to mailauth. This project's own header parser (read/headers.ts) ends the header
 * where mailauth does and forms names from the same bytes, so it finds no such field either,
 * and verifyDkim would list none. tests/verify/signature-fields.test.ts holds the answer to
 * mailauth's own results on every message of the shared corpus and on crafted spellings.
 */
export function mayCarrySignatureFields(message: Buffer, headerEnd: number = headerBlockEnd(message)): boolean {
  if (headerEnd > MAX_SCANNED) return true;
  const names = message.toString('latin1', 0, headerEnd).toLowerCase().replace(LINE_BREAKS, '');
  return names.includes('dkim-signature') || names.includes('arc-');
}

/**
 * Past this many header bytes the message is left to mailauth unasked (it is rare, and mailauth
 * reads such a header whole anyway): a lowered copy of an outsized header is not made for nothing.
 */
const MAX_SCANNED = 256 * 1024;

const LINE_BREAKS = /[\r\n]+/g;

/** Where findHeaderEnd ends the header block, or the end of a message that has no empty line. */
function headerBlockEnd(message: Buffer): number {
  const end = findHeaderEnd(message);
  return end < 0 ? message.length : end;
}
