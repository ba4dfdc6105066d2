/**
 * A tiny zip writer for tests, able to write the archives a real writer refuses to: lying sizes,
 * hostile names, encrypted flags, entries sharing their data, a damaged central directory, bytes
 * that the central directory does not list.
 */
import { createHash } from 'node:crypto';
import { constants, crc32, deflateRawSync, createDeflateRaw } from 'node:zlib';
import { zipCentralRecord, zipEndRecord, zipLocalHeader, type ZipEntryFields } from '../../scripts/zip-records.ts';

export interface ZipEntrySpec {
  /** stored as UTF-8 with the language-encoding flag */
  name: string;
  /** the entry's real content (omit with `compressed` + `declaredSize` + `crc` for a bomb) */
  data?: Buffer;
  /** 0 stored, 8 deflated (default) */
  method?: 0 | 8;
  /** compressed bytes to write instead of compressing `data` */
  compressed?: Buffer;
  /** uncompressed size to declare instead of the real one */
  declaredSize?: number;
  /** CRC-32 to declare instead of the real one */
  crc?: number;
  /** general purpose bit flags to add (1: encrypted) */
  flags?: number;
  /** make this central directory entry point at the local header of entry number `shareWith` */
  shareWith?: number;
  /** bytes written just before this entry's local header, which the central directory does not list */
  unlistedBefore?: Buffer;
  /**
   * written as streaming writers do (general purpose bit 3): the local header's CRC-32 and sizes
   * zero, a data descriptor after the data, with or without its optional signature
   */
  descriptor?: 'with-signature' | 'without-signature';
  /** what the local header says instead of what the central directory record says (a crafted archive) */
  local?: { name?: string; method?: number; crc?: number; compressedSize?: number; size?: number };
  /**
   * the local header's sizes written as zip64 writers do: 0xFFFFFFFF, the real ones in a zip64
   * extra field (APPNOTE 4.5.3), the central directory's as they are
   */
  zip64Local?: boolean;
}

/** A local header given its sizes in a zip64 extended information extra field. */
function zip64LocalHeader(fields: ZipEntryFields): Buffer {
  const header = zipLocalHeader({ ...fields, compressedSize: 0xffffffff, size: 0xffffffff });
  const extra = Buffer.alloc(20);
  extra.writeUInt16LE(0x0001, 0);
  extra.writeUInt16LE(16, 2);
  extra.writeBigUInt64LE(BigInt(fields.size), 4);
  extra.writeBigUInt64LE(BigInt(fields.compressedSize), 12);
  header.writeUInt16LE(extra.length, 28);
  return Buffer.concat([header, extra]);
}

export interface ZipBuildOptions {
  /** cut the archive's central directory after this many entries' worth of bytes, keeping the end record */
  damageCentralDirectoryAfter?: number;
  /** bytes between the central directory and the end records, which nothing lists */
  unlistedAfterCentralDirectory?: Buffer;
  /** the archive comment, at the end of the end record */
  comment?: Buffer;
  /** write the zip64 end record and its locator before the end record, as zip64 writers do (always, past 65,535 entries) */
  zip64EndRecords?: boolean;
  /** bytes the zip64 end record holds as its extensible data sector, its size counting them */
  zip64ExtensibleData?: Buffer;
  /** list the entries in the central directory in the reverse of their order in the file */
  reverseCentralDirectory?: boolean;
}

/** A data descriptor (APPNOTE 4.3.9) with 4-byte sizes. */
function dataDescriptor(withSignature: boolean, crc: number, compressedSize: number, size: number): Buffer {
  const fields = Buffer.alloc(12);
  fields.writeUInt32LE(crc >>> 0, 0);
  fields.writeUInt32LE(compressedSize, 4);
  fields.writeUInt32LE(size, 8);
  return withSignature ? Buffer.concat([Buffer.from('PK\x07\x08', 'latin1'), fields]) : fields;
}

/**
 * The zip64 end of central directory record, to be written at `recordOffset`, and its locator
 * (APPNOTE 4.3.14-15), for a central directory at `offset`.
 */
function zip64EndRecords(entries: number, centralDirectoryBytes: number, offset: number, recordOffset: number, extensibleData: Buffer): Buffer {
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(BigInt(56 - 12 + extensibleData.length), 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(entries), 24);
  record.writeBigUInt64LE(BigInt(entries), 32);
  record.writeBigUInt64LE(BigInt(centralDirectoryBytes), 40);
  record.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(recordOffset), 8);
  locator.writeUInt32LE(1, 16);
  return Buffer.concat([record, extensibleData, locator]);
}

