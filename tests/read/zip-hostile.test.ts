/**
 * Zip archives against the three weaknesses a red team found in their handling: a genuine message
 * that compresses well refused as a zip bomb; bytes of the archive that its central directory does
 * not list (an entry hidden from the central directory is still read by stream extractors) left
 * without a trace; and two entries of one name, the first of which passed as the only one.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { zipLocalHeader } from '../../scripts/zip-records.ts';
import { readZipEntryAt } from '../../src/read/zip-entry.ts';
import {
  describeUnlistedBytes,
  entriesSharingNames,
  locateZipEntries,
  readZipEmails,
  type LocatedZipEntry,
  type UnlistedBytes,
  type ZipLimits,
  type ZipSkipped,
} from '../../src/read/zip.ts';
import { base64Lines, crlf, headers, sha256 } from '../attachments/support.ts';
import { buildZip, repeatedDeflatedZeros, type ZipBuildOptions, type ZipEntrySpec } from '../attachments/zip-writer.ts';
import { ROOT } from '../helpers/cli.ts';
import { demoMessage, signWithFixtureKey } from '../hostile/sign.ts';
import { readResults, runCliMeasured, type FileRow } from '../hostile/support.ts';

const dir = mkdtempSync(join(tmpdir(), 'leakcheck-zip-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MIB = 1024 * 1024;
const KEYS = join(ROOT, 'fixtures', 'demo-keys.json');

let counter = 0;
function writeZip(entries: ZipEntrySpec[], options?: ZipBuildOptions): string {
  const path = join(dir, `archive-${++counter}.zip`);
  writeFileSync(path, buildZip(entries, options));
  return path;
}

/** Every item locateZipEntries yields, and what it returns once the archive is listed. */
async function listArchive(path: string, limits?: ZipLimits): Promise<{ items: Array<LocatedZipEntry | ZipSkipped>; unlisted: UnlistedBytes | null }> {
  const listing = locateZipEntries(path, limits);
  const items: Array<LocatedZipEntry | ZipSkipped> = [];
  for (let next = await listing.next(); ; next = await listing.next()) {
    if (next.done) return { items, unlisted: next.value };
    items.push(next.value);
  }
}

/** Each entry's outcome as `verify` reads it: located then read by a worker, or refused by the central directory. */
async function outcomes(path: string, limits?: ZipLimits): Promise<string[]> {
  const { items } = await listArchive(path, limits);
  return items.map((item) => {
    if ('skipped' in item) return `${item.entryName}: ${item.stopped ? 'stopped' : item.code}`;
    try {
      return `${item.entryName}: message ${sha256(readZipEntryAt(path, item.location))}`;
    } catch (err) {
      return `${item.entryName}: ${(err as { code?: string }).code}`;
    }
  });
}

const email = (n: number): Buffer => crlf(...headers('text/plain').map((h) => h.replace('attachments', `message ${n}`)), `body ${n}`, '');

/** A verify run of `dump` with the demo keys, offline; its rows. */
function verify(dump: string): ReturnType<typeof readResults> {
  const db = `${dump}.db`;
  const run = runCliMeasured(['verify', dump, '--keys', KEYS, '--offline', '--db', db, '--quiet']);
  expect(run.status, run.stderr).toBe(0);
  return readResults(db);
}

function newDump(name: string, files: Record<string, Buffer>): string {
  const dump = join(dir, name);
  mkdirSync(dump);
  for (const [file, bytes] of Object.entries(files)) writeFileSync(join(dump, file), bytes);
  return dump;
}

