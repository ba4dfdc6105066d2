import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.ts';
// the analysis first, as in every entry point: the stand-in must load before mailauth does
import { analyzeMessage } from '../../src/analyze/analyze-message.ts';
import { joinFoldedRows, mailauthPatched, relaxedLineText, trimFoldingWhitespace } from '../../src/verify/mailauth-patches.ts';
import { exportRows } from '../helpers/in-process.ts';

const FWS_EDGES = /^[ \t\r\n]+|[ \t\r\n]+$/g;

/** A message of `headers`, From and To, analysed with no key at all, and how long that took. */
async function timedAnalysis(headers: string[]): Promise<{ ms: number; analysis: Awaited<ReturnType<typeof analyzeMessage>> }> {
  const message = [...headers, 'From: a@example.com', 'To: b@example.com', '', 'body', ''].join('\r\n');
  const started = performance.now();
  const analysis = await analyzeMessage({ raw: Buffer.from(message, 'latin1'), format: 'eml' }, async (name) => ({ status: 'absent', name, detail: 'test' }));
  return { ms: performance.now() - started, analysis };
}

describe("mailauth's tag trimming, made linear", () => {
  it('gives what the regular expression gives, on every short string of the characters that matter', () => {
    const alphabet = [' ', '\t', '\r', '\n', 'a', '=', ';', '\u00a0'];
    let checked = 0;
    const visit = (prefix: string): void => {
      expect(trimFoldingWhitespace(prefix), JSON.stringify(prefix)).toBe(prefix.replace(FWS_EDGES, ''));
      checked++;
      if (prefix.length < 5) for (const c of alphabet) visit(prefix + c);
    };
    visit('');
    expect(checked).toBe(1 + 8 + 64 + 512 + 4096 + 32768);
  });

  it('makes every patch (a new mailauth version must be looked at again)', () => {
    expect(mailauthPatched.sort()).toEqual([
      'mailauth/lib/dkim/dkim-verifier.js: linear-trim',
      'mailauth/lib/dkim/dkim-verifier.js: result-header-line',
      'mailauth/lib/dkim/dkim-verifier.js: signature-length',
      'mailauth/lib/dkim/dkim-verifier.js: signatures-checked',
      'mailauth/lib/parse-dkim-headers.js: linear-trim',
      'mailauth/lib/tools.js: linear-unfold',
      'mailauth/lib/tools.js: relaxed-line',
    ]);
  });

  // Found by the fuzzer (seed 1204, case 1090): over 60 s for one message before.
  it('60 KB of spaces inside a signature tag, and inside h=, are read in well under a second (seconds before)', async () => {
    const spaces = ' '.repeat(60_000);
    const { ms, analysis } = await timedAnalysis([
      `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel1; h=from:${spaces}:to; bh=abc; b=abc${spaces}def`,
    ]);
    expect(ms).toBeLessThan(2_000);
    expect(analysis.verdict.verdict).not.toBe('verified');
    expect(analysis.signatures).toHaveLength(1);
  });
});

describe("mailauth's header unfolding, made linear", () => {
  /** mailauth's own loop, as it was: the reference. */
  const quadratic = (input: string[][], startsField: (row: string[]) => boolean): string[][] => {
    const rows = input.map((r) => [...r]);
    for (let i = rows.length - 1; i > 0; i--) {
      if (!startsField(rows[i]!)) {
        rows[i - 1] = rows[i - 1]!.concat(rows[i]!);
        rows.splice(i, 1);
      }
    }
    return rows;
  };
  // mailauth's test: a fold may push the colon onto the line after the name
  const FIELD_START = /^[\x21-\x39\x3b-\x7e]+[ \t\r\n]*:/;
  const startsField = (row: string[]): boolean => FIELD_START.test(row.length > 1 ? `${row[0]}\r\n${row[1]}` : row[0]!);

  it('makes the same rows as the loop it replaces, on every short list of the lines that matter', () => {
    const lines = ['A: 1', ' x', '\ty', 'B', ' : 2', 'C:', '', ':', ' '];
    let checked = 0;
    const visit = (prefix: string[]): void => {
      const rows = prefix.map((l) => [l]);
      expect(joinFoldedRows(rows.map((r) => [...r]), startsField), JSON.stringify(prefix)).toEqual(quadratic(rows, startsField));
      checked++;
      if (prefix.length < 5) for (const l of lines) visit([...prefix, l]);
    };
    visit([]);
    expect(checked).toBe(1 + 9 + 81 + 729 + 6561 + 59049);
  });

  // Red team, round 4: an altered message with one 360 KB header of 30,000 folds ran past its
  // time limit and came out analysis-failed (unverifiable) instead of suspicious.
  it('reads a header of 30,000 folds in well under its time limit (10 s before)', async () => {
    const folds = Array.from({ length: 30_000 }, (_, i) => ` fold ${i}`).join('\r\n');
    const { ms, analysis } = await timedAnalysis([
      'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel1; h=from:to; bh=abc; b=abc',
      `X-Spam-Report:${folds}`,
    ]);
    expect(ms).toBeLessThan(3_000);
    expect(analysis.signatures).toHaveLength(1);
  });
});

