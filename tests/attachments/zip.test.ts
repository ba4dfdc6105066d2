import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { locateZipEntries, readZipEmails, sanitizeEntryName, sniffsAsMessage, type ZipEntryLocation, type ZipItem, type ZipLimits, type ZipSkipped } from '../../src/read/zip.ts';
import { inflateInto, inflateIntoCalls, readZipEntryAt, zipEntryChunks } from '../../src/read/zip-entry.ts';
import { ReusableBuffer } from '../../src/read/reusable-buffer.ts';
import { ReadError } from '../../src/read/types.ts';
import { crlf, headers, sha256 } from './support.ts';
import { buildZip, repeatedDeflatedZeros, type ZipEntrySpec } from './zip-writer.ts';
import { readResults, runCliMeasured } from '../hostile/support.ts';
import { ROOT } from '../helpers/cli.ts';
import { mkdirSync } from 'node:fs';
import { crc32, deflateRawSync, InflateRaw, inflateRawSync } from 'node:zlib';

const dir = mkdtempSync(join(tmpdir(), 'leakcheck-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function writeZip(entries: ZipEntrySpec[], options?: Parameters<typeof buildZip>[1]): string {
  const path = join(dir, `archive-${++counter}.zip`);
  writeFileSync(path, buildZip(entries, options));
  return path;
}

async function collect(path: string, limits?: Parameters<typeof readZipEmails>[1]): Promise<{ items: ZipItem[]; thrown: unknown }> {
  const items: ZipItem[] = [];
  try {
    for await (const item of readZipEmails(path, limits)) items.push(item);
    return { items, thrown: null };
  } catch (err) {
    return { items, thrown: err };
  }
}

const email = (n: number): Buffer => crlf(...headers('text/plain').map((h) => h.replace('attachments', `message ${n}`)), `body ${n}`, '');
const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(5000, 0x30), Buffer.from('%%EOF\n')]);

