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

/** The local file header, name included; the entry's data follows it. */
export function zipLocalHeader(f: ZipEntryFields): Buffer {
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4); // version needed to extract: 2.0
  h.writeUInt16LE(f.flags, 6);
  h.writeUInt16LE(f.method, 8);
  h.writeUInt16LE(f.dosTime, 10);
  h.writeUInt16LE(f.dosDate, 12);
  h.writeUInt32LE(f.crc32 >>> 0, 14);
  h.writeUInt32LE(f.compressedSize, 18);
  h.writeUInt32LE(f.size, 22);
  h.writeUInt16LE(f.name.length, 26);
  return Buffer.concat([h, f.name]);
}

/** The entry's central directory record, name included. */
export function zipCentralRecord(f: ZipEntryFields & { madeBy: number; externalAttributes: number; localHeaderOffset: number }): Buffer {
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(f.madeBy, 4);
  h.writeUInt16LE(20, 6);
  h.writeUInt16LE(f.flags, 8);
  h.writeUInt16LE(f.method, 10);
  h.writeUInt16LE(f.dosTime, 12);
  h.writeUInt16LE(f.dosDate, 14);
  h.writeUInt32LE(f.crc32 >>> 0, 16);
  h.writeUInt32LE(f.compressedSize, 20);
  h.writeUInt32LE(f.size, 24);
  h.writeUInt16LE(f.name.length, 28);
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
