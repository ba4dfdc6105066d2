import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeMessage, type MessageAnalysis } from '../../src/analyze/analyze-message.ts';
import { runDumpChecks } from '../../src/checks/dump/index.ts';
import type { DumpCopy } from '../../src/checks/dump/types.ts';
import { createKeyLookup } from '../../src/keys/key-lookup.ts';
import { loadKeysFile } from '../../src/keys/keys-file.ts';
import { mulberry32 } from '../../src/fuzz/mutate.ts';
import { DUMP_ORDER, MESSAGES, runDumpPass, toDumpCopy, type CopyRow } from '../../src/store/dump-pass.ts';
import { openStore, type Db } from '../../src/store/open-store.ts';
import { StoreWriter } from '../../src/store/write.ts';
import type { Verdict } from '../../src/verdict/reasons.ts';
import { applyDumpFindings } from '../../src/verdict/findings-from-outside.ts';
import { DEMO_DUMP, DEMO_KEYS, tempDir } from '../helpers/cli.ts';

/**
 * The dump pass reads the messages as streams and writes each finding as it is found, so that
 * its memory does not grow with the dump (src/store/dump-pass.ts). It must find exactly what the
 * checks find over the whole list of messages at once, as the pass did before: here both are run
 * on a database of synthetic messages drawn to make every check fire (copies of one Message-ID
 * that differ, replies older than their parents and replies to messages not in the dump, senders
 * with habits and outliers, selectors used far outside their proven span, dates after the dump),
 * and every message's findings, in order, and final verdict are compared.
 */

let template: MessageAnalysis;
const tmp = tempDir('leakcheck-dump-pass-');
let db: Db;

function syntheticDump(seed: number, files: number): void {
  const rand = mulberry32(seed);
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const ids = Array.from({ length: Math.ceil(files * 0.6) }, (_, i) => `<m${i}@example.com>`);
  const senders = ['alice@example.com', 'bob@example.org', 'carol@example.net', 'dave@example.com'];
  const selectors = [['example.com', 'Sel2017'], ['example.com', 'sel2019'], ['example.org', 'mail'], ['example.net', 'k1']] as const;
  const day = 86_400_000;
  const base = Date.parse('2017-01-01T00:00:00Z');
  const writer = new StoreWriter(db);
  const runId = writer.beginRun({
    startedAt: '2017-06-01T00:00:00.000Z', dumpRoot: '/dump', argv: ['test'], cwd: '/', toolVersion: 'test', mailauthVersion: 'test', libraries: {},
    nodeVersion: process.version, sqliteVersion: 'test', options: {}, keyFiles: [], compromised: null,
  });
  for (let f = 0; f < files; f++) {
    const mbox = rand() < 0.2;
    const count = mbox ? 1 + Math.floor(rand() * 6) : 1;
    const messages = Array.from({ length: count }, (_, index) => {
      const verdict: Verdict = pick(['verified', 'verified', 'unverifiable', 'unverifiable', 'suspicious']);
      // far later than the rest, only where nothing proves the date (a verified one would move the reference)
      const far = verdict !== 'verified' && rand() < 0.08;
      const when = far ? base + (700 + rand() * 100) * day : base + rand() * 200 * day;
      const messageId = rand() < 0.05 ? null : pick(ids);
      const analysis: MessageAnalysis = structuredClone(template);
      analysis.meta = { ...analysis.meta, messageId, canonicalMessageId: messageId, fromAddress: rand() < 0.05 ? null : pick(senders), date: rand() < 0.05 ? null : new Date(when).toISOString() };
      const body = rand() < 0.3 ? pick(['a', 'b']) : 'same-body';
      const visible = rand() < 0.2 ? pick(['x', 'y']) : 'same-visible';
      analysis.traits = {
        ...analysis.traits,
        bodySha256: body,
        visibleSha256: visible,
        // read decoded or not (then compared raw); a subject that differs, or a tag a list added
        textSha256: rand() < 0.2 ? null : `text-${body}`,
        visibleFields: { ...analysis.traits.visibleFields, subject: visible },
        mailingList: rand() < 0.1 ? 'team.example.com' : null,
        inReplyTo: rand() < 0.4 ? (rand() < 0.2 ? '<not-in-the-dump@example.com>' : pick(ids)) : null,
        references: rand() < 0.3 ? [pick(ids), pick(ids)] : [],
        dateOffsetMinutes: rand() < 0.1 ? null : rand() < 0.05 ? 300 : pick([60, 60, 60, 120]),
        mailer: rand() < 0.3 ? null : rand() < 0.05 ? 'Forger Mail 9.1' : 'Apple Mail (2.3273)',
      };
      const sig = template.signatures[0]!;
      analysis.signatures = Array.from({ length: Math.floor(rand() * 3) }, (_, i) => {
        const [domain, selector] = pick(selectors);
        // (a late message never verifies: its selector's proven span stays in 2017)
        return { ...structuredClone(sig), index: i, tags: { ...sig.tags, domain, selector }, outcome: !far && rand() < 0.6 ? 'pass' : 'fail' } as typeof sig;
      });
      const red = verdict === 'suspicious';
      analysis.verdict = { ...analysis.verdict, verdict, reasons: red ? ['body-hash-mismatch'] : [verdict === 'verified' ? 'dkim-verified' : 'no-signature'], explanation: `own ${verdict}` };
      return { index, offset: index * 100, format: mbox ? 'mbox' : 'eml', envelope: null, analysis };
    });
    writer.queueFiles(runId, [{
      record: { path: `${String(f).padStart(4, '0')}${mbox ? '.mbox' : '.eml'}`, kind: mbox ? 'mbox' : 'eml', status: 'ok', reason: null, detail: null, size: 1, mtimeMs: 1, sha256: null },
      messages,
    }]);
  }
  writer.flush();
}