describe('readZipEmails', () => {
  it('yields the .eml files byte for byte and skips the other entries with a reason', async () => {
    const path = writeZip([
      { name: 'inbox/1.eml', data: email(1) },
      { name: 'inbox/', data: Buffer.alloc(0), method: 0 },
      { name: 'inbox/2.EML', data: email(2), method: 0 },
      { name: 'report.pdf', data: pdf },
      { name: 'sent/3.eml', data: email(3) },
    ]);
    const before = readFileSync(path);
    const { items, thrown } = await collect(path);
    expect(thrown).toBeNull();
    expect(items.map((i) => ('raw' in i ? ['eml', i.index, i.entryName] : ['skipped', i.index, i.entryName, i.skipped]))).toEqual([
      ['eml', 0, 'inbox/1.eml'],
      ['skipped', 1, 'inbox/', 'directory'],
      ['eml', 2, 'inbox/2.EML'],
      ['skipped', 3, 'report.pdf', 'not an email message'],
      ['eml', 4, 'sent/3.eml'],
    ]);
    const raws = items.flatMap((i) => ('raw' in i ? [i.raw] : []));
    expect(raws.map((r) => sha256(r))).toEqual([email(1), email(2), email(3)].map((m) => sha256(m)));
    // the evidence is untouched
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('hashes the other entries on request, so loose documents in archives can be matched', async () => {
    const path = writeZip([
      { name: 'report.pdf', data: pdf },
      { name: 'empty.txt', data: Buffer.alloc(0) },
      { name: 'a.eml', data: email(1) },
    ]);
    const { items } = await collect(path, { hashOthers: true });
    expect(items[0]).toMatchObject({ entryName: 'report.pdf', skipped: 'not an email message', size: pdf.length, sha256: sha256(pdf) });
    expect(items[1]).toMatchObject({ entryName: 'empty.txt', skipped: 'empty', size: 0, sha256: sha256('') });
    expect('raw' in items[2]!).toBe(true);
  });

  it('recognises a message by its content whatever its name', async () => {
    const path = writeZip([
      { name: 'export/00017', data: email(17) },
      { name: 'notes.txt', data: Buffer.from('Subject: not really\nthis is a note with a colon: yes\n') },
      { name: 'tiny.msg', data: Buffer.from('Received: from x\r\nFrom: a@example.com\r\n\r\nhi\r\n') },
    ]);
    const { items } = await collect(path);
    expect(items.map((i) => ('raw' in i ? 'email' : i.skipped))).toEqual(['email', 'not an email message', 'email']);
    expect(sniffsAsMessage(email(1))).toBe(true);
    expect(sniffsAsMessage(Buffer.from('%PDF-1.4\nFrom: nobody'))).toBe(false);
    // a byte-order mark or blank lines first, as a loose file may have them (strip-leading-bytes)
    expect(sniffsAsMessage(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), email(1)]))).toBe(true);
    expect(sniffsAsMessage(Buffer.concat([Buffer.from('\r\n\n'), email(1)]))).toBe(true);
    expect(sniffsAsMessage(Buffer.from('\r\n%PDF-1.4\nFrom: nobody'))).toBe(false);
  });

  it('sanitises hostile names and never writes anything to disk', async () => {
    const names = ['../../evil.eml', '/etc/cron.d/evil.eml', 'C:\\Windows\\evil.eml', 'dir\\..\\..\\evil.eml', 'nul\u0000byte.eml', 'a#b%41.eml', '..'];
    const path = writeZip(names.map((name, i) => ({ name, data: email(i) })));
    const listing = (): string[] => readdirSync(dir).sort();
    const before = listing();
    const { items, thrown } = await collect(path);
    expect(thrown).toBeNull();
    const emails = items.filter((i) => 'raw' in i);
    // all are messages: the name says nothing, the content does
    expect(emails.map((i) => i.entryName)).toEqual(names);
    expect(emails.map((i) => i.safeName)).toEqual([
      '%2E%2E/%2E%2E/evil.eml',
      'etc/cron.d/evil.eml',
      'C%3A/Windows/evil.eml',
      'dir/%2E%2E/%2E%2E/evil.eml',
      'nul%00byte.eml',
      'a%23b%2541.eml',
      '%2E%2E',
    ]);
    for (const item of items) {
      expect(item.safeName.split('/')).not.toContain('..');
      expect(item.safeName).not.toMatch(/^\/|\\|\u0000/);
    }
    expect(listing()).toEqual(before);
    expect(() => statSync(join(dir, '..', '..', 'evil.eml'))).toThrow();
    expect(sanitizeEntryName('', 4)).toBe('entry-4');
  });

  it('skips a zip bomb that declares its size, without inflating it', async () => {
    const { compressed, crc } = repeatedDeflatedZeros(1024 * 1024 * 1024);
    const path = writeZip([
      { name: 'before.eml', data: email(1) },
      { name: 'bomb.eml', compressed, declaredSize: 1024 * 1024 * 1024, crc },
      { name: 'after.eml', data: email(2) },
    ]);
    const started = performance.now();
    const { items, thrown } = await collect(path);
    expect(thrown).toBeNull();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(items.map((i) => ('raw' in i ? i.entryName : `${i.entryName}: ${i.skipped}`))).toEqual([
      'before.eml',
      expect.stringMatching(/^bomb\.eml: zip bomb suspected: declares 1073741824 bytes/),
      'after.eml',
    ]);
  });

  it('skips a zip bomb that lies about its size, as soon as it inflates past the lie', async () => {
    const { compressed, crc } = repeatedDeflatedZeros(256 * 1024 * 1024);
    const path = writeZip([
      { name: 'liar.eml', compressed, declaredSize: 1000, crc },
      { name: 'after.eml', data: email(2) },
    ]);
    const started = performance.now();
    const { items } = await collect(path);
    expect(performance.now() - started).toBeLessThan(2000);
    expect((items[0] as ZipSkipped).skipped).toMatch(/^zip bomb suspected: inflates to more than the 1000 bytes it declares/);
    expect('raw' in items[1]!).toBe(true);
  });

  it('applies the size, ratio, entry count and total limits', async () => {
    const big = Buffer.concat([email(1), Buffer.alloc(3 * 1024 * 1024, 0x41)]);
    const noisy = Buffer.from(Array.from({ length: 2 * 1024 * 1024 }, (_, i) => (i * 7919) % 251));
    const path = writeZip([
      { name: 'big.eml', data: big },
      { name: 'ratio.bin', data: Buffer.alloc(2 * 1024 * 1024) },
      { name: 'ok.eml', data: email(2) },
      { name: 'noise.bin', data: noisy, method: 0 },
      { name: 'late.eml', data: email(3) },
    ]);
    const { items } = await collect(path, { maxEntryBytes: 1024 * 1024 });
    expect(items.map((i) => ('raw' in i ? 'email' : i.skipped))).toEqual([
      expect.stringMatching(/^zip bomb suspected: declares/),
      expect.stringMatching(/^zip bomb suspected: declares/),
      'email',
      // binary data of no known kind may hold mail: recorded, not left without a row
      'binary data (NUL byte at offset 0)',
      'email',
    ]);
    const bySize = await collect(path, { maxEntryBytes: 1024 * 1024, maxRatio: 100_000 });
    expect((bySize.items[0] as ZipSkipped).skipped).toMatch(/^too large: declares \d+ bytes, over the 1048576-byte limit/);

    const byCount = await collect(path, { maxEntries: 2, maxRatio: 100_000 });
    expect(byCount.items).toHaveLength(3);
    expect(byCount.items[2]).toMatchObject({ index: 2, stopped: true, skipped: 'archive given up: more than 2 entries' });

    const byTotal = await collect(path, { maxTotalBytes: 4 * 1024 * 1024, maxRatio: 100_000, hashOthers: true });
    expect(byTotal.items.map((i) => ('raw' in i ? 'email' : i.skipped))).toEqual([
      'email',
      expect.stringMatching(/^archive given up: it inflates to more than 4194304 bytes/),
    ]);
    expect(byTotal.items.at(-1)).toMatchObject({ stopped: true });
  });

  it('skips encrypted entries, unknown methods, entries sharing data, and entries failing their CRC', async () => {
    const path = writeZip([
      { name: 'secret.eml', data: email(1), flags: 1, method: 0, compressed: Buffer.concat([Buffer.alloc(12), email(1)]) },
      { name: 'bzip.eml', data: email(2), method: 12 as 8 },
      { name: 'good.eml', data: email(3) },
      { name: 'copy.eml', data: email(3), shareWith: 2 },
      { name: 'crc.eml', data: email(4), crc: 1234 },
    ]);
    const { items, thrown } = await collect(path);
    expect(thrown).toBeNull();
    expect(items.map((i) => ('raw' in i ? 'email' : i.skipped))).toEqual([
      'encrypted',
      'unsupported compression method 12',
      'email',
      'zip bomb suspected: entry shares its data with an earlier entry',
      'corrupt entry: CRC-32 mismatch',
    ]);
  });

  it('throws corrupt-zip for a file that is no zip, or a truncated one', async () => {
    const notZip = join(dir, 'not-a.zip');
    writeFileSync(notZip, email(1));
    const truncated = join(dir, 'truncated.zip');
    const whole = buildZip([{ name: 'a.eml', data: email(1) }]);
    writeFileSync(truncated, whole.subarray(0, whole.length - 30));
    for (const path of [notZip, truncated]) {
      const { items, thrown } = await collect(path);
      expect(items).toEqual([]);
      expect(thrown).toBeInstanceOf(ReadError);
      expect((thrown as ReadError).code).toBe('corrupt-zip');
    }
  });

  it('yields what it read before a damaged central directory, then throws corrupt-zip', async () => {
    const path = writeZip(
      [1, 2, 3, 4].map((n) => ({ name: `${n}.eml`, data: email(n) })),
      { damageCentralDirectoryAfter: 2 },
    );
    const { items, thrown } = await collect(path);
    expect(items.map((i) => i.entryName)).toEqual(['1.eml', '2.eml']);
    expect(thrown).toBeInstanceOf(ReadError);
    expect((thrown as ReadError).code).toBe('corrupt-zip');
    expect((thrown as ReadError).message).toMatch(/after 2 entries/);
  });

  it('closes the archive when the reader stops early', async () => {
    const path = writeZip([1, 2, 3].map((n) => ({ name: `${n}.eml`, data: email(n) })));
    for await (const item of readZipEmails(path)) {
      expect(item.entryName).toBe('1.eml');
      break;
    }
    // nothing left open: reading it again works
    expect((await collect(path)).items).toHaveLength(3);
  });
});