describe('a message that compresses well is not a zip bomb', () => {
  /** A signed message carrying a zero-filled disk image: its base64 deflates far past 200:1. */
  const messageWithZeros = async (bytes: number): Promise<Buffer> =>
    Buffer.from(
      await signWithFixtureKey(
        demoMessage({
          id: 'zero-filled-attachment',
          subject: 'The disk image',
          contentHeaders: ['Content-Type: multipart/mixed; boundary="image"'],
          body: [
            '--image',
            'Content-Type: text/plain; charset=us-ascii',
            '',
            'The image you asked for.',
            '--image',
            'Content-Type: application/octet-stream; name="disk.img"',
            'Content-Disposition: attachment; filename="disk.img"',
            'Content-Transfer-Encoding: base64',
            '',
            ...base64Lines(Buffer.alloc(bytes)),
            '--image--',
            '',
          ].join('\r\n'),
        }),
      ),
      'latin1',
    );

  it('reads a genuine message deflated past 200:1, over 1 MiB, as the message it is, named .eml or not', async () => {
    const message = await messageWithZeros(4 * MIB);
    const path = writeZip([
      { name: 'mail/disk-image.eml', data: message },
      { name: 'export/00017', data: message },
    ]);
    const { items } = await listArchive(path);
    for (const item of items) {
      if ('skipped' in item) throw new Error(`${item.entryName}: ${item.skipped}`);
      // what made it a "zip bomb" before
      expect(item.location.size).toBeGreaterThan(MIB);
      expect(item.location.size / item.location.compressedSize).toBeGreaterThan(200);
    }
    expect(await outcomes(path)).toEqual([`mail/disk-image.eml: message ${sha256(message)}`, `export/00017: message ${sha256(message)}`]);
    const streamed = [];
    for await (const item of readZipEmails(path)) streamed.push('raw' in item ? sha256(item.raw) : item.skipped);
    expect(streamed).toEqual([sha256(message), sha256(message)]);
  });

  it('verifies it with leakcheck verify, as the same message loose', async () => {
    const message = await messageWithZeros(4 * MIB);
    const fromZip = verify(newDump('zeros-zipped', { 'mail.zip': buildZip([{ name: 'disk-image.eml', data: message }]) }));
    const loose = verify(newDump('zeros-loose', { 'disk-image.eml': message }));
    expect(fromZip.files.find((f) => f.path === 'mail.zip!disk-image.eml')).toMatchObject({ status: 'ok', reason: null, message_count: 1 });
    expect(fromZip.messages.map((m) => [m.verdict, m.reasons_json, m.size])).toEqual(loose.messages.map((m) => [m.verdict, m.reasons_json, m.size]));
    expect(fromZip.messages[0]).toMatchObject({ verdict: 'verified', size: message.length });
  });

  it('still refuses real bombs: past the entry limit at over 200:1, sizes that lie, entries sharing data', async () => {
    const declared = repeatedDeflatedZeros(64 * MIB + 1);
    const liar = repeatedDeflatedZeros(8 * MIB);
    const path = writeZip([
      { name: 'before.eml', data: email(1) },
      { name: 'bomb.eml', compressed: declared.compressed, declaredSize: 64 * MIB + 1, crc: declared.crc },
      // an mbox is read whole as a stream: past the entry limit, the ratio is what bounds it
      { name: 'bomb.mbox', compressed: declared.compressed, declaredSize: 64 * MIB + 1, crc: declared.crc },
      { name: 'liar.eml', compressed: liar.compressed, declaredSize: 1000, crc: liar.crc },
      { name: 'liar', compressed: liar.compressed, declaredSize: 1000, crc: liar.crc },
      { name: 'copy.eml', data: email(1), shareWith: 0 },
      { name: 'after.eml', data: email(2) },
    ]);
    expect(await outcomes(path)).toEqual([
      `before.eml: message ${sha256(email(1))}`,
      'bomb.eml: zip-bomb',
      'bomb.mbox: zip-bomb',
      'liar.eml: zip-bomb',
      'liar: zip-bomb',
      'copy.eml: zip-bomb',
      `after.eml: message ${sha256(email(2))}`,
    ]);
  });

  it('refuses the second of two entries sharing data in whatever order the central directory lists them', async () => {
    const entries: ZipEntrySpec[] = [1, 2, 3, 4].map((n) => ({ name: `${n}.eml`, data: email(n) }));
    entries.push({ name: 'copy-of-1.eml', data: email(1), shareWith: 0 }, { name: 'copy-of-3.eml', data: email(3), shareWith: 2 });
    const read = (n: number): string => `message ${sha256(email(n))}`;
    expect(await outcomes(writeZip(entries))).toEqual(['1.eml', '2.eml', '3.eml', '4.eml'].map((name, i) => `${name}: ${read(i + 1)}`).concat(['copy-of-1.eml: zip-bomb', 'copy-of-3.eml: zip-bomb']));
    // listed last entry first: the copies come first, and the entries they copy are refused
    expect(await outcomes(writeZip(entries, { reverseCentralDirectory: true }))).toEqual([
      `copy-of-3.eml: ${read(3)}`,
      `copy-of-1.eml: ${read(1)}`,
      `4.eml: ${read(4)}`,
      '3.eml: zip-bomb',
      `2.eml: ${read(2)}`,
      '1.eml: zip-bomb',
    ]);
  });

  it('bounds what entries under the entry limit inflate to by the archive total, whatever their ratio', async () => {
    // 48 MiB of zeros each, 1,000:1: 30 of them would inflate to 1.4 GiB from a 1.5 MB archive
    const zeros = repeatedDeflatedZeros(48 * MIB);
    const path = writeZip(Array.from({ length: 30 }, (_, i) => ({ name: `${i}.eml`, compressed: zeros.compressed, declaredSize: 48 * MIB, crc: zeros.crc })));
    const { items } = await listArchive(path);
    // given up at the default total, 1 GiB: 21 entries make 1,008 MiB, the 22nd would pass it
    expect(items.filter((item) => 'location' in item)).toHaveLength(21);
    expect(items.at(-1)).toMatchObject({ index: 21, stopped: true, code: 'zip-limits' });
  });
});

