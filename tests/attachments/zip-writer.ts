/**
 * A tiny zip writer for tests, able to write the archives a real writer refuses to: lying sizes,
 * hostile names, encrypted flags, entries sharing their data, a damaged central directory.
 */
import { createHash } from 'node:crypto';
import { crc32, deflateRawSync, createDeflateRaw } from 'node:zlib';

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
    let localOffset = offset;
    if (spec.shareWith !== undefined) {
      localOffset = localOffsets[spec.shareWith]!;
    } else {
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(flags, 6);
      local.writeUInt16LE(method, 8);
      local.writeUInt16LE(0, 10);
      local.writeUInt16LE(0x21, 12);
      local.writeUInt32LE(crc >>> 0, 14);
      local.writeUInt32LE(compressed.length, 18);
      local.writeUInt32LE(size, 22);
      local.writeUInt16LE(name.length, 26);
      local.writeUInt16LE(0, 28);
      locals.push(local, name, compressed);
      offset += local.length + name.length + compressed.length;
    }
    localOffsets.push(localOffset);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30);
    central.writeUInt16LE(0, 32);
    central.writeUInt16LE(0, 34);
    central.writeUInt16LE(0, 36);
    central.writeUInt32LE(0o100644 * 0x10000, 38);
    central.writeUInt32LE(localOffset, 42);
    centrals.push(Buffer.concat([central, name]));
  }
  let centralDirectory = Buffer.concat(centrals);
  if (options.damageCentralDirectoryAfter !== undefined) {
    const keep = centrals.slice(0, options.damageCentralDirectoryAfter).reduce((n, c) => n + c.length, 0);
    // overwrite the signature of the next central entry: yauzl reads the first ones, then fails
    centralDirectory = Buffer.from(centralDirectory);
    centralDirectory.writeUInt32LE(0xdeadbeef, keep);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20);
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