/**
 * What became of each entry: its bytes' sha256, or why it was skipped. `stopped` marks where the
 * archive was given up.
 */
type Outcome = [index: number, outcome: string];

async function outcomesOfReadZipEmails(path: string, limits?: ZipLimits): Promise<Outcome[]> {
  const { items, thrown } = await collect(path, limits);
  const out: Outcome[] = items.map((i) => [i.index, 'raw' in i ? `message ${sha256(i.raw)}` : `${i.stopped ? 'stopped ' : ''}${i.code}`]);
  if (thrown) out.push([-1, `throws ${(thrown as ReadError).code}`]);
  return out;
}

/** The path `verify` takes: the central directory here, each entry read where it lies, as a worker does. */
async function outcomesOfLocated(path: string, limits?: ZipLimits, into?: ReusableBuffer): Promise<Outcome[]> {
  const out: Outcome[] = [];
  try {
    for await (const item of locateZipEntries(path, limits)) {
      if ('skipped' in item) {
        out.push([item.index, `${item.stopped ? 'stopped ' : ''}${item.code}`]);
        continue;
      }
      try {
        out.push([item.index, `message ${sha256(readZipEntryAt(path, item.location, into))}`]);
      } catch (err) {
        if (!(err instanceof ReadError)) throw err;
        out.push([item.index, err.code]);
      }
    }
  } catch (err) {
    out.push([-1, `throws ${(err as ReadError).code}`]);
  }
  return out;
}

/** Where the entries of the archive that are read as messages lie. */
async function locatedEntries(path: string): Promise<ZipEntryLocation[]> {
  const located: ZipEntryLocation[] = [];
  for await (const item of locateZipEntries(path)) if ('location' in item) located.push(item.location);
  return located;
}

const mbox = Buffer.concat([1, 2, 3].map((n) => Buffer.concat([Buffer.from(`From sender${n}@example.com Thu Jan 12 14:45:18 2017\n`), email(n), Buffer.from('\n')])));

