/**
 * The line-feed scan, and the CRLF copy of a message stored with bare LFs, in WebAssembly, for
 * bytes read into memory this module owns.
 *
 * A worker reads every message into one reused buffer (reusable-buffer.ts). When that buffer is
 * a WebAssembly memory, the scan of line-endings.ts runs over it in place, sixteen bytes at a
 * time, instead of one memchr call per line from JavaScript: 19 ms instead of 127 ms for the
 * bench dump's 368 MB and 4.7 million lines. Bytes anywhere else (an unquoted mbox message, a
 * zip entry, a forwarded message) are scanned in JavaScript as before: copying them in would
 * cost what the scan saves. The CRLF copy (toCrlf) of a message in that buffer is made the same
 * way, into room the memory keeps past the buffer: 2,000 LF-only messages in 2.99 s instead of
 * 3.17 s, a 1 GB LF-only mbox in 6.3 s instead of 7.0 s. Since the fifty-second round it also
 * finds a body's tabs, runs of two spaces and CRs that end no line (scanBlanks), which the body
 * fingerprint and the relaxed fast path otherwise search for in JavaScript. Since the fifty-third
 * round it decodes quoted-printable text (decodeQuotedPrintableInMemory), and rewrites a body's
 * lines in their relaxed DKIM form (pushRelaxedLinesInMemory), into room of their own past that
 * for copies, and says whether all of a text's bytes are below a value (scanAllBelow); since the
 * fifty-fourth, it normalises a text's lines for its reader-text fingerprint
 * (pushNormalisedLinesInMemory).
 *
 * The source is line-scan.wat; the bytes below are what wabt compiles it to, and
 * tests/read/line-scan.test.ts checks both that and every answer against the JavaScript scan.
 * Where WebAssembly (or its SIMD) is missing, memory is plain memory and the JavaScript scan
 * answers.
 */

