import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runVerify } from '../../src/pipeline/run-verify.ts';
import { DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
import { handSignatureHeader } from '../helpers/hand-sign.ts';
import { exportRows } from '../helpers/in-process.ts';

const DEMO_S2048 = readFileSync('fixtures/keys/s2048._domainkey.demo.example.pem', 'utf8');

/** A dump folder, empty, in a temporary folder removed after `use`. */
async function inTempDump(use: (dump: string, root: string) => Promise<void>): Promise<void> {
  const tmp = tempDir();
  try {
    const dump = join(tmp.path, 'dump');
    mkdirSync(dump, { recursive: true });
    await use(dump, tmp.path);
  } finally {
    tmp.cleanup();
  }
}

// Red team BB, BB-06 (repro/gen-thread.ts): N signed replies that may accuse, all answering one
// Message-ID, against M copies of the parent, wrote N x M `reply-before-parent` findings (a
// thousand of each: a million rows, 843 MB). Each copy now carries one, from the gravest reply,
// counting the others; the verdicts are those every comparison gave.
describe('many accusing replies to many copies of one parent', () => {
  it('gives each copy one finding that counts the other replies, with the verdicts of every comparison', async () => {
    const replies = 12;
    await inTempDump(async (dump, root) => {
      const signed = ['from', 'to', 'subject', 'date', 'message-id', 'in-reply-to', 'references'];
      for (let i = 0; i < replies; i++) {
        const m = ['From: Alice <alice@demo.example>', 'To: Jordan <jordan@demo.example>', `Subject: Re: plan ${i}`, 'Date: Tue, 14 Feb 2017 10:12:03 +0100',
          `Message-ID: <r${i}@demo.example>`, 'In-Reply-To: <parent@demo.example>', 'References: <parent@demo.example>', 'Content-Type: text/plain'].join('\r\n') + `\r\n\r\nreply ${i}\r\n`;
        const tags = `v=1; a=rsa-sha256; c=relaxed/relaxed; d=demo.example; s=s2048; t=1487063525; h=${signed.join(':')}`;
        writeFileSync(join(dump, `r${i}.eml`), handSignatureHeader(m, { privateKeyPem: DEMO_S2048, tags, headers: signed }) + m);
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
      const db = join(root, 'x.db');
      await runVerify({ dumpRoot: dump, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
      const rows = exportRows<{ path: string; verdict: string; explanation: string; findings: Array<{ code: string; severity: string; text: string }> }>(db);
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
    });
  });
});

// Found in the thirty-fifth round (a References bomb): each message naming every other one in its
// References carried one `reply-before-parent` finding per parent Message-ID dated after it, so
// the findings grew as messages x References (1,000 messages: 98,943 findings, a 78 MB database).
// A reply now carries one, the gravest, counting the others; the verdicts are the same.
describe('many messages each answering all the others', () => {
  it('gives each reply one finding, the gravest, that counts the other parents dated after it, with the verdicts of every comparison', async () => {
    const count = 200;
    await inTempDump(async (dump, root) => {
      const id = (i: number) => `<m${i}.refbomb@demo.example>`;
      const dateOf = (i: number) => Date.UTC(2017, 1, 1 + (i % 28), 10, i % 60);
      const rfcDate = (ms: number) => new Date(ms).toUTCString().replace('GMT', '+0000');
      // a few of them signed by their From domain, Date and Message-ID (not References: they do not
      // accuse), dated on the last day: every unsigned reply more than 27 h before one is accused
      const signed = new Set(Array.from({ length: count }, (_, i) => i).filter((i) => i % 28 === 27));
      const references = Array.from({ length: count }, (_, i) => id(i)).join(' ');
      for (let i = 0; i < count; i++) {
        const name = `m${String(i).padStart(4, '0')}.eml`;
        // delivered when written: each message's own trace bears its Date out
        const m = [`Received: from mx.demo.example by mx.harbor.example; ${rfcDate(dateOf(i) + 5_000)}`, 'From: Alice <alice@demo.example>', 'To: bob@demo.example',
          `Subject: Re: thread ${i}`, `Date: ${rfcDate(dateOf(i))}`, `Message-ID: ${id(i)}`, `In-Reply-To: ${id((i + 1) % count)}`, `References: ${references}`,
          'Content-Type: text/plain'].join('\r\n') + `\r\n\r\nmessage ${i}\r\n`;
        const headers = ['from', 'to', 'subject', 'date', 'message-id'];
        const tags = `v=1; a=rsa-sha256; c=relaxed/relaxed; d=demo.example; s=s2048; t=${dateOf(i) / 1000}; h=${headers.join(':')}`;
        writeFileSync(join(dump, name), signed.has(i) ? handSignatureHeader(m, { privateKeyPem: DEMO_S2048, tags, headers }) + m : m);
      }
      expect(signed.size).toBeGreaterThan(2);
      const db = join(root, 'x.db');
      await runVerify({ dumpRoot: dump, dbPath: db, keyFiles: [DEMO_KEYS], offline: true });
      // (the evidence is in the database and `show`, not in the export)
      const stored = new Database(db, { readonly: true });
      type Thread = { severity: string; text: string; evidence: { reply: { where: string }; otherParents?: { count: number; where: string[] } } };
      const rows = (stored.prepare(`SELECT f.path, v.verdict, v.explanation, (SELECT json_group_array(json_object('severity', d.severity, 'text', d.text, 'evidence', json(d.evidence_json)))
          FROM findings d WHERE d.message_id = m.id AND d.code = 'reply-before-parent') AS thread
        FROM messages m JOIN source_files f ON f.id = m.file_id JOIN verdicts v ON v.message_id = m.id`).all() as Array<{ path: string; verdict: string; explanation: string; thread: string }>)
        .map((r) => ({ ...r, thread: JSON.parse(r.thread) as Thread[] }));
      stored.close();
      expect(rows).toHaveLength(count);
      const latestSigned = Math.max(...[...signed].map(dateOf));
      let threadFindings = 0;
      for (const row of rows) {
        const i = Number(/^m(\d+)\.eml$/.exec(row.path)![1]);
        const { thread } = row;
        threadFindings += thread.length;
        // what comparing the message with each parent decided: accused by a signed parent dated
        // more than 27 h after it, its trace agreeing
        const accused = !signed.has(i) && latestSigned - dateOf(i) > 27 * 3_600_000;
        expect(row.verdict, row.path).toBe(signed.has(i) ? 'verified' : accused ? 'suspicious' : 'unverifiable');
        // one finding as a reply, one as a parent at most
        const asReply = thread.filter((f) => f.evidence.reply.where === row.path);
        expect(thread.length - asReply.length, row.path).toBeLessThanOrEqual(1);
        const later = Array.from({ length: count }, (_, j) => j).filter((j) => j !== i && dateOf(j) - dateOf(i) > 15 * 60_000);
        if (!later.length) {
          expect(asReply, row.path).toEqual([]);
          continue;
        }
        expect(asReply, row.path).toHaveLength(1);
        const [found] = asReply;
        expect(found!.severity, row.path).toBe(accused ? 'red-flag' : 'warning');
        const others = later.length - 1;
        expect(found!.evidence.otherParents?.count ?? 0, row.path).toBe(others);
        if (others) {
          expect(found!.text).toContain(`${others} other ${others === 1 ? 'message' : 'messages'} of the dump that it answers`);
          expect(found!.evidence.otherParents!.where).toHaveLength(Math.min(others, 10));
        }
        // an accused message's explanation gives the red flag once, not once a signed parent
        if (accused) expect(row.explanation.split('a reply cannot come before its parent'), row.path).toHaveLength(2);
      }
      expect(threadFindings).toBeLessThanOrEqual(2 * count);
    });
  });
});