describe('verify --zip-max-bytes: the archive total, for mail that compresses past the default', () => {
  it('stops an archive at the total given, says how to raise it, and reads it whole again when a re-run raises it', () => {
    const dump = newDump('total-given', { 'mail.zip': buildZip(Array.from({ length: 30 }, (_, i) => ({ name: `${i}.eml`, data: email(i) }))) });
    const db = `${dump}.db`;
    const args = ['verify', dump, '--keys', KEYS, '--offline', '--db', db, '--quiet'];
    const entry = email(0).length;
    const stopped = runCliMeasured([...args, '--zip-max-bytes', String(10 * entry)]);
    expect(stopped.status, stopped.stderr).toBe(0);
    const first = readResults(db);
    const archive = (rows: FileRow[]): FileRow => rows.find((r) => r.path === 'mail.zip')!;
    expect(archive(first.files)).toMatchObject({ reason: 'zip-limits' });
    expect(archive(first.files).detail).toMatch(/archive given up: it inflates to more than \d+ bytes \(the guard against zip bombs; verify --zip-max-bytes raises it\)/);
    expect(first.messages.length).toBeGreaterThan(0);
    expect(first.messages.length).toBeLessThan(30);
    // the same dump and database, a larger total: the archive is read again, whole
    const raised = runCliMeasured([...args, '--zip-max-bytes', '1M']);
    expect(raised.status, raised.stderr).toBe(0);
    const second = readResults(db);
    expect(second.messages).toHaveLength(30);
    expect(archive(second.files).reason).toBeNull();
  });

  it('takes a size with K, M, G or T, and refuses anything else', () => {
    const dump = newDump('total-refused', {});
    for (const size of ['lots', '0', '-1', '1X']) {
      const run = runCliMeasured(['verify', dump, '--offline', '--db', `${dump}.db`, '--zip-max-bytes', size]);
      expect(run.status, size).not.toBe(0);
      expect(run.stderr, size).toMatch(/expected a size in bytes, such as 8G, 500M or 1048576/);
    }
  });
});

/** The local header and the deflated data of an entry, as a writer puts them, for hiding where nothing lists them. */
function hiddenEntry(name: string, data: Buffer): Buffer {
  const compressed = deflateRawSync(data);
  const fields = { flags: 0x800, method: 8, dosTime: 0, dosDate: 0x21, crc32: crc32(data), compressedSize: compressed.length, size: data.length, name: Buffer.from(name) };
  return Buffer.concat([zipLocalHeader(fields), compressed]);
}

