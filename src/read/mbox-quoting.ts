/*
 * mbox writers protect body lines that begin with "From " by prefixing ">". mboxo quotes only
 * "From " itself, so ">From " is ambiguous there; mboxrd also quotes lines that already begin
 * with ">...From ", which makes the quoting reversible. Whether a message needs unquoting
 * cannot be known from the mbox alone: the verifier tries both, and for a few lines each mix of
 * them (src/analyze/repair-variants.ts), and records which one verified.
 * Everything works on bytes: messages may be 8-bit, and a UTF-8 round trip would alter them.
 */

import type { ReadTarget } from '../discover/open-evidence.ts';

const GT = 0x3e;
const LF = 0x0a;
const QUOTED_FROM = Buffer.from('>From ');

/**
 * Where each line matching /^>+From / starts, in order. Every such line holds ">From " where its
 * run of ">" ends, so the search is for that (one native search over the message, where a walk
 * line by line made a call per line: 0.4 s of the workers' time on a 1 GB mbox), and an
 * occurrence counts when only ">" stand between it and the start of its line. With `dropped`,
 * the lines are those of `raw` without the bytes at those offsets (the dots SMTP stuffed at the
 * start of lines, taken out of the form being made), without making that copy.
 */
function* quotedFromLines(raw: Buffer, dropped: ReadonlySet<number> | null = null): Generator<number> {
  for (let at = raw.indexOf(QUOTED_FROM); at !== -1; at = raw.indexOf(QUOTED_FROM, at + 1)) {
    let start = at;
    let before = at - 1;
    for (; before >= 0 && (raw[before] === GT || dropped?.has(before)); before--) if (!dropped?.has(before)) start = before;
    if (before < 0 || raw[before] === LF) yield start;
  }
}

/** Whether any line of the message matches /^>+From / (mbox quoting may have altered it). */
export function hasFromQuoting(raw: Buffer): boolean {
  return !quotedFromLines(raw).next().done;
}

/**
 * Where each line matching /^>+From / starts, in order: the offset of its first ">". With
 * `dropped` (ascending offsets), the lines read are those of `raw` with those bytes taken out,
 * and the offsets are still `raw`'s.
 */
export function quotedFromLineStarts(raw: Buffer, dropped: readonly number[] = []): number[] {
  return [...quotedFromLines(raw, dropped.length ? new Set(dropped) : null)];
}

/**
 * Undoes mboxrd quoting: removes one ">" from every line matching /^>+From /, and changes
 * nothing else. Returns `raw` itself when no line is quoted.
 */
export function unquoteMboxrd(raw: Buffer): Buffer {
  return unquoteLinesAt(raw, quotedFromLineStarts(raw));
}

/**
 * Removes the first byte (a ">") of each line starting at `starts` (ascending, each from
 * quotedFromLineStarts; or a "." from dotStuffedLineStarts), and changes nothing else. Returns `raw` itself for no line.
 */
export function unquoteLinesAt(raw: Buffer, starts: readonly number[], target?: ReadTarget): Buffer {
  if (starts.length === 0) return raw;
  const out = target ? target.take(raw.length - starts.length) : Buffer.alloc(raw.length - starts.length);
  let written = 0;
  let from = 0;
  for (const drop of starts) {
    written += raw.copy(out, written, from, drop);
    from = drop + 1;
  }
  raw.copy(out, written, from);
  return out;
}
