import { describe, expect, it } from 'vitest';
import { buildTimeline, timelineChart, verdictChart } from '../../src/report/html/charts.ts';
import { escapeHtml, formatInt, percent } from '../../src/report/html/escape.ts';

describe('escapeHtml', () => {
  it('escapes the five significant characters, for text and double- or single-quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  });

  it('makes bidirectional controls visible instead of letting them reorder the text', () => {
    expect(escapeHtml('invoice\u202Efdp.exe')).toBe('invoice[U+202E]fdp.exe');
    for (const c of ['\u202A', '\u202B', '\u202C', '\u202D', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F', '\u061C']) {
      expect(escapeHtml(`a${c}b`)).toMatch(/^a\[U\+[0-9A-F]{4}\]b$/);
    }
  });

  it('shows control characters as \\xNN and keeps tab, line feed and ordinary Unicode', () => {
    expect(escapeHtml('a\u0000b\u001bc\u007fd\u0085e')).toBe('a\\x00b\\x1bc\\x7fd\\x85e');
    expect(escapeHtml('tab\there, Grüße, 東京, مرحبا')).toBe('tab\there, Grüße, 東京, مرحبا');
    // a line feed from a message never breaks a line of the page (red team 14, finding 03)
    expect(escapeHtml('Lunch\nFrom: CEO <ceo@bank.example>')).toBe('Lunch\\x0aFrom: CEO &lt;ceo@bank.example&gt;');
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(undefined)).toBe('');
    expect(escapeHtml(42)).toBe('42');
  });

  it('formats numbers the same on every machine', () => {
    expect(formatInt(70000)).toBe('70,000');
    expect(formatInt(1234567)).toBe('1,234,567');
    expect(percent(1, 3)).toBe('33.3%');
    expect(percent(1, 2)).toBe('50%');
    expect(percent(1, 5000)).toBe('<0.1%');
    expect(percent(0, 0)).toBe('0%');
  });
});

const at = (iso: string, verdict: 'verified' | 'unverifiable' | 'suspicious' = 'verified') => ({ time: Date.parse(iso), verdict });

describe('timeline', () => {
  it('counts per week over a short span, with empty weeks kept', () => {
    const t = buildTimeline([at('2020-01-06T10:00:00Z'), at('2020-01-08T10:00:00Z', 'suspicious'), at('2020-01-27T10:00:00Z')], 2);
    expect(t.granularity).toBe('week');
    expect(t.buckets.map((b) => b.label)).toEqual(['2020-01-06', '2020-01-13', '2020-01-20', '2020-01-27']);
    expect(t.buckets[0]!.counts).toEqual({ verified: 1, unverifiable: 0, suspicious: 1 });
    expect(t.undated).toBe(2);
  });

  it('counts per month over years, and per year beyond twenty', () => {
    const months = buildTimeline([at('2016-06-01T00:00:00Z'), at('2019-04-17T00:00:00Z')], 0);
    expect(months.granularity).toBe('month');
    expect(months.buckets).toHaveLength(35);
    expect(months.buckets[0]!.label).toBe('2016-06');
    const years = buildTimeline([at('1990-01-01T00:00:00Z'), at('2015-01-01T00:00:00Z')], 0);
    expect(years.granularity).toBe('year');
    expect(years.buckets).toHaveLength(26);
  });

  it('leaves out absurd outliers rather than flattening the chart, and says how many', () => {
    const bulk = Array.from({ length: 300 }, (_, i) => at(new Date(Date.UTC(2018, 0, 1) + i * 86_400_000).toISOString()));
    const t = buildTimeline([at('1970-01-01T00:00:00Z'), ...bulk, at('2099-12-31T00:00:00Z', 'suspicious')], 0);
    expect(t.granularity).toBe('month');
    expect(t.outside).toBe(2);
    expect(t.outsideRange).not.toBeNull();
  });

  it('draws stacked bars with the verdict classes, and a message when nothing is dated', () => {
    const svg = timelineChart(buildTimeline([at('2020-01-06T10:00:00Z'), at('2020-01-06T11:00:00Z', 'suspicious')], 0));
    expect(svg).toContain('id="timeline-chart"');
    expect(svg.match(/<rect class="bar bar-/g)).toHaveLength(2);
    expect(timelineChart(buildTimeline([], 3))).toContain('No message has a usable date.');
  });

  it('draws the verdict chart with bars in proportion', () => {
    const svg = verdictChart({ verified: 1, unverifiable: 2, suspicious: 1 });
    const width = (v: string) => Number(new RegExp(`bar-${v}" [^>]*width="([\\d.]+)"`).exec(svg)?.[1]);
    expect(width('unverifiable')).toBeCloseTo(2 * width('verified'));
    expect(verdictChart({ verified: 0, unverifiable: 0, suspicious: 0 })).toContain('width="0"');
  });
});
