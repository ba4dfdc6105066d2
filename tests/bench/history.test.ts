import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchHistory, renderHistory, targetsMet, type BenchResultFile } from '../../bench/bench-history.ts';

const RESULTS = join(import.meta.dirname, '../../bench/results');
const files = readdirSync(RESULTS)
  .filter((name) => /^bench-.*\.json$/.test(name))
  .map((name) => JSON.parse(readFileSync(join(RESULTS, name), 'utf8')) as BenchResultFile);

describe('bench history (bench/results, as committed)', () => {
  const rows = benchHistory(files);

  it('has a row a dump size of every full run, oldest first, and none for a smoke run', () => {
    const expected = files
      .filter((f) => !f.smoke)
      .reduce((n, f) => n + new Set(f.rows.filter((r) => r.contender.startsWith('leakcheck verify') && (r.shape ?? 'mix') === 'mix').map((r) => r.size)).size, 0);
    expect(rows).toHaveLength(expected);
    expect(rows.map((r) => r.when)).toEqual([...rows.map((r) => r.when)].sort());
    expect(benchHistory([{ when: '2026-12-05T00:00:00.000Z', smoke: true, rows: [{ size: 40, contender: 'leakcheck verify (full pipeline)', messagesPerSecond: 1, megabytesPerSecond: 1, peakRssMb: 1 }] }])).toEqual([]);
  });

  it('leaves out a run made with the caches dropped (--cold), and keeps one that says it was warm', () => {
    const run = (pageCache: 'cold' | 'warm'): BenchResultFile => ({
      when: '2026-12-07T09:00:00.000Z',
      pageCache,
      rows: [{ size: 2000, contender: 'leakcheck verify (full pipeline)', messagesPerSecond: 500, megabytesPerSecond: 90, peakRssMb: 230 }],
    });
    expect(benchHistory([run('cold')])).toEqual([]);
    expect(benchHistory([run('warm')]).map((r) => [r.size, r.verify.messagesPerSecond])).toEqual([[2000, 500]]);
  });

  it("leaves out a mailbox dump's rows (--mailbox): the targets are the mix's", () => {
    const row = (shape: 'mix' | 'mailbox' | undefined, messagesPerSecond: number) => ({
      ...(shape ? { shape } : {}),
      size: 2000,
      contender: 'leakcheck verify (full pipeline)',
      messagesPerSecond,
      megabytesPerSecond: 90,
      peakRssMb: 230,
    });
    const run = (rows: BenchResultFile['rows']): BenchResultFile => ({ when: '2026-12-07T16:00:00.000Z', rows });
    expect(benchHistory([run([row('mailbox', 4000), row('mix', 900)])]).map((r) => r.verify.messagesPerSecond)).toEqual([900]);
    expect(benchHistory([run([row(undefined, 800)])]).map((r) => r.verify.messagesPerSecond)).toEqual([800]);
    expect(benchHistory([run([row('mailbox', 4000)])])).toEqual([]);
  });

  it('reads the figures of a recorded run, and its ratios to the peers, as the note quoted them', () => {
    const row = rows.find((r) => r.when === '2026-12-05T12:11:02.965Z' && r.size === 2000)!;
    expect(Math.round(row.verify.messagesPerSecond)).toBe(679);
    expect(Math.round(row.openDkim!)).toBe(1065);
    expect(row.memory).toMatchObject({ message50Mb: expect.closeTo(183, 0), mbox1Gb: expect.closeTo(245, 0) });
    expect(renderHistory([row])).toContain('| 2026-12-05 12:11 | 2,000 | 5 | 679 | 125 | 878 | – | 1,065 | 0.64× | 411 | 1.65× | 239 | – | 183 / 245 |');
    expect(targetsMet(row)).toEqual({ throughput: false, overOpenDkim: false, overMailauth: false });
  });

  it("shows verify's CPU a message, and its main thread's, where the run recorded them", () => {
    const row = rows.find((r) => r.when === '2026-12-07T10:22:05.128Z' && r.size === 2000)!;
    expect(row.verify.cpu).toEqual({ processMs: 5789, mainThreadMs: 823 });
    expect(renderHistory([row])).toMatch(/\| 229 \| 2,895 \(412\) \| {2}\|$/m);
    // a Node without process.threadCpuUsage: the whole only
    expect(renderHistory([{ ...row, verify: { ...row.verify, cpu: { processMs: 5789, mainThreadMs: null } } }])).toMatch(/\| 229 \| 2,895 \| {2}\|$/m);
  });

  it('shows the analysis timed warm, on its second pass, where the run measured it', () => {
    const row = rows.find((r) => r.when === '2026-12-07T19:18:26.377Z' && r.size === 2000)!;
    expect([row.verify.messagesPerSecond, row.analysisAlone, row.analysisWarm, row.openDkim].map((x) => Math.round(x!))).toEqual([899, 1113, 1700, 1343]);
    expect(renderHistory([row])).toContain('| 2026-12-07 19:18 | 2,000 | 5 | 899 | 165 | 1,113 | 1,700 | 1,343 | 0.67× |');
  });

  it('says a target is met when the figures reach it', () => {
    const row = rows.find((r) => r.when === '2026-12-05T12:11:02.965Z')!;
    const fast = { ...row, verify: { ...row.verify, messagesPerSecond: 1300, megabytesPerSecond: 240 } };
    expect(targetsMet(fast)).toEqual({ throughput: true, overOpenDkim: true, overMailauth: true });
  });
});