export const LINE_SCAN_WASM =
  'AGFzbQEAAAABKgZgA39/fwF/YAJ/fwF/YAR/f39/AX9gBX9/f39/AX9gAX8Bf2ACe38BfwIPAQNlbnYGbWVtb3J5AgABAw4NAAECAQMAAAQABQAAAAYLAn8BQQALfwFBAAsHQwkEc2NhbgABBmJsYW5rcwADBGNybGYABQJxcAAIBXJlbGF4AAoEbGVhZAMABXRyYWlsAwEEbm9ybQALBWJlbG93AAwK7RMNeAEDfyABIQMCQANAIAMgAk8NASAAIANqLQAAQQpGBEAgA0UEQEEBDwsgACADakEBay0AAEENRwRAQQEPCyADQQJPBEAgACADakECay0AACEFIAVBIEYgBUEJRnIgBUENRnIEQEECIQQLCwsgA0EBaiEDDAALCyAEC94BAgR/A3sgAUEgTQRAIABBACABEAAPCyAAQQBBEBAAIQUgBUEBcQRAQQEPC0EQIQIgAUEQayEDAkADQCACIANLDQEgACACaiEEIAT9AAQAQQr9D/0jIQYgBv1TBEAgBEEBa/0ABAAhByAGIAdBDf0P/SP9T/1TBEBBAQ8LIARBAmv9AAQAIQcgCCAGIAdBIP0P/SMgB0EJ/Q/9I/1QIAdBDf0P/SP9UP1O/VAhCAsgAkEQaiECDAALCyAI/VMEQEECIQULIAAgAiABEAAhBCAEQQFxBEBBAQ8LIAUgBHILlwEBA38gASEEAkADQCAEIAJPDQEgACAEai0AACEFIAVBCUYEQCAGQQFyIQYLIAVBIEYEQCAEQQFqIANJBEAgACAEakEBai0AAEEgRgRAIAZBAnIhBgsLCyAFQQ1GBEAgBEEBaiADTwRAIAZBBHIhBgUgACAEakEBai0AAEEKRwRAIAZBBHIhBgsLCyAEQQFqIQQMAAsLIAYLnwECAn8FewJAA0AgAkERaiABSw0BIAAgAmohAyAD/QAEACEEIANBAWr9AAQAIQUgBiAEQQn9D/0j/VAhBiAHIARBIP0P/SMgBUEg/Q/9I/1O/VAhByAIIARBDf0P/SMgBUEK/Q/9I/1P/VAhCCACQRBqIQIMAAsLQQFBACAG/VMbQQJBACAH/VMbckEEQQAgCP1TG3IgACACIAEgARACcgt9AQJ/IAEhBQJAA0AgBSACTw0BIAAgBWotAAAhBiAGQQpGBEAgBUUEQCADIARqQQ06AAAgBEEBaiEEBSAAIAVqQQFrLQAAQQ1HBEAgAyAEakENOgAAIARBAWohBAsLCyADIARqIAY6AAAgBEEBaiEEIAVBAWohBQwACwsgBAtnAgJ/AXsCQANAIANBEGogAUsNASAAIANq/QAEACEFIAVBCv0P/SP9UwRAIAAgAyADQRBqIAIgBBAEIQQFIAIgBGogBf0LBAAgBEEQaiEECyADQRBqIQMMAAsLIAAgAyABIAIgBBAEC5gEAwR/AXsEfyAAIQMgAiEEIAIhC0F/IQoCQANAIAMgAU8NASADQRBqIAFNBEAgA/0ABAAhByAHQQr9D/0jIAdBDf0P/SP9UP1kQYCABHJoIQggCARAIAQgB/0LBAAgB0Eg/Q/9IyAHQQn9D/0j/VD9ZEH//wNzQQEgCHRBAWtxIQkgCQRAQR8gCWdrIQYgBiAIQQFrSQRAIAQgBkEBamohCgVBfyEKCwUgCkF/RgRAIAQhCgsLIAQgCGohBCADIAhqIQMMAgsLIAMtAAAhBSAFQSBGIAVBCUZyBEAgCkF/RgRAIAQhCgsgBCAFOgAAIARBAWohBCADQQFqIQMMAQsgBUEKRyAFQQ1HcQRAQX8hCiAEIAU6AAAgBEEBaiEEIANBAWohAwwBCyAKQX9HBEAgCiEEQX8hCgsgA0EBaiEGIAVBDUYEQAJAA0AgBiABTw0BIAYtAAAhBSAFQSBHIAVBCUdxDQEgBkEBaiEGDAALCyAGIAFPIAYtAABBCkdyBEAgBEENOgAAIARBAWohBCADQQFqIQMMAgsgBkEBaiEGCyAEIAtLIARBAWstAABBPUZxBEAgBEEBayEEBSADLQAAQQ1GBEAgBEENOgAAIARBAWohBAsgBEEKOgAAIARBAWohBAsgBCELIAYhAwwACwsgCkF/RwRAIAohBAsgBCALSyAEQQFrLQAAQT1GcQRAIARBAWshBAsgBAssAQJ/IABBMGshASAAQSByQeEAayECIAEgAkEKakH/ASACQQZJGyABQQpJGwvvAQMGfwF7AX8gACAAIAFqIAIQBiEFIAIhAyACIQQCQANAIAMgBU8NASADQRBqIAVNIAQgA0YgAyAEa0EQT3JxBEAgA/0ABAAhCSAJQT39D/0j/WRBgIAEcmghCiAKBEAgBCAJ/QsEACAEIApqIQQgAyAKaiEDDAILCyADLQAAIQYgBkE9RiADQQJqIAVJcQRAIANBAWotAAAQByEHIANBAmotAAAQByEIIAcgCHJBEEkEQCAEIAdBBHQgCHI6AAAgBEEBaiEEIANBA2ohAwwCCwsgBCAGOgAAIARBAWohBCADQQFqIQMMAAsLIAQgAmsLLwAgAEEJ/Q/9IyAAQQ39D/0jIABBCv0P/SP9UP1Q/WQgASABQQF2cXJBgIAEcmgLvQIDBH8BewZ/IAAhAyAAIAFqIQQgAiEFAkADQCADIARPDQEgA0EQaiAETQRAIAP9AAQAIQcgB0Eg/Q/9I/1kIQggByAIEAkhCSAJBEAgCCAJQQFrdkEBcSEMIA0gCHEhCiAJIAxrIQsgCiALSQRAIAVBIDoAACAFIA1qIQUgBSADQQFq/QAEACAHIAob/QsEACAFIAsgCmtqIQUgDCENBUEBIQ0LIAMgCWohAwwCCwsgAy0AACEGIANBAWohAyAGQQpGIAZBDUYgAyAESSADLQAAQQpGcXFyBEAgBkENRgRAIANBAWohAwtBACENIAVBjRQ7AQAgBUECaiEFDAELIAZBIEYgBkEJRnIhCCAFQSA6AAAgBSANIAhBAXNxaiEFIAUgBjoAACAFIAhBAXNqIQUgCCENDAALCyAFIAJrC+MCAwR/AXsMfyAAIQMgACABaiEEIAIhBSACIQ4gAiEPAkADQCADIARPDQEgA0EQaiAETQRAIAP9AAQAIQcgB0Eg/Q/9I/1kIQggByAIEAkhCSAJBEAgESAIcSEKIAggCUEBa3ZBAXEhDCAFIANBAWr9AAQAIAcgChv9CwQAIAkgCmshCyAFIAtqIQUgBSAMayAPIAsgDEsbIQ8gDCERIAMgCWohAwwCCwsgAy0AACEGIANBAWohAyAGQQpGBEAgDyEFIA8gDkYEQCAQBEAgBUGNFDsBACAFQQJqIQUgE0EBaiETBSASQQFqIRILBSAFQY0UOwEAIAVBAmohBUEAIRNBASEQCyAFIQ4gBSEPQQAhEQwBCyAGQSBGIAZBCUZyIQ0gBUEgIAYgDRs6AAAgBSANIBFxQQFzaiEFIA8gBSANIAZBDUZyGyEPIA0hEQwACwsgEiQAIBMkASAFIBNBAXRrIAJrC2YCAX8BeyACQQFr/Q8hBAJAA0AgA0EQaiABSw0BIAAgA2r9AAQAIAT9KP1TBEBBAA8LIANBEGohAwwACwsCQANAIAMgAU8NASAAIANqLQAAIAJPBEBBAA8LIANBAWohAwwACwtBAQs=';

