/**
 * The small files queued behind the one a worker reads are read with it (src/pipeline/read-ahead.ts):
 * which are read ahead, that each is the bytes its own read at its turn gives, that a failed read
 * fails at its turn, and that each read is marked as its own message in progress.
 */
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReadTarget } from '../../src/discover/open-evidence.ts';
import { READ_AHEAD_BYTES, READ_AHEAD_FILE_BYTES, READ_AHEAD_FILES, ReadAhead, type QueuedRead } from '../../src/pipeline/read-ahead.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, readMessageAt } from '../../src/read/read-container.ts';
import { ReusableBuffer } from '../../src/read/reusable-buffer.ts';
import { ReadError } from '../../src/read/types.ts';
import { tempDir } from '../helpers/cli.ts';

const tmp = tempDir('leakcheck-read-ahead-');
afterAll(() => tmp.cleanup());

let nextId = 0;
/** A file of `bytes` written now, queued as the walk would queue it. */
function queued(bytes: Buffer, kind: 'eml' | 'maildir' = 'eml'): QueuedRead {
  const id = ++nextId;
  const absPath = join(tmp.path, `${id}.eml`);
  writeFileSync(absPath, bytes);
  const { size, mtimeMs } = statSync(absPath);
  return { id, location: { absPath, kind, seen: { size, mtimeMs } }, maxBytes: DEFAULT_MAX_MESSAGE_BYTES };
}

/** `bytes` as the second message of an mbox of three, queued at the range a scan would find. */
function mboxMessage(bytes: Buffer): QueuedRead {
  const id = ++nextId;
  const absPath = join(tmp.path, `${id}.mbox`);
  const separator = (n: number): Buffer => Buffer.from(`From sender@example.org Mon Jan  2 10:00:0${n} 2017\n`);
  const before = Buffer.concat([separator(1), message(0), Buffer.from('\n'), separator(2)]);
  writeFileSync(absPath, Buffer.concat([before, bytes, Buffer.from('\n'), separator(3), message(9)]));
  const { size, mtimeMs } = statSync(absPath);
  const range = { index: 1, offset: before.length, size: bytes.length, envelope: separator(2).subarray(0, -1).toString() };
  return { id, location: { absPath, kind: 'mbox', range, identity: { size, mtimeMs } }, maxBytes: DEFAULT_MAX_MESSAGE_BYTES };
}

const message = (n: number, length = 200): Buffer => Buffer.from(`Subject: ${n}\r\n\r\n${'body '.repeat(length / 5)}\r\n`);
const read = (task: QueuedRead, into: ReadTarget) => readMessageAt(task.location, task.maxBytes, into);

