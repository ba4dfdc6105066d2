/** True when some line ends in a bare LF: DKIM is defined over CRLF, so such a copy needs repair. */
export function hasBareLf(raw: Buffer): boolean {
  let at = raw.indexOf(0x0a);
  while (at >= 0) {
    if (at === 0 || raw[at - 1] !== 0x0d) return true;
    at = raw.indexOf(0x0a, at + 1);
  }
  return false;
}

/**
 * Rewrites every bare LF as CRLF and leaves existing CRLFs alone. Mail stored on Unix systems
 * (mbox, Maildir, most dumps) lost its CRs; signers signed the CRLF form.
 */
export function toCrlf(raw: Buffer): Buffer {
  if (!hasBareLf(raw)) return raw;
  const parts: Buffer[] = [];
  let start = 0;
  let at = raw.indexOf(0x0a);
  while (at >= 0) {
    if (at === 0 || raw[at - 1] !== 0x0d) {
      parts.push(raw.subarray(start, at), CRLF);
      start = at + 1;
    }
    at = raw.indexOf(0x0a, at + 1);
  }
  parts.push(raw.subarray(start));
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n');
