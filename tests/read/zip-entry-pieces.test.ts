/**
 * The pieces of an entry read as a stream (zipEntryChunks: the mbox of a Takeout export, inflated
 * on the main thread) give their memory back as soon as the reader asks for the next piece,
 * instead of waiting for a collection: a 1 GB Takeout left 25-30 MB of them in the main thread's
 * malloc arena at the run's peak. A piece whose buffer zlib may still write into, or that lies in
 * Buffer's shared pool, is left alone.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { locateZipEntries, type LocatedZipEntry } from '../../src/read/zip.ts';
import { sha256OfZipEntry, zipEntryChunks } from '../../src/read/zip-entry.ts';
import { buildZip } from '../attachments/zip-writer.ts';
import { tempDir } from '../helpers/cli.ts';

async function entriesOf(path: string): Promise<Map<string, LocatedZipEntry>> {
  const entries = new Map<string, LocatedZipEntry>();
  for await (const item of locateZipEntries(path)) if ('location' in item) entries.set(item.safeName, item);
  return entries;
}

interface Piece {
  view: Buffer;
  /** its bytes, copied as it came */
  bytes: Buffer;
  /** the size of the memory it lay in, as it came */
  memoryBytes: number;
}

/** Every piece of an entry, read as the mbox splitter reads them: each copied before the next is asked for. */
async function piecesOf(archive: string, entry: LocatedZipEntry): Promise<Piece[]> {
  const pieces: Piece[] = [];
  for await (const view of zipEntryChunks(archive, entry.location)) pieces.push({ view, bytes: Buffer.from(view), memoryBytes: view.buffer.byteLength });
  return pieces;
}

describe('the pieces of an entry read as a stream', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const archive = join(tmp.path, 'takeout.zip');
  // Text inflates in pieces that fill zlib's buffers; random bytes, stored, in reads of 256 KiB.
  const text = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `From line ${i}: the quick brown fox, message ${i % 97}\r\n`).join(''));
  const random = randomBytes(700 * 1024);
  const small = Buffer.from('Subject: hello\r\n\r\nbody\r\n');
  const contents = new Map<string, { data: Buffer; method: 0 | 8 }>([
    ['mail.mbox', { data: text, method: 8 }],
    ['scan.bin', { data: random, method: 0 }],
    ['note.eml', { data: small, method: 8 }],
    ['note-stored.eml', { data: small, method: 0 }],
  ]);
  writeFileSync(archive, buildZip([...contents].map(([name, { data, method }]) => ({ name, data, method }))));

  it('are the entry\'s bytes, and each piece that filled its memory gives it back once the next is asked for', async () => {
    const entries = await entriesOf(archive);
    for (const name of ['mail.mbox', 'scan.bin']) {
      const pieces = await piecesOf(archive, entries.get(name)!);
      expect(Buffer.concat(pieces.map((p) => p.bytes)).equals(contents.get(name)!.data), name).toBe(true);
      expect(pieces.length, name).toBeGreaterThan(2);
      // zlib inflates into 256 KiB of its own at a time (more than Buffer's pool, so that it can
      // be given back); a stored entry is read 256 KiB at a time, the last read its remainder
      for (const piece of pieces.slice(0, -1)) expect(piece.memoryBytes, name).toBe(256 * 1024);
      const filled = pieces.filter((p) => p.view.byteOffset + p.bytes.length === p.memoryBytes);
      expect(filled.length, name).toBeGreaterThanOrEqual(pieces.length - 1);
      for (const piece of filled) expect(piece.view.buffer.byteLength, `${name}: a piece of ${piece.bytes.length} bytes`).toBe(0);
    }
  });

  it('a piece that does not fill its memory (zlib would write on into it), or lies in Buffer\'s shared pool, is left alone', async () => {
    const entries = await entriesOf(archive);
    for (const name of ['note.eml', 'note-stored.eml']) {
      const pieces = await piecesOf(archive, entries.get(name)!);
      expect(Buffer.concat(pieces.map((p) => p.bytes)).equals(small), name).toBe(true);
      for (const piece of pieces) {
        expect(piece.view.buffer.byteLength, name).toBe(piece.memoryBytes);
        expect(piece.view.equals(piece.bytes), name).toBe(true);
      }
    }
  });

  it('hashing reads them the same way: the sha256 of every entry, many times over', async () => {
    const entries = await entriesOf(archive);
    for (const [name, { data }] of contents) {
      const expected = createHash('sha256').update(data).digest('hex');
      for (let i = 0; i < 20; i++) expect(await sha256OfZipEntry(archive, entries.get(name)!.location), name).toBe(expected);
    }
  });
});
