import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import { readMbox, scanMbox } from '../../src/read/mbox.ts';
import { hasFromQuoting } from '../../src/read/mbox-quoting.ts';
import { messageFromRange, OverruledLengths, splitMbox, splitMboxRanges, type MboxRange } from '../../src/read/mbox-split.ts';
import { ReadError, type RawMessage } from '../../src/read/types.ts';
import { collect, makeTempDir, removeTempDir } from '../discover/temp-dump.ts';

const ENV1 = 'From alice@example.org Mon Jan  1 00:00:00 2024';
const ENV2 = 'From bob@example.org Mon Jan  1 00:00:01 2024';
const ENV3 = 'From MAILER-DAEMON Mon Jan  1 00:00:02 2024';
const MSG1 = 'From: alice@example.org\nSubject: one\n\nhello\n>From the quoted line\n>>From twice quoted\n';
// Message 2 is followed by a separator with no blank line before it, as many writers do.
const MSG2 = 'From: bob@example.org\nSubject: two\n\nFromage is not a separator\n';
const MSG3 = 'From: daemon\nSubject: three\n\n\nlast, with a real blank line above\n';
const MBOX = `${ENV1}\n${MSG1}\n${ENV2}\n${MSG2}${ENV3}\n${MSG3}\n`;

function chunked(data: Buffer, sizes: number[]): AsyncIterable<Buffer> {
  return (async function* () {
    let at = 0;
    let i = 0;
    while (at < data.length) {
      const size = sizes[i % sizes.length] as number;
      // A fresh copy per chunk, which the test then scribbles over: raw must not share it.
      const chunk = Buffer.from(data.subarray(at, at + size));
      yield chunk;
      chunk.fill(0x23);
      at += size;
      i += 1;
    }
  })();
}

function summary(messages: RawMessage[]): Array<[number, number, string, string | undefined]> {
  return messages.map((m) => [m.index, m.offset, m.raw.toString('latin1'), m.envelope]);
}

function expectSlicesOfFile(file: Buffer, messages: RawMessage[]): void {
  for (const m of messages) expect(file.subarray(m.offset, m.offset + m.raw.length).equals(m.raw)).toBe(true);
}

let dir = '';
beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(async () => {
  vi.restoreAllMocks(); // when a test that spies fails before it restores its spy
  await removeTempDir(dir);
});

