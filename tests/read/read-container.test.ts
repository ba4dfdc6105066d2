import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContainerKind, DiscoveredFile } from '../../src/discover/types.ts';
import { locateMboxMessages, readContainer, readMessageAt, readSingleMessage } from '../../src/read/read-container.ts';
import { isKnownCrlfOnly, toCrlf } from '../../src/read/line-endings.ts';
import { ReusableBuffer } from '../../src/read/reusable-buffer.ts';
import { ReadError, type RawMessage } from '../../src/read/types.ts';
import { collect, makeTempDir, removeTempDir } from '../discover/temp-dump.ts';
import { sha256Of } from '../../src/pipeline/message-stream.ts';
import { createAnalyzer } from '../../src/pipeline/worker-pool.ts';
import { lookup } from '../pipeline/support.ts';

const MESSAGE = 'From: a@example.org\nSubject: hi\n\nbody\n';

let dir = '';
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  await removeTempDir(dir);
});

async function fileWith(name: string, content: string | Buffer): Promise<DiscoveredFile> {
  const absPath = join(dir, name);
  await writeFile(absPath, content);
  return { relPath: name, absPath, size: Buffer.byteLength(content), mtimeMs: 0 };
}

async function failure(source: AsyncIterable<RawMessage>): Promise<unknown> {
  try {
    await collect(source);
  } catch (error) {
    return error;
  }
  throw new Error('expected the read to fail');
}

describe('readContainer', () => {
  it('reads an eml or a Maildir file whole, as one message', async () => {
    for (const kind of ['eml', 'maildir'] as const) {
      const file = await fileWith(`m.${kind}`, `\uFEFF${MESSAGE}`);
      const messages = await collect(readContainer(file, kind));
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ index: 0, offset: 0, format: kind });
      // Evidence as found: even a BOM stays in raw.
      expect(messages[0]?.raw.toString()).toBe(`\uFEFF${MESSAGE}`);
      expect(messages[0]?.envelope).toBeUndefined();
    }
  });

  it('dispatches emlx and mbox to their readers', async () => {
    const emlx = await fileWith('1.emlx', `${MESSAGE.length}\n${MESSAGE}<?xml?><plist/>`);
    expect((await collect(readContainer(emlx, 'emlx'))).map((m) => [m.offset, m.raw.toString(), m.format])).toEqual([
      [3, MESSAGE, 'emlx'],
    ]);
    const mbox = await fileWith('box', `From a Mon Jan  1 00:00:00 2024\n${MESSAGE}\nFrom b Mon Jan  1 00:00:00 2024\n${MESSAGE}`);
    expect((await collect(readContainer(mbox, 'mbox'))).map((m) => [m.index, m.raw.toString(), m.format])).toEqual([
      [0, MESSAGE, 'mbox'],
      [1, MESSAGE, 'mbox'],
    ]);
  });

  it('refuses a single-message file over the size limit', async () => {
    const file = await fileWith('big.eml', MESSAGE);
    const error = await failure(readContainer(file, 'eml', 10));
    expect(error).toBeInstanceOf(ReadError);
    expect(error).toMatchObject({ code: 'too-large' });
    expect(await failure(readContainer(await fileWith('big.emlx', `${MESSAGE.length}\n${MESSAGE}`), 'emlx', 10))).toMatchObject({
      code: 'too-large',
    });
  });

  it('applies the limit per message inside an mbox', async () => {
    const mbox = await fileWith('box', `From a Mon Jan  1 00:00:00 2024\n${MESSAGE}\nFrom b Mon Jan  1 00:00:00 2024\nFrom: b\n\n${'z'.repeat(100)}\n`);
    const seen: RawMessage[] = [];
    let error: unknown;
    try {
      for await (const m of readContainer(mbox, 'mbox', 60)) seen.push(m);
    } catch (caught) {
      error = caught;
    }
    expect(seen.map((m) => m.index)).toEqual([0]);
    expect(error).toMatchObject({ name: 'ReadError', code: 'too-large' });
  });

  it('reports a file that vanished since discovery', async () => {
    for (const kind of ['eml', 'maildir', 'emlx', 'mbox'] satisfies ContainerKind[]) {
      const file = await fileWith('gone', MESSAGE);
      await rm(file.absPath);
      const error = await failure(readContainer(file, kind));
      expect(error).toBeInstanceOf(ReadError);
      expect(error).toMatchObject({ code: 'vanished' });
      expect((error as Error).cause).toMatchObject({ code: 'ENOENT' });
    }
  });

  it('reports a path that is no longer a regular file as unreadable', async () => {
    await mkdir(join(dir, 'now-a-dir'));
    const file: DiscoveredFile = { relPath: 'now-a-dir', absPath: join(dir, 'now-a-dir'), size: 1, mtimeMs: 0 };
    for (const kind of ['eml', 'mbox'] satisfies ContainerKind[]) {
      expect(await failure(readContainer(file, kind))).toMatchObject({ name: 'ReadError', code: 'unreadable' });
    }
  });

  it('passes format errors through unchanged', async () => {
    const emlx = await fileWith('bad.emlx', `99\n${MESSAGE}`);
    expect(await failure(readContainer(emlx, 'emlx'))).toMatchObject({ code: 'truncated' });
    const mbox = await fileWith('bad.mbox', MESSAGE);
    expect(await failure(readContainer(mbox, 'mbox'))).toMatchObject({ code: 'malformed-mbox' });
  });
});