// vitest loads modules its own way; Node's own loader is what users run, and there an ESM import
// of a mailauth file links it before the patches run (authors.ts once did so, and tools.js went
// unpatched). So the patches are checked in the real CLI too.
describe('the patches in the CLI as users run it', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('a message with a header of 30,000 folds is analysed in a worker thread, not given up', () => {
    const dump = join(tmp.path, 'dump');
    mkdirSync(dump);
    const folds = Array.from({ length: 30_000 }, (_, i) => ` fold ${i}`).join('\r\n');
    const message = ['DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel1; h=from:to; bh=abc; b=abc', `X-Spam-Report:${folds}`, 'From: a@example.com', 'To: b@example.com', '', 'body', ''];
    writeFileSync(join(dump, 'folded.eml'), message.join('\r\n'));
    const db = join(tmp.path, 'x.db');
    const verify = runCli(['verify', dump, '--offline', '--db', db, '--quiet', '--jobs', '1']);
    expect(verify.status, verify.stderr).toBe(0);
    const [row] = exportRows<{ reasons: string[]; signatures: unknown[] }>(db);
    expect(row!.reasons).not.toContain('analysis-failed');
    expect(row!.signatures).toHaveLength(1);
  });
});

describe("mailauth's relaxed header line, each step skipped when it changes nothing", () => {
  /** mailauth's lowerCaseASCII, and its formatRelaxedLine's passes as they were: the reference. */
  const lowerCaseAscii = (str: string): string => (/[^\x00-\x7f]/.test(str) ? str.replace(/[A-Z]/g, (c) => c.toLowerCase()) : str.toLowerCase());
  const fivePasses = (text: string): string =>
    text
      .replace(/\r?\n/g, '')
      .replace(/^([^:]*):[ \t]*/, (_m, k: string) => lowerCaseAscii(k).replace(/^[ \t]+|[ \t]+$/g, '') + ':')
      .replace(/[ \t]+/g, ' ')
      .replace(/^ | $/g, '');

  it('gives what the five passes give, on every short string of the characters that matter', () => {
    const alphabet = [' ', '\t', '\r', '\n', ':', 'A', 'b', '\u00c0'];
    let checked = 0;
    const visit = (prefix: string): void => {
      expect(relaxedLineText(prefix, lowerCaseAscii), JSON.stringify(prefix)).toBe(fivePasses(prefix));
      checked++;
      if (prefix.length < 6) for (const c of alphabet) visit(prefix + c);
    };
    visit('');
    expect(checked).toBe((8 ** 7 - 1) / 7);
  });

  it('and on header lines as signers write them', () => {
    for (const line of [
      'Subject: Quarterly numbers',
      'From: "Doe, Jane" <jane@example.com>',
      'To: a@example.com,\r\n\tb@example.com,\r\n  c@example.com',
      'X-Mixed-Case :  value  with   runs\t\tand tabs ',
      'Received: from mx.example.com (mx.example.com [192.0.2.1])\r\n        by mail.example.org with ESMTPS; Tue, 14 Mar 2017 10:12:03 +0100',
      'DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel;\r\n\th=from:to:subject; bh=abc=; b=',
      'no colon at all  here ',
      ' : empty name',
      'Subject:',
    ]) {
      expect(relaxedLineText(line, lowerCaseAscii), JSON.stringify(line)).toBe(fivePasses(line));
    }
  });
});
