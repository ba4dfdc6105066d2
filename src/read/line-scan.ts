/**
 * The line-feed scan in WebAssembly, for bytes read into memory this module owns.
 *
 * A worker reads every message into one reused buffer (reusable-buffer.ts). When that buffer is
 * a WebAssembly memory, the scan of line-endings.ts runs over it in place, sixteen bytes at a
 * time, instead of one memchr call per line from JavaScript: 19 ms instead of 127 ms for the
 * bench dump's 368 MB and 4.7 million lines. Bytes anywhere else (an unquoted mbox message, a
 * zip entry, a forwarded message) are scanned in JavaScript as before: copying them in would
 * cost what the scan saves.
 *
 * The source is line-scan.wat; the bytes below are what wabt compiles it to, and
 * tests/read/line-scan.test.ts checks both that and every answer against the JavaScript scan.
 * Where WebAssembly (or its SIMD) is missing, memory is plain memory and the JavaScript scan
 * answers.
 */

export const LINE_SCAN_WASM =
  'AGFzbQEAAAABDgJgA39/fwF/YAJ/fwF/Ag8BA2VudgZtZW1vcnkCAAEDAwIAAQcIAQRzY2FuAAEK2gICeAEDfyABIQMCQANAIAMgAk8NASAAIANqLQAAQQpGBEAgA0UEQEEBDwsgACADakEBay0AAEENRwRAQQEPCyADQQJPBEAgACADakECay0AACEFIAVBIEYgBUEJRnIgBUENRnIEQEECIQQLCwsgA0EBaiEDDAALCyAEC94BAgR/A3sgAUEgTQRAIABBACABEAAPCyAAQQBBEBAAIQUgBUEBcQRAQQEPC0EQIQIgAUEQayEDAkADQCACIANLDQEgACACaiEEIAT9AAQAQQr9D/0jIQYgBv1TBEAgBEEBa/0ABAAhByAGIAdBDf0P/SP9T/1TBEBBAQ8LIARBAmv9AAQAIQcgCCAGIAdBIP0P/SMgB0EJ/Q/9I/1QIAdBDf0P/SP9UP1O/VAhCAsgAkEQaiECDAALCyAI/VMEQEECIQULIAAgAiABEAAhBCAEQQFxBEBBAQ8LIAUgBHIL';

/** What scan() answers: see line-scan.wat. */
export const LINE_SCAN = { clean: 0, bareLf: 1, crlfAfterBlankOrCr: 2 } as const;
export type LineScan = (typeof LINE_SCAN)[keyof typeof LINE_SCAN];

type Scan = (ptr: number, len: number) => number;

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

/** The scanner of each memory this module handed out, by the memory's ArrayBuffer. */
const scanners = new WeakMap<ArrayBufferLike, Scan>();

/**
 * `bytes` of fresh memory (rounded up to 64 KiB) that scanLineFeeds can scan in place, or null
 * when WebAssembly cannot be used here. The memory never grows, so views of it stay valid.
 */
export function scannableMemory(bytes: number): Buffer | null {
  const module = lineScanModule();
  if (!module) return null;
  try {
    const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    scanners.set(memory.buffer, instance.exports['scan'] as Scan);
    return Buffer.from(memory.buffer, 0, bytes);
  } catch {
    return null;
  }
}

/** The scan of `view` when it lies in memory from scannableMemory, else null (scan it in JavaScript). */
export function scanLineFeeds(view: Buffer): LineScan | null {
  const scan = scanners.get(view.buffer);
  return scan ? (scan(view.byteOffset, view.length) as LineScan) : null;
}
