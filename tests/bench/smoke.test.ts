import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultThreadBudget } from '../../src/pipeline/thread-budget.ts';
import { ROOT, tempDir } from '../helpers/cli.ts';

/** Speed is measured by `npm run bench`, never asserted here: this only proves the harness works. */
describe('npm run bench -- --smoke', () => {
  it('generates a small signed dump and a small mailbox, runs leakcheck and the mailauth baseline on them, and reports both', () => {
    const tmp = tempDir('leakcheck-bench-smoke-');
    try {
      const run = spawnSync(process.execPath, [join(ROOT, 'bench/run-bench.ts'), '--smoke', '--no-peers', '--work-dir', tmp.path], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/\| 40 \| leakcheck verify \(full pipeline\) \| \d+/);
      expect(run.stdout).toMatch(/\| 40 \| leakcheck analysis alone, \d+ threads \(no walk, no store\) \| \d+ \| [\d.]+ \| \d+ \| [\d.]+× \| 40\/40 \|/);
      // the same analysis timed on its second pass: every message again, none counted twice
      expect(run.stdout).toMatch(/\| 40 \| leakcheck analysis warm, \d+ threads \(second pass timed; no start, walk or store\) \| \d+ \| [\d.]+ \| \d+ \| [\d.]+× \| 40\/40 \|/);
      expect(run.stdout).toMatch(/\| 40 \| mailauth dkimVerify, sequential loop \| \d+/);
      // the mailbox (--mailbox, here 40 messages), its rows marked so
      expect(run.stdout).toMatch(/\| 40 mailbox \| leakcheck verify \(full pipeline\) \| \d+/);
      expect(run.stdout).toMatch(/\| 40 mailbox \| [\d.]+ s \| [\d.]+ s \| [\d.]+ s \| \d+ µs \|/);
      // verify's CPU time as its run's counts keep it: every thread, its main thread, the others
      expect(run.stdout).toMatch(/\| 40 \| [\d.]+ s \| [\d.]+ s \| [\d.]+ s \| \d+ µs \|/);
      expect(run.stdout).toMatch(/\| 40 \| [\d.]+ s \| \d+ \| 40 \| kept \| [\d.]+ s \| \d+ \| 40 \|/);
      expect(run.stdout).toMatch(/\| one 2 MB message \| 1 \| 2\.0 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| \d+ \|/);
      expect(run.stdout).toMatch(/\| one \d+ MB mbox \| \d+ \|/);
      expect(run.stdout).toMatch(/\| one \d+ MB mbox deflated in a zip \(as Google Takeout exports mail\) \| \d+ \|/);
      // every generated message is signed with a test key, and leakcheck verifies them all
      const results = /results written to (.*\.json)/.exec(run.stderr)?.[1];
      expect(results).toBeDefined();
      type Run = { input: string; dir: string; messages: number; bytes: number; peakRssMb: number; checked: Record<string, number>; analysisThreads: number };
      const parsed = JSON.parse(readFileSync(results!, 'utf8')) as {
        versions: Record<string, string | null>;
        rows: Array<{ shape: string; contender: string; checked: Record<string, number>; cpu?: { processMs: number; mainThreadMs: number | null } }>;
        reruns: Array<{ shape: string; size: number; seconds: number; counts: Record<string, unknown>; rehash: { counts: Record<string, unknown> } }>;
        memory: Run[];
      };
      // the re-run on the unchanged dump opened no message file and kept the passes over the dump
      expect(parsed.reruns.map((r) => r.shape)).toEqual(['mix', 'mailbox']);
      for (const rerun of parsed.reruns) {
        expect(rerun).toMatchObject({ size: 40, counts: { files: 40, unchanged: 40, messages: 0, dumpPasses: 'kept' } });
        // and --rehash read all 40 again, found them as recorded, and re-analysed none
        expect(rerun.rehash.counts).toMatchObject({ files: 40, confirmed: 40, changed: 0, messages: 0, dumpPasses: 'kept' });
      }
      // the mailbox: its signed messages verified, its unsigned ones unverifiable, none suspicious
      const mailbox = parsed.rows.filter((r) => r.shape === 'mailbox');
      const mailboxVerdicts = mailbox.find((r) => r.contender.startsWith('leakcheck verify'))!.checked;
      expect(mailboxVerdicts.suspicious).toBe(0);
      expect(mailboxVerdicts.verified! + mailboxVerdicts.unverifiable!).toBe(40);
      expect(mailboxVerdicts.unverifiable).toBeGreaterThanOrEqual(8);
      expect(mailboxVerdicts.verified).toBeGreaterThanOrEqual(16);
      expect(mailbox.find((r) => r.contender.startsWith('leakcheck analysis alone'))!.checked).toEqual({ messages: 40, verified: mailboxVerdicts.verified });
      expect(mailbox.find((r) => r.contender.startsWith('mailauth'))!.checked).toMatchObject({ messages: 40, passes: mailboxVerdicts.verified });
      const rows = parsed.rows.filter((r) => r.shape === 'mix');
      expect(rows.find((r) => r.contender.startsWith('leakcheck verify'))!.checked).toMatchObject({ verified: 40, suspicious: 0 });
      const { cpu } = rows.find((r) => r.contender.startsWith('leakcheck verify'))!;
      expect(cpu!.mainThreadMs).toBeGreaterThan(0);
      expect(cpu!.processMs).toBeGreaterThan(cpu!.mainThreadMs!);
      expect(rows.find((r) => r.contender.startsWith('mailauth'))!.checked).toMatchObject({ messages: 40, passes: 40 });
      expect(rows.find((r) => r.contender.startsWith('leakcheck analysis alone'))!.checked).toEqual({ messages: 40, verified: 40 });
      const warm = parsed.rows.filter((r) => r.contender.startsWith('leakcheck analysis warm'));
      expect(warm.map((r) => [r.shape, r.checked])).toEqual([
        ['mix', { messages: 40, verified: 40 }],
        ['mailbox', { messages: 40, verified: mailboxVerdicts.verified }],
      ]);
      expect(parsed.versions).toMatchObject({ leakcheck: expect.any(String), mailauth: expect.any(String), node: process.version });
      // the memory runs: one large message, one mbox of bench-mix messages, all verified; the
      // large message forwarded in an unsigned one; a message with a header past the 2 MiB read;
      // the large message altered and stored needing every repair (red team BB, BB-04); the large
      // message stored with CR CR LF line ends, past the 2 MiB a header is read to; copies of the
      // altered message, enough to start a thread on every core; format=flowed and quoted-printable
      // text; then the
      // other forms of the mix: the 40 messages in a stored and in a deflated zip, and
      // stored with bare LFs (each then repaired to CRLF); the mbox deflated in a zip; and the
      // first 40 messages given a key archive of 2,000 records more than they need (red team BB, BB-08)
      expect(parsed.memory).toHaveLength(14);
      const [message, mbox, forwarded, header, altered, doubledCr, alteredCopies, flowed, quotedPrintable, stored, deflated, lf, takeout, keyArchive] = parsed.memory as [
        Run, Run, Run, Run, Run, Run, Run, Run, Run, Run, Run, Run, Run, Run,
      ];
      // text as real mail writes it: every message verified
      expect(flowed).toMatchObject({ messages: 40, checked: { verified: 40 } });
      expect(flowed.input).toMatch(/format=flowed messages/);
      expect(readFileSync(join(flowed.dir, readdirSync(flowed.dir)[0]!)).includes(' \r\n')).toBe(true);
      expect(quotedPrintable).toMatchObject({ messages: 40, checked: { verified: 40 } });
      expect(quotedPrintable.input).toMatch(/multipart\/alternative messages, quoted-printable/);
      expect(readFileSync(join(quotedPrintable.dir, readdirSync(quotedPrintable.dir)[0]!), 'latin1')).toMatch(/=C3=A9/);
      // its text altered after signing: the body hash fails under every form, the signed headers verify
      expect(altered).toMatchObject({ messages: 1, checked: { suspicious: 1 } });
      expect(altered.input).toMatch(/altered after signing, needing every repair/);
      expect(readFileSync(join(altered.dir, 'altered.eml')).includes('\r\n')).toBe(false);
      // enough of them for a second thread (on a machine that allows one), where one message alone starts one
      const threadsAllowed = defaultThreadBudget().threads;
      expect(alteredCopies).toMatchObject({ messages: 20, checked: { suspicious: 20 } });
      expect(alteredCopies.analysisThreads).toBeGreaterThanOrEqual(Math.min(2, threadsAllowed));
      expect(alteredCopies.analysisThreads).toBeLessThanOrEqual(threadsAllowed);
      expect(altered.analysisThreads).toBe(1);
      expect(alteredCopies.input).toMatch(/altered after signing, needing every repair, on every core/);
      const copies = readdirSync(alteredCopies.dir).map((name) => readFileSync(join(alteredCopies.dir, name)));
      expect(copies).toHaveLength(20);
      for (const copy of copies) expect([copy.equals(copies[0]!), copy.includes('\r\n'), copy.includes('\n>From ')]).toEqual([true, false, true]);
      expect(alteredCopies.bytes).toBe(20 * copies[0]!.length);
      // as found it has no blank line: one header too large to read, repaired to what was signed
      expect(doubledCr).toMatchObject({ messages: 1, checked: { verified: 1 } });
      expect(doubledCr.input).toMatch(/CR CR LF line ends/);
      expect(doubledCr.bytes).toBeGreaterThan(2 * 1024 * 1024);
      expect(readFileSync(join(doubledCr.dir, 'crcrlf.eml')).includes('\r\r\n')).toBe(true);
      expect(keyArchive).toMatchObject({ messages: 40, checked: { verified: 40, suspicious: 0 } });
      expect(keyArchive.input).toMatch(/key archive of 2,000 records given with --keys/);
      expect(keyArchive.bytes).toBeGreaterThan(2000 * 400);
      expect(forwarded).toMatchObject({ messages: 2, checked: { verified: 1, unverifiable: 1 } });
      expect(forwarded.bytes).toBeGreaterThan(message.bytes);
      expect(header).toMatchObject({ messages: 1, checked: { unverifiable: 1 } });
      expect(header.bytes).toBeGreaterThan(2 * 1024 * 1024);
      for (const form of [stored, deflated, lf]) expect(form).toMatchObject({ messages: 40, checked: { verified: 40, suspicious: 0 } });
      expect(stored.input).toMatch(/stored zip/);
      expect(deflated.input).toMatch(/deflated zip/);
      expect(lf.input).toMatch(/bare LF line ends/);
      expect(lf.bytes).toBeLessThan(stored.bytes);
      expect(readFileSync(join(lf.dir, readdirSync(lf.dir)[0]!, readdirSync(join(lf.dir, readdirSync(lf.dir)[0]!))[0]!)).includes('\r\n')).toBe(false);
      expect(takeout).toMatchObject({ messages: mbox.messages, bytes: mbox.bytes, checked: { verified: mbox.messages, suspicious: 0 } });
      expect(message).toMatchObject({ messages: 1, checked: { verified: 1 } });
      expect(message.bytes).toBeGreaterThan(1.9e6);
      expect(mbox.bytes).toBeGreaterThanOrEqual(5e6);
      expect(mbox.messages).toBeGreaterThan(10);
      expect(mbox.checked).toMatchObject({ verified: mbox.messages, suspicious: 0 });
      for (const m of parsed.memory) expect(m.peakRssMb).toBeGreaterThan(0);
      rmSync(results!, { force: true });
      // the warm-up probe, on the same 40 messages: one thread, two passes, timed every 20
      const mix = lf.dir.replace(/-lf$/, '');
      const warmUp = spawnSync(process.execPath, [join(ROOT, 'bench/warm-up.ts'), mix, join(tmp.path, 'bench-keys.json'), '1', '2', '20'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(warmUp.status, warmUp.stderr).toBe(0);
      expect(warmUp.stdout).toMatch(/^1 thread\(s\), 40 files, \d+ ms in all\nthread 1, pass 1: \d+ ms \(each 20: \d+ \d+\)\nthread 1, pass 2: \d+ ms \(each 20: \d+ \d+\)\n$/);
    } finally {
      tmp.cleanup();
    }
  }, 120_000);

  it('says how to use it, and refuses an option it does not know', () => {
    const help = spawnSync(process.execPath, [join(ROOT, 'bench/run-bench.ts'), '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--memory-mbox-mb');
    const typo = spawnSync(process.execPath, [join(ROOT, 'bench/run-bench.ts'), '--size', '200'], { cwd: ROOT, encoding: 'utf8' });
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('unknown option --size');
  });
});
