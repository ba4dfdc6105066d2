import { describe, expect, it } from 'vitest';
import { hasFromQuoting, unquoteMboxrd } from '../../src/read/mbox-quoting.ts';

describe('hasFromQuoting', () => {
  it('finds >From at the start of any line, however deeply quoted', () => {
    expect(hasFromQuoting(Buffer.from('>From here'))).toBe(true);
    expect(hasFromQuoting(Buffer.from('a\r\n>>>From x\r\n'))).toBe(true);
    expect(hasFromQuoting(Buffer.from('From me\nx >From y\n> From z\n>Fromage\n>from a\n'))).toBe(false);
    expect(hasFromQuoting(Buffer.alloc(0))).toBe(false);
  });
});

describe('unquoteMboxrd', () => {
  it('removes exactly one > from each quoted From line and nothing else', () => {
    const input = 'Subject: x\r\n\r\n>From a\r\n>>From b\n> From c\n>Fromage\nmid >From d\n>From';
    expect(unquoteMboxrd(Buffer.from(input)).toString()).toBe(
      'Subject: x\r\n\r\nFrom a\r\n>From b\n> From c\n>Fromage\nmid >From d\n>From',
    );
  });

  it('keeps 8-bit bytes intact', () => {
    const input = Buffer.concat([
      Buffer.from([0xe9, 0xff, 0x0a]),
      Buffer.from('>From x '),
      Buffer.from([0x80, 0xc3, 0x0a, 0x3e, 0x46]),
    ]);
    const expected = Buffer.concat([
      Buffer.from([0xe9, 0xff, 0x0a]),
      Buffer.from('From x '),
      Buffer.from([0x80, 0xc3, 0x0a, 0x3e, 0x46]),
    ]);
    expect(unquoteMboxrd(input).equals(expected)).toBe(true);
  });

  it('returns the input itself when nothing is quoted', () => {
    const input = Buffer.from('From: a\n\nbody\n');
    expect(unquoteMboxrd(input)).toBe(input);
  });
});
