import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { zipCentralRecord, zipEndRecord, zipLocalHeader } from '../scripts/zip-records.ts';
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
    .update(readFileSync(fileURLToPath(new URL('../scripts/zip-records.ts', import.meta.url))))
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
      const fields = { flags: 0x0800, method, dosTime: 0, dosDate: 0x21, crc32: crc32(data), compressedSize: body.length, size: data.length, name };
      central.push(zipCentralRecord({ ...fields, madeBy: 20, externalAttributes: 0, localHeaderOffset: offset }));
      put(zipLocalHeader(fields));
      put(body);
    }
    const directory = Buffer.concat(central);
    const end = zipEndRecord(files.length, directory.length, offset);
    put(directory);
    put(end);
  } finally {
    closeSync(fd);
  }
  renameSync(partial, out);
}