/** What scan() answers: see line-scan.wat. */
export const LINE_SCAN = { clean: 0, bareLf: 1, crlfAfterBlankOrCr: 2 } as const;
export type LineScan = (typeof LINE_SCAN)[keyof typeof LINE_SCAN];

type Scan = (ptr: number, len: number) => number;

/** What blanks() answers, summed: see line-scan.wat. */
export const BLANKS = { tab: 1, twoSpaces: 2, crEndingNoLine: 4 } as const;

const WASM_PAGE = 64 * 1024;

/**
 * The most quoted-printable text decodeQuotedPrintableInMemory decodes at once: text parts are
 * seldom longer, and a thread keeps every page of the room it has written to, so the room is
 * kept small; longer text is decoded in JavaScript, in pieces.
 */
export const QP_ROOM = 1024 * 1024;

/** What pushRelaxedLinesInMemory and pushNormalisedLinesInMemory write a window of lines into; a window is half as long, since a line's relaxed form may be twice its length (a bare LF becomes CRLF). */
export const RELAX_ROOM = 1024 * 1024;
const RELAX_WINDOW = RELAX_ROOM / 2;

let compiled: WebAssembly.Module | null | undefined;

/**
 * The compiled scanner, compiled once per process: the main thread compiles it and hands it to
 * every analysis thread (`useLineScanModule`), which then shares its code instead of compiling
 * and freeing its own. Threads that compile and free WebAssembly code as they start and stop
 * can trip a V8 check on its registry of code pages (`jit_page.has_value()`; nodejs/node#64500).
 * A test process that starts and stops many pools died of it once, and of a bare SIGSEGV twice,
 * in 6 CI runs on 2026-12-04; that the SIGSEGVs are the same fault is not proven.
 */
export function lineScanModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    compiled = new WebAssembly.Module(Buffer.from(LINE_SCAN_WASM, 'base64'));
  } catch {
    compiled = null;
  }
  return compiled;
}

