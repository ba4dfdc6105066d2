import { describe, expect, it } from 'vitest';
import { normalizeFileName } from '../../src/attachments/inventory.ts';
import { inDisplayOrder } from '../../src/attachments/display-order.ts';
import { nameSkeleton } from '../../src/attachments/name-skeleton.ts';

/** Whether two names, as a file system gives them, read alike once normalised as the documents pass does. */
const readAlike = (a: string, b: string): boolean => nameSkeleton(normalizeFileName(a)!) === nameSkeleton(normalizeFileName(b)!);

describe('nameSkeleton: names compared without case', () => {
  it('reads letters of other scripts as the Latin ones they look like', () => {
    expect(readAlike('contr\u0430ct.pdf', 'contract.pdf')).toBe(true);
    expect(readAlike('\u1d04ontract.pdf', 'contract.pdf')).toBe(true);
  });

  it('reads a digit zero as an O and a capital I as an l, whatever the case of either name (red team 15, F-DOC-1)', () => {
    expect(readAlike('REP0RT-2016.PDF', 'REPORT-2016.PDF')).toBe(true);
    expect(readAlike('rep0rt.pdf', 'Report.pdf')).toBe(true);
    expect(readAlike('lNVOICE-7.PDF', 'INVOICE-7.PDF')).toBe(true);
    expect(readAlike('lnvoice.pdf', 'Invoice.pdf')).toBe(true);
  });

  it('reads every Latin small capital as its letter, those the table leaves out included (red team 15, F-DOC-4)', () => {
    expect(readAlike('cont\u0280act.pdf', 'contract.pdf')).toBe(true);
    expect(readAlike('\u1d1b\u0280\u1d00\u1d20\u1d07\u029f.pdf', 'travel.pdf')).toBe(true);
    expect(readAlike('\u1d0d\u1d07\u1d0d\u1d0f.pdf', 'memo.pdf')).toBe(true);
    expect(readAlike('\u1d0b\u1d07\u028f.txt', 'key.txt')).toBe(true);
  });

  it('reads a blank before the extension as none, whatever character draws it (red team 15, F-DOC-4)', () => {
    expect(readAlike('contract\u2800.pdf', 'contract.pdf')).toBe(true);
    expect(readAlike('contract\u3000.pdf', 'contract.pdf')).toBe(true);
    expect(readAlike('contract  .pdf', 'contract.pdf')).toBe(true);
    // a blank elsewhere is seen
    expect(readAlike('my report.pdf', 'myreport.pdf')).toBe(false);
  });

  it('keeps names apart that differ by a letter a reader tells apart', () => {
    expect(readAlike('contrast.pdf', 'contract.pdf')).toBe(false);
    expect(readAlike('report-2016.pdf', 'report-2017.pdf')).toBe(false);
    expect(readAlike('invoice.pdf', 'invoices.pdf')).toBe(false);
  });
});

describe('normalizeFileName: a name in the order a screen draws it (red team 15, F-DOC-4)', () => {
  it('reverses what a right-to-left override covers, up to its pop or the end of the name', () => {
    expect(normalizeFileName('\u202efdp.tcartnoc')).toBe('contract.pdf');
    expect(normalizeFileName('invoice\u202efdp.exe')).toBe('invoiceexe.pdf');
    expect(normalizeFileName('a\u202ecba\u202cd.txt')).toBe('aabcd.txt');
  });

  it('keeps the order of Latin letters inside embeddings and isolates, and of a left-to-right override inside a right-to-left one', () => {
    expect(inDisplayOrder('\u202bcontract\u202c.pdf')).toBe('\u202bcontract\u202c.pdf');
    expect(normalizeFileName('\u2067contract\u2069.pdf')).toBe('contract.pdf');
    expect(normalizeFileName('\u202eab\u202ddc\u202cfe')).toBe('efdcba');
    // an isolate's end closes an override opened inside it
    expect(normalizeFileName('\u2067x\u202eba\u2069c')).toBe('xabc');
  });

  it('reads a hostile name of a million nested overrides without exhausting the stack: past the bidi algorithm\'s 125 levels a control opens nothing', () => {
    const nested = '\u202e'.repeat(1_000_000);
    expect(normalizeFileName(`${nested}fdp.tcartnoc`)).toBe('contract.pdf');
    // 126 overrides: the 126th opens nothing, and 125 reversals leave the name reversed once
    expect(normalizeFileName(`${'\u202e'.repeat(126)}fdp.tcartnoc`)).toBe('contract.pdf');
    expect(normalizeFileName(`${'\u202e'.repeat(124)}\u202dfdp.tcartnoc`)).toBe('fdp.tcartnoc');
  });

  it('moves a letter and its combining marks together, and leaves a name without controls as it is', () => {
    expect(normalizeFileName('\u202efdp.e\u0301muse\u0301r')).toBe('r\u00e9sum\u00e9.pdf');
    expect(inDisplayOrder('\u05d3\u05d5\u05d7.pdf')).toBe('\u05d3\u05d5\u05d7.pdf');
  });
});
