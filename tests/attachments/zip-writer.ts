/**
 * A tiny zip writer for tests, able to write the archives a real writer refuses to: lying sizes,
 * hostile names, encrypted flags, entries sharing their data, a damaged central directory.
 */
import { createHash } from 'node:crypto';
import { crc32, deflateRawSync, createDeflateRaw } from 'node:zlib';
import { zipCentralRecord, zipEndRecord, zipLocalHeader } from '../../scripts/zip-records.ts';

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
}

export interface ZipBuildOptions {
  /** cut the archive's central directory after this many entries' worth of bytes, keeping the end record */
  damageCentralDirectoryAfter?: number;
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
      const local = zipLocalHeader(fields);
      locals.push(local, compressed);
      offset += local.length + compressed.length;
    }
    localOffsets.push(localOffset);
    // made by Unix 3.0, a regular file of mode 0644
    centrals.push(zipCentralRecord({ ...fields, madeBy: 0x031e, externalAttributes: 0o100644 * 0x10000, localHeaderOffset: localOffset }));
  }
  let centralDirectory = Buffer.concat(centrals);
  if (options.damageCentralDirectoryAfter !== undefined) {
    const keep = centrals.slice(0, options.damageCentralDirectoryAfter).reduce((n, c) => n + c.length, 0);
    // overwrite the signature of the next central entry: yauzl reads the first ones, then fails
    centralDirectory = Buffer.from(centralDirectory);
    centralDirectory.writeUInt32LE(0xdeadbeef, keep);
  }
  const end = zipEndRecord(entries.length, centralDirectory.length, offset);
  return Buffer.concat([...locals, centralDirectory, end]);
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
