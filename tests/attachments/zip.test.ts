import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readZipEmails, sanitizeEntryName, sniffsAsMessage, type ZipItem, type ZipSkipped } from '../../src/read/zip.ts';
import { ReadError } from '../../src/read/types.ts';
import { crlf, headers, sha256 } from './support.ts';
import { buildZip, deflatedZeros, type ZipEntrySpec } from './zip-writer.ts';

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
    const { compressed, crc } = await deflatedZeros(1024 * 1024 * 1024);
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
    const { compressed, crc } = await deflatedZeros(256 * 1024 * 1024);
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
      'not an email message',
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
