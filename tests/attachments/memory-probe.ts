/**
 * Runs one memory-hungry case in a process of its own and prints what it measured as JSON on
 * the last line of stdout, so that the test's own heap does not blur the numbers.
 *
 *   node --expose-gc tests/attachments/memory-probe.ts inventory <attachmentBytes>
 *   node --expose-gc tests/attachments/memory-probe.ts layout <attachmentBytes>
 *   node --expose-gc tests/attachments/memory-probe.ts zip <archivePath> [limitsJson]
 *   node --expose-gc tests/attachments/memory-probe.ts zip-listing <archivePath> <entries>
 *   node --expose-gc tests/attachments/memory-probe.ts mailparser-text <textBytes>
 *
 * rss is sampled every few milliseconds while the case runs; `peakGrowth` is the highest sample
 * (or the kernel's maxrss, whichever is higher) minus the rss measured just before the case.
 */
import { inventoryParts } from '../../src/attachments/inventory.ts';
import { inventoryPartsWithMailparser } from '../../src/attachments/mailparser-inventory.ts';
import { partsWithinSignedLength } from '../../src/attachments/layout.ts';
import { basename, dirname } from 'node:path';
import { DerivedPaths } from '../../src/pipeline/derived-paths.ts';
import { entriesSharingNames, locateZipEntries, readZipEmails } from '../../src/read/zip.ts';
import { buildBigMessage } from './big-message.ts';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

async function measure<T>(run: () => Promise<T>): Promise<{ result: T; baseline: number; peak: number; ms: number }> {
  gc();
  gc();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 2);
  const started = performance.now();
  const result = await run();
  const ms = performance.now() - started;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  return { result, baseline, peak, ms };
}

const [mode, arg, extra] = process.argv.slice(2);
const mib = (n: number): number => Math.round((n / 1024 / 1024) * 10) / 10;

/** The last line of stdout: what the case gave, and what it took. */
function report(fields: Record<string, unknown>, { result, baseline, peak, ms }: Awaited<ReturnType<typeof measure>>): void {
  console.log(JSON.stringify({ ...fields, result, baselineMiB: mib(baseline), peakMiB: mib(peak), peakGrowth: peak - baseline, peakGrowthMiB: mib(peak - baseline), ms: Math.round(ms) }));
}

if (mode === 'inventory' || mode === 'layout') {
  const big = buildBigMessage(Number(arg));
  const messageBytes = big.message.length;
  const measured = await measure(async () => {
    if (mode === 'inventory') {
      const inventory = await inventoryParts(big.message);
      return { error: inventory.error, parts: inventory.parts.map((p) => ({ partId: p.partId, size: p.size, sha256: p.sha256 })) };
    }
    const parts = [{ partIndex: 1, partId: '2' }];
    const covered = await partsWithinSignedLength(big.message, parts, messageBytes, 'relaxed');
    return { covered: [...covered] };
  });
  report({ mode, messageBytes, expectedSha256: big.sha256, attachmentBytes: big.attachmentBytes }, measured);
} else if (mode === 'zip') {
  const limits = extra ? (JSON.parse(extra) as Record<string, number | boolean>) : {};
  const measured = await measure(async () => {
    const items: unknown[] = [];
    let thrown: string | null = null;
    try {
      for await (const item of readZipEmails(arg!, limits)) {
        items.push('raw' in item ? { entryName: item.entryName, rawBytes: item.raw.length } : item);
      }
    } catch (err) {
      thrown = err instanceof Error ? err.message : String(err);
    }
    return { items, thrown };
  });
  report({ mode }, measured);
} else if (mode === 'zip-listing') {
  // What verify keeps while it lists an archive (process-zip.ts): the names that entries share,
  // read first, then each entry located, and the path of its row given out. `retained` is what
  // is still held, garbage collected, when the last entry is reached: what grows with the entries.
  const entries = Number(extra);
  const held = (): number => {
    gc();
    gc();
    const { heapUsed, external } = process.memoryUsage();
    return heapUsed + external;
  };
  const paths = new DerivedPaths(dirname(arg!));
  const measured = await measure(async () => {
    const before = held();
    const shared = await entriesSharingNames(arg!);
    let listed = 0;
    let retained = 0;
    for await (const item of locateZipEntries(arg!)) {
      if ('skipped' in item) throw new Error(`entry ${item.index}: ${item.skipped}`);
      paths.claim(`${basename(arg!)}!${item.safeName}`);
      if (++listed === entries) retained = held() - before;
    }
    return { listed, shared: shared.size, retained, retainedPerEntry: Math.round(retained / entries) };
  });
  report({ mode }, measured);
} else if (mode === 'mailparser-text') {
  // The reference inventory (mailparser) of a message of a large text part and a small
  // attachment: what the text costs while it is read as the message text.
  const line = Buffer.from(`${'a'.repeat(76)}\r\n`, 'latin1');
  const message = Buffer.concat([
    Buffer.from(
      'From: Alice <alice@example.com>\r\nMessage-ID: <text@example.com>\r\nMIME-Version: 1.0\r\n' +
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n',
      'latin1',
    ),
    Buffer.alloc(Math.ceil(Number(arg) / line.length) * line.length, line),
    Buffer.from('\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="a.pdf"\r\n\r\n%PDF-1.4\r\n--b--\r\n', 'latin1'),
  ]);
  const measured = await measure(async () => {
    const inventory = await inventoryPartsWithMailparser(message);
    return { error: inventory.error, parts: inventory.parts.map((p) => ({ partId: p.partId, filename: p.filename, size: p.size })) };
  });
  report({ mode, messageBytes: message.length }, measured);
} else {
  console.error('usage: memory-probe.ts inventory|layout <bytes> | zip <path> [limitsJson] | zip-listing <path> <entries> | mailparser-text <bytes>');
  process.exit(2);
}
