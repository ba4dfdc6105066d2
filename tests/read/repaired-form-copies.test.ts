/**
 * The repaired forms of a message (CRLF restored, `>From ` quoting undone, SMTP dots taken out,
 * a gateway's Subject tag taken out) are each made in one copy, from the message as stored, and
 * no copy of the message without its dots is kept for the forms made from it: a forged 50 MB
 * message stored with bare LFs, four `>From ` lines, stuffed dots and NUL padding peaked at
 * 364–398 MB, three copies alive beside the message (red team BB, BB-04); 264 MB now.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { repairVariants, type RepairVariant } from '../../src/analyze/repair-variants.ts';
import { toCrlf, toCrlfWithout } from '../../src/read/line-endings.ts';
import { quotedFromLineStarts, unquoteLinesAt } from '../../src/read/mbox-quoting.ts';
import { caseRng, pick, randInt } from '../../src/fuzz/mutate.ts';
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { offlineFileLookup } from '../../src/keys/key-lookup.ts';
import { DEMO_KEYS } from '../helpers/cli.ts';
import { largeAllocations } from '../helpers/large-allocations.ts';
import { formSize, repairCopies } from '../helpers/repair-copies.ts';
import { demoMessage, signWithFixtureKey } from '../hostile/sign.ts';

afterEach(() => vi.restoreAllMocks());

describe('toCrlfWithout (a form taken out and made CRLF in one copy)', () => {
  it('gives what taking the bytes out and then restoring CRLF gives, on 20,000 seeded inputs', () => {
    const rng = caseRng(37, 0);
    const alphabet = [0x0a, 0x0d, 0x2e, 0x3e, 0x20, 0x61, 0x46];
    let compared = 0;
    for (let c = 0; c < 20_000; c++) {
      const raw = Buffer.from(Array.from({ length: randInt(rng, 41) }, () => (rng() < 0.9 ? pick(rng, alphabet) : randInt(rng, 256))));
      const drops = [...new Set(Array.from({ length: raw.length ? randInt(rng, 6) : 0 }, () => randInt(rng, raw.length)))].sort((a, b) => a - b);
      const twoSteps = Buffer.from(toCrlf(unquoteLinesAt(raw, drops)));
      expect(Buffer.from(toCrlfWithout(raw, drops)).toString('latin1'), JSON.stringify([raw.toString('latin1'), drops])).toBe(twoSteps.toString('latin1'));
      compared++;
    }
    expect(compared).toBe(20_000);
  });

  it('reads the `>From ` lines of the message without its dots where they stand in the message', () => {
    const raw = Buffer.from('S: x\n\n..>From a\n.>From b\n>From c\n..From d\n');
    const dots = [6, 16];
    const unstuffed = unquoteLinesAt(raw, dots);
    // in the copy without the dots, the lines are ".>From a", ">From b" (its dot was the transfer's), ">From c"
    const inCopy = quotedFromLineStarts(unstuffed);
    const inPlace = quotedFromLineStarts(raw, dots);
    expect(inPlace).toEqual([17, 25]);
    expect(inPlace.map((at) => raw.toString('latin1', at, at + 7))).toEqual(inCopy.map((at) => unstuffed.toString('latin1', at, at + 7)));
  });
});

/** Memory that counts what the forms hold at once, as analyzeForms keeps them: the best form and the one tried. */
class CountedMemory {
  held = 0;
  peak = 0;
  take(size: number): Buffer {
    this.held += size;
    this.peak = Math.max(this.peak, this.held);
    return Buffer.alloc(size);
  }
  release(bytes: Uint8Array): void {
    this.held -= bytes.length;
  }
}

describe('repairVariants: what a message needing every repair holds at once', () => {
  const lines = Array.from({ length: 20_000 }, (_, i) =>
    i % 5_000 === 7 ? '>From the desk of someone' : i % 3_000 === 11 ? '..an ellipsis' : 'a'.repeat(76),
  );
  const message = Buffer.from(`From: a@demo.example\nSubject: [EXTERNAL] hello\nDKIM-Signature: v=1; d=demo.example\n\n${lines.join('\n')}\n${'\0'.repeat(64)}`, 'latin1');

  it('holds the best form and the one tried, never a third copy, and makes none outside its memory', () => {
    const memory = new CountedMemory();
    const outside = largeAllocations(message.length / 2);
    const take = memory.take.bind(memory);
    memory.take = (size: number) => outside.exempt(() => take(size));
    const forms: RepairVariant[] = [];
    let best: RepairVariant | null = null;
    for (const form of repairVariants(message, 'eml', memory)) {
      forms.push({ ...form, bytes: Buffer.alloc(0) });
      // the first form stays the best, as it does for a forged message; every other one loses
      if (!best) best = form;
      else form.release?.();
    }
    // every repair was tried: quoting (the all and the line-by-line readings), padding, dots, the tag
    const repairs = new Set(forms.flatMap((f) => f.repairs));
    expect([...repairs].sort()).toEqual(['crlf', 'gateway-subject-tag', 'mbox-unquote-some', 'mboxrd-unquote', 'smtp-dot-unstuff', 'strip-trailing-padding']);
    expect(forms.length).toBeGreaterThan(20);
    expect(outside.sizes).toEqual([]);
    // (the largest form is the message with a CR put before each of its LFs)
    const largest = message.length + message.toString('latin1').split('\n').length - 1;
    expect(memory.peak).toBeLessThanOrEqual(2 * largest);
  });

  it('analysed whole, a signed message altered after signing and needing every repair has one form alive at a time, and is still judged on the best', async () => {
    // signed over the lines as written (no quoting, no dots), then altered, then stored so
    const signed = await signWithFixtureKey(demoMessage({ id: 'every-repair', subject: '[EXTERNAL] hello', body: `${lines.map((l) => l.replace(/^>From/, 'From').replace(/^\.\./, '.')).join('\r\n')}\r\n` }));
    const stored = Buffer.from(`${signed.replace('a'.repeat(76), 'b'.repeat(76)).replace(/\r\n/g, '\n')}${'\0'.repeat(64)}`, 'latin1');
    // (the keys file is read at the first lookup, in a buffer of its own)
    const lookup = offlineFileLookup(DEMO_KEYS);
    await lookup('s2048._domainkey.demo.example');
    const copies = repairCopies(stored);
    const a = await analyzeMessage({ raw: stored, format: 'eml' }, lookup);
    expect(a.verdict).toMatchObject({ verdict: 'suspicious', reasons: ['dkim-body-modified'] });
    // every form fails alike, so the first (the message as found, made CRLF) stays the best,
    // though twenty more were tried after it
    expect(a.signatures.map((s) => [s.outcome, s.headerSignatureValid])).toEqual([['body-modified', true]]);
    expect(a.repairs).toEqual(['crlf']);
    expect(a.sha256).toBe(createHash('sha256').update(stored).digest('hex'));
    // the best form's copy is given back while the others are tried, and made again at the end
    expect(copies.peak()).toBeGreaterThan(0.9 * formSize(stored));
    expect(copies.peak()).toBeLessThanOrEqual(formSize(stored));
    expect(copies.outside).toEqual([]);
  });
});

