/**
 * The three records of a plain zip archive (APPNOTE 4.3.7, 4.3.12, 4.3.16), encoded from their
 * fields: the one encoder behind every archive the project writes for itself, the demo dump's
 * (scripts/generate-demo-dump.ts), the bench's (bench/pack-zip.ts) and the tests' hostile ones
 * (tests/attachments/zip-writer.ts), which differ only in the fields they give. No zip64, no
 * extra fields, no comments.
 */

export interface ZipEntryFields {
  /** general purpose bit flags: 0x0800 names in UTF-8, 0x0001 encrypted */
  flags: number;
  /** 0 stored, 8 deflated */
  method: number;
  /** MS-DOS time and date */
  dosTime: number;
  dosDate: number;
  crc32: number;
  compressedSize: number;
  size: number;
  name: Buffer;
}

/**
 * The fields both headers hold, in the same order (APPNOTE 4.3.7 and 4.3.12): from "version
 * needed to extract" to the name's length, at `at` in the header.
 */
function writeSharedFields(h: Buffer, at: number, f: ZipEntryFields): void {
  h.writeUInt16LE(20, at); // version needed to extract: 2.0
  h.writeUInt16LE(f.flags, at + 2);
  h.writeUInt16LE(f.method, at + 4);
  h.writeUInt16LE(f.dosTime, at + 6);
  h.writeUInt16LE(f.dosDate, at + 8);
  h.writeUInt32LE(f.crc32 >>> 0, at + 10);
  h.writeUInt32LE(f.compressedSize, at + 14);
  h.writeUInt32LE(f.size, at + 18);
  h.writeUInt16LE(f.name.length, at + 22);
}

/** The local file header, name included; the entry's data follows it. */
export function zipLocalHeader(f: ZipEntryFields): Buffer {
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  writeSharedFields(h, 4, f);
  return Buffer.concat([h, f.name]);
}

/** The entry's central directory record, name included. */
export function zipCentralRecord(f: ZipEntryFields & { madeBy: number; externalAttributes: number; localHeaderOffset: number }): Buffer {
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(f.madeBy, 4);
  writeSharedFields(h, 6, f);
  // extra and comment lengths, disk number and internal attributes: 0
  h.writeUInt32LE(f.externalAttributes >>> 0, 38);
  h.writeUInt32LE(f.localHeaderOffset, 42);
  return Buffer.concat([h, f.name]);
}

/** The end of central directory record. */
export function zipEndRecord(entries: number, centralDirectoryBytes: number, centralDirectoryOffset: number): Buffer {
  const h = Buffer.alloc(22);
  h.writeUInt32LE(0x06054b50, 0);
  h.writeUInt16LE(entries, 8);
  h.writeUInt16LE(entries, 10);
  h.writeUInt32LE(centralDirectoryBytes, 12);
  h.writeUInt32LE(centralDirectoryOffset, 16);
  return h;
}