describe('readMbox', () => {
  it('splits an LF mbox, keeping quoted From lines and dropping the framing blank line', async () => {
    const path = join(dir, 'inbox');
    await writeFile(path, MBOX);
    const messages = await collect(readMbox(path));
    expect(messages.map((m) => [m.index, m.raw.toString(), m.envelope, m.format])).toEqual([
      [0, MSG1, ENV1, 'mbox'],
      [1, MSG2, ENV2, 'mbox'],
      [2, MSG3, ENV3, 'mbox'],
    ]);
    expect(messages.map((m) => m.offset)).toEqual([
      ENV1.length + 1,
      ENV1.length + 1 + MSG1.length + 1 + ENV2.length + 1,
      MBOX.indexOf(ENV3) + ENV3.length + 1,
    ]);
    expectSlicesOfFile(await readFile(path), messages);
    expect(messages.map((m) => hasFromQuoting(m.raw))).toEqual([true, false, false]);
  });

  it('splits a CRLF mbox and strips CR from the envelope', async () => {
    const crlf = (s: string): string => s.replaceAll('\n', '\r\n');
    const path = join(dir, 'crlf.mbox');
    const content = crlf(`${ENV1}\n${MSG1}\n${ENV2}\n${MSG2}\n`);
    await writeFile(path, content);
    const messages = await collect(readMbox(path));
    expect(messages.map((m) => [m.raw.toString(), m.envelope])).toEqual([
      [crlf(MSG1), ENV1],
      [crlf(MSG2), ENV2],
    ]);
    expect(messages[1]?.offset).toBe(content.indexOf(ENV2) + ENV2.length + 2);
    expectSlicesOfFile(await readFile(path), messages);
  });

  it('gives the same messages whatever the read chunk size', async () => {
    const path = join(dir, 'inbox');
    await writeFile(path, MBOX);
    const reference = summary(await collect(readMbox(path)));
    for (const highWaterMark of [1, 2, 3, 4, 5, 6, 7, 13, 64]) {
      expect(summary(await collect(readMbox(path, { highWaterMark })))).toEqual(reference);
    }
  });

  it('gives every message memory of its own, which the reader of an mbox in a zip frees once analysed', async () => {
    const messages = await collect(splitMbox(chunked(Buffer.from(MBOX), [1, 5, 64])));
    expect(messages).toHaveLength(3);
    const buffers = messages.map((m) => m.raw.buffer);
    expect(new Set(buffers).size).toBe(messages.length);
    // at most the framing line ending beyond the message: nothing else lives in that memory
    for (const m of messages) expect(m.raw.buffer.byteLength - m.raw.byteLength).toBeLessThanOrEqual(2);
    // and freeing one leaves the others whole
    const before = messages.map((m) => m.raw.toString('latin1'));
    (messages[0]!.raw.buffer as ArrayBuffer).transfer(0);
    expect(messages.slice(1).map((m) => m.raw.toString('latin1'))).toEqual(before.slice(1));
  });

  it('copes with a separator split at every possible chunk boundary', async () => {
    const data = Buffer.from(`\uFEFF\r\n${MBOX.replaceAll('\n', '\r\n')}`);
    const reference = summary(await collect(splitMbox(chunked(data, [data.length]))));
    expect(reference).toHaveLength(3);
    for (let cut = 1; cut < data.length; cut += 1) {
      expect(summary(await collect(splitMbox(chunked(data, [cut, data.length]))))).toEqual(reference);
    }
    expect(summary(await collect(splitMbox(chunked(data, [1, 2, 0, 3]))))).toEqual(reference);
  });

  // Classic Mac OS mail programs (Eudora, Mac OS 9) ended lines in CR alone. Cut at LF, such a
  // file was one line: its messages vanished into a single empty one.
  it('splits a CR-only mbox (classic Mac OS) as the same file with LF, at every chunk boundary', async () => {
    const lf = Buffer.from(`\n${MBOX}`);
    const cr = Buffer.from(`\r${MBOX.replaceAll('\n', '\r')}`);
    const asCr = (messages: ReturnType<typeof summary>) => messages.map(([i, offset, raw, envelope]) => [i, offset, raw.replaceAll('\n', '\r'), envelope]);
    const reference = asCr(summary(await collect(splitMbox(chunked(lf, [lf.length])))));
    expect(reference).toHaveLength(3);
    for (let cut = 1; cut < cr.length; cut += 1) {
      expect(summary(await collect(splitMbox(chunked(cr, [cut, cr.length]))))).toEqual(reference);
      expect(summary(atRanges(cr, await collect(splitMboxRanges(chunked(cr, [cut, cr.length])))))).toEqual(reference);
    }
    const ranges = await collect(splitMboxRanges(chunked(cr, [cr.length])));
    expect(ranges.map((r) => r.lineEnding)).toEqual(['cr', 'cr', 'cr']);
    // an LF or CRLF file is not taken for one, even with a CR alone inside a line
    const crInside = Buffer.from(MBOX.replace('hello', 'hel\rlo').replaceAll('\n', '\r\n'));
    expect((await collect(splitMboxRanges(chunked(crInside, [crInside.length])))).map((r) => r.lineEnding)).toEqual([undefined, undefined, undefined]);
    // nor with a CR alone inside its first separator line, where anyone who handled the file
    // can add one: read as a CR-only file, it merged every message into the first (red team 27, B-01)
    for (const eol of ['\n', '\r\n']) {
      const file = Buffer.from(MBOX.replace('alice@example.org ', 'alice@example.org\r ').replaceAll('\n', eol));
      for (const cut of [1, 7, 30, file.length]) {
        const ranges = await collect(splitMboxRanges(chunked(file, [cut, file.length])));
        expect(ranges.map((r) => [r.index, r.lineEnding, r.envelope])).toEqual([
          [0, undefined, ENV1.replace('alice@example.org ', 'alice@example.org\r ')],
          [1, undefined, ENV2],
          [2, undefined, ENV3],
        ]);
      }
    }
  });

  // mboxcl2 (SVR4/Solaris mail): an exact Content-Length, and body lines beginning "From " left
  // unquoted. Red team, round 4: a genuine message was cut at such a line.
  it('honours a Content-Length that lands on the next separator, at every chunk boundary, and ignores one that does not', async () => {
    const body1 = 'Below, as promised.\n\nFrom the minutes of Monday\'s board meeting\nAttendees: A. Smith\nFrom Monday the office opens at 8:30, as decided in 2019.\n';
    const msg1 = `From: ceo@example.org\nSubject: minutes\nContent-Length: ${body1.length}\n\n${body1}`;
    const msg2 = 'From: ceo@example.org\nSubject: two\nContent-Length: 4\n\nbye\n';
    for (const ending of ['\n', '\r\n']) {
      const withEnding = (text: string) => text.replaceAll('\n', ending);
      const first = withEnding(msg1).replace(/Content-Length: \d+/, `Content-Length: ${withEnding(body1).length}`);
      const data = Buffer.from(`${withEnding(`${ENV1}\n`)}${first}${withEnding(`\n${ENV2}\n${msg2}\n`)}`);
      const reference = summary(await collect(splitMbox(chunked(data, [data.length]))));
      expect(reference.map(([i, , raw]) => [i, raw])).toEqual([[0, first], [1, withEnding(msg2)]]);
      for (let cut = 1; cut < data.length; cut += 7) {
        expect(summary(await collect(splitMbox(chunked(data, [cut, data.length]))))).toEqual(reference);
        expect(summary(atRanges(data, await collect(splitMboxRanges(chunked(data, [cut, data.length])))))).toEqual(reference);
      }
    }
    // a length that lands nowhere in particular is ignored: the lines decide, as in any mbox
    // ("From Monday … 8:30 … 2019" carries a date, as mutt reads one; "From the minutes" is
    // followed by "Attendees:", which no message begins with)
    const wrong = Buffer.from(`${ENV1}\n${msg1.replace(`Content-Length: ${body1.length}`, 'Content-Length: 10')}\n${ENV2}\n${msg2}\n`);
    expect(await collect(splitMboxRanges(chunked(wrong, [wrong.length])))).toHaveLength(3);
  });

  // Red team 27: a length that reached across the next separator to an unquoted body line of the
  // next message that begins "From " swallowed that message whole (it had no row)
  it('does not honour a Content-Length that lands on a body line beginning "From ", not a separator', async () => {
    const first = 'From: a@example.org\nSubject: one\nContent-Length: LENGTH\n\nfirst body\n';
    const second = 'From: b@example.org\nSubject: two\n\nAs agreed.\n\nFrom the press release:\nhttps://press.example.org/q1\n';
    const head = `${ENV1}\n`;
    const withoutLength = `${head}${first}\n${ENV2}\n${second}`;
    // the length that ends the first message at "From the press release:"
    const bodyStart = withoutLength.indexOf('first body');
    const target = withoutLength.indexOf('From the press release:');
    const length = String(target - bodyStart - 1).padStart(4, '0');
    const data = Buffer.from(withoutLength.replace('LENGTH', length));
    expect(data.toString('latin1').indexOf('From the press release:') - data.toString('latin1').indexOf('first body')).toBe(Number(length) + 1);
    for (const cut of [5, 100, data.length]) {
      const messages = await collect(splitMbox(chunked(data, [cut, data.length])));
      expect(messages.map((m) => m.envelope)).toEqual([ENV1, ENV2]);
      expect(messages[1]!.raw.toString('latin1')).toBe(second);
    }
  });

  // Red team G-01: an unsigned length that reached exactly to a later real separator hid the
  // whole message between (signed, dated, with its header block) inside the first one's body
  it('cuts at a dated "From " line above a header inside a Content-Length that lands on a separator', async () => {
    const second = 'From: b@example.org\nSubject: two\nDKIM-Signature: v=1; d=example.org\n\nthe signed one\n';
    const third = 'From: c@example.org\nSubject: three\n\nlast\n';
    const body1 = `an unsigned note\n\n${ENV2}\n${second}\n`;
    const first = `From: m@else.example\nSubject: one\nContent-Length: ${body1.length}\n\n${body1}`;
    const data = Buffer.from(`${ENV1}\n${first}${ENV3}\n${third}\n`);
    // the length does land on the third separator
    expect(data.toString('latin1').indexOf(`${ENV3}\n`)).toBe(data.toString('latin1').indexOf('an unsigned note') + body1.length);
    for (const cut of [5, 64, 150, data.length]) {
      const messages = await collect(splitMbox(chunked(data, [cut, data.length])));
      expect(messages.map((m) => [m.envelope, m.raw.toString('latin1')])).toEqual([
        [ENV1, `From: m@else.example\nSubject: one\nContent-Length: ${body1.length}\n\nan unsigned note\n`],
        [ENV2, second],
        [ENV3, third],
      ]);
      expect(await collect(splitMboxRanges(chunked(data, [cut, data.length])))).toHaveLength(3);
    }
  });

  // The same mailbox: the cut above is right, but the file said otherwise, and an analyst must
  // be able to see that leakcheck did not follow it (the note on the mbox's row)
  it('tells of each Content-Length that would have held and that separators inside its body overruled', async () => {
    const signed = (n: number): string => `From: b${n}@example.org\nSubject: hidden ${n}\nDKIM-Signature: v=1; d=example.org\n\nthe signed one\n`;
    const env = (n: number): string => `From bob@example.org Mon Jan  1 00:00:${String(n).padStart(2, '0')} 2024`;
    const third = 'From: c@example.org\nSubject: last\n\nlast\n';
    /** an mbox whose first message's unsigned length covers `hidden` whole messages, and lands on the separator after them */
    const mbox = (hidden: number, length = (body: string): number => body.length): { data: Buffer; end: number } => {
      const body1 = `an unsigned note\n\n${Array.from({ length: hidden }, (_, i) => `${env(i + 2)}\n${signed(i + 2)}\n`).join('')}`;
      const head = `${ENV1}\nFrom: m@else.example\nSubject: one\nContent-Length: ${length(body1)}\n\n`;
      return { data: Buffer.from(`${head}${body1}${ENV3}\n${third}\n`), end: head.length + length(body1) };
    };
    const told = async (data: Buffer, cut: number, ranges: boolean): Promise<{ count: number; overruled: OverruledLengths }> => {
      const overruled = new OverruledLengths();
      const source = chunked(data, [cut, data.length]);
      const count = (ranges ? await collect(splitMboxRanges(source, { overruled })) : await collect(splitMbox(source, { overruled }))).length;
      return { count, overruled };
    };
    for (const hidden of [1, 2]) {
      const { data, end } = mbox(hidden);
      for (const cut of [5, 64, 150, data.length]) {
        for (const ranges of [false, true]) {
          const { count, overruled } = await told(data, cut, ranges);
          expect(count).toBe(hidden + 2);
          expect([overruled.lengths, overruled.separators]).toEqual([1, hidden]);
          expect(overruled.named).toEqual([{ index: 0, declaredEnd: end, separators: hidden, firstMessage: 1, lastMessage: hidden }]);
        }
      }
    }
    expect((await told(mbox(2).data, 64, true)).overruled.note()).toBe(
      'Content-Length overruled at 2 separator lines (a "From " line with a date, above a header line), where the messages were cut and read on their own: ' +
        `message 0's declares a body up to byte ${mbox(2).end}, which would have held messages 1-2`,
    );
    // a length that would not have held (landing mid-line) was never going to be followed: nothing to tell
    const broken = await told(mbox(1, (body) => body.length - 3).data, 64, true);
    expect([broken.count, broken.overruled.note()]).toEqual([3, null]);
    // nor is a length that holds over a body with no separator in it
    const honoured = await told(Buffer.from(`${ENV1}\nFrom: a@example.org\nContent-Length: 5\n\nhello\n${ENV2}\n${MSG2}`), 64, true);
    expect([honoured.count, honoured.overruled.note()]).toEqual([2, null]);
  });

  it('counts a separator once however many overruled bodies it lies in, and names the first five lengths', async () => {
    // every message declares a length reaching the same last separator: each cut is inside all the bodies before it
    const count = 12;
    const tail = `${ENV3}\nFrom: c@example.org\n\nlast\n`;
    const messages: string[] = [];
    /** from the end of a message's header block to the last separator */
    let rest = 0;
    for (let i = count - 1; i >= 0; i--) {
      const body = `body ${i}\n`;
      rest += body.length;
      const message = `From bob@example.org Mon Jan  1 00:00:${String(i).padStart(2, '0')} 2024\nFrom: b${i}@example.org\nContent-Length: ${rest}\n\n${body}`;
      messages.unshift(message);
      rest += message.length - body.length;
    }
    const overruled = new OverruledLengths();
    expect(await collect(splitMboxRanges(chunked(Buffer.from(messages.join('') + tail), [100]), { overruled }))).toHaveLength(count + 1);
    expect([overruled.lengths, overruled.separators]).toEqual([count - 1, count - 1]);
    expect(overruled.named.map((o) => [o.index, o.separators, o.firstMessage, o.lastMessage])).toEqual([
      [0, 11, 1, 11], [1, 10, 2, 11], [2, 9, 3, 11], [3, 8, 4, 11], [4, 7, 5, 11],
    ]);
    expect(overruled.note()).toMatch(/^Content-Length overruled at 11 separator lines .*; and 6 more lengths$/);
  });

  // Red team 27, B-04: a dateless "From " line is a separator only above a field a message
  // begins with; any "name:" line counted, and a genuine message was cut in two.
  it('cuts at a dateless "From " line only above a mail header field, not above "Note:", "PS:" or a URL', async () => {
    const body = 'As agreed.\n\nFrom the press release:\nhttps://press.example.org/2017/q1\n\nFrom our side\nNote: nothing changes\n\nFrom me\nPS: call me\n';
    const one = `From: alice@example.org\nSubject: press\n\n${body}`;
    for (const eol of ['\n', '\r\n']) {
      const withEol = (text: string) => text.replaceAll('\n', eol);
      const dateless = ['From alice@example.org', 'From bob@example.org', 'From carol@example.org'];
      const heads = ['Return-Path: <bob@example.org>', 'X-Mozilla-Status: 0001', 'Message-ID: <c@example.org>'];
      const others = heads.map((head, i) => `${head}\nFrom: n${i}@example.org\n\nhello ${i}\n`);
      const data = Buffer.from(withEol(`${dateless[0]}\n${one}\n${dateless[1]}\n${others[0]}\n${ENV2}\n${others[1]}\n${dateless[2]}\n${others[2]}\n`));
      for (const cut of [3, 64, data.length]) {
        const messages = await collect(splitMbox(chunked(data, [cut, data.length])));
        expect(messages.map((m) => m.raw.toString('latin1'))).toEqual([one, ...others].map(withEol));
      }
    }
  });

  it('streams a large mbox, with lines longer than a chunk, into exact copies', async () => {
    const pieces: string[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 2000; i += 1) {
      const body = i % 250 === 0 ? `${'x'.repeat(200_000)}\n` : `message ${i}\nFrom: inside a body ${i}\n`;
      const message = `From: n${i}@example.org\nMessage-ID: <${i}@example.org>\n\n${body}`;
      expected.push(message);
      pieces.push(`From n${i}@example.org Mon Jan  1 00:00:00 2024\n${message}\n`);
    }
    const path = join(dir, 'big.mbox');
    await writeFile(path, pieces.join(''));
    const file = await readFile(path);
    const messages = await collect(readMbox(path, { highWaterMark: 4096 }));
    // "From: inside" is a header-looking body line, not a separator ("From:" has no space).
    expect(messages.map((m) => m.raw.toString())).toEqual(expected);
    expectSlicesOfFile(file, messages);
    // Each raw owns its memory: no view into a stream chunk or a shared pool.
    for (const m of messages) expect(m.raw.buffer.byteLength).toBeLessThanOrEqual(m.raw.length + 2);
  });

  it('accepts a BOM and blank lines before the first separator', async () => {
    const path = join(dir, 'bom.mbox');
    await writeFile(path, `\uFEFF\n\n${ENV1}\n${MSG1}`);
    const [only] = await collect(readMbox(path));
    expect(only?.raw.toString()).toBe(MSG1);
    expect(only?.offset).toBe(3 + 2 + ENV1.length + 1);
  });

  it('refuses a file whose first line is not a separator', async () => {
    const path = join(dir, 'not.mbox');
    await writeFile(path, `>${ENV1}\n${MSG1}`);
    await expect(collect(readMbox(path))).rejects.toMatchObject({ name: 'ReadError', code: 'malformed-mbox' });
  });

  it('handles an empty file and a last separator without message or line ending', async () => {
    const empty = join(dir, 'empty');
    await writeFile(empty, '');
    expect(await collect(readMbox(empty))).toEqual([]);
    const tail = join(dir, 'tail');
    await writeFile(tail, `${ENV1}\n${MSG1}\n${ENV2}`);
    expect(summary(await collect(readMbox(tail)))).toEqual([
      [0, ENV1.length + 1, MSG1, ENV1],
      [1, ENV1.length + 1 + MSG1.length + 1 + ENV2.length, '', ENV2],
    ]);
  });

  it('skips a message over maxMessageBytes, yields the others, then reports it', async () => {
    const big = `From: big\n\n${'y'.repeat(5000)}\n`;
    const path = join(dir, 'inbox');
    await writeFile(path, `${ENV1}\n${MSG1}\n${ENV2}\n${big}\n${ENV3}\n${MSG3}`);
    const seen: RawMessage[] = [];
    let failure: unknown;
    try {
      for await (const m of readMbox(path, { maxMessageBytes: 1000, highWaterMark: 256 })) seen.push(m);
    } catch (error) {
      failure = error;
    }
    expect(seen.map((m) => [m.index, m.raw.toString()])).toEqual([
      [0, MSG1],
      [2, MSG3],
    ]);
    expect(failure).toBeInstanceOf(ReadError);
    expect(failure).toMatchObject({ code: 'too-large' });
    expect((failure as Error).message).toContain('message 1 at offset');
  });

  it("assembles each message in the caller's memory when it has room, else in memory of its own, and a message over 16 MB does not spoil the ones after it", async () => {
    const huge = `From: huge\n\n${'z'.repeat(17 * 1024 * 1024)}\n`;
    const data = Buffer.from(`${ENV1}\n${MSG1}\n${ENV2}\n${huge}\n${ENV3}\n${MSG3}\n${ENV1}\n${MSG2}`, 'latin1');
    const room = Buffer.alloc(4096);
    const given: number[] = [];
    const memory = {
      // room for the small messages only, one at a time
      take: (size: number): Buffer | null => (size <= room.length ? (given.push(size), room.subarray(0, size)) : null),
    };
    const texts: string[] = [];
    const inRoom: boolean[] = [];
    for await (const m of splitMbox(chunked(data, [1024 * 1024, 7]), { memory })) {
      texts.push(m.raw.toString('latin1'));
      inRoom.push(m.raw.buffer === room.buffer);
    }
    expect(texts).toEqual([MSG1, huge, MSG3, MSG2]);
    expect(inRoom).toEqual([true, false, true, true]);
    expect(given).toEqual([MSG1.length + 1, MSG3.length + 1, MSG2.length]);
  });

  it('gives back the memory it assembled a message in as it grows, and the last message\'s at the end, not to a collection', async () => {
    // (a Takeout ending with a 50 MB message kept the 64 MB it was assembled in, and the 16 and
    // 32 MB before them, through the message's analysis)
    const large = `From: large\n\n${'z'.repeat(5 * 1024 * 1024)}\n`;
    const data = Buffer.from(`${ENV1}\n${MSG1}\n${ENV2}\n${large}`, 'latin1');
    const assembled: Array<{ size: number; memory: ArrayBufferLike }> = [];
    const allocate = Buffer.allocUnsafeSlow.bind(Buffer);
    vi.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation((size: number) => {
      const made = allocate(size);
      if (size >= 1024 * 1024) assembled.push({ size, memory: made.buffer });
      return made;
    });
    const texts: string[] = [];
    for await (const m of splitMbox(chunked(data, [64 * 1024]), { memory: { take: () => null } })) texts.push(m.raw.toString('latin1', 0, 12));
    vi.restoreAllMocks();
    expect(texts).toEqual([MSG1.slice(0, 12), large.slice(0, 12)]);
    // 1, 2, 4, 8 MB grown into, then the message's own copy (the caller's, not given back)
    expect(assembled.map((a) => a.size)).toEqual([1, 2, 4, 8].map((mb) => mb * 1024 * 1024).concat(large.length));
    // (given back: emptied)
    expect(assembled.map((a) => a.memory.byteLength)).toEqual([0, 0, 0, 0, large.length]);
  });

  it('releases its source when abandoned early', async () => {
    let released = false;
    const source = (async function* () {
      try {
        yield Buffer.from(MBOX);
        yield Buffer.from(`${ENV1}\n${MSG1}`);
      } finally {
        released = true;
      }
    })();
    for await (const m of splitMbox(source)) {
      expect(m.index).toBe(0);
      break;
    }
    expect(released).toBe(true);
  });

  it('can be abandoned early without error', async () => {
    const path = join(dir, 'inbox');
    await writeFile(path, MBOX);
    for await (const m of readMbox(path, { highWaterMark: 8 })) {
      expect(m.index).toBe(0);
      break;
    }
    expect(await collect(readMbox(path))).toHaveLength(3);
  });
});

