import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
import { handSignatureHeader } from '../helpers/hand-sign.ts';

// Red team BB, BB-06 (repro/gen-thread.ts): N signed replies that may accuse, all answering one
// Message-ID, against M copies of the parent, wrote N x M `reply-before-parent` findings (a
// thousand of each: a million rows, 843 MB). Each copy now carries one, from the gravest reply,
// counting the others; the verdicts are those every comparison gave.
describe('many accusing replies to many copies of one parent', () => {
  it('gives each copy one finding that counts the other replies, with the verdicts of every comparison', async () => {
    const replies = 12;
    const tmp = tempDir();
    try {
      const dump = join(tmp.path, 'dump');
      mkdirSync(dump, { recursive: true });
      const key = readFileSync('fixtures/keys/s2048._domainkey.demo.example.pem', 'utf8');
      const signed = ['from', 'to', 'subject', 'date', 'message-id', 'in-reply-to', 'references'];
      for (let i = 0; i < replies; i++) {
        const m = ['From: Alice <alice@demo.example>', 'To: Jordan <jordan@demo.example>', `Subject: Re: plan ${i}`, 'Date: Tue, 14 Feb 2017 10:12:03 +0100',
          `Message-ID: <r${i}@demo.example>`, 'In-Reply-To: <parent@demo.example>', 'References: <parent@demo.example>', 'Content-Type: text/plain'].join('\r\n') + `\r\n\r\nreply ${i}\r\n`;
        const tags = `v=1; a=rsa-sha256; c=relaxed/relaxed; d=demo.example; s=s2048; t=1487063525; h=${signed.join(':')}`;
        writeFileSync(join(dump, `r${i}.eml`), handSignatureHeader(m, { privateKeyPem: key, tags, headers: signed }) + m);
      }
      // unsigned copies dated two days later, their stamps agreeing: from the replies' own domain
      // the replies accuse them (a red flag), from another one they cannot (a warning on both)
      const copies = { own: ['p0', 'p1', 'p2'], other: ['q0', 'q1', 'q2'] };
      for (const [side, names] of Object.entries(copies)) {
        for (const name of names) {
          writeFileSync(join(dump, `${name}.eml`), ['Received: from mx.demo.example by mx.harbor.example; Thu, 16 Feb 2017 10:12:09 +0100',
            `From: Jordan <jordan@${side === 'own' ? 'demo' : 'harbor'}.example>`, 'To: Alice <alice@demo.example>', 'Subject: plan',
            'Date: Thu, 16 Feb 2017 10:12:03 +0100', 'Message-ID: <parent@demo.example>', 'Content-Type: text/plain'].join('\r\n') + `\r\n\r\nparent copy ${name}\r\n`);
        }
      }
      const db = join(tmp.path, 'x.db');
      await runVerify({ dumpRoot: dump, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
      const rows = runCli(['export', '--format', 'jsonl', '--db', db]).stdout.trim().split('\n')
        .map((l) => JSON.parse(l) as { path: string; verdict: string; explanation: string; findings: Array<{ code: string; severity: string; text: string }> });
      const verdicts = Object.fromEntries(rows.map((r) => [r.path, r.verdict]));
      const thread = (path: string) => rows.find((r) => r.path === path)!.findings.filter((f) => f.code === 'reply-before-parent');
      // what comparing each reply with each copy decided
      for (let i = 0; i < replies; i++) expect(verdicts[`r${i}.eml`]).toBe('verified');
      for (const name of copies.own) expect(verdicts[`${name}.eml`]).toBe('suspicious');
      for (const name of copies.other) expect(verdicts[`${name}.eml`]).toBe('unverifiable');
      for (let i = 0; i < replies; i++) expect(thread(`r${i}.eml`).map((f) => f.severity)).toEqual(['warning']);
      // one finding a copy, not one a reply and copy
      for (const name of copies.own) expect(thread(`${name}.eml`).map((f) => f.severity)).toEqual(['red-flag']);
      for (const name of copies.other) expect(thread(`${name}.eml`).map((f) => f.severity)).toEqual(['warning']);
      const total = rows.reduce((n, r) => n + r.findings.filter((f) => f.code === 'reply-before-parent').length, 0);
      expect(total).toBe(replies + copies.own.length + copies.other.length);
      const [flag] = thread('p0.eml');
      expect(flag!.text).toContain('replies to p0.eml');
      expect(flag!.text).toContain(`${replies - 1} other replies in the dump answer it and are dated before it as well; the evidence (otherReplies) names the first 10 by content.`);
      const shown = JSON.parse(runCli(['show', '--json', '--db', db, 'p0.eml']).stdout) as { findings: Array<{ code: string; evidence: Record<string, unknown> }> };
      const others = shown.findings.find((f) => f.code === 'reply-before-parent')!.evidence['otherReplies'] as { count: number; where: string[] };
      expect(others.count).toBe(replies - 1);
      expect(others.where).toHaveLength(10);
      expect(others.where.every((w) => /^r\d+\.eml$/.test(w))).toBe(true);
      // the suspicious copy's explanation carries the one red flag, not one a reply
      expect(rows.find((r) => r.path === 'p0.eml')!.explanation.split('a reply cannot come before its parent')).toHaveLength(2);
    } finally {
      tmp.cleanup();
    }
  });
});
