/**
 * The report's stylesheet, inlined and allowed by its sha256 in the Content-Security-Policy.
 * System fonts only (nothing is fetched), and no `url(` anywhere. Verdict colours meet WCAG AA:
 * badge text ≥ 4.5:1 on its tint, chart fills ≥ 3:1 on white.
 */
export const STYLES = String.raw`
:root {
  --text: #1f2328;
  --muted: #59636e;
  --faint: #818b98;
  --line: #d1d9e0;
  --line-soft: #e6eaef;
  --bg: #f6f8fa;
  --panel: #ffffff;
  --accent: #0b4f8a;
  --verified: #1a7f37;
  --verified-fill: #1f883d;
  --verified-tint: #dafbe1;
  --verified-ink: #116329;
  --unverifiable: #9a6700;
  --unverifiable-fill: #bf8700;
  --unverifiable-tint: #fff8c5;
  --unverifiable-ink: #6c4400;
  --suspicious: #cf222e;
  --suspicious-fill: #cf222e;
  --suspicious-tint: #ffebe9;
  --suspicious-ink: #a40e26;
  --sans: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { background: var(--bg); }
body { margin: 0; color: var(--text); font: 15px/1.55 var(--sans); -webkit-text-size-adjust: 100%; }
a { color: var(--accent); text-underline-offset: 2px; }
a:hover { text-decoration-thickness: 2px; }
code, .mono { font-family: var(--mono); font-size: 0.88em; }
h1, h2, h3, h4 { line-height: 1.25; margin: 0; }
h2 { font-size: 1.3rem; margin-bottom: 0.9rem; }
h3 { font-size: 1.02rem; margin: 0 0 0.6rem; }
h4 { font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 1.1rem 0 0.4rem; }
p { margin: 0 0 0.7rem; }

.masthead { background: #17212b; color: #e8edf2; }
.masthead .inner { max-width: 1240px; margin: 0 auto; padding: 1.3rem 1.5rem 1.1rem; display: flex; flex-wrap: wrap; gap: 0.4rem 2rem; align-items: baseline; justify-content: space-between; }
.masthead h1 { font-size: 1.45rem; font-weight: 650; letter-spacing: -0.01em; }
.masthead h1 .tool { font-weight: 400; color: #9fb0c0; margin-right: 0.5rem; }
.masthead .meta { color: #b8c4cf; font-size: 0.85rem; }
.masthead .meta span + span::before { content: "·"; margin: 0 0.5rem; color: #6e7f8f; }
.masthead .path { font-family: var(--mono); color: #e8edf2; overflow-wrap: anywhere; }
nav.sections { background: var(--panel); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 5; }
nav.sections ul { max-width: 1240px; margin: 0 auto; padding: 0 1.5rem; list-style: none; display: flex; flex-wrap: wrap; gap: 0 1.4rem; }
nav.sections a { display: inline-block; padding: 0.55rem 0; color: var(--muted); text-decoration: none; font-size: 0.9rem; font-weight: 500; }
nav.sections a:hover { color: var(--text); }

main { max-width: 1240px; margin: 0 auto; padding: 1.4rem 1.5rem 3rem; }
section.block { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 1.3rem 1.4rem 1.4rem; margin-bottom: 1.3rem; scroll-margin-top: 3rem; }
.lede { color: var(--muted); max-width: 75ch; margin-bottom: 1rem; }
.note { color: var(--muted); font-size: 0.88rem; }
.filter-note { background: #ddf4ff; border: 1px solid #a8d4f5; border-radius: 6px; padding: 0.5rem 0.8rem; margin-bottom: 1rem; }
.run-note { background: #fff1e5; border: 1px solid #d1242f; border-radius: 6px; padding: 0.5rem 0.8rem; margin-bottom: 1rem; }

.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(250px, 1fr)); gap: 1rem; margin-bottom: 1.1rem; }
.card { border: 1px solid var(--line); border-top-width: 4px; border-radius: 6px; padding: 0.9rem 1rem 1rem; background: var(--panel); }
.card.verified { border-top-color: var(--verified-fill); }
.card.unverifiable { border-top-color: var(--unverifiable-fill); }
.card.suspicious { border-top-color: var(--suspicious-fill); }
.card .count { font-size: 2.1rem; font-weight: 700; line-height: 1.1; font-variant-numeric: tabular-nums; }
.card .share { color: var(--muted); font-size: 0.9rem; margin-left: 0.35rem; }
.card .name { margin: 0.35rem 0 0.55rem; }
.card .means { margin: 0 0 0.45rem; font-size: 0.92rem; }
.card .not { margin: 0; font-size: 0.86rem; color: var(--muted); }
.card .not strong { color: var(--text); }

.callout { border: 1px solid #e7c75f; border-left: 6px solid var(--unverifiable-fill); background: #fffbe6; border-radius: 6px; padding: 0.9rem 1.1rem; margin: 0 0 1.2rem; }
.callout h3 { font-size: 1.08rem; margin-bottom: 0.3rem; color: #5c3b00; }
.callout p { margin: 0; max-width: 90ch; }
.callout:last-child { margin-bottom: 0; }

.badge { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; font-size: 0.8rem; font-weight: 600; border: 1px solid transparent; white-space: nowrap; line-height: 1.5; }
.badge.verified { background: var(--verified-tint); color: var(--verified-ink); border-color: #aceebb; }
.badge.unverifiable { background: var(--unverifiable-tint); color: var(--unverifiable-ink); border-color: #eed888; }
.badge.warned { background: #fff; color: var(--unverifiable-ink); border-color: var(--unverifiable-ink); }
.badge.suspicious { background: var(--suspicious-tint); color: var(--suspicious-ink); border-color: #ffcecb; }
.sev { display: inline-block; padding: 0 0.4rem; border-radius: 4px; font-size: 0.74rem; font-weight: 700; text-transform: uppercase; letter-spacing: 0.03em; border: 1px solid var(--line); color: var(--muted); background: var(--bg); }
.sev.red-flag { color: var(--suspicious-ink); background: var(--suspicious-tint); border-color: #ffcecb; }
.sev.warning { color: var(--unverifiable-ink); background: var(--unverifiable-tint); border-color: #eed888; }

.grid-2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 2.3fr); gap: 1.5rem 2rem; align-items: start; }
@media (max-width: 900px) { .grid-2 { grid-template-columns: minmax(0, 1fr); } }
.chart { display: block; max-width: 100%; height: auto; font-family: var(--sans); }
.chart text { fill: var(--muted); font-size: 12px; }
.chart .label { fill: var(--text); font-size: 15px; font-weight: 600; }
.chart .value { fill: var(--text); font-size: 14px; font-variant-numeric: tabular-nums; }
.chart .track { fill: #eef1f4; }
.chart .grid { stroke: var(--line-soft); stroke-width: 1; }
.chart .baseline { stroke: var(--faint); stroke-width: 1; }
.chart .bucket:hover .bar { opacity: 0.8; }
.bar-verified { fill: var(--verified-fill); }
.bar-unverifiable { fill: var(--unverifiable-fill); }
.bar-suspicious { fill: var(--suspicious-fill); }
.legend { display: flex; flex-wrap: wrap; gap: 0.3rem 1.2rem; margin: 0.5rem 0 0; padding: 0; list-style: none; font-size: 0.86rem; color: var(--muted); }
.legend li::before { content: ""; display: inline-block; width: 0.8em; height: 0.8em; border-radius: 2px; margin-right: 0.4em; vertical-align: -0.05em; }
.legend .verified::before { background: var(--verified-fill); }
.legend .unverifiable::before { background: var(--unverifiable-fill); }
.legend .suspicious::before { background: var(--suspicious-fill); }

table.data { width: 100%; border-collapse: collapse; font-size: 0.88rem; }
table.data th, table.data td { text-align: left; vertical-align: top; padding: 0.42rem 0.6rem; border-bottom: 1px solid var(--line-soft); }
table.data thead th { font-size: 0.76rem; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); font-weight: 600; background: #f6f8fa; border-bottom: 1px solid var(--line); white-space: nowrap; }
table.data td.num, table.data th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.custody td.size { white-space: nowrap; font-variant-numeric: tabular-nums; }
table.data tbody tr:hover { background: #f6f8fa; }
table.data .sub { display: block; color: var(--muted); font-size: 0.8rem; }
td.zero { color: var(--faint); }
td.fail-count { color: var(--suspicious-ink); font-weight: 600; }
td.pass-count { color: var(--verified-ink); }
.table-wrap { overflow-x: auto; }
.scroll { max-height: 72vh; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
.reasons td:first-child { white-space: nowrap; }

#message-table { display: block; min-width: 920px; }
#message-table thead { display: block; position: sticky; top: 0; z-index: 1; }
#message-table tbody { display: block; content-visibility: auto; contain-intrinsic-size: auto 23000px; }
#message-table tr { display: grid; grid-template-columns: 9rem minmax(0, 1.5fr) minmax(0, 1.8fr) 8.2rem 12rem minmax(0, 1.3fr); }
#message-table th, #message-table td { display: block; min-width: 0; }
#message-table td { overflow-wrap: break-word; }
#message-table td.f { overflow-wrap: anywhere; }
#message-table td.empty { grid-column: 1 / -1; color: var(--muted); }
#message-table td.d { white-space: nowrap; font-variant-numeric: tabular-nums; color: var(--muted); }
#message-table td.f { color: var(--muted); font-family: var(--mono); font-size: 0.78rem; }
#message-table th button { font: inherit; color: inherit; text-transform: inherit; letter-spacing: inherit; background: none; border: 0; padding: 0; cursor: pointer; }
#message-table th button::after { content: "↕"; margin-left: 0.35em; color: var(--faint); font-size: 0.9em; }
#message-table th[aria-sort="ascending"] button::after { content: "↑"; color: var(--text); }
#message-table th[aria-sort="descending"] button::after { content: "↓"; color: var(--text); }
#message-table th button:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }

.controls { display: flex; flex-wrap: wrap; gap: 0.6rem 1rem; align-items: center; margin: 0 0 0.8rem; }
.controls label { font-size: 0.85rem; color: var(--muted); display: flex; align-items: center; gap: 0.45rem; }
.controls input, .controls select { font: inherit; font-size: 0.92rem; color: var(--text); padding: 0.38rem 0.6rem; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); }
.controls input { width: min(26rem, 80vw); }
.controls input:focus, .controls select:focus { outline: 2px solid var(--accent); outline-offset: 0; border-color: var(--accent); }
.controls button { font: inherit; font-size: 0.85rem; color: var(--text); padding: 0.3rem 0.8rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); cursor: pointer; }
.controls button:hover { background: var(--line-soft); }
.controls button:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.controls output { margin-left: auto; font-size: 0.85rem; color: var(--muted); font-variant-numeric: tabular-nums; }

.detail-group { margin-top: 1.4rem; }
.detail-group > h3 { display: flex; gap: 0.6rem; align-items: center; }
details.msg { content-visibility: auto; contain-intrinsic-size: auto 64px; border: 1px solid var(--line); border-left-width: 4px; border-radius: 6px; margin: 0 0 0.55rem; background: var(--panel); scroll-margin-top: 3rem; }
details.msg.verified { border-left-color: var(--verified-fill); }
details.msg.unverifiable { border-left-color: var(--unverifiable-fill); }
details.msg.suspicious { border-left-color: var(--suspicious-fill); }
details.msg > summary { cursor: pointer; padding: 0.6rem 0.9rem; display: grid; grid-template-columns: auto minmax(0, 1fr); gap: 0.1rem 0.7rem; align-items: baseline; }
details.msg > summary::-webkit-details-marker { color: var(--faint); }
details.msg > summary .subj { font-weight: 600; overflow-wrap: anywhere; }
details.msg > summary .meta { grid-column: 2; color: var(--muted); font-size: 0.84rem; overflow-wrap: anywhere; }
details.msg[open] > summary { border-bottom: 1px solid var(--line-soft); background: #fafbfc; }
details.msg .content { padding: 0.3rem 1rem 1rem; }
.explanation { background: var(--bg); border-radius: 6px; padding: 0.6rem 0.8rem; margin: 0.8rem 0 0; }
ul.plain { margin: 0; padding-left: 1.1rem; }
ul.warned { margin: 0; padding-left: 1.1rem; }
ul.warned > li { margin-bottom: 0.6rem; }
ul.warned .subj { font-weight: 600; overflow-wrap: anywhere; }
ul.warned .meta { color: var(--muted); font-size: 0.84rem; overflow-wrap: anywhere; }
ul.plain li { margin-bottom: 0.25rem; }
dl.kv { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.15rem 1rem; margin: 0; font-size: 0.88rem; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; overflow-wrap: anywhere; }
pre.headers { font-family: var(--mono); font-size: 0.82rem; background: var(--bg); border: 1px solid var(--line-soft); border-radius: 6px; padding: 0.6rem 0.8rem; margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.sig { border: 1px solid var(--line-soft); border-radius: 6px; padding: 0.6rem 0.8rem; margin-bottom: 0.5rem; }
.sig-head { display: flex; flex-wrap: wrap; gap: 0.3rem 0.7rem; align-items: baseline; margin-bottom: 0.4rem; }
.outcome { font-weight: 600; }
.outcome.pass { color: var(--verified-ink); }
.outcome.fail { color: var(--suspicious-ink); }
.outcome.other { color: var(--unverifiable-ink); }
.finding { margin-bottom: 0.45rem; }
.evidence { margin: 0.25rem 0 0 0; font-size: 0.82rem; color: var(--muted); }
.evidence code { color: var(--text); }
footer { max-width: 1240px; margin: 0 auto; padding: 0 1.5rem 2.5rem; color: var(--muted); font-size: 0.84rem; }
@media print {
  nav.sections, .controls, #detail-toggles { display: none !important; }
  .scroll { max-height: none; overflow: visible; border: 0; }
  section.block { break-inside: auto; border: 0; padding: 0; }
  html, body { background: #fff; }
}
`;