/** The messages at the ranges, read from the file as the workers read them. */
function atRanges(file: Buffer, ranges: MboxRange[]): RawMessage[] {
  return ranges.map((range) => messageFromRange(range, file.subarray(range.offset, range.offset + range.size)));
}

function bigMbox(): string {
  const pieces: string[] = [];
  for (let i = 0; i < 300; i += 1) {
    const body = i % 50 === 0 ? `${'x'.repeat(200_000)}\n` : `message ${i}\nFrom: inside a body ${i}\n`;
    pieces.push(`From n${i}@example.org Mon Jan  1 00:00:00 2024\nFrom: n${i}@example.org\n\n${body}\n`);
  }
  return pieces.join('');
}

describe('which "From " lines separate messages', () => {
  // An mboxo writer leaves a body line that begins with "From " unquoted.
  const BODY_FROM = 'From: alice@example.org\nSubject: budget\n\nHi,\nFrom now on the budget is frozen.\nAlice\n';
  const DATELESS = 'From bob@example.org\n';
  const cases: Array<[string, string, string[]]> = [
    ['a body line that begins with "From " and carries no date', `${ENV1}\n${BODY_FROM}\n${ENV2}\n${MSG2}`, [BODY_FROM, MSG2]],
    ['an obsolete-syntax "From :" header', `${ENV1}\nFrom : alice@example.org\nSubject: x\n\nbody\n`, ['From : alice@example.org\nSubject: x\n\nbody\n']],
    ['a dateless separator followed by a header line', `${ENV1}\n${MSG1}\n${DATELESS}${MSG2}`, [MSG1, MSG2]],
    ['a separator with a date and a Takeout-style zone', `${ENV1}\n${MSG1}\nFrom 1573820957045329411@xxx Fri Aug 02 17:51:47 +0000 2019\n${MSG2}`, [MSG1, MSG2]],
    ['a Thunderbird separator', `From - Mon Jan 01 00:00:00 2018\n${MSG1}\nFrom - Tue Jan 02 00:00:00 2018\n${MSG2}`, [MSG1, MSG2]],
  ];
  it.each(cases)('%s', async (_what, mbox, expected) => {
    const data = Buffer.from(mbox, 'latin1');
    for (const size of [1, 2, 5, 64, 100_000]) {
      const messages = await collect(splitMbox(chunked(data, [size])));
      expect(messages.map((m) => m.raw.toString('latin1')), `chunks of ${size}`).toEqual(expected);
      const ranges = await collect(splitMboxRanges(chunked(data, [size])));
      expect(summary(atRanges(data, ranges)), `ranges, chunks of ${size}`).toEqual(summary(messages));
    }
  });
});