describe('reading ahead the small files queued behind a read', () => {
  it('reads each in order, marks each as the message in progress, and hands each over at its turn as its own read gives it', () => {
    const ahead = new ReadAhead();
    const tasks = Array.from({ length: 5 }, (_, n) => queued(message(n, 100 + 50 * n), n % 2 ? 'maildir' : 'eml'));
    const started: number[] = [];
    ahead.fill(tasks, read, (id) => started.push(id));
    expect(started).toEqual(tasks.map((t) => t.id));
    expect(ahead.holding).toBe(true);
    const target = new ReusableBuffer(undefined, { scannable: true });
    for (const task of tasks) {
      const claimed = ahead.claim(task.id, target)!;
      expect(target.holds(claimed.raw)).toBe(true);
      const own = read(task, new ReusableBuffer());
      expect({ ...claimed, raw: Buffer.from(claimed.raw) }).toEqual({ ...own, raw: Buffer.from(own.raw) });
      // claimed once: a second claim reads nothing ahead
      expect(ahead.claim(task.id, target)).toBeNull();
    }
    expect(ahead.holding).toBe(false);
    // the staging memory serves the next fill, and what it holds then is the new files'
    const again = [queued(message(7)), queued(message(8))];
    ahead.fill(again, read, () => undefined);
    expect(Buffer.from(ahead.claim(again[1]!.id, target)!.raw)).toEqual(message(8));
    expect(Buffer.from(ahead.claim(again[0]!.id, target)!.raw)).toEqual(message(7));
  });

  it('stops at a file too large, one the walk did not size, a zip entry, an mbox message too large, and at the limits of files and bytes', () => {
    const small = (): QueuedRead => queued(message(1));
    const large = queued(Buffer.alloc(READ_AHEAD_FILE_BYTES + 1, 0x61));
    const unsized: QueuedRead = { ...small(), location: { ...small().location, seen: undefined } as QueuedRead['location'] };
    const entry: QueuedRead = { id: ++nextId, location: { absPath: '/nowhere', kind: 'zip-entry', entry: {} as never }, maxBytes: 1 };
    const largeInMbox = mboxMessage(Buffer.alloc(READ_AHEAD_FILE_BYTES + 1, 0x61));
    for (const stopper of [large, unsized, entry, largeInMbox]) {
      const ahead = new ReadAhead();
      const before = [small(), small()];
      const started: number[] = [];
      ahead.fill([...before, stopper, small()], read, (id) => started.push(id));
      expect(started).toEqual(before.map((t) => t.id));
    }
    const many = Array.from({ length: READ_AHEAD_FILES + 3 }, small);
    const counted: number[] = [];
    new ReadAhead().fill(many, read, (id) => counted.push(id));
    expect(counted).toEqual(many.slice(0, READ_AHEAD_FILES).map((t) => t.id));
    // files that fit the bytes read ahead: the one that would pass them waits for its turn
    const nearLimit = (): QueuedRead => queued(Buffer.alloc(READ_AHEAD_FILE_BYTES - 10, 0x62));
    expect(4 * READ_AHEAD_FILE_BYTES).toBe(READ_AHEAD_BYTES);
    const heavy = [nearLimit(), nearLimit(), nearLimit(), nearLimit(), small()];
    const fitted: number[] = [];
    new ReadAhead().fill(heavy, read, (id) => fitted.push(id));
    expect(fitted).toEqual(heavy.slice(0, 4).map((t) => t.id));
  });

  it('reads ahead the messages of an mbox at the ranges its scan found, each as its own read gives it', () => {
    const ahead = new ReadAhead();
    const tasks = [mboxMessage(message(1)), mboxMessage(message(2, 600)), queued(message(3))];
    const started: number[] = [];
    ahead.fill(tasks, read, (id) => started.push(id));
    expect(started).toEqual(tasks.map((t) => t.id));
    const target = new ReusableBuffer();
    for (const task of tasks) {
      const claimed = ahead.claim(task.id, target)!;
      const own = read(task, new ReusableBuffer());
      expect({ ...claimed, raw: Buffer.from(claimed.raw) }).toEqual({ ...own, raw: Buffer.from(own.raw) });
    }
  });

  it('holds a failed read as it failed, and throws it at its turn; the files after it are read', () => {
    const ahead = new ReadAhead();
    const grown = queued(message(1));
    writeFileSync(grown.location.absPath, message(1, 400)); // grown since the walk saw it
    const gone = queued(message(2));
    rmSync(gone.location.absPath);
    const after = queued(message(3));
    const failure = (claim: () => unknown): ReadError => {
      try {
        claim();
      } catch (error) {
        if (error instanceof ReadError) return error;
        throw error;
      }
      throw new Error('no ReadError');
    };
    // what each read at its own turn throws
    const own = [grown, gone].map((task) => failure(() => read(task, new ReusableBuffer())));
    expect(own.map((e) => e.code)).toEqual(['changed', expect.any(String)]);
    ahead.fill([grown, gone, after], read, () => undefined);
    const target = new ReusableBuffer();
    const held = [grown, gone].map((task) => failure(() => ahead.claim(task.id, target)));
    expect(held.map((e) => [e.code, e.message])).toEqual(own.map((e) => [e.code, e.message]));
    expect(ahead.claim(grown.id, target)).toBeNull();
    expect(Buffer.from(ahead.claim(after.id, target)!.raw)).toEqual(message(3));
  });
});