describe('readSingleMessage into reused memory', () => {
  it('reads the same message as into fresh memory, and the next read replaces it', async () => {
    const into = new ReusableBuffer();
    const eml = await fileWith('a.eml', MESSAGE);
    const emlx = await fileWith('1.emlx', `${MESSAGE.length}\n${MESSAGE}<?xml?><plist/>`);
    const first = readSingleMessage(eml, 'eml', undefined, into);
    expect(first).toMatchObject({ index: 0, offset: 0, format: 'eml' });
    expect(first.raw.toString()).toBe(MESSAGE);
    expect(readSingleMessage(eml, 'eml').raw).toEqual(first.raw);
    const second = readSingleMessage(emlx, 'emlx', undefined, into);
    expect([second.offset, second.raw.toString(), second.format]).toEqual([3, MESSAGE, 'emlx']);
    // one memory for both: the first message's bytes are gone once the second is read
    expect(second.raw.buffer).toBe(first.raw.buffer);
  });

  it('reports the same read errors', async () => {
    const into = new ReusableBuffer();
    const big = await fileWith('big.eml', MESSAGE);
    expect(() => readSingleMessage(big, 'eml', 10, into)).toThrow(expect.objectContaining({ code: 'too-large' }));
    expect(() => readSingleMessage({ absPath: join(dir, 'gone.eml') }, 'eml', undefined, into)).toThrow(expect.objectContaining({ code: 'vanished' }));
    const truncated = await fileWith('t.emlx', `${MESSAGE.length + 5}\n${MESSAGE}`);
    expect(() => readSingleMessage(truncated, 'emlx', undefined, into)).toThrow(expect.objectContaining({ code: 'truncated' }));
  });
});

describe('ReusableBuffer', () => {
  it('reads every message up to its limit into the same memory, and gives a larger one memory of its own', () => {
    const reusable = new ReusableBuffer(1024 * 1024);
    const small = reusable.take(10);
    expect(small.length).toBe(10);
    const larger = reusable.take(300 * 1024);
    expect(larger.length).toBe(300 * 1024);
    expect(larger.buffer).toBe(small.buffer);
    const atLimit = reusable.take(1024 * 1024);
    expect(atLimit.length).toBe(1024 * 1024);
    expect(atLimit.buffer).toBe(small.buffer);
    const huge = reusable.take(2 * 1024 * 1024);
    expect(huge.buffer).not.toBe(small.buffer);
    expect(huge.buffer.byteLength).toBe(2 * 1024 * 1024);
    // the kept memory is still the one it had
    expect(reusable.take(5).buffer).toBe(small.buffer);
  });
});

describe('ReusableBuffer and what is known of its bytes', () => {
  it('forgets that the previous message was CRLF-only when the next one is read in its place', () => {
    const reusable = new ReusableBuffer();
    const crlf = reusable.take(8);
    crlf.write('a\r\nb\r\nc\r\n'.slice(0, 8), 'latin1');
    expect(toCrlf(crlf)).toBe(crlf);
    expect(isKnownCrlfOnly(crlf)).toBe(true);
    const bare = reusable.take(8);
    bare.write('a\nb\nc\nd\n', 'latin1');
    expect(bare.buffer).toBe(crlf.buffer);
    expect(isKnownCrlfOnly(bare)).toBe(false);
    expect(toCrlf(bare).toString('latin1')).toBe('a\r\nb\r\nc\r\nd\r\n');
  });
});

