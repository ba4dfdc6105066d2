import { describe, expect, it } from 'vitest';
import { neutralizeFormula } from '../../src/report/csv.ts';

describe('CSV cells a spreadsheet could run are made inert', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    // red team 14: after leading blanks or a line break, in fullwidth, or behind an apostrophe a spreadsheet swallows
    [' =HYPERLINK("http://x")', '\' =HYPERLINK("http://x")'],
    ['\u00a0+1', "'\u00a0+1"],
    ['\n=1+1', "'\n=1+1"],
    ['\uff1d1+1', "'\uff1d1+1"],
    ["'=1+1", "''=1+1"],
  ])('%j', (value, inert) => {
    expect(neutralizeFormula(value)).toBe(inert);
  });

  it.each(['plain text', 'a=b', '2019-01-01', 'inbox/x.eml', ''])('%j is left as it is', (value) => {
    expect(neutralizeFormula(value)).toBe(value);
  });
});