export function buildZip(entries: ZipEntrySpec[], options: ZipBuildOptions = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  const localOffsets: number[] = [];
  let offset = 0;
  for (const spec of entries) {
    const name = Buffer.from(spec.name, 'utf8');
    const method = spec.method ?? 8;
    const data = spec.data ?? Buffer.alloc(0);
    const compressed = spec.compressed ?? (method === 8 ? deflateRawSync(data) : data);
    const size = spec.declaredSize ?? data.length;
    const crc = spec.crc ?? crc32(data);
    const flags = 0x800 | (spec.flags ?? 0);
    const fields = { flags, method, dosTime: 0, dosDate: 0x21, crc32: crc, compressedSize: compressed.length, size, name };
    let localOffset = offset;
    if (spec.shareWith !== undefined) {
      localOffset = localOffsets[spec.shareWith]!;
    } else {
      if (spec.unlistedBefore) {
        locals.push(spec.unlistedBefore);
        offset += spec.unlistedBefore.length;
        localOffset = offset;
      }
      const streamed = spec.descriptor !== undefined;
      const { name: localName, crc: localCrc, ...localFields } = spec.local ?? {};
      const asLocal: ZipEntryFields = {
        ...fields,
        ...localFields,
        ...(localName === undefined ? {} : { name: Buffer.from(localName, 'utf8') }),
        ...(localCrc === undefined ? {} : { crc32: localCrc }),
      };
      const local = streamed
        ? zipLocalHeader({ ...asLocal, flags: flags | 0x8, crc32: 0, compressedSize: 0, size: 0 })
        : spec.zip64Local
          ? zip64LocalHeader(asLocal)
          : zipLocalHeader(asLocal);
      const descriptor = streamed ? dataDescriptor(spec.descriptor === 'with-signature', crc, compressed.length, size) : Buffer.alloc(0);
      locals.push(local, compressed, descriptor);
      offset += local.length + compressed.length + descriptor.length;
    }
    localOffsets.push(localOffset);
    const centralFlags = spec.descriptor === undefined ? flags : flags | 0x8;
    // made by Unix 3.0, a regular file of mode 0644
    centrals.push(zipCentralRecord({ ...fields, flags: centralFlags, madeBy: 0x031e, externalAttributes: 0o100644 * 0x10000, localHeaderOffset: localOffset }));
  }
  if (options.reverseCentralDirectory) centrals.reverse();
  let centralDirectory = Buffer.concat(centrals);
  if (options.damageCentralDirectoryAfter !== undefined) {
    const keep = centrals.slice(0, options.damageCentralDirectoryAfter).reduce((n, c) => n + c.length, 0);
    // overwrite the signature of the next central entry: yauzl reads the first ones, then fails
    centralDirectory = Buffer.from(centralDirectory);
    centralDirectory.writeUInt32LE(0xdeadbeef, keep);
  }
  const afterDirectory = options.unlistedAfterCentralDirectory ?? Buffer.alloc(0);
  // (more entries than the end record can count: a reader finds them in the zip64 end record, APPNOTE 4.4.21)
  const manyEntries = entries.length > 0xffff;
  const zip64 = options.zip64EndRecords || manyEntries
    ? zip64EndRecords(entries.length, centralDirectory.length, offset, offset + centralDirectory.length + afterDirectory.length, options.zip64ExtensibleData ?? Buffer.alloc(0))
    : Buffer.alloc(0);
  const comment = options.comment ?? Buffer.alloc(0);
  const end = zipEndRecord(manyEntries ? 0xffff : entries.length, centralDirectory.length, offset);
  end.writeUInt16LE(comment.length, 20);
  return Buffer.concat([...locals, centralDirectory, afterDirectory, zip64, end, comment]);
}

/**
 * The raw deflate of `bytes` zero bytes, with their CRC-32 and sha256, made by streaming one
 * zero block many times: 1 GiB of zeros deflates to about 1 MiB and is never held in memory.
 */
export async function deflatedZeros(bytes: number): Promise<{ compressed: Buffer; crc: number; sha256: string }> {
  const block = Buffer.alloc(Math.min(bytes, 1024 * 1024));
  const deflate = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => out.push(chunk));
  const finished = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  let crc = 0;
  const hash = createHash('sha256');
  let remaining = bytes;
  while (remaining > 0) {
    const part = block.subarray(0, Math.min(remaining, block.length));
    crc = crc32(part, crc);
    hash.update(part);
    if (!deflate.write(part)) await new Promise((resolve) => deflate.once('drain', resolve));
    remaining -= part.length;
  }
  deflate.end();
  await finished;
  return { compressed: Buffer.concat(out), crc, sha256: hash.digest('hex') };
}

/**
 * The raw deflate of `bytes` zero bytes and their CRC-32, as deflatedZeros gives them, in a
 * fraction of its time: a zero block is deflated once, ended by a full flush (byte-aligned, no
 * reference to what came before), and repeated; a last piece ends the stream. It inflates to the
 * same zeros at about the same ratio (1 GiB from about 1 MiB), and costs a quarter of a second
 * for 1 GiB where deflating the whole stream costs seconds.
 */
export function repeatedDeflatedZeros(bytes: number): { compressed: Buffer; crc: number } {
  const block = Buffer.alloc(Math.min(bytes, 1024 * 1024));
  const whole = block.length === 0 ? 0 : Math.floor(bytes / block.length);
  const last = block.subarray(0, bytes - whole * block.length);
  const flushed = deflateRawSync(block, { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  let crc = 0;
  for (let i = 0; i < whole; i++) crc = crc32(block, crc);
  crc = crc32(last, crc);
  return { compressed: Buffer.concat([...Array.from({ length: whole }, () => flushed), deflateRawSync(last, { level: 9 })]), crc };
}