/** Every byte zipEntryChunks yields for the entry, or the code it throws, with what it yielded before. */
async function streamEntry(path: string, location: Parameters<typeof zipEntryChunks>[1]): Promise<{ bytes: Buffer; code: string | null }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of zipEntryChunks(path, location)) chunks.push(chunk);
    return { bytes: Buffer.concat(chunks), code: null };
  } catch (err) {
    return { bytes: Buffer.concat(chunks), code: (err as ReadError).code };
  }
}

describe('locateZipEntries and readZipEntryAt (how verify reads archives: each entry inflated by its worker)', () => {
  const big = Buffer.concat([email(1), Buffer.alloc(3 * 1024 * 1024, 0x41)]);
  const noisy = Buffer.from(Array.from({ length: 2 * 1024 * 1024 }, (_, i) => (i * 7919) % 251));
  const hostile: Array<{ name: string; entries: () => Promise<ZipEntrySpec[]>; limits?: ZipLimits; damage?: number }> = [
    {
      name: 'messages stored and deflated, named or not, among other entries',
      entries: async () => [
        { name: 'inbox/1.eml', data: email(1) },
        { name: 'inbox/', data: Buffer.alloc(0), method: 0 },
        { name: 'inbox/2.EML', data: email(2), method: 0 },
        { name: 'report.pdf', data: pdf },
        { name: 'stored.pdf', data: pdf, method: 0 },
        { name: 'export/00017', data: email(17) },
        { name: 'export/00018', data: email(18), method: 0 },
        { name: 'notes.txt', data: Buffer.from('Subject: not really\nthis is a note with a colon: yes\n') },
        { name: 'empty.txt', data: Buffer.alloc(0) },
        { name: 'empty.eml', data: Buffer.alloc(0), method: 0 },
        { name: 'noise.bin', data: noisy },
        { name: '../../evil.eml', data: email(3) },
        { name: 'Takeout/Mail/Inbox.mbox', data: mbox },
        { name: 'stored.mbox', data: mbox, method: 0 },
        { name: 'inner.zip', data: buildZip([{ name: 'x.eml', data: email(4) }]), method: 0 },
        { name: 'inner-deflated.zip', data: buildZip([{ name: 'x.eml', data: email(5) }]) },
      ],
    },
    {
      name: 'bombs: declared, lying, sharing data',
      entries: async () => {
        // (a byte past the 64 MiB an entry may hold: up to that, an entry is no bomb whatever its ratio)
        const declared = repeatedDeflatedZeros(64 * 1024 * 1024 + 1);
        const liar = repeatedDeflatedZeros(32 * 1024 * 1024);
        return [
          { name: 'before.eml', data: email(1) },
          { name: 'bomb.eml', compressed: declared.compressed, declaredSize: 64 * 1024 * 1024 + 1, crc: declared.crc },
          { name: 'liar.eml', compressed: liar.compressed, declaredSize: 1000, crc: liar.crc },
          { name: 'liar.bin', compressed: liar.compressed, declaredSize: 1000, crc: liar.crc },
          { name: 'copy.eml', data: email(1), shareWith: 0 },
          { name: 'after.eml', data: email(2) },
        ];
      },
    },
    {
      name: 'encrypted, unknown methods, CRC failures, entries inflating to less than declared',
      entries: async () => [
        { name: 'secret.eml', data: email(1), flags: 1, method: 0, compressed: Buffer.concat([Buffer.alloc(12), email(1)]) },
        { name: 'bzip.eml', data: email(2), method: 12 as 8 },
        { name: 'crc.eml', data: email(4), crc: 1234 },
        { name: 'crc-stored', data: email(5), crc: 99, method: 0 },
        { name: 'short.eml', data: email(6), declaredSize: email(6).length + 10 },
        { name: 'garbage.eml', compressed: Buffer.from('this is not deflate data at all'), declaredSize: 100, crc: 0 },
        { name: 'good.eml', data: email(7) },
      ],
    },
    {
      name: 'the size, ratio and entry-count limits',
      entries: async () => [
        { name: 'big.eml', data: big },
        { name: 'big-unnamed', data: big },
        { name: 'ratio.bin', data: Buffer.alloc(2 * 1024 * 1024) },
        { name: 'ok.eml', data: email(2) },
        { name: 'noise.bin', data: noisy, method: 0 },
        { name: 'late.eml', data: email(3) },
      ],
      limits: { maxEntryBytes: 1024 * 1024, maxRatio: 100_000, maxEntries: 5 },
    },
    {
      name: 'a damaged central directory',
      entries: async () => [1, 2, 3, 4].map((n) => ({ name: `${n}.eml`, data: email(n) })),
      damage: 2,
    },
  ];

  for (const { name, entries, limits, damage } of hostile) {
    it(`gives every entry the outcome readZipEmails gives it: ${name}`, async () => {
      const path = writeZip(await entries(), damage === undefined ? undefined : { damageCentralDirectoryAfter: damage });
      const before = readFileSync(path);
      const expected = await outcomesOfReadZipEmails(path, limits);
      // the cases cover what they say (not every entry skipped for one dull reason)
      expect(new Set(expected.map(([, o]) => o.split(' ')[0])).size).toBeGreaterThan(1);
      expect(await outcomesOfLocated(path, limits)).toEqual(expected);
      // and in a worker's reused memory, one entry after the other
      expect(await outcomesOfLocated(path, limits, new ReusableBuffer(8 * 1024 * 1024, { scannable: true }))).toEqual(expected);
      expect(readFileSync(path).equals(before)).toBe(true);
    });
  }

  it('reads an entry that inflates to exactly its declared size, and refuses one byte more as a bomb', async () => {
    const message = email(3);
    const compressed = deflateRawSync(message);
    const crc = crc32(message);
    const path = writeZip([
      { name: 'exact.eml', compressed, declaredSize: message.length, crc },
      { name: 'one-more.eml', compressed, declaredSize: message.length - 1, crc },
      { name: 'empty.eml', compressed: deflateRawSync(Buffer.alloc(0)), declaredSize: 0, crc: 0 },
      { name: 'not-empty.eml', compressed: deflateRawSync(Buffer.from('x')), declaredSize: 0, crc: 0 },
    ]);
    expect(await outcomesOfLocated(path)).toEqual([
      [0, `message ${sha256(message)}`],
      [1, 'zip-bomb'],
      [2, `message ${sha256(Buffer.alloc(0))}`],
      [3, 'zip-bomb'],
    ]);
    expect(await outcomesOfLocated(path, undefined, new ReusableBuffer(1024 * 1024))).toEqual(await outcomesOfLocated(path));
  });

  it("leaves Buffer's shared pool alone when it frees what it inflated into reused memory", async () => {
    // An entry this small is inflated into a slice of the pool every small Buffer shares; freeing
    // that memory would empty the Buffers around it.
    const small = email(4);
    expect(small.length).toBeLessThan(Buffer.poolSize / 2);
    const path = writeZip([{ name: 'small.eml', data: small }]);
    const located = await locatedEntries(path);
    expect(located).toHaveLength(1);
    const into = new ReusableBuffer(1024 * 1024);
    const before = Buffer.from('a small buffer from the pool');
    expect(sha256(readZipEntryAt(path, located[0]!, into))).toBe(sha256(small));
    const after = Buffer.from('another one');
    expect([before.toString(), after.toString()]).toEqual(['a small buffer from the pool', 'another one']);
  });

  it('inflates a deflated message straight into the reused memory, on the Node that runs the tests', async () => {
    // Node's API has no such call: inflateInto sets a zlib engine's legacy output buffer. Should a
    // Node change that, the entry is inflated elsewhere and copied (the same bytes): this fails then.
    const message = Buffer.concat([email(6), Buffer.alloc(300_000, 'line of text\r\n')]);
    const path = writeZip([{ name: 'large.eml', compressed: deflateRawSync(message), declaredSize: message.length, crc: crc32(message) }]);
    const [located] = await locatedEntries(path);
    const into = new ReusableBuffer(1024 * 1024);
    const memory = into.take(0).buffer;
    const before = { ...inflateIntoCalls };
    const read = readZipEntryAt(path, located!, into);
    expect(sha256(read)).toBe(sha256(message));
    expect([read.buffer === memory, read.byteOffset]).toEqual([true, 0]);
    expect({ total: inflateIntoCalls.total - before.total, copied: inflateIntoCalls.copied - before.copied }).toEqual({ total: 1, copied: 0 });
  });

  it("inflateInto keeps zlib's guards and errors: the output limit, and a damaged stream refused as inflateRawSync refuses it", () => {
    const message = email(7);
    const compressed = deflateRawSync(message);
    const target = Buffer.alloc(message.length + 1);
    expect(inflateInto(compressed, target, message.length).equals(message)).toBe(true);
    expect(() => inflateInto(compressed, Buffer.alloc(message.length), message.length - 1)).toThrow(expect.objectContaining({ code: 'ERR_BUFFER_TOO_LARGE' }));
    const damaged = Buffer.from(compressed);
    damaged[0] = 0xff; // a reserved block type
    const refusal = (inflate: () => unknown): unknown => {
      try {
        inflate();
        return 'inflated';
      } catch (err) {
        return { code: (err as NodeJS.ErrnoException).code, message: (err as Error).message };
      }
    };
    expect(refusal(() => inflateInto(damaged, target, message.length))).toEqual(refusal(() => inflateRawSync(damaged)));
    expect(refusal(() => inflateRawSync(damaged))).not.toBe('inflated');
  });

  it('inflateInto gives the same bytes, copied into the target, on a Node whose engines lack the legacy fields or inflate elsewhere', () => {
    const message = Buffer.concat([email(8), Buffer.alloc(200_000, 'more text\r\n')]);
    const compressed = deflateRawSync(message);
    const prototype = InflateRaw.prototype as unknown as Record<string, unknown>;
    const inflatedVia = (processChunk: unknown): { same: boolean; inTarget: boolean; copied: number } => {
      prototype['_processChunk'] = processChunk;
      try {
        const target = Buffer.alloc(message.length + 1);
        const before = inflateIntoCalls.copied;
        const out = inflateInto(compressed, target, message.length);
        return { same: out.equals(message), inTarget: out.buffer === target.buffer && out.byteOffset === 0, copied: inflateIntoCalls.copied - before };
      } finally {
        delete prototype['_processChunk'];
      }
    };
    expect(inflatedVia(undefined)).toEqual({ same: true, inTarget: true, copied: 1 });
    expect(inflatedVia((chunk: Buffer) => inflateRawSync(chunk))).toEqual({ same: true, inTarget: true, copied: 1 });
    // and the engines' own method is back
    expect(typeof prototype['_processChunk']).toBe('function');
    expect(inflatedVia(prototype['_processChunk'])).toEqual({ same: true, inTarget: true, copied: 0 });
  });

  it('refuses a bomb having taken no more memory for it than the size it declares, and none of its own read into reused memory', async () => {
    const declared = 8 * 1024 * 1024;
    const { compressed, crc } = repeatedDeflatedZeros(64 * 1024 * 1024);
    const path = writeZip([
      { name: 'first.eml', data: email(5) },
      { name: 'bomb.eml', compressed, declaredSize: declared, crc },
    ]);
    const located = await locatedEntries(path);
    const memoryTakenByBomb = (into?: ReusableBuffer): number => {
      // (the first entry takes the memory a thread reads compressed bytes into, once for all,
      // and the reused memory)
      expect(sha256(readZipEntryAt(path, located[0]!, into))).toBe(sha256(email(5)));
      const before = process.memoryUsage().arrayBuffers;
      expect(() => readZipEntryAt(path, located[1]!, into)).toThrow(expect.objectContaining({ code: 'zip-bomb' }));
      return process.memoryUsage().arrayBuffers - before;
    };
    // Reused memory first: the fresh memory the second read inflates into is garbage after its
    // refusal, still counted until collected, and would be counted against the first.
    expect(memoryTakenByBomb(new ReusableBuffer(16 * 1024 * 1024))).toBeLessThan(declared / 8);
    expect(memoryTakenByBomb()).toBeLessThan(declared * 1.5);
  });

  it('inflates no more of a lying bomb than it declares, nor more than a head of an entry that is no message', async () => {
    const { compressed, crc } = repeatedDeflatedZeros(256 * 1024 * 1024);
    const path = writeZip([
      { name: 'liar.eml', compressed, declaredSize: 1000, crc },
      { name: 'zeros.bin', compressed, declaredSize: 256 * 1024 * 1024, crc },
    ]);
    const located = [];
    for await (const item of locateZipEntries(path, { maxRatio: 1_000_000 })) located.push(item);
    const rssBefore = process.memoryUsage().rss;
    const codes = located.map((item) => {
      if ('skipped' in item) return item.code;
      try {
        readZipEntryAt(path, item.location);
        return 'read';
      } catch (err) {
        return (err as ReadError).code;
      }
    });
    expect(codes).toEqual(['zip-bomb', 'binary']);
    // 256 MiB of zeros were never inflated whole
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('reads a mailbox export of more than 10,000 messages whole with the default limits', async () => {
    const message = email(1);
    const path = writeZip(Array.from({ length: 12_000 }, (_, i) => ({ name: `export/${i}.eml`, data: message, method: 0 as const })));
    let located = 0;
    for await (const item of locateZipEntries(path)) {
      if ('skipped' in item) throw new Error(`entry ${item.index}: ${item.skipped}`);
      located++;
    }
    expect(located).toBe(12_000);
  });

  it('streams an entry whole (an mbox of any size), with the same checks as a read of it at once', async () => {
    const { compressed, crc } = repeatedDeflatedZeros(8 * 1024 * 1024);
    const path = writeZip([
      { name: 'a.mbox', data: mbox },
      { name: 'b.mbox', data: mbox, method: 0 },
      { name: 'liar.mbox', compressed, declaredSize: 100_000, crc },
      { name: 'crc.mbox', data: mbox, crc: 42 },
      { name: 'short.mbox', data: mbox, declaredSize: mbox.length + 1 },
    ]);
    const outcomes = [];
    for await (const item of locateZipEntries(path, { maxRatio: 1_000_000 })) {
      if ('skipped' in item) throw new Error(item.skipped);
      const { bytes, code } = await streamEntry(path, item.location);
      outcomes.push([item.entryName, code ?? sha256(bytes), bytes.length <= item.location.size]);
    }
    expect(outcomes).toEqual([
      ['a.mbox', sha256(mbox), true],
      ['b.mbox', sha256(mbox), true],
      // stopped as soon as it passed what it declared
      ['liar.mbox', 'zip-bomb', true],
      ['crc.mbox', 'corrupt-entry', true],
      ['short.mbox', 'corrupt-entry', true],
    ]);
  });

  it('reads only the head of a large deflated entry that is no message (not all its compressed bytes)', async () => {
    const video = Buffer.alloc(48 * 1024 * 1024, 0x5a);
    // stored deflate blocks: as large compressed as inflated, like a real video or an encrypted file
    const path = writeZip([{ name: 'video.bin', data: video, compressed: deflateRawSync(video, { level: 0 }) }]);
    const located = [];
    for await (const item of locateZipEntries(path)) located.push(item);
    const entry = located[0]!;
    if ('skipped' in entry) throw new Error(entry.skipped);
    expect(entry.location.compressedSize).toBeGreaterThan(video.length);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => readZipEntryAt(path, entry.location)).toThrow(expect.objectContaining({ code: 'not-email' }));
    // what the read took is what is still held once it is done: nothing of 48 MB
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
  });

  it('counts what the entries declare against the archive total, and refuses an archive changed since its listing', async () => {
    const path = writeZip([1, 2, 3].map((n) => ({ name: `${n}.eml`, data: Buffer.concat([email(n), Buffer.alloc(1024 * 1024, 0x41)]) })));
    const outcomes = await outcomesOfLocated(path, { maxTotalBytes: 2.5 * 1024 * 1024, maxRatio: 100_000 });
    expect(outcomes.map(([, o]) => o.split(' ')[0])).toEqual(['message', 'message', 'stopped']);

    const located = [];
    for await (const item of locateZipEntries(path, { maxRatio: 100_000 })) located.push(item);
    const first = located[0]!;
    if ('skipped' in first) throw new Error('expected a located entry');
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from('appended')]));
    expect(() => readZipEntryAt(path, first.location)).toThrow(expect.objectContaining({ code: 'changed' }));
  });
});

