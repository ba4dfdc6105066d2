import { describe, expect, it } from 'vitest';
import { normalizeFileName } from '../../src/attachments/inventory.ts';
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

  it('keeps names apart that differ by a letter a reader tells apart', () => {
    expect(readAlike('contrast.pdf', 'contract.pdf')).toBe(false);
    expect(readAlike('report-2016.pdf', 'report-2017.pdf')).toBe(false);
    expect(readAlike('invoice.pdf', 'invoices.pdf')).toBe(false);
  });
});
