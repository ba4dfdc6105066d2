// before mailauth: see joi-stand-in.ts
import './joi-stand-in.ts';
import './mailauth-patches.ts';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import messageParserModule from 'mailauth/lib/dkim/message-parser.js';
import { isKnownCleanLineEnds, isKnownCrlfOnly, plainView } from '../read/line-endings.ts';
import { BLANKS, pushRelaxedLinesInMemory, scanBlanks } from '../read/line-scan.ts';
import { WhitespaceRuns } from '../read/whitespace-runs.ts';

/**
 * Speed-ups of mailauth internals that keep its exact semantics, found by profiling `verify` on
 * the bench mix (docs/performance.md):
 *
 * - `ensureLinebreaks`, a byte-by-byte scan for bare line feeds (15% of all CPU): this version
 *   finds line feeds with Buffer#indexOf (memchr) and yields exactly the same chunks.
 * - the search for the end of the header, byte by byte with an array allocated per byte: two
 *   memchr searches find the same end.
 * - relaxed body canonicalization, a byte-by-byte loop (6%): a run of complete lines with no tab,
 *   no double space, no space before a line end and no bare line feed is its own canonical form,
 *   and is hashed in one call; anything else goes through mailauth's loop.
 * - the key of every signature was imported afresh for every message (createPublicKey, export,
 *   record validation: 5%): imports are now kept across messages, keyed by the exact record.
 *
 * tests/verify/fast-paths.test.ts checks each against the original on every message of the
 * shared corpus and on crafted edge cases, and the conformance suites run with them installed.
 */
type Parser = { lastByte?: number };
const MessageParser = (messageParserModule as unknown as { MessageParser: { prototype: Record<string, unknown> } }).MessageParser;
const require = createRequire(import.meta.url);

export const originalEnsureLinebreaks = MessageParser.prototype['ensureLinebreaks'] as (this: Parser, input: Buffer) => Generator<Buffer>;

const CRLF = Buffer.from('\r\n');