describe('mbox messages read where the scan located them', () => {
  const ENVELOPE = 'From a@example.org Mon Jan  1 00:00:00 2024';
  const mboxText = `${ENVELOPE}\n${MESSAGE}\n${ENVELOPE}\n${MESSAGE.replace('hi', 'again')}`;

  it('reads the messages readContainer reads, into reused memory too, and hashes the file as it scans', async () => {
    const mbox = await fileWith('inbox.mbox', mboxText);
    const located = locateMboxMessages(mbox);
    const found = await collect(located.messages);
    const into = new ReusableBuffer();
    const summary = (m: RawMessage): unknown[] => [m.index, m.offset, m.raw.toString(), m.envelope, m.format];
    const expected = (await collect(readContainer(mbox, 'mbox'))).map(summary);
    expect(found.map(({ location }) => summary(readMessageAt(location)))).toEqual(expected);
    expect(found.map(({ location }) => summary(readMessageAt(location, undefined, into)))).toEqual(expected);
    expect(found.map(({ size }) => size)).toEqual([MESSAGE.length + 1, MESSAGE.length + 3]);
    expect(located.sha256()).toBe(createHash('sha256').update(await readFile(mbox.absPath)).digest('hex'));
  });

  it('refuses to read a message of a file that changed since the scan', async () => {
    const mbox = await fileWith('inbox.mbox', mboxText);
    const [first] = await collect(locateMboxMessages(mbox).messages);
    await appendFile(mbox.absPath, `\n${ENVELOPE}\n${MESSAGE}`);
    expect(() => readMessageAt(first!.location)).toThrow(ReadError);
    expect(() => readMessageAt(first!.location)).toThrow(/changed while its messages were being read/);
  });

  it('surfaces a vanished or malformed mbox as a read error', async () => {
    const gone = { relPath: 'gone.mbox', absPath: join(dir, 'gone.mbox'), size: 1, mtimeMs: 0 };
    await expect(collect(locateMboxMessages(gone).messages)).rejects.toMatchObject({ name: 'ReadError', code: 'vanished' });
    const bad = await fileWith('bad.mbox', MESSAGE);
    await expect(collect(locateMboxMessages(bad).messages)).rejects.toMatchObject({ name: 'ReadError', code: 'malformed-mbox' });
  });
});

// Red team G-02: a loose message grown or replaced between the walk and the read was recorded with
// the walk's size and mtime beside the new bytes' sha256, a false custody record
describe('a single-message file changed after the walk saw it', () => {
  // what the walk records: the lstat of the file as it found it
  const seenOf = (file: DiscoveredFile) => ({ size: statSync(file.absPath).size, mtimeMs: statSync(file.absPath).mtimeMs });

  it('is refused as changed, like an mbox, whether it grew or was replaced by one of the same size', async () => {
    const grown = await fileWith('grown.eml', MESSAGE);
    const seen = seenOf(grown);
    await appendFile(grown.absPath, 'P.S. added later\r\n');
    expect(() => readMessageAt({ absPath: grown.absPath, kind: 'eml', seen })).toThrow(expect.objectContaining({ code: 'changed' }));
    expect(() => readSingleMessage({ absPath: grown.absPath, seen }, 'eml', undefined, new ReusableBuffer())).toThrow(expect.objectContaining({ code: 'changed' }));

    const replaced = await fileWith('replaced.emlx', `${MESSAGE.length}\n${MESSAGE}`);
    const before = seenOf(replaced);
    await writeFile(replaced.absPath, `${MESSAGE.length}\n${MESSAGE.replace('S', 'Z')}`);
    await utimes(replaced.absPath, new Date(), new Date(before.mtimeMs + 5_000));
    expect(() => readMessageAt({ absPath: replaced.absPath, kind: 'emlx', seen: before })).toThrow(expect.objectContaining({ code: 'changed' }));
  });

  it('is read as before when it is as the walk saw it', async () => {
    const same = await fileWith('same.eml', MESSAGE);
    expect(readMessageAt({ absPath: same.absPath, kind: 'eml', seen: seenOf(same) }).raw.toString()).toBe(MESSAGE);
  });

  it('gets no sha256 from the hashing thread when it changed, rather than the new bytes\' one beside the old size', async () => {
    const analyzer = createAnalyzer(lookup, { workers: 0 });
    try {
      const doc = await fileWith('report.pdf', '%PDF-1.4 the original\n');
      const seen = seenOf(doc);
      expect(await sha256Of(analyzer, doc.absPath, seen.size, seen.mtimeMs)).toBe(createHash('sha256').update('%PDF-1.4 the original\n').digest('hex'));
      await appendFile(doc.absPath, 'appended later\n');
      expect(await sha256Of(analyzer, doc.absPath, seen.size, seen.mtimeMs)).toBeNull();
    } finally {
      await analyzer.close();
    }
  });
});