describe('bytes of an archive that its central directory does not list', () => {
  it('finds none in archives as writers make them', async () => {
    const entries = (descriptor?: ZipEntrySpec['descriptor']): ZipEntrySpec[] => [
      { name: 'a.eml', data: email(1), descriptor },
      { name: 'dir/', data: Buffer.alloc(0), method: 0 },
      { name: 'b.eml', data: email(2), method: 0, descriptor },
      { name: 'empty.txt', data: Buffer.alloc(0), descriptor },
      { name: 'secret.eml', data: email(3), flags: 1, method: 0, compressed: Buffer.concat([Buffer.alloc(12), email(3)]) },
    ];
    const archives: Array<[string, ZipEntrySpec[], ZipBuildOptions?]> = [
      ['plain', entries()],
      ['data descriptors with their signature (Java, Python writing to a stream)', entries('with-signature')],
      ['data descriptors without their signature', entries('without-signature')],
      ['zip64 end records', entries(), { zip64EndRecords: true }],
      ['a comment', entries(), { comment: Buffer.from('exported 2017-03-01') }],
      ['a central directory in another order than the entries', entries('with-signature'), { reverseCentralDirectory: true }],
      ['no entries at all', []],
    ];
    for (const [what, specs, options] of archives) {
      const { items, unlisted } = await listArchive(writeZip(specs, options));
      expect(items, what).toHaveLength(specs.length);
      expect(unlisted, what).toBeNull();
      // nor do their local headers disagree with the central directory
      expect(items.filter((item) => item.localHeader !== undefined), what).toEqual([]);
    }
  });

  it('says where they are and names the local file headers in them: before the first entry, between entries, after the central directory', async () => {
    const before = hiddenEntry('before.eml', email(10));
    const between = hiddenEntry('inbox/between.eml', email(11));
    const after = hiddenEntry('../after.eml', email(12));
    const junk = Buffer.from('nothing but junk, and no header in it\n');
    const bytes = buildZip(
      [
        { name: 'a.eml', data: email(1), unlistedBefore: before },
        { name: 'b.eml', data: email(2), unlistedBefore: between },
        { name: 'c.eml', data: email(3), unlistedBefore: junk, descriptor: 'with-signature' },
      ],
      { unlistedAfterCentralDirectory: after, zip64EndRecords: true, comment: Buffer.from('a comment') },
    );
    const path = join(dir, 'hidden.zip');
    writeFileSync(path, bytes);
    const at = (hidden: Buffer): number => bytes.indexOf(hidden);
    const { items, unlisted } = await listArchive(path);
    // the listed entries are read as before
    expect(items.map((item) => ('location' in item ? item.entryName : item.skipped))).toEqual(['a.eml', 'b.eml', 'c.eml']);
    expect(unlisted).toEqual({
      bytes: before.length + between.length + junk.length + after.length,
      stretches: 4,
      firstStretches: [before, between, junk, after].map((hidden) => ({ start: at(hidden), end: at(hidden) + hidden.length })),
      localHeaders: 3,
      firstLocalHeaders: [
        { offset: at(before), name: 'before.eml' },
        { offset: at(between), name: 'inbox/between.eml' },
        { offset: at(after), name: '%2E%2E/after.eml' },
      ],
    });
    expect(at(before)).toBe(0);
    expect(describeUnlistedBytes(unlisted!)).toBe(
      `${unlisted!.bytes} bytes of the archive are in no entry its central directory lists: ` +
        `${before.length} at offset 0, ${between.length} at offset ${at(between)}, ${junk.length} at offset ${at(junk)}, ${after.length} at offset ${at(after)}; ` +
        `they hold 3 local file header(s) of entries the central directory does not list: ` +
        `before.eml at offset 0, inbox/between.eml at offset ${at(between)}, %2E%2E/after.eml at offset ${at(after)}`,
    );
  });

  it('takes no record of the zip itself at its word for how far it reaches: zip64 extensible data is unlisted', async () => {
    // a zip64 end record may say it is longer than its 56 bytes; placed first in the file, it could claim all of it
    const hidden = hiddenEntry('in-the-record.eml', email(13));
    const bytes = buildZip([{ name: 'a.eml', data: email(1) }], { zip64EndRecords: true, zip64ExtensibleData: hidden });
    const path = join(dir, 'zip64-extensible.zip');
    writeFileSync(path, bytes);
    const { items, unlisted } = await listArchive(path);
    expect(items).toHaveLength(1);
    expect(unlisted).toMatchObject({ bytes: hidden.length, firstStretches: [{ start: bytes.indexOf(hidden) }], firstLocalHeaders: [{ name: 'in-the-record.eml' }] });
  });

  it('finds them in an archive whose central directory lists its entries out of order', async () => {
    const between = hiddenEntry('between.eml', email(11));
    const bytes = buildZip(
      [1, 2, 3, 4].map((n) => ({ name: `${n}.eml`, data: email(n), unlistedBefore: n === 3 ? between : undefined })),
      { reverseCentralDirectory: true },
    );
    const path = join(dir, 'reversed.zip');
    writeFileSync(path, bytes);
    const { unlisted } = await listArchive(path);
    expect(unlisted).toMatchObject({ bytes: between.length, firstStretches: [{ start: bytes.indexOf(between), end: bytes.indexOf(between) + between.length }], localHeaders: 1 });
  });

  it('finds a local header in megabytes of unlisted bytes, where it straddles two of the pieces they are searched in', async () => {
    const hidden = hiddenEntry('deep.eml', email(20));
    // the signature begins 2 bytes before the first megabyte ends
    const filler = Buffer.alloc(MIB - 2, 'x');
    const stretch = Buffer.concat([filler, hidden, Buffer.alloc(2 * MIB, 'y')]);
    const path = writeZip([{ name: 'a.eml', data: email(1), unlistedBefore: stretch }]);
    const { unlisted } = await listArchive(path);
    expect(unlisted).toMatchObject({ bytes: stretch.length, stretches: 1, localHeaders: 1, firstLocalHeaders: [{ offset: MIB - 2, name: 'deep.eml' }] });
  });

  it('records them on the archive row; an archive with bytes after its end record is recorded as corrupt', () => {
    const hidden = hiddenEntry('hidden.eml', email(30));
    const withHidden = buildZip([
      { name: 'a.eml', data: email(1) },
      { name: 'b.eml', data: email(2), unlistedBefore: hidden },
    ]);
    const plain = buildZip([{ name: 'a.eml', data: email(1) }]);
    const dump = newDump('unlisted', {
      'hidden.zip': withHidden,
      'plain.zip': plain,
      'appended.zip': Buffer.concat([plain, crlf(...headers('text/plain'), 'appended after the end record', '')]),
    });
    const { files, messages } = verify(dump);
    const row = (path: string): FileRow | undefined => files.find((f) => f.path === path);
    const offset = withHidden.indexOf(hidden);
    expect(row('hidden.zip')).toMatchObject({
      kind: 'zip',
      status: 'ok',
      reason: 'unlisted-bytes',
      detail:
        `2 email(s) inside; ${hidden.length} bytes of the archive are in no entry its central directory lists: ${hidden.length} at offset ${offset}; ` +
        `they hold 1 local file header(s) of entries the central directory does not list: hidden.eml at offset ${offset}`,
    });
    // the listed entries are verified as ever
    expect(messages.filter((m) => m.path.startsWith('hidden.zip!')).map((m) => m.path)).toEqual(['hidden.zip!a.eml', 'hidden.zip!b.eml']);
    expect(row('plain.zip')).toMatchObject({ status: 'ok', reason: null, detail: '1 email(s) inside' });
    expect(row('appended.zip')).toMatchObject({ status: 'error', reason: 'corrupt-zip' });

    // The summaries count the archive: a reader of the report alone must learn that something
    // in the dump was not read.
    const db = `${dump}.db`;
    const summary = runCliMeasured(['report', '--format', 'json', '--db', db]);
    expect(JSON.parse(summary.stdout).files.readWithNotes).toEqual([{ reason: 'unlisted-bytes', count: 1 }]);
    expect(runCliMeasured(['report', '--db', db]).stdout).toMatch(/not all read\s+1\s+archives with parts not read \(1 unlisted-bytes\)/);
    expect(runCliMeasured(['report', '--format', 'md', '--db', db]).stdout).toMatch(/1 archive has parts that were not read \(1 unlisted-bytes\)/);
    expect(runCliMeasured(['report', '--format', 'html', '--db', db]).stdout).toMatch(/1 archive has parts that were not read \(1 unlisted-bytes\)/);
  });
});