export function* fastEnsureLinebreaks(this: Parser, input: Buffer): Generator<Buffer> {
  if (input.length && input[0] !== 0x0a && isKnownCrlfOnly(input)) {
    // no bare LF in it: the original yields it whole
    this.lastByte = input[input.length - 1];
    yield input;
    return;
  }
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

/** The state of mailauth's MessageParser that the header scan of processChunk reads and writes. */
export interface HeaderScanState {
  state: 'header' | 'body';
  headerBytes: number;
  stateBytes: number[];
  emitHeaders(chunk?: Buffer): Promise<void>;
  nextChunk(chunk: Buffer): Promise<void>;
}
type ProcessChunk = (this: HeaderScanState, chunk: Buffer) => Promise<void>;
export const originalProcessChunk = MessageParser.prototype['processChunk'] as ProcessChunk;

/**
 * Where mailauth's byte-by-byte scan ends the header section of a message whose first chunk is
 * `chunk`: at the first LF that follows an LF, or an LF and a CR, or that is the first line of
 * the message (an empty header). -1 when the header does not end in this chunk.
 */
export function headerEndInFirstChunk(chunk: Buffer): number {
  if (chunk[0] === 0x0a) return 0;
  if (chunk[0] === 0x0d && chunk[1] === 0x0a) return 1;
  // The CRLF end first: an LF LF that ends the header must come before it, so the second search
  // stops there instead of running through a 10 MB body that (being CRLF) has none.
  const lfCrLf = chunk.indexOf('\n\r\n', 0, 'latin1');
  const lfLf = (lfCrLf < 0 ? chunk : chunk.subarray(0, lfCrLf + 1)).indexOf('\n\n', 0, 'latin1');
  const ends = [lfLf < 0 ? -1 : lfLf + 1, lfCrLf < 0 ? -1 : lfCrLf + 2].filter((end) => end >= 0);
  return ends.length ? Math.min(...ends) : -1;
}

/**
 * The original keeps the last four bytes in a fresh array for every header byte (3,000 arrays for
 * a 3 KB header); for the first chunk of a message this finds the same end with two memchr
 * searches, and leaves every other case to the original.
 */
export async function fastProcessChunk(this: HeaderScanState, chunk: Buffer): Promise<void> {
  if (this.state !== 'header' || this.headerBytes !== 0 || !chunk || !chunk.length) return originalProcessChunk.call(this, chunk);
  const end = headerEndInFirstChunk(chunk);
  if (end < 0) return originalProcessChunk.call(this, chunk);
  this.headerBytes = end + 1;
  this.stateBytes = [...chunk.subarray(Math.max(0, end - 3), end + 1)];
  if (end === chunk.length - 1) {
    await this.emitHeaders(chunk);
    return;
  }
  await this.emitHeaders(chunk.subarray(0, end + 1));
  await this.nextChunk(chunk.subarray(end + 1));
}

/** The state of mailauth's RelaxedHash that its update() reads and writes. */
export interface RelaxedHashState {
  remainder: Buffer | false;
  byteLength: number;
  _pushBodyHash(chunk: Buffer): void;
}
type RelaxedUpdate = (this: RelaxedHashState, chunk: Buffer | null, final?: boolean) => void;
const RelaxedHash = (require('mailauth/lib/dkim/body/relaxed.js') as { RelaxedHash: { prototype: Record<string, unknown> } }).RelaxedHash;
export const originalRelaxedUpdate = RelaxedHash.prototype['update'] as RelaxedUpdate;

/**
 * True when mailauth's loop would find nothing to fix in `lines` (complete lines, ending in LF):
 * it rewrites a line on a tab, on a space after a space, on a space before CRLF, and on an LF
 * that is not preceded by CR within the chunk (an LF at its very start included).
 */
export function isRelaxedCanonical(lines: Buffer, blanks = scanBlanks(lines)): boolean {
  // (`blanks`: one SIMD pass over a message in a worker's read buffer, where the search for two
  // spaces runs at about 1 ns a byte on text; see line-scan.ts)
  if (blanks === null ? lines.indexOf(0x09) >= 0 || lines.indexOf('  ', 0, 'latin1') >= 0 : (blanks & (BLANKS.tab | BLANKS.twoSpaces)) !== 0) return false;
  if (!isKnownCleanLineEnds(lines) && lines.indexOf(' \r\n', 0, 'latin1') >= 0) return false;
  if (lines[0] !== 0x0a && isKnownCrlfOnly(lines)) return true;
  let lf = lines.indexOf(0x0a);
  while (lf >= 0) {
    if (lf === 0 || lines[lf - 1] !== 0x0d) return false;
    lf = lines.indexOf(0x0a, lf + 1);
  }
  return true;
}

/**
 * The relaxed form of `lines` (complete lines, each ending in LF), as mailauth's update() makes
 * it: each line as its fixLineBuffer writes it (a line update() leaves alone is already that
 * form), that is, its content (what precedes the LF, and the CR just before the LF if there is
 * one) without the blanks (SP, HTAB) at its end, every other run of blanks one SP, then CRLF.
 * Handed to `push` a window of lines at a time, from memory reused from one window to the next:
 * mailauth's own loop allocates two bytes of fresh memory for every byte of every line it
 * rewrites, and hashes each such line with a call of its own.
 *
 * A line with no tab and no two spaces in a row can only lose one space at its end, and is
 * copied whole; the others are rewritten byte by byte. (format=flowed text, where most lines end
 * in a space, is then copied at about 1 ns a byte instead of 4-5.5.)
 */
export function pushRelaxedLines(whole: Buffer, push: (canonical: Buffer) => void, blanks = scanBlanks(whole)): void {
  // (in a worker's read buffer, in WebAssembly: 0.63-0.66 ns a byte on format=flowed text,
  // 2.3-2.5 here)
  const inMemory = pushRelaxedLinesInMemory(whole, push);
  if (inMemory === whole.length) return;
  const buffer = inMemory === 0 ? whole : whole.subarray(inMemory);
  const lines = plainView(buffer);
  let out = relaxScratch;
  let to = 0;
  // the next tab and the next two spaces: one search each for the chunk, and one more for each
  // line that holds them; none where the scan of the chunk found none (on format=flowed text,
  // whose lines end in a space, the search for two spaces that are not there was a quarter of
  // this function)
  const runs = WhitespaceRuns.scanned(buffer, blanks);
  for (let start = 0; start < lines.length; ) {
    const lf = lines.indexOf(0x0a, start);
    let end = lf > start && lines[lf - 1] === 0x0d ? lf - 1 : lf;
    // (a line's form is at most its length and a CR longer)
    if (to + (lf - start) + 2 > out.length) {
      if (to) push(out.subarray(0, to));
      to = 0;
      if (lf - start + 2 > out.length) out = Buffer.allocUnsafeSlow(lf - start + 2);
    }
    const run = runs.next(start);
    if (run >= 0 && run < end) {
      let blank = false;
      for (let i = start; i < end; i++) {
        const byte = lines[i]!;
        if (byte === 0x20 || byte === 0x09) {
          blank = true;
          continue;
        }
        if (blank) {
          out[to++] = 0x20;
          blank = false;
        }
        out[to++] = byte;
      }
    } else {
      if (end > start && lines[end - 1] === 0x20) end--;
      out.set(lines.subarray(start, end), to);
      to += end - start;
    }
    out[to++] = 0x0d;
    out[to++] = 0x0a;
    start = lf + 1;
  }
  if (to) push(out.subarray(0, to));
}

/** What pushRelaxedLines writes into: mailauth hashes what it is given and keeps none of it. */
const relaxScratch = Buffer.allocUnsafeSlow(128 * 1024);

export function fastRelaxedUpdate(this: RelaxedHashState, chunk: Buffer | null, final?: boolean): void {
  if (!chunk || !chunk.length) return originalRelaxedUpdate.call(this, chunk, final);
  // mailauth prepends the unfinished line of the previous chunk, and so does this
  const whole = this.remainder && this.remainder.length ? Buffer.concat([this.remainder, chunk]) : chunk;
  const end = whole.lastIndexOf(0x0a) + 1;
  if (end === 0) return originalRelaxedUpdate.call(this, chunk, final);
  this.remainder = false;
  const lines = whole.subarray(0, end);
  // Lines that need no rewriting are hashed as they are, in one call; others (text written with
  // format=flowed ends lines in a space, HTML is indented) are rewritten here in one pass, not
  // line by line by mailauth.
  const blanks = scanBlanks(lines);
  if (isRelaxedCanonical(lines, blanks)) this._pushBodyHash(lines);
  else pushRelaxedLines(lines, (canonical) => this._pushBodyHash(canonical), blanks);
  // The unfinished last line, and the end of the body, are left to mailauth (byteLength counts
  // what update() was given: the original adds the tail's length itself).
  const tail = whole.subarray(end);
  this.byteLength += chunk.length - tail.length;
  return originalRelaxedUpdate.call(this, tail, final);
}

/** What mailauth's per-message key cache (tools.createKeyCache) offers its verifier. */
interface KeyCache {
  resolver: (name: string, type: string) => Promise<unknown>;
  get(type: string, name: string, minBitLength: number | undefined, options?: { strict?: boolean; hashAlgo?: string }): Promise<KeyImport>;
}
interface KeyImport {
  warnings?: string[];
  flags?: string[];
  [field: string]: unknown;
}

/** Imports kept across messages; a dump has few distinct keys, but a hostile one may have many. */
const MAX_KEPT_IMPORTS = 2048;
const keptImports = new Map<string, Promise<KeyImport>>();
export const keyImportStats = { imports: 0, reused: 0 };

/**
 * mailauth's getPublicKey is a pure function of its arguments and of the TXT record the resolver
 * gives; the result is reused when all of them are the same. Failures are not kept (rare, and an
 * error object is better not shared). Each caller gets its own copy of the arrays in the result.
 */
function crossMessageKeyCache(perMessage: KeyCache): KeyCache {
  return {
    resolver: perMessage.resolver,
    async get(type, name, minBitLength, options) {
      let records: unknown;
      try {
        records = await perMessage.resolver(name, 'TXT');
      } catch {
        return perMessage.get(type, name, minBitLength, options);
      }
      const key = JSON.stringify([type, name, minBitLength ?? null, !!options?.strict, options?.hashAlgo ?? null, records]);
      let imported = keptImports.get(key);
      if (imported) {
        keyImportStats.reused++;
      } else {
        keyImportStats.imports++;
        imported = perMessage.get(type, name, minBitLength, options);
        if (keptImports.size >= MAX_KEPT_IMPORTS) keptImports.delete(keptImports.keys().next().value!);
        keptImports.set(key, imported);
        imported.catch(() => keptImports.delete(key));
      }
      const result = await imported;
      return {
        ...result,
        ...(typeof result['publicKey'] === 'string' ? { publicKey: keyObjectFor(result['publicKey']) } : {}),
        ...(result.warnings ? { warnings: [...result.warnings] } : {}),
        ...(result.flags ? { flags: [...result.flags] } : {}),
      };
    },
  };
}

/**
 * mailauth hands crypto.verify the key as PEM text, which OpenSSL parses again for every
 * signature (half the cost of an RSA verification). The parsed key is kept instead; its
 * toString() still gives the PEM, which is what mailauth reports as the result's publicKey.
 */
const parsedKeys = new Map<string, KeyObject>();
function keyObjectFor(pem: string): KeyObject {
  let key = parsedKeys.get(pem);
  if (!key) {
    key = createPublicKey(pem);
    Object.defineProperty(key, 'toString', { value: () => pem });
    if (parsedKeys.size >= MAX_KEPT_IMPORTS) parsedKeys.delete(parsedKeys.keys().next().value!);
    parsedKeys.set(pem, key);
  }
  return key;
}

let installed = false;
export function installMailauthFastPaths(): void {
  if (installed) return;
  installed = true;
  MessageParser.prototype['ensureLinebreaks'] = fastEnsureLinebreaks;
  MessageParser.prototype['processChunk'] = fastProcessChunk;
  RelaxedHash.prototype['update'] = fastRelaxedUpdate;
  // The verifier builds its per-message cache in its constructor (`this.keyCache = ...`) and
  // hands it to the ARC check too: an accessor on the prototype wraps it as it is assigned. The
  // wrapper is kept on the verifier itself, not in a WeakMap keyed by it: a spent verifier outlives
  // its message (mailauth-direct.ts, releaseVerifier), and an entry would have kept the wrapper,
  // and through its resolver the whole verification, alive with it.
  const DkimVerifier = (require('mailauth/lib/dkim/dkim-verifier.js') as { DkimVerifier: { prototype: object } }).DkimVerifier;
  const slot = Symbol('leakcheck key cache');
  Object.defineProperty(DkimVerifier.prototype, 'keyCache', {
    configurable: true,
    get(this: Record<symbol, KeyCache>) {
      return this[slot];
    },
    set(this: Record<symbol, KeyCache>, cache: KeyCache) {
      this[slot] = crossMessageKeyCache(cache);
    },
  });
}
