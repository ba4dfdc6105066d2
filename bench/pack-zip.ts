import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import type { BenchDump } from './generate-bench-dump.ts';

/**
 * A bench input packed into one zip archive, for the runs that measure archives: the dump's files
 * as entries in path order, named as in the dump, stored (as exports of loose files often are) or
 * deflated (as Google Takeout writes its mbox). Cached next to the input, and made again when the
 * input or this file changes. A plain zip (no zip64): the inputs stay far below its 4 GiB and
 * 65,535 entries, and packing refuses anything larger rather than write a broken archive.
 */
export function packZip(source: BenchDump, method: 0 | 8): BenchDump {
  const dir = `${source.dir}-${method === 0 ? 'stored' : 'deflated'}-zip`;
  const marker = `${dir}.complete.json`;
  const identity = createHash('sha256')
    .update(readFileSync(fileURLToPath(import.meta.url)))
    .update(readFileSync(`${source.dir}.complete.json`))
    .digest('hex');
  const cached = { dir, keysFile: source.keysFile, messages: source.messages, bytes: source.bytes };
  if (existsSync(marker) && (JSON.parse(readFileSync(marker, 'utf8')) as { identity?: string }).identity === identity) return cached;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeZip(listFiles(source.dir), source.dir, join(dir, 'archive.zip'), method);
  writeFileSync(marker, JSON.stringify({ identity }));
  return cached;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

function writeZip(files: string[], base: string, out: string, method: 0 | 8): void {
  if (files.length > 0xffff) throw new Error(`${files.length} files: more than a plain zip holds`);
  const partial = `${out}.partial`;
  const fd = openSync(partial, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  const put = (bytes: Buffer): void => {
    // writeSync may write less than asked; a short archive would be a silent wrong measurement
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    offset += bytes.length;
  };
  try {
    for (const path of files) {
      const data = readFileSync(path);
      const body = method === 8 ? deflateRawSync(data, { level: 1 }) : data;
      if (offset + body.length > 0xffffffff || data.length > 0xffffffff) throw new Error('over 4 GiB: more than a plain zip holds');
      const name = Buffer.from(relative(base, path).split(sep).join('/'), 'utf8');
      const crc = crc32(data);
      const header = (signature: number, size: number): Buffer => {
        const h = Buffer.alloc(size);
        h.writeUInt32LE(signature, 0);
        return h;
      };
      const local = header(0x04034b50, 30);
      local.writeUInt16LE(20, 4); // version needed
      local.writeUInt16LE(0x0800, 6); // names in UTF-8
      local.writeUInt16LE(method, 8);
      local.writeUInt16LE(0x21, 12); // 1980-01-01
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(body.length, 18);
      local.writeUInt32LE(data.length, 22);
      local.writeUInt16LE(name.length, 26);
      const record = header(0x02014b50, 46);
      record.writeUInt16LE(20, 4); // made by
      record.writeUInt16LE(20, 6);
      record.writeUInt16LE(0x0800, 8);
      record.writeUInt16LE(method, 10);
      record.writeUInt16LE(0x21, 14);
      record.writeUInt32LE(crc, 16);
      record.writeUInt32LE(body.length, 20);
      record.writeUInt32LE(data.length, 24);
      record.writeUInt16LE(name.length, 28);
      record.writeUInt32LE(offset, 42);
      central.push(record, name);
      put(local);
      put(name);
      put(body);
    }
    const directory = Buffer.concat(central);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(files.length, 8);
    end.writeUInt16LE(files.length, 10);
    end.writeUInt32LE(directory.length, 12);
    end.writeUInt32LE(offset, 16);
    put(directory);
    put(end);
  } finally {
    closeSync(fd);
  }
  renameSync(partial, out);
}