describe('scanMbox', () => {
  // Mail programs append to an mbox: the scan read to the end the file had by then, and the row
  // paired the size the walk saw with the hash of a longer file (red team V, V-05).
  it('scans and hashes the bytes the file had when it was opened, not bytes appended since', async () => {
    const path = join(dir, 'growing');
    await writeFile(path, MBOX);
    const scan = await scanMbox(path, { highWaterMark: 7 });
    await writeFile(path, `${MBOX}${ENV1}\nFrom: late@example.org\nSubject: appended\n\nlate\n`, { flag: 'w' });
    const ranges = await collect(scan.ranges);
    expect(ranges).toHaveLength(3);
    expect(scan.sha256()).toBe(createHash('sha256').update(MBOX).digest('hex'));
  });

  it('a file cut while it is scanned is a ReadError "changed", with no sha256', async () => {
    const path = join(dir, 'shrinking');
    await writeFile(path, MBOX);
    const scan = await scanMbox(path, { highWaterMark: 7 });
    await writeFile(path, MBOX.slice(0, 60));
    const error = await collect(scan.ranges).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ReadError);
    expect(error).toMatchObject({ code: 'changed', message: expect.stringContaining(`${Buffer.byteLength(MBOX)} bytes when scanned, 60 when its end was reached`) });
    expect(scan.sha256()).toBeNull();
  });

  it('locates exactly the messages readMbox reads, whatever the chunk size, and hashes the whole file', async () => {
    const contents = {
      lf: MBOX,
      crlfWithBom: `\uFEFF\r\n${MBOX.replaceAll('\n', '\r\n')}`,
      crOnly: MBOX.replaceAll('\n', '\r'),
      tail: `${ENV1}\n${MSG1}\n${ENV2}`,
      empty: '',
      big: bigMbox(),
    };
    for (const [name, content] of Object.entries(contents)) {
      const path = join(dir, name);
      await writeFile(path, content);
      const file = await readFile(path);
      const reference = summary(await collect(readMbox(path)));
      // (byte-sized chunks for the small ones only: each chunk is a trip to the thread pool)
      for (const highWaterMark of name === 'big' ? [4096, 65_536, undefined] : [1, 2, 3, 7, 13, 64, 4096, undefined]) {
        const scan = await scanMbox(path, highWaterMark === undefined ? {} : { highWaterMark });
        expect(scan.identity.size).toBe(file.length);
        expect(scan.sha256()).toBeNull();
        const ranges = await collect(scan.ranges);
        expect(summary(atRanges(file, ranges)), `${name}, chunks of ${highWaterMark}`).toEqual(reference);
        expect(scan.sha256()).toBe(createHash('sha256').update(file).digest('hex'));
      }
    }
  });

  it('cuts the same ranges from chunks that are scribbled over once handed on, split at every boundary', async () => {
    const data = Buffer.from(`\uFEFF\r\n${MBOX.replaceAll('\n', '\r\n')}`);
    const reference = summary(await collect(splitMbox(chunked(data, [data.length]))));
    for (let cut = 1; cut < data.length; cut += 1) {
      expect(summary(atRanges(data, await collect(splitMboxRanges(chunked(data, [cut, data.length])))))).toEqual(reference);
    }
    expect(summary(atRanges(data, await collect(splitMboxRanges(chunked(data, [1, 2, 0, 3])))))).toEqual(reference);
  });

  it('skips a message over maxMessageBytes like readMbox, and leaves the hash unreported when it stops short', async () => {
    const path = join(dir, 'inbox');
    await writeFile(path, `${ENV1}\n${MSG1}\n${ENV2}\n${`From: big\n\n${'y'.repeat(5000)}\n`}\n${ENV3}\n${MSG3}`);
    const scan = await scanMbox(path, { maxMessageBytes: 1000, highWaterMark: 256 });
    const seen: MboxRange[] = [];
    await expect(
      (async () => {
        for await (const range of scan.ranges) seen.push(range);
      })(),
    ).rejects.toMatchObject({ code: 'too-large' });
    expect(seen.map((r) => r.index)).toEqual([0, 2]);
    // every byte was read before the report: the hash is the file's
    expect(scan.sha256()).toBe(createHash('sha256').update(await readFile(path)).digest('hex'));

    // (a file longer than what is read ahead at a message's start: its header block, up to 64 KB)
    const long = join(dir, 'long');
    await writeFile(long, `${ENV1}\n${MSG1}\n${ENV2}\n${`From: big\n\n${'y\n'.repeat(100_000)}`}`);
    const early = await scanMbox(long, { highWaterMark: 8 });
    for await (const range of early.ranges) {
      expect(range.index).toBe(0);
      break;
    }
    expect(early.sha256()).toBeNull();
  });
});