describe('entries whose local header disagrees with the central directory (red team 28, G-09)', () => {
  const stored = (n: number): ZipEntrySpec => ({ name: `${n}.eml`, data: email(n), method: 0 });

  it('says how, field by field, and only where the local header holds the field', async () => {
    const long = `${'x'.repeat(300)}.eml`;
    const { items } = await listArchive(
      writeZip([
        { ...stored(1), name: 'zzzz.eml', local: { name: 'aaaa.eml' } },
        { ...stored(2), local: { method: 8 } },
        { ...stored(3), local: { crc: 0x12345678, size: 5, compressedSize: 5 } },
        { ...stored(4), local: { name: `in\u0007box/../${long}` } },
        { ...stored(5), local: { name: '2.eml' } },
        // the same name once made safe, spelt otherwise
        { ...stored(6), name: 'inbox/6.eml', local: { name: 'inbox\\6.eml' } },
        { ...stored(7), local: { name: './' } },
        // a data descriptor follows the data: the local header's zero sizes and CRC-32 are no disagreement, its name is
        { ...stored(8), descriptor: 'with-signature', local: { name: 'other.eml' } },
        // zip64 sizes, read from the extra field: they agree, then they do not
        { ...stored(9), zip64Local: true },
        { ...stored(10), zip64Local: true, local: { size: 99 } },
        // refused by the central directory: still compared
        { ...stored(11), flags: 1, compressed: Buffer.concat([Buffer.alloc(12), email(11)]), local: { name: 'open.eml' } },
        stored(12),
      ]),
    );
    const crc3 = crc32(email(3)).toString(16).padStart(8, '0');
    expect(items.map((item) => [item.safeName, item.localHeader])).toEqual([
      ['zzzz.eml', 'names it aaaa.eml'],
      ['2.eml', 'gives compression method 8 (the central directory: 0)'],
      ['3.eml', `gives CRC-32 0x12345678 (the central directory: 0x${crc3}), declares 5 bytes compressed (the central directory: ${email(3).length}), declares 5 bytes inflated (the central directory: ${email(3).length})`],
      // made safe, and cut to 100 characters
      ['4.eml', `names it in%07box/%2E%2E/${'x'.repeat(84)}…`],
      ['5.eml', 'names it 2.eml'],
      ['inbox/6.eml', 'spells its name otherwise (the same once made safe to show: inbox/6.eml)'],
      ['7.eml', 'gives it no name ("./")'],
      ['8.eml', 'names it other.eml'],
      ['9.eml', undefined],
      ['10.eml', `declares 99 bytes inflated (the central directory: ${email(10).length})`],
      ['11.eml', 'names it open.eml'],
      ['12.eml', undefined],
    ]);
    // read as the central directory has them
    expect('skipped' in items[10]! && items[10].code).toBe('encrypted');
    for (const at of [0, 1, 2, 9]) expect('location' in items[at]!, `entry ${at}`).toBe(true);
  });

  it('notes it on the entry row, and on the archive row with the entries that get no row of their own; the summaries count the archive', () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(500, 0x30), Buffer.from('%%EOF\n')]);
    const dump = newDump('local-headers', {
      'crafted.zip': buildZip([
        { ...stored(1), name: 'zzzz.eml', local: { name: 'aaaa.eml' } },
        stored(2),
        // a document: its row notes it too
        { name: 'report.pdf', data: pdf, method: 0, local: { name: 'report.eml' } },
        { ...stored(3), name: 'same.eml', local: { method: 8 } },
        { ...stored(4), name: 'same.eml' },
      ]),
      'plain.zip': buildZip([stored(1)]),
    });
    const { files, messages } = verify(dump);
    const row = (path: string): FileRow | undefined => files.find((f) => f.path === path);
    expect(row('crafted.zip')).toMatchObject({
      kind: 'zip',
      status: 'ok',
      reason: 'local-header-mismatch',
      detail:
        '4 email(s) inside; the local headers of 3 entries disagree with the central directory, which is what is read here (tools that walk the local headers read them otherwise): ' +
        'zzzz.eml (its local header names it aaaa.eml), report.pdf (its local header names it report.eml), same.eml (its local header gives compression method 8 (the central directory: 0))',
    });
    expect(row('crafted.zip!zzzz.eml')).toMatchObject({ status: 'ok', detail: 'its local header names it aaaa.eml' });
    expect(row('crafted.zip!2.eml')).toMatchObject({ status: 'ok', detail: null });
    expect(row('crafted.zip!same.eml#entry-3')).toMatchObject({
      status: 'ok',
      detail: 'another entry of the archive (entry 4) has the same name; its local header gives compression method 8 (the central directory: 0)',
    });
    expect(row('crafted.zip!report.pdf')).toMatchObject({ status: 'skipped', reason: 'not-email', detail: 'not an email message; its local header names it report.eml' });
    expect(row('plain.zip')).toMatchObject({ reason: null, detail: '1 email(s) inside' });
    // the entries are verified as ever, under the central directory's names
    expect(messages.filter((m) => m.path.startsWith('crafted.zip!')).map((m) => m.path)).toEqual(['crafted.zip!2.eml', 'crafted.zip!same.eml#entry-3', 'crafted.zip!same.eml#entry-4', 'crafted.zip!zzzz.eml']);

    const db = `${dump}.db`;
    expect(JSON.parse(runCliMeasured(['report', '--format', 'json', '--db', db]).stdout).files.readWithNotes).toEqual([{ reason: 'local-header-mismatch', count: 1 }]);
    // every entry was read (under the central directory's names): a note on how, not a part unread
    const report = runCliMeasured(['report', '--db', db]).stdout;
    expect(report).toMatch(/read, noted\s+1\s+files read whole, with a note on how \(1 local-header-mismatch\)/);
    expect(report).toContain('crafted.zip  local-header-mismatch: ');
    expect(report).not.toContain('not all read');
  });
});

