/*
 * SMTP (DATA) and POP3 (RETR) carry a message as lines ended by a line holding only ".", and put
 * a "." before every line of the message that begins with one (dot-stuffing), so that no line of
 * it reads as that end. Every mail program undoes both; a home-made capture (a script saving what
 * a POP3 or SMTP session sent, an SMTP sink writing the DATA stream, a buggy POP client) may keep
 * either, and genuine mail then reads as changed (red team N, N-03). Both are read on bytes:
 * messages may be 8-bit.
 */

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const LINE_STARTING_WITH_DOT = Buffer.from('\n.');

/**
 * The message without the line holding only "." that ends it, or null when it has no such line.
 * The line before keeps its line end: the end of the transfer is that line end, then ".". With
 * `doubledCr`, every line of `raw` ends CR CR LF (doubledCrs), and the line is read as it is
 * once one CR of each is taken out.
 */
export function withoutTransferEnd(raw: Buffer, doubledCr = false): Buffer | null {
  let end = raw.length;
  const lf = raw[end - 1] === LF;
  if (lf) end--;
  if (lf && doubledCr) end -= 2;
  else if (raw[end - 1] === CR) end--;
  if (end < 2 || raw[end - 1] !== DOT || raw[end - 2] !== LF) return null;
  return raw.subarray(0, end - 1);
}

/**
 * Where the lines whose first "." is the transfer's, when the message shows dot-stuffing left in,
 * else null. After the line that ends a transfer (`transferEnded`), the file is a capture: every
 * line beginning with "." has its first "." taken off, as the receiving program does (RFC 5321,
 * 4.5.2). Without it, only when every line beginning with "." begins with "..", and some line
 * does: a line beginning with a single "." cannot come from a transfer that stuffed its dots.
 */
export function dotStuffedLineStarts(raw: Buffer, transferEnded: boolean): number[] | null {
  const starts: number[] = [];
  const consider = (start: number): boolean => {
    if (!transferEnded && raw[start + 1] !== DOT) return false;
    starts.push(start);
    return true;
  };
  if (raw[0] === DOT && !consider(0)) return null;
  // one native search for a line beginning with ".", where a walk line by line makes a call per line
  for (let at = raw.indexOf(LINE_STARTING_WITH_DOT); at !== -1; at = raw.indexOf(LINE_STARTING_WITH_DOT, at + 1)) {
    if (!consider(at + 1)) return null;
  }
  return starts.length ? starts : null;
}
