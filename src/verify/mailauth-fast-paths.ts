import messageParserModule from 'mailauth/lib/dkim/message-parser.js';

/**
 * Speed-ups of mailauth internals that keep its exact semantics. Profiling `verify` on the bench
 * mix showed mailauth's byte-by-byte scan for bare line feeds (`ensureLinebreaks`) at 15% of all
 * CPU time; this version finds line feeds with Buffer#indexOf (memchr) and yields exactly the
 * same chunks. tests/verify/fast-paths.test.ts checks it against the original on every message
 * of the shared corpus and on crafted edge cases, and the conformance suites run with it.
 */
type Parser = { lastByte?: number };
const MessageParser = (messageParserModule as unknown as { MessageParser: { prototype: Record<string, unknown> } }).MessageParser;

export const originalEnsureLinebreaks = MessageParser.prototype['ensureLinebreaks'] as (this: Parser, input: Buffer) => Generator<Buffer>;

const CRLF = Buffer.from('\r\n');

export function* fastEnsureLinebreaks(this: Parser, input: Buffer): Generator<Buffer> {
  let pos = 0;
  let lf = input.indexOf(0x0a);
  while (lf >= 0) {
    const before = lf === 0 ? this.lastByte : input[lf - 1];
    if (before !== 0x0d) {
      // a bare LF: everything before it, then CRLF (the original yields these as one buffer)
      yield lf === 0 || pos === lf ? Buffer.from(CRLF) : Buffer.concat([input.subarray(pos, lf), CRLF]);
      pos = lf + 1;
    }
    lf = input.indexOf(0x0a, lf + 1);
  }
  if (input.length) this.lastByte = input[input.length - 1];
  if (pos === 0) yield input;
  else if (pos < input.length) yield input.subarray(pos);
}

let installed = false;
export function installMailauthFastPaths(): void {
  if (installed) return;
  installed = true;
  MessageParser.prototype['ensureLinebreaks'] = fastEnsureLinebreaks;
}
