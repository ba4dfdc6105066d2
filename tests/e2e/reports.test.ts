import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_DUMP, DEMO_KEYS, ROOT, runCli, verifiedDemoDatabase } from '../helpers/cli.ts';
import { exportRows } from '../helpers/in-process.ts';

const HAS_PYTHON = spawnSync('python3', ['-c', 'import pty'], { stdio: 'ignore' }).status === 0;

/** What the demo dump's labels say the counts are. */
const LABELS = JSON.parse(readFileSync(join(ROOT, 'fixtures/demo-expected.json'), 'utf8')) as Array<{ verdict?: string }>;
const COUNTS = {
  verified: LABELS.filter((l) => l.verdict === 'verified').length,
  unverifiable: LABELS.filter((l) => l.verdict === 'unverifiable').length,
  suspicious: LABELS.filter((l) => l.verdict === 'suspicious').length,
};

describe('reports, show, exit codes and colours on the demo dump', () => {
  const { db, dir } = verifiedDemoDatabase();

  const rows = () =>
    exportRows<{ path: string; index: number; sha256: string; message_id: string; verdict: string }>(db);

  it('show finds a message by path, by path#index, by sha256 and by Message-ID', () => {
    const all = rows();
    const eml = all.find((r) => r.path === 'inbox/2019-01-08 Payment instructions.eml')!;
    const mbox = all.find((r) => r.path === 'archive/2017.mbox' && r.index === 1)!;
    for (const argument of [eml.path, eml.sha256, eml.message_id, eml.message_id.replace(/^<|>$/g, '')]) {
      const shown = runCli(['show', argument, '--db', db]);
      expect(shown.status, argument).toBe(0);
      expect(shown.stdout).toContain('Verdict: suspicious');
      expect(shown.stdout).toContain('header-injected');
      expect(shown.stdout).toMatch(/^Authentication-Results: leakcheck; dkim=pass header\.d=demo\.example/m);
      expect(shown.stdout).toMatch(/key sha256 [0-9a-f]{64}/);
    }
    // the evidence is wrapped to 100 columns, the first line of each finding included
    const findingLines = runCli(['show', eml.path, '--db', db]).stdout.split('\n').filter((line) => /^ {2}(red-flag|warning |info {4}) /.test(line));
    expect(findingLines.length).toBeGreaterThan(0);
    for (const line of findingLines) expect(line.length, line).toBeLessThanOrEqual(100);
    const byIndex = runCli(['show', `${mbox.path}#1`, '--db', db]);
    expect(byIndex.status).toBe(0);
    expect(byIndex.stdout).toContain('repairs     mboxrd-unquote: mbox ">From " quoting undone');
  });

  // Red team K: show said "aligned with From: no" for the From domain's signature over two From
  // fields (K-06), and printed the key file with the folders it was given with (K-13).
  it('show says how each signature stands to the From field, and names key files by their file name', () => {
    const shown = runCli(['show', 'inbox/2019-01-08 Payment instructions.eml', '--db', db]).stdout;
    expect(shown).toContain('mailauth: pass; aligned with the first From address, but the author cannot be determined (2 From fields)');
    expect(shown).toContain('key s2048._domainkey.demo.example: rsa 2048-bit, file from demo-keys.json\n');
    expect(shown).not.toContain(DEMO_KEYS);
    const listed = runCli(['show', 'lists/2019-03-05 [team] Release checklist.eml', '--db', db]).stdout;
    expect(listed).toContain('mailauth: pass; third party (not the From domain)');
    expect(listed).toContain('seal key arc._domainkey.lists.example: rsa 2048-bit, file from demo-keys.json\n');
    expect(listed).not.toContain(DEMO_KEYS);
  });

  it('show lists the candidates when the argument is ambiguous, and exits 2', () => {
    const ambiguous = runCli(['show', 'archive/2017.mbox', '--db', db]);
    expect(ambiguous.status).toBe(2);
    expect(ambiguous.stdout).toMatch(/4 messages match/);
    expect(ambiguous.stdout.match(/archive\/2017\.mbox#\d/g)).toHaveLength(4);
    expect(runCli(['show', '<nobody@nowhere>', '--db', db]).status).toBe(2);
  });

  it('report --format md is a CI-ready summary with the suspicious messages as a table, escaped', () => {
    const md = runCli(['report', '--format', 'md', '--db', db]);
    expect(md.status).toBe(0);
    expect(md.stdout).toContain(`| ⚠️ suspicious | ${COUNTS.suspicious} |`);
    expect(md.stdout).toContain(`## Suspicious messages (${COUNTS.suspicious})`);
    expect(md.stdout).toContain('Not the same as fake');
    expect(md.stdout).not.toMatch(/<script/i);
  });

  it('report --format json and verify --json give the machine-readable summary on stdout', () => {
    const json = JSON.parse(runCli(['report', '--format', 'json', '--db', db]).stdout) as { verdicts: Record<string, number>; run: { id: number } };
    expect(json.verdicts).toEqual(COUNTS);
    const verify = runCli(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', db, '--json']);
    expect(verify.status).toBe(0);
    expect((JSON.parse(verify.stdout) as { verdicts: Record<string, number> }).verdicts).toEqual(json.verdicts);
  });

  it('--verdict filters reports', () => {
    const json = JSON.parse(runCli(['report', '--format', 'json', '--db', db, '--verdict', 'verified']).stdout) as { verdicts: Record<string, number>; suspicious: unknown[] };
    expect(json.verdicts).toEqual({ verified: COUNTS.verified, unverifiable: 0, suspicious: 0 });
    expect(json.suspicious).toEqual([]);
  });

  it('--fail-on unverifiable exits 1; without it, 0; a broken database exits 3', () => {
    expect(runCli(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet', '--fail-on', 'unverifiable']).status).toBe(1);
    expect(runCli(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', db, '--quiet']).status).toBe(0);
    expect(runCli(['report', '--db', join(dir, 'missing.db')]).status).toBe(3);
  });

  it('colours only when asked: FORCE_COLOR gives ANSI codes, NO_COLOR wins over it, pipes get none', () => {
    const ansi = /\u001b\[/;
    expect(runCli(['report', '--db', db], { env: { FORCE_COLOR: '1', NO_COLOR: '' } }).stdout).toMatch(ansi);
    expect(runCli(['report', '--db', db], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } }).stdout).not.toMatch(ansi);
    expect(runCli(['report', '--db', db]).stdout).not.toMatch(ansi);
    // a file is never coloured: FORCE_COLOR is set by CI systems for their logs (red team Z, Z-13)
    const out = join(dir, 'report.txt');
    expect(runCli(['report', '--db', db, '--out', out], { env: { FORCE_COLOR: '1', NO_COLOR: '' } }).status).toBe(0);
    expect(readFileSync(out, 'utf8')).not.toMatch(ansi);
    expect(readFileSync(out, 'utf8')).toMatch(/verified/);
  });

  // A terminal that says it cannot take escape codes (TERM=dumb) got the progress bar's cursor
  // controls and the summary's colours as text (red team Z, Z-13). Python's pty: Node has none.
  it.skipIf(!HAS_PYTHON)(`a TERM=dumb terminal gets no escape code, a colour terminal its bar and colours${HAS_PYTHON ? '' : ' (skipped: no python3 for a pseudo-terminal)'}`, () => {
    const script = [
      'import os, pty, sys',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      '    os.execv(sys.argv[1], sys.argv[1:])',
      "out = b''",
      'while True:',
      '    try: chunk = os.read(fd, 65536)',
      '    except OSError: break',
      '    if not chunk: break',
      '    out += chunk',
      'os.waitpid(pid, 0)',
      "sys.stdout.write(out.decode('utf-8', 'replace'))",
    ].join('\n');
    const { NO_COLOR: _n, FORCE_COLOR: _f, ...withoutColourSettings } = process.env;
    const onTerminal = (term: string): string =>
      spawnSync('python3', ['-c', script, process.execPath, join(ROOT, 'bin/leakcheck.js'), 'verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', join(dir, `pty-${term}.db`)], {
        cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...withoutColourSettings, TERM: term },
      }).stdout;
    const dumb = onTerminal('dumb');
    expect(dumb).toMatch(/30 message/);
    expect(dumb).not.toMatch(/\u001b/);
    expect(onTerminal('xterm')).toMatch(/\u001b\[\?25l[^]*\u001b\[31m/);
  });

  it('without a terminal, progress goes to stderr as plain lines and never to stdout', () => {
    const verify = runCli(['verify', DEMO_DUMP, '--keys', DEMO_KEYS, '--offline', '--db', db, '--json']);
    expect(() => JSON.parse(verify.stdout)).not.toThrow();
    expect(verify.stderr).not.toMatch(/\u001b\[/);
  });
});