/** Takes the scanner another thread compiled (see lineScanModule). */
export function useLineScanModule(module: WebAssembly.Module | null): void {
  compiled ??= module;
}

type Crlf = (src: number, len: number, dst: number) => number;
type Qp = (src: number, len: number, dst: number) => number;
type Relax = (src: number, len: number, dst: number) => number;
type Below = (ptr: number, len: number, limit: number) => number;
type Norm = (src: number, len: number, dst: number) => number;

/** What this module's code does on each memory it handed out, by the memory's ArrayBuffer. */
const scanners = new WeakMap<ArrayBufferLike, MemoryCode>();

interface MemoryCode {
  scan: Scan;
  blanks: Scan;
  crlf: Crlf;
  qp: Qp;
  relax: Relax;
  below: Below;
  norm: Norm;
  /** what norm's last call left out: the blank lines before its first line with content, and after its last */
  lead: { readonly value: number };
  trail: { readonly value: number };
  /** where the memory handed out ends, and the room for copies begins */
  bytes: number;
  /** the view whose copy the room holds, until the memory is given other bytes (forgetCrlfCopy) */
  copied: { offset: number; length: number } | null;
}

/**
 * `bytes` of fresh memory that scanLineFeeds can scan in place, or null when WebAssembly cannot
 * be used here. The memory never grows, so views of it stay valid. Past the `bytes` handed out
 * lies room for twice as many more, where crlfCopyInPlace makes its copies, and past that
 * QP_ROOM bytes where decodeQuotedPrintableInMemory writes and RELAX_ROOM where
 * pushRelaxedLinesInMemory and pushNormalisedLinesInMemory do: reserved, not taken, since the system
 * maps a page of it only when something is first written there.
 */
export function scannableMemory(bytes: number): Buffer | null {
  const module = lineScanModule();
  if (!module) return null;
  try {
    const pages = Math.max(1, Math.ceil((3 * bytes + QP_ROOM + RELAX_ROOM) / WASM_PAGE));
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    scanners.set(memory.buffer, {
      scan: instance.exports['scan'] as Scan,
      blanks: instance.exports['blanks'] as Scan,
      crlf: instance.exports['crlf'] as Crlf,
      qp: instance.exports['qp'] as Qp,
      relax: instance.exports['relax'] as Relax,
      below: instance.exports['below'] as Below,
      norm: instance.exports['norm'] as Norm,
      lead: instance.exports['lead'] as { readonly value: number },
      trail: instance.exports['trail'] as { readonly value: number },
      bytes,
      copied: null,
    });
    return Buffer.from(memory.buffer, 0, bytes);
  } catch {
    return null;
  }
}

/**
 * The bytes of `view` with a CR put before every bare LF (what toCrlf makes), copied into the
 * room its memory keeps for that, when `view` lies in memory from scannableMemory; else null.
 * The room holds one copy: that of the first view copied since the memory was given other bytes
 * (a worker's read buffer: since the message was read). Another view gets null, so that a copy
 * still in use is never written over; the same view again gets the same bytes.
 */
export function crlfCopyInPlace(view: Buffer): Buffer | null {
  const code = scanners.get(view.buffer);
  if (!code || view.byteOffset + view.length > code.bytes) return null;
  if (code.copied && (code.copied.offset !== view.byteOffset || code.copied.length !== view.length)) return null;
  code.copied = { offset: view.byteOffset, length: view.length };
  const written = code.crlf(view.byteOffset, view.length, code.bytes);
  return Buffer.from(view.buffer, code.bytes, written);
}

/** The memory is about to be given other bytes: the copy in its room is of nothing any more. */
export function forgetCrlfCopy(memory: ArrayBufferLike): void {
  const code = scanners.get(memory);
  if (code) code.copied = null;
}

/** The scan of `view` when it lies in memory from scannableMemory, else null (scan it in JavaScript). */
export function scanLineFeeds(view: Buffer): LineScan | null {
  const code = scanners.get(view.buffer);
  return code ? (code.scan(view.byteOffset, view.length) as LineScan) : null;
}