/** The messages as the pass used to load them: all at once, in the dump's order. */
function loadAll(): DumpCopy[] {
  return (db.prepare(`${MESSAGES} ORDER BY ${DUMP_ORDER}`).all() as CopyRow[]).map(toDumpCopy);
}

beforeAll(async () => {
  const raw = readFileSync(join(DEMO_DUMP, 'inbox/2017-02-14 Q1 budget.eml'));
  const lookup = createKeyLookup({ files: [loadKeysFile(DEMO_KEYS)], cached: () => null, offline: true, live: () => Promise.reject(new Error('offline')), onLiveAnswer: () => undefined });
  template = await analyzeMessage({ raw, format: 'eml' }, lookup);
  expect(template.signatures.length).toBeGreaterThan(0);
});

afterAll(() => {
  db?.close();
  tmp.cleanup();
});

describe('the dump pass, streamed', () => {
  it.each([1, 2, 3])('finds, message by message and in order, what the checks find over all messages at once, and settles the same verdicts (seed %i)', (seed) => {
    db?.close();
    db = openStore(join(tmp.path, `dump-${seed}.db`));
    syntheticDump(seed, 400);
    const messages = loadAll();
    const expected = new Map<number, string[]>();
    for (const { messageId, finding: f } of runDumpChecks(messages)) {
      expected.set(messageId, [...(expected.get(messageId) ?? []), JSON.stringify([f.code, f.severity, f.text, f.evidence])]);
    }
    // every check fires on this dump, so that each streamed path is compared
    const codes = new Set([...expected.values()].flat().map((f) => (JSON.parse(f) as string[])[0]));
    expect([...codes].sort()).toEqual([
      'conflicting-copy', 'copy-changed-by-list', 'date-after-dump', 'divergent-copies', 'reply-before-parent', 'selector-outside-timeline',
      'sender-profile-outlier', 'thread-parent-missing', 'verified-copies-differ', 'verified-copy-contradicted', 'verified-copy-other-author', 'verified-copy-other-unsigned',
    ]);

    for (let run = 0; run < 2; run++) {
      // (twice: the pass is recomputed whole, never added to)
      const { findings } = runDumpPass(db);
      const actual = new Map<number, string[]>();
      for (const r of db.prepare("SELECT message_id, code, severity, text, evidence_json FROM findings WHERE scope = 'dump' ORDER BY message_id, id").all() as Array<{
        message_id: number; code: string; severity: string; text: string; evidence_json: string;
      }>) {
        actual.set(r.message_id, [...(actual.get(r.message_id) ?? []), JSON.stringify([r.code, r.severity, r.text, JSON.parse(r.evidence_json)])]);
      }
      expect(findings).toBe([...expected.values()].flat().length);
      expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
      const verdicts = db.prepare('SELECT message_id, verdict, reasons_json, explanation, message_verdict, message_reasons_json, message_explanation FROM verdicts').all() as Array<{
        message_id: number; verdict: Verdict; reasons_json: string; explanation: string; message_verdict: Verdict; message_reasons_json: string; message_explanation: string;
      }>;
      let raised = 0;
      for (const v of verdicts) {
        const own = { verdict: v.message_verdict, reasons: JSON.parse(v.message_reasons_json) as string[], explanation: v.message_explanation };
        const dumpFindings = (expected.get(v.message_id) ?? []).map((f) => {
          const [code, severity, text, evidence] = JSON.parse(f) as [string, 'red-flag' | 'warning' | 'info', string, Record<string, unknown>];
          return { code, severity, text, evidence };
        });
        const final = applyDumpFindings(own, dumpFindings);
        if (final.verdict !== own.verdict) raised++;
        expect({ verdict: v.verdict, reasons: JSON.parse(v.reasons_json) as string[], explanation: v.explanation }).toEqual(final);
      }
      expect(raised).toBeGreaterThan(0);
    }
  });
});