describe('leakcheck verify on an archive', () => {
  // Both vanished as "not email" before: an entry's first line had to be a header.
  it('reads an Apple Mail .emlx entry and an entry with a byte-order mark as the same loose files are read', () => {
    const keys = join(ROOT, 'fixtures', 'demo-keys.json');
    const message = readFileSync(join(ROOT, 'fixtures', 'demo-dump', 'inbox', '2017-02-14 Q1 budget.eml'));
    const plist = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict/></plist>\n');
    const entries = [
      { name: 'INBOX.mbox/Messages/1.emlx', data: Buffer.concat([Buffer.from(`${message.length}\n`), message, plist]) },
      { name: 'export/bom.txt', data: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), message]) },
    ];
    const loose = join(dir, 'loose-emlx');
    const zipped = join(dir, 'zipped-emlx');
    for (const { name, data } of entries) {
      mkdirSync(join(loose, name, '..'), { recursive: true });
      writeFileSync(join(loose, name), data);
    }
    mkdirSync(zipped);
    writeFileSync(join(zipped, 'mail.zip'), buildZip(entries));
    const verdicts = (dump: string): unknown[] => {
      const run = runCliMeasured(['verify', dump, '--keys', keys, '--offline', '--db', `${dump}.db`, '--quiet']);
      expect(run.status, run.stderr).toBe(0);
      return readResults(`${dump}.db`).messages.map((m) => [m.verdict, m.reasons_json, m.size]);
    };
    const fromZip = verdicts(zipped);
    expect(fromZip).toEqual(verdicts(loose));
    expect(fromZip).toEqual([
      ['verified', '["dkim-verified"]', message.length],
      ['verified', '["dkim-verified"]', message.length + 3],
    ]);
  });


  it('verifies the messages of an mbox inside it (a Google Takeout export) as it verifies the same mbox loose', () => {
    const demoMbox = readFileSync(join(ROOT, 'fixtures', 'demo-dump', 'archive', '2017.mbox'));
    const keys = join(ROOT, 'fixtures', 'demo-keys.json');
    const loose = join(dir, 'loose-mbox');
    const zipped = join(dir, 'zipped-mbox');
    mkdirSync(loose);
    mkdirSync(zipped);
    writeFileSync(join(loose, 'All mail.mbox'), demoMbox);
    writeFileSync(join(zipped, 'takeout.zip'), buildZip([{ name: 'Takeout/Mail/All mail.mbox', data: demoMbox }]));
    const verdicts = (dump: string): { files: ReturnType<typeof readResults>['files']; verdicts: unknown[] } => {
      const db = `${dump}.db`;
      const run = runCliMeasured(['verify', dump, '--keys', keys, '--offline', '--db', db, '--quiet']);
      expect(run.status, run.stderr).toBe(0);
      const { files, messages } = readResults(db);
      return { files, verdicts: messages.map((m) => [m.idx, m.verdict, m.reasons_json, m.size]) };
    };
    const fromLoose = verdicts(loose);
    const fromZip = verdicts(zipped);
    expect(fromZip.verdicts).toHaveLength(4);
    expect(fromZip.verdicts).toEqual(fromLoose.verdicts);
    expect(fromZip.files.find((f) => f.path === 'takeout.zip!Takeout/Mail/All mail.mbox')).toMatchObject({ kind: 'zip-entry', status: 'ok', message_count: 4 });
    expect(fromZip.files.find((f) => f.path === 'takeout.zip')).toMatchObject({ status: 'ok', detail: '4 email(s) inside' });
  });


  it('verifies its emails and records every entry a guard refused, each with its reason; a document the row its loose twin gets, a directory none', async () => {
    const { compressed, crc } = repeatedDeflatedZeros(64 * 1024 * 1024 + 1);
    const dump = join(dir, 'dump-with-zip');
    mkdirSync(dump);
    const entries: ZipEntrySpec[] = [
      { name: 'mail/1.eml', data: email(1) },
      { name: 'mail/crc.eml', data: email(2), crc: 1234 },
      { name: 'mail/secret.eml', data: email(3), flags: 1, method: 0, compressed: Buffer.concat([Buffer.alloc(12), email(3)]) },
      { name: 'mail/bomb.eml', compressed, declaredSize: 64 * 1024 * 1024 + 1, crc },
      { name: 'report.pdf', data: pdf },
      { name: 'mail/', data: Buffer.alloc(0), method: 0 },
      ...Array.from({ length: 40 }, (_, i) => ({ name: `bulk/${i}`, data: email(100 + i), method: (i % 2 ? 0 : 8) as 0 | 8 })),
      // two entries of one name (readers disagree on which is "the" file), two names made safe alike
      { name: 'same.eml', data: email(200) },
      { name: 'same.eml', data: email(201) },
      { name: 'dir/x.eml', data: email(202) },
      { name: 'dir\\x.eml', data: email(203) },
      { name: 'older/export.zip', data: buildZip([{ name: 'x.eml', data: email(4) }]) },
    ];
    writeFileSync(join(dump, 'export.zip'), buildZip(entries));
    const db = join(dir, 'dump-with-zip.db');
    const run = runCliMeasured(['verify', dump, '--offline', '--db', db, '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    const { files, messages } = readResults(db);
    const row = (path: string) => files.find((f) => f.path === `export.zip!${path}`);
    expect(files.find((f) => f.path === 'export.zip')).toMatchObject({ kind: 'zip', status: 'ok', detail: '46 email(s) inside' });
    // (46: the 40 bulk entries, the four of shared names, 1.eml, and crc.eml, read as an email and refused; the central directory refused the other two)
    expect(row('mail/1.eml')).toMatchObject({ kind: 'zip-entry', status: 'ok', message_count: 1 });
    expect(row('mail/crc.eml')).toMatchObject({ status: 'error', reason: 'corrupt-entry', detail: 'corrupt entry: CRC-32 mismatch', message_count: 0 });
    expect(row('mail/secret.eml')).toMatchObject({ status: 'skipped', reason: 'encrypted' });
    expect(row('mail/bomb.eml')).toMatchObject({ status: 'skipped', reason: 'zip-bomb' });
    // a document: the row its loose twin gets (red team Y, Y-06)
    expect(row('report.pdf')).toMatchObject({ status: 'skipped', reason: 'not-email', message_count: 0 });
    expect(row('mail/')).toBeUndefined();
    // an archive inside the archive is not opened, but it does not go unrecorded
    expect(row('older/export.zip')).toMatchObject({ status: 'skipped', reason: 'nested-archive', message_count: 0 });
    // every bulk entry, stored or deflated, is a message of its own
    const bulk = messages.filter((m) => m.path.startsWith('export.zip!bulk/'));
    expect(bulk).toHaveLength(40);
    // nothing overwrites anything: every entry of a shared name has its row and its message, and
    // none passes as the only one of its name (`unzip -o` keeps the last, other tools the first)
    expect(row('same.eml')).toBeUndefined();
    expect(row('same.eml#entry-46')).toMatchObject({ status: 'ok', message_count: 1, detail: 'another entry of the archive (entry 47) has the same name' });
    expect(row('same.eml#entry-47')).toMatchObject({ status: 'ok', message_count: 1, detail: 'another entry of the archive (entry 46) has the same name' });
    expect(row('dir/x.eml')).toBeUndefined();
    expect(row('dir/x.eml#entry-48')).toMatchObject({ status: 'ok', message_count: 1, detail: 'another entry of the archive (entry 49) has the same name' });
    expect(row('dir/x.eml#entry-49')).toMatchObject({ status: 'ok', message_count: 1, detail: 'another entry of the archive (entry 48) has the same name' });
    expect(files.filter((f) => f.kind === 'zip-entry')).toHaveLength(50);
    expect(messages.filter((m) => m.path.startsWith('export.zip!'))).toHaveLength(45);
  });
});
