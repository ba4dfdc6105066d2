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
 * MessageParser, which ends the header at the first LF LF or LF CR LF). So the bytes up to there,
 * lowered and with every CR and LF removed, hold "dkim-signature" or "arc-" wherever mailauth
 * would find such a field; the test asks no more than that, and any doubt (a name that is only
 * a substring of a longer one, the words in a Received line, a header past MAX_SCANNED) leaves
 * the message to mailauth. This project's own header parser (read/headers.ts) ends the header
 * where mailauth does and forms names from the same bytes, so it finds no such field either,
 * and verifyDkim would list none. tests/verify/signature-fields.test.ts holds the answer to
 * mailauth's own results on every message of the shared corpus and on crafted spellings.
 */
export function mayCarrySignatureFields(message: Buffer): boolean {
  const end = headerEndForMailauth(message);
  if (end > MAX_SCANNED) return true;
  const names = message.toString('latin1', 0, end).toLowerCase().replace(LINE_BREAKS, '');
  return names.includes('dkim-signature') || names.includes('arc-');
}

/**
 * Past this many header bytes the message is left to mailauth unasked (it is rare, and mailauth
 * reads such a header whole anyway): a lowered copy of an outsized header is not made for nothing.
 */
const MAX_SCANNED = 256 * 1024;

const LINE_BREAKS = /[\r\n]+/g;

/**
 * Where mailauth's header block ends at the latest: just past the first LF LF or LF CR LF, or the
 * end of the message. (An empty first line ends it sooner, at the very start; reading further
 * only makes the test more cautious.) Only the first MAX_SCANNED bytes are searched: a message
 * written with CRLF has no LF LF at all, and its whole body would be searched for one.
 */
function headerEndForMailauth(message: Buffer): number {
  const window = message.subarray(0, MAX_SCANNED + LF_CR_LF.length);
  const lfLf = window.indexOf(LF_LF);
  const lfCrLf = window.indexOf(LF_CR_LF);
  let end = message.length;
  if (lfLf >= 0) end = Math.min(end, lfLf + LF_LF.length);
  if (lfCrLf >= 0) end = Math.min(end, lfCrLf + LF_CR_LF.length);
  return end;
}

const LF_LF = Buffer.from('\n\n');
const LF_CR_LF = Buffer.from('\n\r\n');
