import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.ts';

/**
 * `show` names one message or lists the candidates (red team 10, finding 05): a path is read
 * exactly as given, blanks included, and an argument that matches under two readings (a path and
 * a Message-ID) is ambiguous, never settled in favour of one of them.
 */

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const db = join(tmp.path, 'x.db');

const message = (id: string, subject: string): string =>
  ['From: Alice <alice@example.com>', 'To: bob@example.org', `Subject: ${subject}`, 'Date: Tue, 01 Jan 2019 10:00:00 +0000', `Message-ID: <${id}>`, '', 'Please wire the amount.', ''].join('\r\n');

beforeAll(() => {
  const dump = join(tmp.path, 'dump');
  mkdirSync(dump);
  writeFileSync(join(dump, 'invoice.eml'), message('wire-77@example.com', 'Wire 10,000'));
  writeFileSync(join(dump, 'invoice.eml '), message('forged-1@example.com', 'Wire 900,000'));
  writeFileSync(join(dump, 'wire-77@example.com'), message('forged-2@example.com', 'Wire 900,000 -- urgent'));
  const verify = runCli(['verify', dump, '--offline', '--db', db, '--quiet']);
  expect(verify.status, verify.stderr).toBe(0);
});

describe('show: which message an argument names', () => {
  it('reads a path exactly: a trailing blank names another file, and the heading shows it', () => {
    const exact = runCli(['show', 'invoice.eml ', '--db', db]);
    expect(exact.status).toBe(0);
    expect(exact.stdout.split('\n')[0]).toBe('"invoice.eml "');
    expect(exact.stdout).toContain('<forged-1@example.com>');
    const plain = runCli(['show', 'invoice.eml', '--db', db]);
    expect(plain.stdout.split('\n')[0]).toBe('invoice.eml');
    expect(plain.stdout).toContain('<wire-77@example.com>');
  });

  it('lists both candidates, and exits 2, when the argument is a path and a Message-ID', () => {
    const both = runCli(['show', 'wire-77@example.com', '--db', db]);
    expect(both.status).toBe(2);
    expect(both.stdout).toMatch(/^2 messages match/);
    expect(both.stdout).toMatch(/ invoice\.eml {2}unverifiable {2}Wire 10,000\n/);
    expect(both.stdout).toMatch(/ wire-77@example\.com {2}unverifiable {2}Wire 900,000 -- urgent\n/);
    // in brackets, it is only a Message-ID
    const bracketed = runCli(['show', '<wire-77@example.com>', '--db', db]);
    expect(bracketed.status).toBe(0);
    expect(bracketed.stdout.split('\n')[0]).toBe('invoice.eml');
  });

  it('a Message-ID given with blanks around it still names its message', () => {
    const padded = runCli(['show', ' <forged-1@example.com> ', '--db', db]);
    expect(padded.status).toBe(0);
    expect(padded.stdout.split('\n')[0]).toBe('"invoice.eml "');
  });
});