/**
 * The tabs, runs of two spaces and CRs that end no line in `view` (BLANKS, summed) when it lies in
 * memory from scannableMemory, else null (search it in JavaScript). One pass at sixteen bytes a
 * step, where JavaScript's search for two spaces runs at about 1 ns a byte on text.
 */
export function scanBlanks(view: Uint8Array): number | null {
  const code = scanners.get(view.buffer);
  return code ? code.blanks(view.byteOffset, view.length) : null;
}

/**
 * Quoted-printable text [start, end) of `message` decoded as libqp's decode() decodes it (see qp
 * in line-scan.wat), when it lies in memory from scannableMemory and is no longer than QP_ROOM;
 * else null (decode it in JavaScript). The answer is a view of room in that memory, written over
 * by the next decode: 1.2 ns a byte on accented text, where JavaScript takes 3.5.
 */
export function decodeQuotedPrintableInMemory(message: Uint8Array, start: number, end: number): Buffer | null {
  const code = scanners.get(message.buffer);
  if (!code || end - start > QP_ROOM) return null;
  const room = 3 * code.bytes;
  const src = message.byteOffset + start;
  // (the room itself is never the source: the answer would be written over its own bytes)
  if (src + (end - start) > room) return null;
  return Buffer.from(message.buffer, room, code.qp(src, end - start, room));
}

/**
 * Hands `push` the relaxed form of the complete lines at the start of `lines` (see relax in
 * line-scan.wat), a window of lines at a time, written into room in its memory, when `lines`
 * lies in memory from scannableMemory. Returns how many bytes of `lines` it read, which end with
 * an LF: 0 for lines anywhere else, and fewer than all before a line longer than a window. The
 * caller rewrites the rest. What `push` is handed is written over by the next window.
 */
export function pushRelaxedLinesInMemory(lines: Uint8Array, push: (canonical: Buffer) => void): number {
  return pushWindows(lines, 'relax', (code, written) => push(written));
}

/**
 * Hands `push` the normalised form of the complete lines at the start of `lines` that
 * NormalisedTextHash makes (see norm in line-scan.wat), as pushRelaxedLinesInMemory hands the
 * relaxed form, and with it the blank lines left out before and after it: the caller writes
 * those only once a line with content follows. A window of blank lines alone is handed as
 * nothing, all of its lines before it. What follows the last LF of `lines` is left to the caller.
 */
export function pushNormalisedLinesInMemory(lines: Uint8Array, push: (normalised: Buffer, blankLinesBefore: number, blankLinesAfter: number) => void): number {
  return pushWindows(lines, 'norm', (code, written) => push(written, code.lead.value, code.trail.value));
}

/** Windows of whole lines of `lines` rewritten by `rewrite` into the relax room, each handed to `push` (see pushRelaxedLinesInMemory). */
function pushWindows(lines: Uint8Array, rewrite: 'relax' | 'norm', push: (code: MemoryCode, written: Buffer) => void): number {
  const code = scanners.get(lines.buffer);
  if (!code || lines.byteOffset + lines.length > 3 * code.bytes + QP_ROOM) return 0;
  const room = 3 * code.bytes + QP_ROOM;
  // (found here, past the check: text anywhere else is not searched for it)
  const end = lines.lastIndexOf(0x0a) + 1;
  let done = 0;
  while (done < end) {
    let take = end - done;
    if (take > RELAX_WINDOW) {
      take = lines.lastIndexOf(0x0a, done + RELAX_WINDOW - 1) + 1 - done;
      if (take <= 0) break;
    }
    push(code, Buffer.from(lines.buffer, room, code[rewrite](lines.byteOffset + done, take, room)));
    done += take;
  }
  return done;
}

/**
 * Whether every byte of `view` is below `limit` (1 to 255), when it lies in memory from
 * scannableMemory (sixteen bytes at a time); else null, not looked at.
 */
export function scanAllBelow(view: Uint8Array, limit: number): boolean | null {
  const code = scanners.get(view.buffer);
  return code ? code.below(view.byteOffset, view.length, limit) === 1 : null;
}
