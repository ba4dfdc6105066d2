/*
 * mbox writers protect body lines that begin with "From " by prefixing ">". mboxo quotes only
 * "From " itself, so ">From " is ambiguous there; mboxrd also quotes lines that already begin
 * with ">...From ", which makes the quoting reversible. Whether a message needs unquoting
 * cannot be known from the mbox alone: the verifier tries both and records which one verified.
 * Everything works on bytes: messages may be 8-bit, and a UTF-8 round trip would alter them.
 */

const GT = 0x3e;
const LF = 0x0a;
const FROM_SPACE = Buffer.from('From ');

/** Index of the first ">" to drop if the line starting at `start` matches /^>+From /, else -1. */
function quotedFromAt(raw: Buffer, start: number): number {
  let i = start;
  while (raw[i] === GT) i += 1;
  if (i === start) return -1;
  return raw.subarray(i, i + FROM_SPACE.length).equals(FROM_SPACE) ? start : -1;
}

function* lineStarts(raw: Buffer): Generator<number> {
  let start = 0;
  while (start < raw.length) {
    yield start;
    const lf = raw.indexOf(LF, start);
    if (lf === -1) return;
    start = lf + 1;
  }
}

/** Whether any line of the message matches /^>+From / (mbox quoting may have altered it). */
export function hasFromQuoting(raw: Buffer): boolean {
  for (const start of lineStarts(raw)) {
    if (quotedFromAt(raw, start) !== -1) return true;
  }
  return false;
}

/**
 * Undoes mboxrd quoting: removes one ">" from every line matching /^>+From /, and changes
 * nothing else. Returns `raw` itself when no line is quoted.
 */
export function unquoteMboxrd(raw: Buffer): Buffer {
  const drops: number[] = [];
  for (const start of lineStarts(raw)) {
    const drop = quotedFromAt(raw, start);
    if (drop !== -1) drops.push(drop);
  }
  if (drops.length === 0) return raw;
  const out = Buffer.alloc(raw.length - drops.length);
  let written = 0;
  let from = 0;
  for (const drop of drops) {
    written += raw.copy(out, written, from, drop);
    from = drop + 1;
  }
  raw.copy(out, written, from);
  return out;
}