describe('repairVariants: a message stored with CR CR LF line ends', () => {
  // The CRs doubled before each LF are taken out as each form is made, not from a copy without
  // them kept beside the forms (a third copy of a 50 MB message). Every form after the message as
  // found must be the form the same message stored with CRLF gives, byte for byte, with `crcrlf`
  // among its repairs: the dots, the quoting, the gateway's tag and the transfer's end are read
  // where the lines stand in the stored bytes.
  const LINES = ['Lorem ipsum dolor sit amet', '>From the desk', 'From the archive', '..an ellipsis', '.a dot', '', ' folded', '>>From twice', '...'];
  const doubled = (text: string): string => text.replace(/\r\n/g, '\r\r\n');
  /** Folded header lines that take the next field to `offset` in the message stored with CRLF. */
  const fillerLines = (offset: number): string[] => {
    const lines = ['X-Filler: 0'];
    let length = 'From: a@demo.example\r\n'.length + lines[0]!.length + 2;
    while (length + 100 < offset) {
      lines.push(` ${'f'.repeat(97)}`);
      length += 100;
    }
    lines.push(` ${'g'.repeat(Math.max(1, offset - length - 3))}`);
    return lines;
  };
  const formsOf = (raw: Buffer, format: 'eml' | 'mbox') =>
    [...repairVariants(raw, format)].map((f) => ({ bytes: Buffer.from(f.bytes).toString('latin1'), repairs: f.repairs, quoting: f.quoting }));

  it('gives the forms the same message stored with CRLF gives, on 1,500 seeded messages', () => {
    const rng = caseRng(38, 0);
    let compared = 0;
    for (let c = 0; c < 1_500; c++) {
      const subject = pick(rng, ['hello', '[EXTERNAL] hello', '[EXTERNAL] hello', 'EXTERNAL: a', 'x'.repeat(randInt(rng, 3) * 100_000) + ' [EXT] far']);
      // (a tenth of them: the Subject where the 256 KiB of header the tag is looked for in ends)
      const filler = rng() < 0.1 ? fillerLines(262_144 - 200 + randInt(rng, 400)) : [];
      const head = [`From: a@demo.example`, ...filler, `Subject: ${subject}`, ...(rng() < 0.3 ? ['Subject: another'] : []), 'DKIM-Signature: v=1; d=demo.example'];
      const body = Array.from({ length: randInt(rng, 12) }, () => pick(rng, LINES));
      const text = `${head.join('\r\n')}\r\n\r\n${body.join('\r\n')}${rng() < 0.8 ? '\r\n' : ''}`;
      const ended = rng() < 0.3 ? `${text}${text.endsWith('\r\n') ? '' : '\r\n'}.\r\n` : text;
      const padding = rng() < 0.3 ? '\0'.repeat(1 + randInt(rng, 600)) : '';
      const format = rng() < 0.5 ? 'eml' : 'mbox';
      const crlf = formsOf(Buffer.from(ended + padding, 'latin1'), format);
      const stored = formsOf(Buffer.from(doubled(ended) + padding, 'latin1'), format);
      // the message as found: itself, and unquoted when a line is quoted
      const asFound = 1 + (/(^|\n)>+From /.test(ended) ? 1 : 0);
      const damaged = padding !== '' || ended !== text;
      const expected = (damaged ? crlf.slice(asFound) : crlf).map((f) => {
        const at = f.repairs.includes('strip-trailing-padding') ? 1 : 0;
        return { ...f, repairs: [...f.repairs.slice(0, at), 'crcrlf', ...f.repairs.slice(at)] };
      });
      expect(stored.slice(asFound), JSON.stringify([ended.slice(0, 300), padding.length, format])).toEqual(expected);
      compared++;
    }
    expect(compared).toBe(1_500);
  });
});