describe('entries of an archive that share a name', () => {
  it('lists the names shared by more than one entry, with all their entries; directories are not files of that name', async () => {
    const path = writeZip([
      { name: 'a.eml', data: email(1) },
      { name: 'b.eml', data: email(2) },
      { name: 'a.eml', data: email(3) },
      { name: 'dir\\c.eml', data: email(4) },
      { name: 'dir/c.eml', data: email(5) },
      { name: 'a.eml', data: email(6) },
      { name: 'd/', data: Buffer.alloc(0), method: 0 },
      { name: 'd', data: email(7) },
    ]);
    expect(await entriesSharingNames(path)).toEqual(
      new Map([
        ['a.eml', [0, 2, 5]],
        ['dir/c.eml', [3, 4]],
      ]),
    );
    // as far as the listing goes
    expect(await entriesSharingNames(path, { maxEntries: 3 })).toEqual(new Map([['a.eml', [0, 2]]]));
  });

  it('flags every entry of a shared name, the first too, and gives the name alone to none of them', () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(500, 0x30), Buffer.from('%%EOF\n')]);
    const dump = newDump('shared-names', {
      'export.zip': buildZip([
        { name: 'same.eml', data: email(1) },
        { name: 'other.eml', data: email(2) },
        { name: 'same.eml', data: email(3) },
        { name: 'same.eml', data: email(4) },
        // a document, which takes the message's place for `unzip -o`: both are flagged
        { name: 'export/00017', data: email(5) },
        { name: 'export/00017', data: pdf },
      ]),
    });
    const { files, messages } = verify(dump);
    const entries = files.filter((f) => f.kind === 'zip-entry').map((f) => [f.path, f.detail]);
    expect(entries).toEqual([
      ['export.zip!export/00017#entry-4', 'another entry of the archive (entry 5) has the same name'],
      ['export.zip!export/00017#entry-5', 'not an email message; another entry of the archive (entry 4) has the same name'],
      ['export.zip!other.eml', null],
      ['export.zip!same.eml#entry-0', '2 other entries of the archive (entries 2, 3) have the same name'],
      ['export.zip!same.eml#entry-2', '2 other entries of the archive (entries 0, 3) have the same name'],
      ['export.zip!same.eml#entry-3', '2 other entries of the archive (entries 0, 2) have the same name'],
    ]);
    expect(messages.map((m) => m.path)).toEqual(entries.map(([path]) => path).filter((path) => path !== 'export.zip!export/00017#entry-5'));
  });
});
