/**
 * The report's two charts, drawn as plain inline SVG at render time: no chart library, no
 * script, nothing fetched. Colours come from the page's stylesheet through the `bar-<verdict>`
 * classes, so the charts print and read the same as the badges.
 */
import type { Verdict } from '../../verdict/reasons.ts';
import { escapeHtml, formatInt, percent } from './escape.ts';

export const VERDICTS: readonly Verdict[] = ['verified', 'unverifiable', 'suspicious'];

/** A coordinate with at most two decimals: small and identical on every machine. */
function n(value: number): string {
  return String(Math.round(value * 100) / 100);
}

export function verdictChart(counts: Record<Verdict, number>): string {
  const total = counts.verified + counts.unverifiable + counts.suspicious;
  const width = 360;
  const rowH = 58;
  const height = VERDICTS.length * rowH;
  const title = `Verdicts: ${VERDICTS.map((v) => `${formatInt(counts[v])} ${v}`).join(', ')}`;
  const out: string[] = [];
  out.push(
    `<svg id="verdict-chart" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="verdict-chart-title" preserveAspectRatio="xMinYMin meet">`,
    `<title id="verdict-chart-title">${escapeHtml(title)}</title>`,
  );
  VERDICTS.forEach((verdict, i) => {
    const y = i * rowH;
    const count = counts[verdict];
    // Bars are shares of all messages, so the three together fill one track.
    const w = total === 0 || count === 0 ? 0 : Math.max(2, (count / total) * width);
    out.push(
      `<g class="row-${verdict}">`,
      `<text class="label" x="0" y="${y + 17}">${escapeHtml(verdict)}</text>`,
      `<text class="value" x="${width}" y="${y + 17}" text-anchor="end">${escapeHtml(`${formatInt(count)} · ${percent(count, total)}`)}</text>`,
      `<rect class="track" x="0" y="${y + 26}" width="${width}" height="20" rx="3"></rect>`,
      `<rect class="bar bar-${verdict}" data-verdict="${verdict}" data-count="${count}" x="0" y="${y + 26}" width="${n(w)}" height="20" rx="3"><title>${escapeHtml(`${formatInt(count)} ${verdict} (${percent(count, total)})`)}</title></rect>`,
      '</g>',
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

export type Granularity = 'week' | 'month' | 'year';

export interface Timeline {
  granularity: Granularity;
  buckets: Array<{ label: string; counts: Record<Verdict, number> }>;
  /** messages with no usable date */
  undated: number;
  /** messages dated far outside the bulk of the dump, left out of the drawn range */
  outside: number;
  outsideRange: { from: string; to: string } | null;
}

const DAY = 86_400_000;
const MAX_MONTHS = 240;

/** Buckets messages per week, month or year, whichever suits the span of their dates. */
export function buildTimeline(dated: Array<{ time: number; verdict: Verdict }>, undated: number): Timeline {
  if (dated.length === 0) return { granularity: 'month', buckets: [], undated, outside: 0, outsideRange: null };
  const times = dated.map((d) => d.time).sort((a, b) => a - b);
  let lo = times[0]!;
  let hi = times[times.length - 1]!;
  let clipped = false;
  // A few messages with absurd dates (1970, 2099) must not flatten the chart of everything else:
  // beyond 20 years of months, points far outside the 1st–99th percentile range (by more than
  // that range's own width, or a year) are left out, and the page says how many.
  if (monthIndex(hi) - monthIndex(lo) + 1 > MAX_MONTHS) {
    const pLo = times[Math.floor((times.length - 1) * 0.01)]!;
    const pHi = times[Math.ceil((times.length - 1) * 0.99)]!;
    const margin = Math.max(pHi - pLo, 365 * DAY);
    const kept = times.filter((t) => t >= pLo - margin && t <= pHi + margin);
    if (kept.length < times.length) {
      lo = kept[0]!;
      hi = kept[kept.length - 1]!;
      clipped = true;
    }
  }
  const granularity: Granularity = hi - lo <= 26 * 7 * DAY ? 'week' : monthIndex(hi) - monthIndex(lo) + 1 <= MAX_MONTHS ? 'month' : 'year';
  const keyOf = (t: number): number =>
    granularity === 'week' ? Math.floor((mondayOf(t) - mondayOf(lo)) / (7 * DAY)) : granularity === 'month' ? monthIndex(t) - monthIndex(lo) : new Date(t).getUTCFullYear() - new Date(lo).getUTCFullYear();
  const size = keyOf(hi) + 1;
  const buckets = Array.from({ length: size }, (_, i) => ({ label: bucketLabel(granularity, lo, i), counts: { verified: 0, unverifiable: 0, suspicious: 0 } as Record<Verdict, number> }));
  let outside = 0;
  for (const d of dated) {
    if (d.time < lo || d.time > hi) {
      outside++;
      continue;
    }
    buckets[keyOf(d.time)]!.counts[d.verdict]++;
  }
  return {
    granularity,
    buckets,
    undated,
    outside,
    outsideRange: clipped ? { from: new Date(lo).toISOString().slice(0, 10), to: new Date(hi).toISOString().slice(0, 10) } : null,
  };
}

function monthIndex(t: number): number {
  const d = new Date(t);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

function mondayOf(t: number): number {
  const day = Math.floor(t / DAY);
  // 1970-01-01 was a Thursday: day 0 → weekday 3 counting from Monday.
  const weekday = (((day + 3) % 7) + 7) % 7;
  return (day - weekday) * DAY;
}

function bucketLabel(granularity: Granularity, lo: number, i: number): string {
  if (granularity === 'week') return new Date(mondayOf(lo) + i * 7 * DAY).toISOString().slice(0, 10);
  if (granularity === 'year') return String(new Date(lo).getUTCFullYear() + i);
  const m = monthIndex(lo) + i;
  return `${Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`;
}

/** Round numbers for a y axis: the smallest 1, 2 or 5 × 10^k step giving at most 5 intervals. */
function niceStep(max: number): number {
  if (max <= 5) return 1;
  const raw = max / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

export function timelineChart(timeline: Timeline): string {
  const width = 800;
  const height = 260;
  const left = 48;
  const right = 12;
  const top = 14;
  const bottom = 42;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const unit = timeline.granularity;
  const total = timeline.buckets.reduce((s, b) => s + b.counts.verified + b.counts.unverifiable + b.counts.suspicious, 0);
  const out: string[] = [];
  out.push(
    `<svg id="timeline-chart" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="timeline-chart-title" data-granularity="${unit}" preserveAspectRatio="xMinYMin meet">`,
    `<title id="timeline-chart-title">${escapeHtml(`Messages per ${unit}, by verdict: ${formatInt(total)} dated messages in ${timeline.buckets.length} ${unit}s`)}</title>`,
  );
  if (timeline.buckets.length === 0) {
    out.push(`<text class="empty" x="${width / 2}" y="${height / 2}" text-anchor="middle">No message has a usable date.</text>`, '</svg>');
    return out.join('\n');
  }
  const max = timeline.buckets.reduce((m, b) => Math.max(m, b.counts.verified + b.counts.unverifiable + b.counts.suspicious), 1);
  const step = niceStep(max);
  const yMax = Math.ceil(max / step) * step;
  const y = (v: number): number => top + plotH - (v / yMax) * plotH;
  out.push('<g class="axis">');
  for (let v = 0; v <= yMax; v += step) {
    out.push(`<line class="${v === 0 ? 'baseline' : 'grid'}" x1="${left}" x2="${width - right}" y1="${n(y(v))}" y2="${n(y(v))}"></line>`);
    out.push(`<text class="tick" x="${left - 8}" y="${n(y(v) + 4)}" text-anchor="end">${formatInt(v)}</text>`);
  }
  const slot = plotW / timeline.buckets.length;
  const gap = slot > 6 ? Math.min(slot * 0.18, 8) : 0;
  const labelWidth = unit === 'week' ? 84 : unit === 'month' ? 64 : 44;
  const every = Math.max(1, Math.ceil(timeline.buckets.length / Math.max(1, Math.floor(plotW / labelWidth))));
  timeline.buckets.forEach((b, i) => {
    if (i % every !== 0) return;
    const x = left + i * slot + slot / 2;
    out.push(`<text class="tick" x="${n(x)}" y="${height - bottom + 18}" text-anchor="middle">${escapeHtml(b.label)}</text>`);
  });
  out.push('</g>', '<g class="bars">');
  timeline.buckets.forEach((b, i) => {
    const sum = b.counts.verified + b.counts.unverifiable + b.counts.suspicious;
    if (sum === 0) return;
    const parts = VERDICTS.filter((v) => b.counts[v] > 0).map((v) => `${formatInt(b.counts[v])} ${v}`);
    const x = left + i * slot + gap / 2;
    const w = Math.max(0.5, slot - gap);
    out.push(`<g class="bucket" data-bucket="${escapeHtml(b.label)}"><title>${escapeHtml(`${b.label}: ${formatInt(sum)} message${sum === 1 ? '' : 's'} (${parts.join(', ')})`)}</title>`);
    let acc = 0;
    for (const verdict of VERDICTS) {
      const c = b.counts[verdict];
      if (c === 0) continue;
      const y1 = y(acc + c);
      const y0 = y(acc);
      out.push(`<rect class="bar bar-${verdict}" data-verdict="${verdict}" data-count="${c}" x="${n(x)}" y="${n(y1)}" width="${n(w)}" height="${n(y0 - y1)}"></rect>`);
      acc += c;
    }
    out.push('</g>');
  });
  out.push('</g>', '</svg>');
  return out.join('\n');
}
