import { describe, expect, it } from 'vitest';
import { sniffContainer } from '../../src/discover/sniff.ts';
import { readEmlx } from '../../src/read/emlx.ts';
import { isEmlxEntry, refusalOfHead, sniffsAsMessage } from '../../src/read/zip-entry.ts';
import { ReadError } from '../../src/read/types.ts';

const MESSAGE = 'From: a@example.org\nSubject: hi\n\nbody\n';
const PLIST = '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict/></plist>\n';

function expectReadError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ReadError);
    expect((error as ReadError).code).toBe(code);
    return;
  }
  throw new Error('expected a ReadError');
}

describe('readEmlx', () => {
  it('cuts out exactly the counted message', () => {
    const bytes = Buffer.from(`${MESSAGE.length}\n${MESSAGE}${PLIST}`);
    const message = readEmlx(bytes);
    expect(message).toMatchObject({ index: 0, offset: String(MESSAGE.length).length + 1, format: 'emlx' });
    expect(message.raw.toString()).toBe(MESSAGE);
    expect(bytes.subarray(message.offset, message.offset + message.raw.length).equals(message.raw)).toBe(true);
  });

  it('cuts before a plist after blank lines, and for a file that ends with the message', () => {
    for (const tail of ['', '\n\n', `\r\n${PLIST}`, '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN">\n<plist/>']) {
      expect(readEmlx(Buffer.from(`${MESSAGE.length}\n${MESSAGE}${tail}`)).format, JSON.stringify(tail)).toBe('emlx');
    }
  });

  // Text after the count is hidden by it from Apple Mail, and shown by a reader that takes the
  // file for a plain message: the whole file is then the message, and its signature judges it.
  it('gives the whole file as a plain message when the counted bytes are followed by anything but the plist', () => {
    const bytes = Buffer.from(`${MESSAGE.length}\n${MESSAGE}P.S. please wire 50,000 EUR today.\n${PLIST}`);
    const message = readEmlx(bytes);
    expect(message).toMatchObject({ index: 0, offset: 0, format: 'eml' });
    expect(message.raw.equals(bytes)).toBe(true);
  });

  it('accepts a count padded with spaces', () => {
    const countLine = `${MESSAGE.length}`.padStart(10, ' ');
    const message = readEmlx(Buffer.from(`${countLine}\n${MESSAGE}${PLIST}`));
    expect(message.offset).toBe(11);
    expect(message.raw.toString()).toBe(MESSAGE);
  });

  // The sniff looks past a byte-order mark and blank lines before the count, as before a
  // message's first header; the reader used to refuse what the sniff had called an emlx.
  it('reads past a byte-order mark and blank lines before the count, as the sniff does', () => {
    const bytes = Buffer.from(`\ufeff\r\n\n${MESSAGE.length}\n${MESSAGE}${PLIST}`);
    expect(sniffContainer(bytes, 'Messages/1.emlx')).toEqual({ kind: 'emlx' });
    // and inside a zip, where the entry was taken for a plain message and read with its count line
    expect(isEmlxEntry(bytes)).toBe(true);
    expect(sniffsAsMessage(bytes)).toBe(true);
    const message = readEmlx(bytes);
    expect(message).toMatchObject({ offset: 3 + 3 + String(MESSAGE.length).length + 1, format: 'emlx' });
    expect(message.raw.toString()).toBe(MESSAGE);
  });

  it('counts bytes, not characters', () => {
    const eightBit = Buffer.concat([Buffer.from('Subject: caf'), Buffer.from([0xc3, 0xa9, 0xff]), Buffer.from('\n\nx\n')]);
    const bytes = Buffer.concat([Buffer.from(`${eightBit.length}\n`), eightBit, Buffer.from(PLIST)]);
    expect(readEmlx(bytes).raw.equals(eightBit)).toBe(true);
  });

  it('reports a count larger than what follows as truncated', () => {
    expectReadError(() => readEmlx(Buffer.from(`${MESSAGE.length + 1}\n${MESSAGE}`)), 'truncated');
    expectReadError(() => readEmlx(Buffer.from('500\nFrom: a\n')), 'truncated');
  });

  it('reports a first line that is not a count as malformed', () => {
    expectReadError(() => readEmlx(Buffer.from(`From: a\n${MESSAGE}`)), 'malformed-emlx');
    expectReadError(() => readEmlx(Buffer.from(`12a\n${MESSAGE}`)), 'malformed-emlx');
    expectReadError(() => readEmlx(Buffer.from('1234')), 'malformed-emlx');
    expectReadError(() => readEmlx(Buffer.alloc(0)), 'malformed-emlx');
    expectReadError(() => readEmlx(Buffer.from(`${'9'.repeat(30)}\n${MESSAGE}`)), 'malformed-emlx');
  });
});

// Red team G-06: an emlx whose count line was damaged ("-773", "1e3", a long run of leading
// zeros) was "text file, not an email", and inside a zip it had no row at all
describe('an emlx whose count line is damaged', () => {
  const damaged = (count: string): Buffer => Buffer.from(`${count}\n${MESSAGE}${PLIST}`);

  it('is sniffed as an emlx, loose or as a zip entry, and refused with what is wrong', () => {
    for (const count of [`-${MESSAGE.length}`, '1e3', `+${MESSAGE.length}`, `${MESSAGE.length}.0`]) {
      expect(sniffContainer(damaged(count), 'Messages/1.emlx'), count).toEqual({ kind: 'emlx' });
      expect(isEmlxEntry(damaged(count)), count).toBe(true);
      expect(refusalOfHead(damaged(count), damaged(count).length, 1 << 20, false), count).toBeNull();
      expect(() => readEmlx(damaged(count)), count).toThrow(expect.objectContaining({ code: 'malformed-emlx', message: expect.stringContaining(`"${count}", is not a byte count`) }));
    }
  });

  it('is read when the count is digits, however many leading zeros it has', () => {
    const message = readEmlx(damaged(`${'0'.repeat(70)}${MESSAGE.length}`));
    expect([message.format, message.raw.toString()]).toEqual(['emlx', MESSAGE]);
  });

  it('is not found in a first line that is no number', () => {
    for (const first of ['- 773', 'abc', '773 bytes']) expect(sniffContainer(damaged(first), 'notes.txt'), first).toMatchObject({ kind: 'skip' });
  });
});
