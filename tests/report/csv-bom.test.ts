/**
 * Red team S, S-09: Excel opened by double-click reads a CSV without a byte-order mark in the
 * ANSI code page, so every accented name in the export read as mojibake. `--bom` writes one;
 * the default stays without it (users' scripts read the first column's name).
 */
import { describe, expect, it } from 'vitest';
import { runCli, verifiedDemoDatabase } from '../helpers/cli.ts';

describe('export --format csv --bom', () => {
  const { db } = verifiedDemoDatabase();

  it('begins the CSV with a UTF-8 byte-order mark, and the rest is the export without it', () => {
    const plain = runCli(['export', '--format', 'csv', '--db', db]);
    const marked = runCli(['export', '--format', 'csv', '--bom', '--db', db]);
    expect(marked.status, marked.stderr).toBe(0);
    expect(plain.stdout.startsWith('path,index,')).toBe(true);
    expect(Buffer.from(marked.stdout, 'utf8').subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(marked.stdout).toBe(`\ufeff${plain.stdout}`);
  });

  it('is refused with JSON Lines, which has no use for one', () => {
    const run = runCli(['export', '--format', 'jsonl', '--bom', '--db', db]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('--bom applies to --format csv only');
  });
});
