import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildZip } from '../attachments/zip-writer.ts';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
import { demoMessage } from '../hostile/sign.ts';

/*
 * Red team Z, Z-05: the strictest gate a CI job could write, `--fail-on suspicious --fail-on
 * unverifiable`, passed a dump whose only other email sat in a zip entry leakcheck could not
 * open: verdicts are given to messages read, and nothing failed on mail that was not.
 * `--fail-on unread` does.
 */

const GENUINE = 'inbox/2017-02-14 Q1 budget.eml';
const STRICT = ['--fail-on', 'suspicious', '--fail-on', 'unverifiable'];

function verifyDump(name: string, extra: Record<string, Buffer>, flags: string[]): { status: number; stdout: string; stderr: string } {
  const tmp = tempDir();
  try {
    const dump = join(tmp.path, name);
    mkdirSync(dump);
    cpSync(join(DEMO_DUMP, GENUINE), join(dump, 'genuine.eml'));
    for (const [file, bytes] of Object.entries(extra)) writeFileSync(join(dump, file), bytes);
    return runCli(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', join(tmp.path, 'v.db'), ...flags]);
  } finally {
    tmp.cleanup();
  }
}

describe('verify --fail-on unread (red team Z, Z-05)', () => {
  const forged = Buffer.from(demoMessage({ id: 'forged-in-zip' }));

  it('fails on a zip entry a guard refused (encrypted), which --fail-on suspicious/unverifiable passes', () => {
    const zip = buildZip([{ name: 'secret.eml', data: forged, flags: 1, method: 0, compressed: Buffer.concat([Buffer.alloc(12), forged]) }]);
    const strict = verifyDump('encrypted', { 'mail.zip': zip }, STRICT);
    expect(strict.status, strict.stderr).toBe(0);
    const unread = verifyDump('encrypted', { 'mail.zip': zip }, [...STRICT, '--fail-on', 'unread']);
    expect(unread.status, unread.stderr).toBe(1);
  });

  it('fails on a file that could not be read completely, and not on a dump read whole', () => {
    const corrupt = buildZip([{ name: 'a.eml', data: forged }]).subarray(0, 60);
    expect(verifyDump('corrupt', { 'mail.zip': corrupt }, ['--fail-on', 'unread']).status).toBe(1);
    const clean = verifyDump('clean', { 'report.pdf': Buffer.from('%PDF-1.4\n%%EOF\n') }, ['--fail-on', 'unread']);
    expect(clean.status, clean.stderr).toBe(0);
  });

  it('fails on a link out of the dump (a file or a folder of mail) and on a FIFO named .eml; not on a link inside it (red team AA, AA-09)', () => {
    const tmp = tempDir();
    try {
      const outside = join(tmp.path, 'elsewhere');
      mkdirSync(outside);
      writeFileSync(join(outside, 'forged.eml'), forged);
      const cases: Array<[string, (dump: string) => void, number]> = [
        ['file-out', (dump) => symlinkSync(join(outside, 'forged.eml'), join(dump, 'linked.eml')), 1],
        ['folder-out', (dump) => symlinkSync(outside, join(dump, 'inbox')), 1],
        ['fifo', (dump) => spawnSync('mkfifo', [join(dump, 'pipe.eml')]), 1],
        ['inside', (dump) => symlinkSync('genuine.eml', join(dump, 'again.eml')), 0],
      ];
      for (const [name, make, expected] of cases) {
        const dump = join(tmp.path, name);
        mkdirSync(dump);
        cpSync(join(DEMO_DUMP, GENUINE), join(dump, 'genuine.eml'));
        make(dump);
        const run = runCli(['verify', dump, '--keys', DEMO_KEYS, '--offline', '--db', join(tmp.path, `${name}.db`), '--quiet', '--fail-on', 'unread']);
        expect(run.status, `${name}: ${run.stderr}`).toBe(expected);
      }
    } finally {
      tmp.cleanup();
    }
  });
});

