/**
 * An entry of a zip archive read as a stream (zipEntryChunks: an mbox inside a Takeout export,
 * a document's sha256) leaves the archive closed the moment the reading ends. It read through a
 * ReadStream on the file's handle, and the handle's close() could resolve with the archive still
 * open: a worker thread stopped at that moment (the end of a run) left it open for the life of
 * the process, which the test suite's check of what each file leaves behind caught in the
 * shared-process test runs (tests/helpers/leave-process-as-found.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { locateZipEntries, type LocatedZipEntry } from '../../src/read/zip.ts';
import { sha256OfZipEntry, zipEntryChunks } from '../../src/read/zip-entry.ts';
import { buildZip } from '../attachments/zip-writer.ts';
import { tempDir } from '../helpers/cli.ts';

/** How many descriptors of this process are open on `path`. */
const openOn = (path: string): number =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;

async function entriesOf(path: string): Promise<LocatedZipEntry[]> {
  const entries: LocatedZipEntry[] = [];
  for await (const item of locateZipEntries(path)) if ('location' in item) entries.push(item);
  return entries;
}

describe.runIf(process.platform === 'linux')('an entry read as a stream leaves the archive closed when the reading ends', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const archive = join(tmp.path, 'export.zip');
  // more than one 256 KiB read, stored and deflated; and a small one of each
  const large = randomBytes(700 * 1024);
  const small = Buffer.from('Subject: hello\r\n\r\nbody\r\n');
  const contents = new Map([
    ['large-stored.bin', large],
    ['large-deflated.bin', large],
    ['small-stored.eml', small],
    ['small-deflated.eml', small],
  ]);
  writeFileSync(archive, buildZip([...contents].map(([name, data]) => ({ name, data, method: name.includes('stored') ? 0 : 8 }))));

  it('its sha256, each time, for every kind of entry (it was left open one time in 15-30 for a stored one)', async () => {
    const entries = await entriesOf(archive);
    expect(entries.map((e) => e.safeName)).toEqual([...contents.keys()]);
    for (const entry of entries) {
      const expected = createHash('sha256').update(contents.get(entry.safeName)!).digest('hex');
      for (let i = 0; i < 200; i++) {
        expect(await sha256OfZipEntry(archive, entry.location)).toBe(expected);
        expect(openOn(archive), `${entry.safeName}, reading ${i}`).toBe(0);
      }
    }
  });

  it('a reader that stops after the first chunk closes it too', async () => {
    for (const entry of await entriesOf(archive)) {
      for (let i = 0; i < 50; i++) {
        for await (const chunk of zipEntryChunks(archive, entry.location)) {
          expect(chunk.length).toBeGreaterThan(0);
          break;
        }
        expect(openOn(archive), `${entry.safeName}, reading ${i}`).toBe(0);
      }
    }
  });

  it('the bytes are the entry\'s, in chunks of at most 256 KiB from a stored entry', async () => {
    for (const entry of await entriesOf(archive)) {
      const chunks: Buffer[] = [];
      for await (const chunk of zipEntryChunks(archive, entry.location)) chunks.push(Buffer.from(chunk));
      expect(Buffer.concat(chunks).equals(contents.get(entry.safeName)!), entry.safeName).toBe(true);
      if (entry.safeName === 'large-stored.bin') expect(chunks.map((c) => c.length)).toEqual([256 * 1024, 256 * 1024, 700 * 1024 - 512 * 1024]);
    }
  });
});
