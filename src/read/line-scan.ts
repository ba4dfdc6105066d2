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
 * fingerprint and the relaxed fast path otherwise search for in JavaScript.
 *
 * The source is line-scan.wat; the bytes below are what wabt compiles it to, and
 * tests/read/line-scan.test.ts checks both that and every answer against the JavaScript scan.
 * Where WebAssembly (or its SIMD) is missing, memory is plain memory and the JavaScript scan
 * answers.
 */

export const LINE_SCAN_WASM =
  'AGFzbQEAAAABHwRgA39/fwF/YAJ/fwF/YAR/f39/AX9gBX9/f39/AX8CDwEDZW52Bm1lbW9yeQIAAQMHBgABAgEDAAcYAwRzY2FuAAEGYmxhbmtzAAMEY3JsZgAFCvoGBngBA38gASEDAkADQCADIAJPDQEgACADai0AAEEKRgRAIANFBEBBAQ8LIAAgA2pBAWstAABBDUcEQEEBDwsgA0ECTwRAIAAgA2pBAmstAAAhBSAFQSBGIAVBCUZyIAVBDUZyBEBBAiEECwsLIANBAWohAwwACwsgBAveAQIEfwN7IAFBIE0EQCAAQQAgARAADwsgAEEAQRAQACEFIAVBAXEEQEEBDwtBECECIAFBEGshAwJAA0AgAiADSw0BIAAgAmohBCAE/QAEAEEK/Q/9IyEGIAb9UwRAIARBAWv9AAQAIQcgBiAHQQ39D/0j/U/9UwRAQQEPCyAEQQJr/QAEACEHIAggBiAHQSD9D/0jIAdBCf0P/SP9UCAHQQ39D/0j/VD9Tv1QIQgLIAJBEGohAgwACwsgCP1TBEBBAiEFCyAAIAIgARAAIQQgBEEBcQRAQQEPCyAFIARyC5cBAQN/IAEhBAJAA0AgBCACTw0BIAAgBGotAAAhBSAFQQlGBEAgBkEBciEGCyAFQSBGBEAgBEEBaiADSQRAIAAgBGpBAWotAABBIEYEQCAGQQJyIQYLCwsgBUENRgRAIARBAWogA08EQCAGQQRyIQYFIAAgBGpBAWotAABBCkcEQCAGQQRyIQYLCwsgBEEBaiEEDAALCyAGC58BAgJ/BXsCQANAIAJBEWogAUsNASAAIAJqIQMgA/0ABAAhBCADQQFq/QAEACEFIAYgBEEJ/Q/9I/1QIQYgByAEQSD9D/0jIAVBIP0P/SP9Tv1QIQcgCCAEQQ39D/0jIAVBCv0P/SP9T/1QIQggAkEQaiECDAALC0EBQQAgBv1TG0ECQQAgB/1TG3JBBEEAIAj9UxtyIAAgAiABIAEQAnILfQECfyABIQUCQANAIAUgAk8NASAAIAVqLQAAIQYgBkEKRgRAIAVFBEAgAyAEakENOgAAIARBAWohBAUgACAFakEBay0AAEENRwRAIAMgBGpBDToAACAEQQFqIQQLCwsgAyAEaiAGOgAAIARBAWohBCAFQQFqIQUMAAsLIAQLZwICfwF7AkADQCADQRBqIAFLDQEgACADav0ABAAhBSAFQQr9D/0j/VMEQCAAIAMgA0EQaiACIAQQBCEEBSACIARqIAX9CwQAIARBEGohBAsgA0EQaiEDDAALCyAAIAMgASACIAQQBAs=';

/** What scan() answers: see line-scan.wat. */
export const LINE_SCAN = { clean: 0, bareLf: 1, crlfAfterBlankOrCr: 2 } as const;
export type LineScan = (typeof LINE_SCAN)[keyof typeof LINE_SCAN];

type Scan = (ptr: number, len: number) => number;

/** What blanks() answers, summed: see line-scan.wat. */
export const BLANKS = { tab: 1, twoSpaces: 2, crEndingNoLine: 4 } as const;

const WASM_PAGE = 64 * 1024;

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

/** What this module's code does on each memory it handed out, by the memory's ArrayBuffer. */
const scanners = new WeakMap<ArrayBufferLike, MemoryCode>();

interface MemoryCode {
  scan: Scan;
  blanks: Scan;
  crlf: Crlf;
  /** where the memory handed out ends, and the room for copies begins */
  bytes: number;
  /** the view whose copy the room holds, until the memory is given other bytes (forgetCrlfCopy) */
  copied: { offset: number; length: number } | null;
}

/**
 * `bytes` of fresh memory that scanLineFeeds can scan in place, or null when WebAssembly cannot
 * be used here. The memory never grows, so views of it stay valid. Past the `bytes` handed out
 * lies room for twice as many more, where crlfCopyInPlace makes its copies: reserved, not taken,
 * since the system maps a page of it only when a copy first writes there.
 */
export function scannableMemory(bytes: number): Buffer | null {
  const module = lineScanModule();
  if (!module) return null;
  try {
    const pages = Math.max(1, Math.ceil((3 * bytes) / WASM_PAGE));
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    scanners.set(memory.buffer, {
      scan: instance.exports['scan'] as Scan,
      blanks: instance.exports['blanks'] as Scan,
      crlf: instance.exports['crlf'] as Crlf,
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
