/**
 * `leakcheck report --format html`: one self-contained HTML file for a newsroom. It loads
 * nothing (no fonts, scripts, images or styles from anywhere: a Content-Security-Policy with
 * `default-src 'none'` enforces it), works without JavaScript, and is the same bytes for the
 * same database (messages in path order; no clock unless `generatedAt` is given).
 *
 * Every piece of message-derived text goes through `escapeHtml` (escape.ts), in element
 * content and attribute values alike.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../../store/open-store.ts';
import { documentCounts, isRedFlag, iterateDocuments, type DocumentCounts, type DocumentRecord } from '../../store/documents-pass.ts';
import { changeCounts, changeTally } from '../change-counts.ts';
import { carrierNote, conflictDifference, conflictSubject, coverageNote, redFlagsPast, sentAs } from '../coverage-note.ts';
import { changesRecorded, hasCustodyToShow, iterateMessageListings, iterateMessages, qualifiesProof, summarize } from '../../store/queries.ts';
import { readNotes } from '../read-notes.ts';
import { inReadSnapshot } from '../../store/read-snapshot.ts';
import type { CustodySummary, DumpSummary, MessageListing, MessageRecord, SignatureRecord } from '../../store/queries.ts';
import { shownKeyOrigin } from '../../keys/key-file-name.ts';
import { alignmentLabel, alignmentOf } from '../alignment-label.ts';
import { REASONS } from '../../verdict/reasons.ts';
import type { Verdict } from '../../verdict/reasons.ts';
import { buildTimeline, timelineChart, verdictChart, VERDICTS } from './charts.ts';
import { CLIENT_SCRIPT } from './client-script.ts';
import { clip, escapeHtml, formatInstant, formatInt, htmlPath, percent } from './escape.ts';
import { labelQuoted, messageLabel } from '../message-label.ts';
import { STYLES } from './styles.ts';
import { shownFrom, shownText } from '../shown-from.ts';
import { describeRepair } from '../../verdict/repairs.ts';
import { KEY_NOT_SIGNER_NOTE, keyNotSigner } from '../key-not-signer.ts';
import { runStateNote, shownRunStatus } from '../run-state-note.ts';
import type { RunState } from '../../store/run-state.ts';

export interface HtmlReportOptions {
  /** only messages with this verdict (`--verdict`) */
  verdict?: Verdict | undefined;
  /** shown on the page when given; omitted, the page carries no clock time of its own */
  generatedAt?: string | undefined;
  /** how many messages of each verdict get a detail section (the table always lists all) */
  detailLimits?: Partial<Record<Verdict, number>> | undefined;
  /** the size of the pieces htmlReportPieces hands on (about 64 KB; smaller in tests) */
  pieceChars?: number | undefined;
  /** the last run's state (`lastRunState`): a run cut short or under way is said at the top */
  runState?: RunState | undefined;
}

/**
 * Detail sections cost a few kilobytes each; a dump of 70,000 messages must still open in a
 * browser. Every message is in the table whatever these limits.
 */
/**
 * Findings read and shown per message: the rest are counted by code. A message can carry
 * thousands (a thousand replies that each find it dated after them, red team BB, BB-07), and the
 * page held them all, with their evidence, for every message of a page of the database.
 */
export const HTML_FINDINGS_SHOWN = 50;
const SHOWN_FINDINGS = { findingsShown: HTML_FINDINGS_SHOWN };

export const DEFAULT_DETAIL_LIMITS: Readonly<Record<Verdict, number>> = { suspicious: 2000, unverifiable: 1000, verified: 200 };

/** Rows of the signing-domain table, most used first. */
const DOMAIN_ROWS_LIMIT = 500;

const sha256Base64 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('base64');

/** The page's policy: nothing may be loaded; only this stylesheet and this script may run. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${sha256Base64(STYLES)}'`,
  `script-src 'sha256-${sha256Base64(CLIENT_SCRIPT)}'`,
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const MEANING: Record<Verdict, { means: string; not: string }> = {
  verified: {
    means: 'Cryptographically proven: a valid DKIM signature by the From domain, made with a key nobody else can have forged, covers the From header and the whole body. A warning beside it says what else the signature leaves unproven.',
    not: 'That the content is true, or that the person named in From wrote it: it proves that the signing domain sent these bytes.',
  },
  unverifiable: {
    means: 'No proof either way: the message is unsigned, its signing key is gone or too weak, it is signed only by a third party, or its signature cannot be evaluated.',
    not: 'That the message is fake. Most genuine mail in a real dump ends up here, because signing keys are rotated out of DNS within months.',
  },
  suspicious: {
    means: 'Evidence of tampering or fabrication: a signature that no longer matches, an injected header, or content appended past the signed part.',
    not: 'That the whole message was fabricated: a single changed byte is enough. Read the explanation of each message.',
  },
};

const FAILED_OUTCOMES = new Set(['body-modified', 'signature-mismatch']);

interface DomainStats {
  domain: string;
  selector: string;
  messages: number;
  lastMessage: number;
  signatures: number;
  pass: number;
  fail: number;
  other: Map<string, number>;
  thirdParty: number;
  /** not aligned though the domain of the first From address: the From field names no certain author */
  authorNotProven: number;
  /** at most KEYS_SHOWN, the first by their description's code units, and whether there were more */
  keys: Map<string, ShownKey>;
  moreKeys: boolean;
}

interface ShownKey {
  text: string;
  hasKey: boolean;
  lookup: string;
}

const KEYS_SHOWN = 8;

/** The whole page as one string (tests, and pages small enough to hold). */
export function renderHtmlReport(db: Db, options: HtmlReportOptions = {}): string {
  return [...htmlReportPieces(db, options)].join('');
}

/**
 * The page in pieces of about 64 KB, to be written as they come: the table of messages is most
 * of the page, and held whole (with the page it went into) it took a 70,000-message report to
 * 329 MB. The messages are read three times, inside one read transaction so that every pass
 * sees the same database: once for what the sections above the table need (counts, the timeline,
 * the signing domains, which messages are detailed), then for the table's rows, then, verdict by
 * verdict, for the detail sections, each written as it is made.
 */
export function htmlReportPieces(db: Db, options: HtmlReportOptions = {}): Generator<string> {
  return inReadSnapshot(db, () => pagePieces(db, options));
}

/** Lines of the page, handed on in pieces of about `pieceChars`: joined, they are the page. */
class PageWriter {
  #lines: string[] = [];
  #chars = 0;
  #started = false;
  readonly #pieceChars: number;

  constructor(pieceChars: number) {
    this.#pieceChars = pieceChars;
  }

  add(...lines: string[]): void {
    for (const line of lines) {
      this.#lines.push(line);
      this.#chars += line.length;
    }
  }

  get full(): boolean {
    return this.#chars >= this.#pieceChars;
  }

  /** What was added since the last piece, or null if nothing was. */
  take(): string | null {
    if (this.#lines.length === 0) return null;
    const piece = (this.#started ? '\n' : '') + this.#lines.join('\n');
    this.#started = true;
    this.#lines = [];
    this.#chars = 0;
    return piece;
  }
}

const PIECE_CHARS = 64 * 1024;

function* pagePieces(db: Db, options: HtmlReportOptions): Generator<string> {
  const filter = { verdict: options.verdict };
  const summary = { ...summarize(db, filter), runState: options.runState };
  const whole = options.verdict ? summarize(db) : summary;
  const limits: Record<Verdict, number> = { ...DEFAULT_DETAIL_LIMITS, ...options.detailLimits };
  // A verdict is one of three by construction; anything else (a hand-edited database) is listed, not detailed.
  const detailedAs = (m: MessageListing, seen: Record<Verdict, number>): boolean => {
    if (!VERDICTS.includes(m.verdict)) return false;
    seen[m.verdict]++;
    return seen[m.verdict] <= limits[m.verdict];
  };

  // where each detailed message is in the table: its section, written at the end, links to it
  const anchors = new Map<number, string>();
  const seen: Record<Verdict, number> = { verified: 0, unverifiable: 0, suspicious: 0 };
  const dated: Array<{ time: number; verdict: Verdict }> = [];
  let undated = 0;
  const domains = new Map<string, DomainStats>();
  const warned: WarnedMessages = { ids: new Set(), listed: [] };
  let n = 0;
  for (const m of iterateMessages(db, filter, undefined, SHOWN_FINDINGS)) {
    n++;
    const warnings = m.verdict === 'verified' ? m.findings.filter(qualifiesProof) : [];
    const detailed = detailedAs(m, seen);
    if (warnings.length) {
      warned.ids.add(m.id);
      if (warned.listed.length < WARNED_LISTED) warned.listed.push({ m, warnings, anchor: detailed ? `msg-${n}` : null });
    }
    if (detailed) anchors.set(m.id, `msg-${n}`);
    const time = m.date ? Date.parse(m.date) : Number.NaN;
    if (Number.isNaN(time)) undated++;
    else if (VERDICTS.includes(m.verdict)) dated.push({ time, verdict: m.verdict });
    for (const sig of m.signatures) addSignature(domains, m.id, sig, m.findings);
  }

  const timeline = buildTimeline(dated, undated);
  const dumpRoot = summary.run?.dumpRoot ?? '';
  const dumpName = dumpRoot.split(/[\\/]/).filter(Boolean).pop() ?? '';

  const out = new PageWriter(options.pieceChars ?? PIECE_CHARS);
  out.add(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">`,
    '<meta name="referrer" content="no-referrer">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="leakcheck${summary.run ? ` ${escapeHtml(summary.run.toolVersion)}` : ''}">`,
    `<title>${escapeHtml(`leakcheck report${dumpName ? `: ${dumpName}` : ''}`)}</title>`,
    `<style>${STYLES}</style>`,
    '</head>',
    '<body>',
  );
  out.add(masthead(summary, options.generatedAt));
  out.add(
    '<nav class="sections" aria-label="Sections"><ul>',
    '<li><a href="#summary">Summary</a></li>',
    ...(warned.ids.size ? ['<li><a href="#warned">Verified, with warnings</a></li>'] : []),
    '<li><a href="#charts">Charts</a></li>',
    ...(hasCustodyToShow(summary.custody) ? ['<li><a href="#custody">Chain of custody</a></li>'] : []),
    '<li><a href="#reasons">Reasons</a></li>',
    '<li><a href="#domains">Signing domains</a></li>',
    '<li><a href="#messages">Messages</a></li>',
    '<li><a href="#documents">Documents</a></li>',
    '<li><a href="#details">Details</a></li>',
    '</ul></nav>',
    '<main>',
  );
  out.add(summarySection(summary, whole, options.verdict));
  if (warned.ids.size) out.add(warnedSection(warned));
  out.add(chartsSection(summary, timeline));
  if (hasCustodyToShow(summary.custody)) out.add(custodySection(summary.custody));
  out.add(reasonsSection(summary));
  out.add(domainSection(domains));
  messagesHead(out, summary.messages);
  if (out.full) yield out.take()!;
  // The second pass: the rows, in bodies of ROWS_PER_BODY, handed on as the pieces fill.
  const again: Record<Verdict, number> = { verified: 0, unverifiable: 0, suspicious: 0 };
  let rows = 0;
  for (const m of iterateMessageListings(db, filter)) {
    if (rows % ROWS_PER_BODY === 0) out.add(rows ? '</tbody>\n<tbody>' : '<tbody>');
    rows++;
    out.add(messageRow(m, detailedAs(m, again) ? `msg-${rows}` : null, warned.ids.has(m.id)));
    if (out.full) yield out.take()!;
  }
  out.add(rows ? '</tbody>' : '<tbody><tr><td class="empty">No messages.</td></tr></tbody>');
  out.add('</table></div>', '</section>');
  const documents = documentCounts(db);
  out.add(documentsHead(documents));
  if (documents.total) {
    let listed = 0;
    for (const d of iterateDocuments(db)) {
      out.add(documentRow(d));
      if (out.full) yield out.take()!;
      if (++listed === HTML_DOCUMENTS) break;
    }
    out.add('</tbody></table>');
    if (documents.total > listed) out.add(`<p class="note">…and ${formatInt(documents.total - listed)} more: <code>leakcheck documents</code> lists every document.</p>`);
  }
  out.add('</section>');
  if (out.full) yield out.take()!;
  // Each detail section is written as it is made: kept until the end and joined, those of a
  // thousand messages with a thousand findings each passed V8's longest string (red team BB, BB-07).
  const detailed = Object.fromEntries(VERDICTS.map((v) => [v, Math.min(seen[v], limits[v])])) as Record<Verdict, number>;
  out.add(detailsHead(detailed, seen, limits));
  for (const v of DETAIL_ORDER) {
    if (!detailed[v]) continue;
    out.add(`<div class="detail-group" id="details-${v}">`, `<h3><span class="badge ${v}">${v}</span> ${formatInt(detailed[v])}${detailed[v] < seen[v] ? ` of ${formatInt(seen[v])}` : ''}</h3>`);
    let written = 0;
    for (const m of iterateMessages(db, { verdict: v }, undefined, SHOWN_FINDINGS)) {
      const anchor = anchors.get(m.id);
      if (anchor === undefined) continue;
      out.add(messageDetail(m, anchor, warned.ids.has(m.id)));
      if (out.full) yield out.take()!;
      if (++written === detailed[v]) break;
    }
    out.add('</div>');
  }
  out.add('</section>');
  out.add(
    '</main>',
    '<footer>',
    '<p>This page is self-contained: it loads nothing from the network, and its policy forbids it to. Every message is listed in the table; the complete record of every message (signatures, keys, ARC, findings) is in <code>leakcheck export --format jsonl</code>. Verdicts, reasons and their wording are documented in <code>docs/verdicts.md</code>.</p>',
    '</footer>',
    `<script>${CLIENT_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  );
  const last = out.take();
  if (last !== null) yield last;
}

function masthead(summary: DumpSummary, generatedAt: string | undefined): string {
  const meta: string[] = [];
  if (summary.run) {
    meta.push(`<span class="path">${escapeHtml(summary.run.dumpRoot)}</span>`);
    meta.push(`<span>run #${summary.run.id}, ${escapeHtml(shownRunStatus(summary.run.status, summary.runState))}${summary.run.startedAt ? `, ${escapeHtml(formatInstant(summary.run.startedAt) ?? summary.run.startedAt)} UTC` : ''}</span>`);
    meta.push(`<span>leakcheck ${escapeHtml(summary.run.toolVersion)}</span>`);
  }
  if (generatedAt) meta.push(`<span>report generated ${escapeHtml(generatedAt)}</span>`);
  return [
    '<header class="masthead"><div class="inner">',
    '<h1><span class="tool">leakcheck</span>Verification report</h1>',
    `<div class="meta">${meta.join('')}</div>`,
    '</div></header>',
  ].join('\n');
}

function summarySection(summary: DumpSummary, whole: DumpSummary, verdict: Verdict | undefined): string {
  const out: string[] = ['<section class="block" id="summary" aria-labelledby="summary-h">', '<h2 id="summary-h">Summary</h2>'];
  const note = summary.runState && runStateNote(summary.runState);
  if (note) out.push(`<p class="run-note" role="alert"><strong>${escapeHtml(note)}.</strong></p>`);
  if (verdict) {
    out.push(
      `<p class="filter-note">This report is limited to <strong>${escapeHtml(verdict)}</strong> messages (<code>--verdict ${escapeHtml(verdict)}</code>). The whole database holds ${VERDICTS.map((v) => `${formatInt(whole.verdicts[v])} ${v}`).join(', ')}.</p>`,
    );
  }
  const skipped = summary.files.skippedByReason.map((r) => `${formatInt(r.count)} ${escapeHtml(r.reason)}`).join(', ');
  const { partsNotRead, otherNotes } = readNotes(summary.files);
  const tally = (notes: typeof partsNotRead): string => escapeHtml(notes.which(formatInt));
  out.push(
    `<p class="lede">${formatInt(summary.messages)} message${summary.messages === 1 ? '' : 's'} from ${formatInt(summary.files.withMessages)} file${summary.files.withMessages === 1 ? '' : 's'}, each checked for DKIM and ARC signatures and header consistency.` +
      (summary.files.skipped ? ` ${formatInt(summary.files.skipped)} file${summary.files.skipped === 1 ? ' was' : 's were'} skipped as not email${skipped ? ` (${skipped})` : ''}.` : '') +
      (summary.files.errors
        ? ` <strong>${formatInt(summary.files.errors)} file${summary.files.errors === 1 ? '' : 's'} could not be read completely (${summary.files.errorsByReason.map((r) => `${formatInt(r.count)} ${escapeHtml(r.reason)}`).join(', ')}), so ${summary.files.errors === 1 ? 'its emails were' : 'their emails were'} not verified.</strong>`
        : '') +
      (partsNotRead.count ? ` <strong>${formatInt(partsNotRead.count)} archive${partsNotRead.count === 1 ? ' has' : 's have'} parts that were not read (${tally(partsNotRead)}).</strong>` : '') +
      (otherNotes.count ? ` ${formatInt(otherNotes.count)} file${otherNotes.count === 1 ? ' was' : 's were'} read whole with a note on how (${tally(otherNotes)}).` : '') +
      '</p>',
  );
  if (summary.files.unread.length) {
    out.push('<details class="unread"><summary>Files not read completely</summary><ul>');
    for (const f of summary.files.unread) out.push(`<li><span class="path">${htmlPath(clip(f.path, 200))}</span>: ${escapeHtml(clip(`${f.reason}${f.detail ? `: ${f.detail}` : ''}`, 300))}</li>`);
    if (summary.files.errors > summary.files.unread.length) out.push(`<li>… and ${formatInt(summary.files.errors - summary.files.unread.length)} more: <code>leakcheck manifest</code> lists every file.</li>`);
    out.push('</ul></details>');
  }
  if (otherNotes.files.length) {
    out.push('<details class="unread"><summary>Files read with a note</summary><ul>');
    for (const f of otherNotes.files) out.push(`<li><span class="path">${htmlPath(clip(f.path, 200))}</span>: ${escapeHtml(clip(`${f.reason}${f.detail ? `: ${f.detail}` : ''}`, 600))}</li>`);
    if (otherNotes.count > otherNotes.files.length) out.push(`<li>… and ${formatInt(otherNotes.count - otherNotes.files.length)} more: <code>leakcheck manifest</code> lists every file.</li>`);
    out.push('</ul></details>');
  }
  out.push('<div class="cards">');
  for (const v of VERDICTS) {
    out.push(
      `<div class="card ${v}" id="card-${v}">`,
      `<div><span class="count">${formatInt(summary.verdicts[v])}</span><span class="share">${escapeHtml(percent(summary.verdicts[v], summary.messages))}</span></div>`,
      `<div class="name"><span class="badge ${v}">${v}</span></div>`,
      `<p class="means">${escapeHtml(MEANING[v].means)}</p>`,
      `<p class="not"><strong>Does not mean:</strong> ${escapeHtml(MEANING[v].not)}</p>`,
      '</div>',
    );
  }
  out.push('</div>');
  out.push(
    '<div class="callout" id="not-fake" role="note">',
    '<h3>Unverifiable is not fake.</h3>',
    '<p>An unverifiable message has simply not been proven either way. Most genuine mail in a real dump is unverifiable, because it was never signed or its signing key has since been rotated out of DNS. Only a <strong>suspicious</strong> verdict is evidence of tampering, and only a <strong>verified</strong> one is proof.</p>',
    '</div>',
  );
  out.push('</section>');
  return out.join('\n');
}

/** Files found different from an earlier run's record: a verdict is about the bytes it was given. */
function custodySection(custody: CustodySummary): string {
  const out: string[] = ['<section class="block" id="custody" aria-labelledby="custody-h">', '<h2 id="custody-h">Chain of custody</h2>'];
  const run = custody.lastRun;
  if (run?.rehash) {
    out.push(
      `<p class="lede">Run #${run.id} re-read every file (<code>--rehash</code>): ${formatInt(run.confirmed)} matched the sha256 on record; ` +
        `${changeTally(run, formatInt)}.</p>`,
    );
  }
  const recorded = changesRecorded(custody);
  if (recorded > 0) {
    out.push(
      '<div class="callout" role="note">',
      `<h3>${changeCounts(custody, (n, kind) => `${formatInt(n)} ${kind}${n === 1 ? '' : 's'}`)} recorded across runs.</h3>`,
      '<p>The dump on disk was found different from what an earlier run had analysed. Changed and added files were analysed; the verdicts in this report are about the bytes as they were last read. An added file was not in the dump when a walk of it completed: it joined the evidence afterwards. An unconfirmed file could not be read again: nothing shows it changed, nothing shows it did not, and its verdicts are those of its last reading.</p>',
      '</div>',
      '<div class="table-wrap"><table class="data custody"><thead><tr><th class="num" scope="col">Run</th><th scope="col">Change</th><th scope="col">File</th><th scope="col">Size</th><th scope="col">sha256 before → after</th></tr></thead><tbody>',
    );
    for (const c of custody.recent) {
      const bytes = (size: number | null): string => (size === null ? '?' : formatInt(size));
      // one reading for a file removed or added, the two for a file changed; for a file
      // unconfirmed, the reading on record and why none was made
      const unconfirmed = c.change === 'unconfirmed';
      const size = c.old && c.new && !unconfirmed ? `${bytes(c.old.size)} → ${bytes(c.new.size)}` : bytes((c.old ?? c.new)?.size ?? null);
      const hash = unconfirmed
        ? `<code>${escapeHtml(c.old?.sha256 ?? '?')}</code>, not confirmed: could not be read (${escapeHtml(clip(c.detail ?? '?', 160))})`
        : `<code>${c.old && c.new ? `${escapeHtml(c.old.sha256 ?? '?')} → ${escapeHtml(c.new.sha256 ?? '?')}` : escapeHtml((c.old ?? c.new)?.sha256 ?? '?')}</code>`;
      out.push(
        `<tr><td class="num">${c.runId}</td><td>${escapeHtml(c.change)}</td><td class="path">${htmlPath(clip(c.path, 160))}</td><td class="size">${size}</td><td>${hash}</td></tr>`,
      );
    }
    out.push('</tbody></table></div>');
    const more = recorded - custody.recent.length;
    if (more > 0) out.push(`<p class="note">…and ${formatInt(more)} older: <code>leakcheck custody</code> lists them all.</p>`);
  }
  out.push('</section>');
  return out.join('\n');
}

function reasonsSection(summary: DumpSummary): string {
  const out: string[] = [
    '<section class="block" id="reasons" aria-labelledby="reasons-h">',
    '<h2 id="reasons-h">Reasons given</h2>',
    '<p class="lede">Each verdict names its reasons; a message can have several. Codes are documented in <code>docs/verdicts.md</code>.</p>',
  ];
  if (!summary.topReasons.length) out.push('<p class="note">No message in this report.</p>');
  if (summary.topReasons.length) {
    out.push(
      '<div class="table-wrap"><table class="data reasons"><thead><tr><th scope="col">Reason</th><th scope="col">Argues for</th><th class="num" scope="col">Messages</th><th scope="col">What it means</th></tr></thead><tbody>',
    );
    for (const r of summary.topReasons) {
      const def = (REASONS as Record<string, { verdict: Verdict; text: string } | undefined>)[r.code];
      out.push(
        `<tr><td><code>${escapeHtml(r.code)}</code></td><td>${def ? `<span class="badge ${def.verdict}">${def.verdict}</span>` : ''}</td><td class="num">${formatInt(r.count)}</td><td>${escapeHtml(def?.text ?? 'A finding of the header checks: see docs/checks.md.')}</td></tr>`,
      );
    }
    out.push('</tbody></table></div>');
  }
  out.push('</section>');
  return out.join('\n');
}

function chartsSection(summary: DumpSummary, timeline: ReturnType<typeof buildTimeline>): string {
  const notes: string[] = [];
  if (timeline.undated) notes.push(`${formatInt(timeline.undated)} message${timeline.undated === 1 ? ' has' : 's have'} no usable Date and ${timeline.undated === 1 ? 'is' : 'are'} not drawn.`);
  if (timeline.outside && timeline.outsideRange) {
    notes.push(`${formatInt(timeline.outside)} message${timeline.outside === 1 ? ' is' : 's are'} dated far from all the others, outside ${timeline.outsideRange.from} – ${timeline.outsideRange.to}, and not drawn.`);
  }
  const legend = `<ul class="legend">${VERDICTS.map((v) => `<li class="${v}">${v}</li>`).join('')}</ul>`;
  const out: string[] = [
    '<section class="block" id="charts" aria-labelledby="charts-h">',
    '<h2 id="charts-h">Charts</h2>',
    '<div class="grid-2">',
  ];
  out.push(
    '<div>',
    '<h3>Verdicts</h3>',
    verdictChart(summary.verdicts),
    '</div>',
    '<div>',
    `<h3>Messages per ${timeline.granularity}, by verdict</h3>`,
    timelineChart(timeline),
    legend,
    `<p class="note">Dates are the messages' own Date headers, in UTC. ${notes.map(escapeHtml).join(' ')}</p>`,
  );
  if (timeline.buckets.length) {
    out.push(
      `<details class="numbers"><summary class="note">The numbers behind the timeline</summary><div class="table-wrap"><table class="data"><thead><tr><th scope="col">${timeline.granularity === 'week' ? 'Week of' : timeline.granularity === 'month' ? 'Month' : 'Year'}</th>${VERDICTS.map((v) => `<th class="num" scope="col">${v}</th>`).join('')}</tr></thead><tbody>`,
    );
    for (const b of timeline.buckets) {
      if (b.counts.verified + b.counts.unverifiable + b.counts.suspicious === 0) continue;
      out.push(`<tr><td>${escapeHtml(b.label)}</td>${VERDICTS.map((v) => `<td class="num${b.counts[v] ? '' : ' zero'}">${formatInt(b.counts[v])}</td>`).join('')}</tr>`);
    }
    out.push('</tbody></table></div></details>');
  }
  out.push('</div>', '</div>');
  out.push('</section>');
  return out.join('\n');
}

function addSignature(domains: Map<string, DomainStats>, messageId: number, sig: SignatureRecord, findings: MessageRecord['findings']): void {
  const domain = sig.domain ?? '(none)';
  const selector = sig.selector ?? '(none)';
  const key = `${domain}\u0000${selector}`;
  let stats = domains.get(key);
  if (!stats) {
    stats = { domain, selector, messages: 0, lastMessage: -1, signatures: 0, pass: 0, fail: 0, other: new Map(), thirdParty: 0, authorNotProven: 0, keys: new Map(), moreKeys: false };
    domains.set(key, stats);
  }
  if (stats.lastMessage !== messageId) {
    stats.messages++;
    stats.lastMessage = messageId;
  }
  stats.signatures++;
  // a failure under a key that did not make the signature says nothing about the content: not
  // counted with the failures, but apart, under its own name (red team K, K-02)
  const notSigner = FAILED_OUTCOMES.has(sig.outcome) && keyNotSigner({ findings })(sig);
  if (sig.outcome === 'pass') stats.pass++;
  else if (FAILED_OUTCOMES.has(sig.outcome) && !notSigner) stats.fail++;
  else {
    const outcome = notSigner ? 'key-not-signer' : sig.outcome;
    stats.other.set(outcome, (stats.other.get(outcome) ?? 0) + 1);
  }
  const alignment = alignmentOf(sig, findings);
  if (alignment === 'third-party') stats.thirdParty++;
  else if (alignment !== 'aligned') stats.authorNotProven++;
  const keyId = [sig.keySource, keyOrigin(sig), sig.keyType, sig.keyBits, sig.keyFingerprint, sig.keySource || sig.keyFingerprint ? '' : sig.keyLookup].join('\u0000');
  if (!stats.keys.has(keyId)) keepFirstKeys(stats, keyId, { text: keyDescription(sig), hasKey: Boolean(sig.keySource || sig.keyFingerprint), lookup: sig.keyLookup });
}

/**
 * The keys a row shows are the first by what they are, not by the order of the messages' paths:
 * the same evidence and keys give the same page whatever the files are called (red team Q, Q-05).
 */
function keepFirstKeys(stats: DomainStats, keyId: string, key: ShownKey): void {
  stats.keys.set(keyId, key);
  if (stats.keys.size <= KEYS_SHOWN) return;
  stats.moreKeys = true;
  let last = keyId;
  for (const id of stats.keys.keys()) if (id > last) last = id;
  stats.keys.delete(last);
}

/** Distinct keys, without "not looked up" beside keys that were (a From-less signature needs none). */
function keyList(stats: DomainStats): string {
  const all = [...stats.keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, key]) => key);
  const withKey = all.some((k) => k.hasKey);
  const shown = all.filter((k) => !(withKey && !k.hasKey && k.lookup === 'not-needed')).map((k) => k.text);
  return [...shown, ...(stats.moreKeys ? ['<span class="note">and more (see the JSONL export)</span>'] : [])].join('<br>');
}

/** The key a signature was checked with, where it came from, and its fingerprint. */
function keyDescription(sig: SignatureRecord): string {
  const parts: string[] = [];
  const kind = keyKind(sig);
  if (kind) parts.push(`<strong>${escapeHtml(kind)}</strong>`);
  const origin = keyOrigin(sig);
  if (sig.keySource) parts.push(`${escapeHtml(sig.keySource)}${origin ? ` <span class="mono">${escapeHtml(clip(origin, 80))}</span>` : ''}`);
  if (sig.keyFingerprint) parts.push(`<span class="mono" title="sha256:${escapeHtml(sig.keyFingerprint)}">sha256:${escapeHtml(sig.keyFingerprint.slice(0, 16))}…</span>`);
  if (!sig.keySource && !sig.keyFingerprint) parts.push(`<span class="note">${escapeHtml(lookupText(sig.keyLookup))}</span>`);
  else if (sig.outcome === 'key-revoked') parts.push('<span class="note">revoked (empty p=)</span>');
  return parts.join(' · ');
}

/**
 * A key file by its file name, as explanations and the manifest name it: the page is published,
 * and two analysts' reports of the same evidence and keys are the same page (red team 28, H-07).
 */
const keyOrigin = (sig: SignatureRecord): string | null => (sig.keyOrigin === null ? null : shownKeyOrigin(sig.keySource, sig.keyOrigin));

function keyKind(sig: SignatureRecord): string | null {
  if (!sig.keyType) return null;
  const type = sig.keyType === 'ed25519' ? 'Ed25519' : sig.keyType.toUpperCase();
  if (!sig.keyBits || sig.keyType === 'ed25519') return type;
  // Under 1024 bits an RSA key is factored cheaply: a signature with it proves nothing (key-too-weak).
  return `${type} ${sig.keyBits}-bit${sig.keyType === 'rsa' && sig.keyBits < 1024 ? ', too weak to prove anything' : ''}`;
}

function lookupText(lookup: string): string {
  switch (lookup) {
    case 'absent':
      return 'no key found';
    case 'not-needed':
      return 'key not looked up';
    case 'found':
      return 'key found';
    default:
      return `key lookup: ${lookup}`;
  }
}

/** How many of a row's signatures are in some standing, when any are. */
const alignmentNote = (count: number, what: string, of: number): string =>
  count ? `<span class="sub">${count === of ? what : `${what} in ${formatInt(count)} of ${formatInt(of)}`}</span>` : '';

function domainSection(domains: Map<string, DomainStats>): string {
  const all = [...domains.values()].sort(
    (a, b) => b.signatures - a.signatures || (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : a.selector < b.selector ? -1 : a.selector > b.selector ? 1 : 0),
  );
  const shown = all.slice(0, DOMAIN_ROWS_LIMIT);
  const out: string[] = [
    '<section class="block" id="domains" aria-labelledby="domains-h">',
    '<h2 id="domains-h">Signing domains and keys</h2>',
    '<p class="lede">Every DKIM signature names the domain that made it (<code>d=</code>) and a selector (<code>s=</code>) for its key. A <em>third-party</em> signature is made by a domain other than the From domain, such as a mailing list or an email service: it proves only that this domain sent these bytes, not that the From domain did, so alone it leaves a message unverifiable. <em>Author not proven</em> marks a signature by the domain of the first From address in a From field that does not name its authors with certainty (two From fields, a second author of another domain): it does not prove who wrote the message either. <em>Fail</em> means the body or the signed headers no longer match; <em>not checked</em> means there was no usable key or signature to check.</p>',
  ];
  if (!all.length) {
    out.push('<p class="note">No message in this report carries a DKIM signature.</p>', '</section>');
    return out.join('\n');
  }
  out.push(
    '<div class="table-wrap"><table class="data" id="domain-table"><thead><tr>',
    '<th scope="col">Domain</th><th scope="col">Selector</th><th scope="col">Keys (source, fingerprint)</th><th class="num" scope="col">Messages</th><th class="num" scope="col">Signatures</th><th class="num" scope="col">Pass</th><th class="num" scope="col">Fail</th><th class="num" scope="col">Not checked</th>',
    '</tr></thead><tbody>',
  );
  for (const d of shown) {
    const other = [...d.other].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const otherCount = other.reduce((s, [, c]) => s + c, 0);
    out.push(
      '<tr>',
      `<td><span class="mono">${escapeHtml(d.domain)}</span>${alignmentNote(d.thirdParty, 'third party', d.signatures)}${alignmentNote(d.authorNotProven, 'author not proven', d.signatures)}</td>`,
      `<td class="mono">${escapeHtml(d.selector)}</td>`,
      `<td>${keyList(d)}</td>`,
      `<td class="num">${formatInt(d.messages)}</td>`,
      `<td class="num">${formatInt(d.signatures)}</td>`,
      `<td class="num ${d.pass ? 'pass-count' : 'zero'}">${formatInt(d.pass)}</td>`,
      `<td class="num ${d.fail ? 'fail-count' : 'zero'}">${formatInt(d.fail)}</td>`,
      `<td class="num${otherCount ? '' : ' zero'}">${formatInt(otherCount)}${other.length ? `<span class="sub">${other.map(([o, c]) => `${escapeHtml(o)}${other.length > 1 || c > 1 ? ` ×${formatInt(c)}` : ''}`).join(', ')}</span>` : ''}</td>`,
      '</tr>',
    );
  }
  out.push('</tbody></table></div>');
  if (all.length > shown.length) out.push(`<p class="note">The ${formatInt(shown.length)} most used of ${formatInt(all.length)} domain and selector pairs are shown.</p>`);
  out.push('</section>');
  return out.join('\n');
}

/** The message's label on the page (messageLabel), escaped and quoted as a path is (htmlPath). */
const location = (m: MessageListing): string => htmlPath(clip(messageLabel(m), 200), labelQuoted(m));

function messageRow(m: MessageListing, anchor: string | null, withWarnings: boolean): string {
  const date = formatInstant(m.date);
  const subject = m.subject ? escapeHtml(shownText(m.subject, 300)) : '<em class="note">(no subject)</em>';
  const reason = m.reasons[0];
  return (
    `<tr data-verdict="${escapeHtml(m.verdict)}">` +
    (date ? `<td class="d">${date}</td>` : '<td class="d" data-sort="">—</td>') +
    (m.from || m.fromAddress ? `<td>${escapeHtml(shownFrom(m.from, m.fromAddress, 200))}</td>` : '<td data-sort="">—</td>') +
    `<td${m.subject ? '' : ' data-sort=""'}>${anchor ? `<a href="#${anchor}">${subject}</a>` : subject}</td>` +
    `<td><span class="badge ${escapeHtml(m.verdict)}">${escapeHtml(m.verdict)}</span>${withWarnings ? WARNED_BADGE : ''}</td>` +
    `<td>${reason ? `<code>${escapeHtml(reason)}</code>` : ''}</td>` +
    `<td class="f">${location(m)}</td>` +
    '</tr>'
  );
}

/**
 * Verified messages whose findings qualify the proof (the summary's verifiedWithWarnings, read
 * from the messages the page walks anyway so that each can link to its details). A page that
 * showed them only as "verified" in the table let a reader take the proof for the whole message
 * (red team K, K-07: the text and Markdown reports list them; the HTML did not).
 */
interface WarnedMessages {
  ids: Set<number>;
  listed: Array<{ m: MessageRecord; warnings: MessageRecord['findings']; anchor: string | null }>;
}

/** As many as the Markdown report lists (VERIFIED_WITH_WARNINGS_LISTED); every one is marked in the table. */
const WARNED_LISTED = 500;

const WARNED_BADGE = ' <span class="badge warned" title="proven, but a warning says what the signature leaves unproven">with warnings</span>';

function warnedSection(warned: WarnedMessages): string {
  const total = warned.ids.size;
  const out = [
    '<section class="block" id="warned" aria-labelledby="warned-h">',
    `<h2 id="warned-h">Verified, with warnings (${formatInt(total)})</h2>`,
    `<p class="lede">Proven, but a warning says what the signature leaves unproven: read it before relying on the message. ${total === 1 ? 'It is' : 'Each is'} marked <span class="badge verified">verified</span>${WARNED_BADGE} in the table below.</p>`,
    '<ul class="warned">',
  ];
  for (const { m, warnings, anchor } of warned.listed) {
    const subject = m.subject ? escapeHtml(shownText(m.subject, 300)) : '<em class="note">(no subject)</em>';
    out.push(
      `<li><span class="subj">${anchor ? `<a href="#${anchor}">${subject}</a>` : subject}</span> <span class="meta">${escapeHtml(shownFrom(m.from, m.fromAddress, 200) || '(no From)')} · <span class="mono">${location(m)}</span></span>`,
      '<ul class="plain">',
      ...warnings.map((w) => `<li><code>${escapeHtml(w.code)}</code>: ${escapeHtml(clip(w.text, 600))}</li>`),
      '</ul></li>',
    );
  }
  out.push('</ul>');
  if (total > warned.listed.length) {
    out.push(`<p class="note">… and ${formatInt(total - warned.listed.length)} more, marked in the table: the <code>findings</code> column of <code>leakcheck export --format csv --verdict verified</code> has every one.</p>`);
  }
  out.push('</section>');
  return out.join('\n');
}

/**
 * Rows go in bodies of ROWS_PER_BODY: the stylesheet lays each body out only when it scrolls
 * into view (`content-visibility: auto`), which is what keeps 70,000 rows usable. A browser
 * lays out one plain table of that size for tens of seconds.
 */
export const ROWS_PER_BODY = 500;

function messagesHead(out: PageWriter, total: number): void {
  out.add(
    '<section class="block" id="messages" aria-labelledby="messages-h">',
    '<h2 id="messages-h">Messages</h2>',
    `<p class="lede">All ${formatInt(total)} message${total === 1 ? '' : 's'}, in file order. Dates are in UTC. A subject links to the message's details where they are included below.</p>`,
    '<div class="controls" id="table-controls" hidden>',
    '<label for="message-filter">Filter</label><input type="search" id="message-filter" placeholder="Words in date, sender, subject, reason or file" autocomplete="off" spellcheck="false">',
    '<label for="verdict-filter">Verdict</label><select id="verdict-filter"><option value="">All verdicts</option>' + VERDICTS.map((v) => `<option value="${v}">${v}</option>`).join('') + '</select>',
    `<output id="visible-count" aria-live="polite">Showing all ${formatInt(total)} messages</output>`,
    '</div>',
    `<div class="scroll"><table class="data" id="message-table" data-rows-per-body="${ROWS_PER_BODY}">`,
    '<thead><tr>' +
      ['Date (UTC)', 'From', 'Subject', 'Verdict', 'Main reason', 'File'].map((h) => `<th scope="col" aria-sort="none"><button type="button">${h}</button></th>`).join('') +
      '</tr></thead>',
  );
}

const DETAIL_ORDER = ['suspicious', 'unverifiable', 'verified'] as const;

/** The opening of the details section: how many of each verdict are detailed. */
function detailsHead(detailed: Record<Verdict, number>, seen: Record<Verdict, number>, limits: Record<Verdict, number>): string {
  const parts: string[] = [];
  let omitted = 0;
  for (const v of DETAIL_ORDER) {
    if (!seen[v]) continue;
    if (detailed[v] === seen[v]) parts.push(`all ${formatInt(seen[v])} ${v}`);
    else if (detailed[v] === 0) parts.push(`none of the ${formatInt(seen[v])} ${v}`);
    else parts.push(`the first ${formatInt(detailed[v])} of ${formatInt(seen[v])} ${v}`);
    omitted += seen[v] - detailed[v];
  }
  return [
    '<section class="block" id="details" aria-labelledby="details-h">',
    '<h2 id="details-h">Message details</h2>',
    `<p class="lede">Details are included for ${parts.length ? joinList(parts) : 'no'} message${seen.verified + seen.unverifiable + seen.suspicious === 1 ? '' : 's'}, in file order.` +
      (omitted
        ? ` To stay usable, the page holds at most ${formatInt(limits.suspicious)} suspicious, ${formatInt(limits.unverifiable)} unverifiable and ${formatInt(limits.verified)} verified detail sections: <strong>${formatInt(omitted)} message${omitted === 1 ? ' has' : 's have'} none here</strong>. Every message is in the table above, and <code>leakcheck export --format jsonl</code> has the full record of each.`
        : '') +
      '</p>',
    '<p id="detail-toggles" class="controls" hidden><button type="button" id="expand-all">Open all</button><button type="button" id="collapse-all">Close all</button></p>',
  ].join('\n');
}

/** Loose documents of the dump, matched to the attachments of its emails (docs/documents.md). */
/** Documents the HTML report lists, and the emails and red flags it shows for each; `leakcheck documents` lists them all. */
const HTML_DOCUMENTS = 5000;
const HTML_DOCUMENT_LINKS = 20;

function documentsHead(counts: DocumentCounts): string {
  const out = [
    '<section class="block" id="documents" aria-labelledby="documents-h">',
    '<h2 id="documents-h">Documents</h2>',
    `<p>${formatInt(counts.total)} loose document${counts.total === 1 ? '' : 's'} in the dump: <strong>${formatInt(counts['verified-by-email'])} verified-by-email</strong> (identical to an attachment a verified email's signature covers: these bytes existed when it was signed, which says nothing of who wrote them), ${formatInt(counts['seen-in-unverified-email'])} seen only in unverified email, ${formatInt(counts['no-email-match'])} with no email match.</p>`,
  ];
  if (counts.total) out.push('<table class="plain"><thead><tr><th scope="col">Document</th><th scope="col">Status</th><th scope="col">Carried by</th><th scope="col">sha256</th></tr></thead><tbody>');
  return out.join('\n');
}

// Each document names at most HTML_DOCUMENT_LINKS carrying emails and as many red flags: a
// document carried by a thousand emails, in a thousand copies, would otherwise be a million
// entries (red team W2, W2-02).
function documentRow(d: DocumentRecord): string {
  const conflicts = d.nameConflicts.slice(0, HTML_DOCUMENT_LINKS).map(
    (c) => `${isRedFlag(c) ? '<strong class="flag">Red flag:</strong>' : '<strong>Note:</strong>'} ${escapeHtml(conflictSubject(c))} (${htmlPath(c.message, c.messageQuoted === true)}), ${escapeHtml(conflictDifference(c))}: sha256 ${escapeHtml(c.attachmentSha256.slice(0, 16))}…, ${formatInt(c.attachmentSize)} bytes there; ${formatInt(d.size ?? 0)} bytes here`,
  );
  if (d.nameConflictsTotal > HTML_DOCUMENT_LINKS) {
    const more = formatInt(d.nameConflictsTotal - HTML_DOCUMENT_LINKS);
    conflicts.push(
      redFlagsPast(d, HTML_DOCUMENT_LINKS)
        ? `<strong class="flag">…and ${more} more red flags</strong> (<code>leakcheck documents</code>)`
        : `…and ${more} more name conflicts on names mail programs make up, not red flags (<code>leakcheck documents</code>)`,
    );
  }
  const carriers = d.matches.slice(0, HTML_DOCUMENT_LINKS).map((m) => `${htmlPath(m.message, m.messageQuoted === true)}${escapeHtml(sentAs(d, m))} (${escapeHtml(m.verdict)}${m.signers.length ? `, signed by ${escapeHtml(m.signers.join(', '))}` : ''}${m.date ? `, ${escapeHtml(m.date.slice(0, 10))}` : ''}${escapeHtml(coverageNote(m))}${m.carrier ? `; ${escapeHtml(carrierNote(m))}` : ''})`);
  if (d.matches.length > HTML_DOCUMENT_LINKS) carriers.push(`…and ${formatInt(d.matches.length - HTML_DOCUMENT_LINKS)} more emails (<code>leakcheck documents</code>)`);
  return `<tr><td>${htmlPath(d.path)}</td><td>${escapeHtml(d.status)}</td><td>${[...carriers, ...conflicts].join('<br>') || '—'}</td><td><code>${escapeHtml(d.sha256.slice(0, 16))}…</code></td></tr>`;
}

function joinList(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function messageDetail(m: MessageRecord, anchor: string, withWarnings: boolean): string {
  const out: string[] = [];
  const date = formatInstant(m.date);
  out.push(
    `<details class="msg ${escapeHtml(m.verdict)}" id="${anchor}">`,
    `<summary><span class="badge ${escapeHtml(m.verdict)}">${escapeHtml(m.verdict)}</span>${withWarnings ? WARNED_BADGE : ''}<span class="subj">${m.subject ? escapeHtml(shownText(m.subject, 300)) : '<em>(no subject)</em>'}</span>` +
      `<span class="meta">${escapeHtml(shownFrom(m.from, m.fromAddress, 200) || '(no From)')} · ${date ? `${date} UTC` : 'no usable date'} · <span class="mono">${location(m)}</span></span></summary>`,
    '<div class="content">',
    `<p class="explanation">${escapeHtml(m.explanation)}</p>`,
  );

  out.push('<h4>Reasons</h4><ul class="plain">');
  for (const code of m.reasons) {
    const def = (REASONS as Record<string, { text: string } | undefined>)[code];
    out.push(`<li><code>${escapeHtml(code)}</code>${def ? `: ${escapeHtml(def.text)}` : ''}</li>`);
  }
  if (!m.reasons.length) out.push('<li class="note">none recorded</li>');
  out.push('</ul>');

  out.push(
    '<h4>Headers, as recorded</h4>',
    // From and Subject come already cut, the From's domain whole and padding counted; a second cut could undo both
    `<pre class="headers">${[
      ['From', m.from === null ? null : shownFrom(m.from, m.fromAddress, 2000)],
      ['Date', m.dateHeader === null ? null : clip(m.dateHeader, 2000)],
      ['Subject', m.subject === null ? null : shownText(m.subject, 2000)],
      ['Message-ID', m.messageId === null ? null : clip(m.messageId, 2000)],
    ]
      .map(([name, value]) => `${name}: ${value === null ? '(absent)' : escapeHtml(value)}`)
      .join('\n')}</pre>`,
    '<p class="note">From and Subject are decoded from RFC 2047. To and Cc are not kept in the database: open the file for them.</p>',
  );

  out.push(`<h4>DKIM signatures (${m.signatures.length})</h4>`);
  if (!m.signatures.length) out.push('<p class="note">The message carries no DKIM-Signature header.</p>');
  const notSigner = keyNotSigner(m);
  for (const sig of m.signatures) out.push(signatureDetail(sig, m.findings, notSigner(sig)));

  out.push('<h4>ARC</h4>', `<p>Chain result: <strong>${escapeHtml(m.arc.result)}</strong>${m.arc.reason ? ` <span class="note">(${escapeHtml(m.arc.reason)})</span>` : ''}</p>`);
  if (m.arc.instances.length) {
    out.push('<ul class="plain">');
    for (const instance of m.arc.instances) out.push(`<li>${renderValue(withKeyFilesNamed(instance), 0)}</li>`);
    out.push('</ul>');
  }

  const notShown = m.findingsNotRead ?? [];
  out.push(`<h4>Findings (${formatInt(m.findings.length + notShown.reduce((n, c) => n + c.count, 0))})</h4>`);
  if (!m.findings.length) out.push('<p class="note">None.</p>');
  for (const f of m.findings) {
    out.push(
      `<div class="finding"><span class="sev ${escapeHtml(f.severity)}">${escapeHtml(f.severity)}</span> <code>${escapeHtml(f.code)}</code>: ${escapeHtml(f.text)}` +
        (Object.keys(f.evidence).length ? `<div class="evidence">${renderValue(f.evidence, 0)}</div>` : '') +
        '</div>',
    );
  }

  for (const { code, count } of notShown) {
    out.push(`<p class="note">… and ${formatInt(count)} more <code>${escapeHtml(code)}</code>: <code>leakcheck show</code> on this message lists every finding.</p>`);
  }

  out.push('<h4>Repairs</h4>');
  if (!m.repairs.length) out.push('<p class="note">None: the bytes were checked as found.</p>');
  else out.push(`<ul class="plain">${m.repairs.map((r) => `<li><code>${escapeHtml(r)}</code>${describeRepair(r) !== r ? `: ${escapeHtml(describeRepair(r))}` : ''}</li>`).join('')}</ul>`);

  out.push(
    '<h4>Evidence</h4>',
    '<dl class="kv">',
    `<dt>File</dt><dd class="mono">${htmlPath(m.path)}</dd>`,
    `<dt>Position</dt><dd>message #${m.index} in the ${escapeHtml(m.format)} file, at byte ${formatInt(m.offset)}, ${formatInt(m.size)} bytes</dd>`,
    `<dt>sha256</dt><dd class="mono">${escapeHtml(m.sha256)}</dd>`,
    `<dt>Judged at</dt><dd>${m.judgedAt ? `${escapeHtml(m.judgedAt)} <span class="note">(the earliest signing time, t=, at which signature expiry is judged)</span>` : 'not judged'}</dd>`,
    '</dl>',
    '</div>',
    '</details>',
  );
  return out.join('\n');
}

function signatureDetail(sig: SignatureRecord, findings: MessageRecord['findings'], notSigner = false): string {
  const outcomeClass = sig.outcome === 'pass' ? 'pass' : FAILED_OUTCOMES.has(sig.outcome) && !notSigner ? 'fail' : 'other';
  const rows: Array<[string, string]> = [];
  rows.push(['Algorithm', escapeHtml([sig.algorithm ?? '(none)', sig.canonicalization].filter(Boolean).join(', '))]);
  rows.push([
    'Result',
    `mailauth: ${escapeHtml(sig.result)}${sig.comment ? ` (${escapeHtml(sig.comment)})` : ''}` +
      // under a key that did not make the signature, "do not verify" would read as a changed header
      (notSigner ? `; ${KEY_NOT_SIGNER_NOTE}` : sig.headerSignatureValid === null ? '' : `; signed headers alone: ${sig.headerSignatureValid ? 'verify' : 'do not verify'}`),
  ]);
  rows.push(['Signed headers', sig.signedHeaders.length ? `<span class="mono">${escapeHtml(sig.signedHeaders.join(', '))}</span>` : '(none)']);
  if (sig.bodyLength !== null) rows.push(['Body length (l=)', formatInt(sig.bodyLength)]);
  rows.push(['Key', escapeHtml(keyKind(sig) ?? lookupText(sig.keyLookup))]);
  const origin = keyOrigin(sig);
  rows.push(['Key source', sig.keySource ? `${escapeHtml(sig.keySource)}${origin ? ` <span class="mono">${escapeHtml(origin)}</span>` : ''}` : '(none)']);
  rows.push(['Key fingerprint', sig.keyFingerprint ? `<span class="mono">sha256:${escapeHtml(sig.keyFingerprint)}</span>` : '(none)']);
  rows.push(['Key lookup', escapeHtml(sig.keyLookup)]);
  return [
    '<div class="sig">',
    `<div class="sig-head"><strong>#${sig.index + 1}</strong> <span>d=<span class="mono">${escapeHtml(sig.domain ?? '(none)')}</span></span> <span>s=<span class="mono">${escapeHtml(sig.selector ?? '(none)')}</span></span>` +
      ` <span class="outcome ${outcomeClass}">${escapeHtml(sig.outcome)}</span> <span class="note">${escapeHtml(clip(alignmentLabel(sig, findings), 400))}</span></div>`,
    `<dl class="kv">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`,
    '</div>',
  ].join('\n');
}

/**
 * An ARC set with the key files of its seal's and message signature's keys by file name, as the
 * signatures' keys are shown: the path the analyst gave showed their folders on a published page.
 */
function withKeyFilesNamed(instance: unknown): unknown {
  if (instance === null || typeof instance !== 'object') return instance;
  const named = { ...(instance as Record<string, unknown>) };
  for (const field of ['sealKey', 'amsKey']) {
    const key = named[field] as { source?: string | null; origin?: unknown } | undefined;
    if (key && typeof key.origin === 'string') named[field] = { ...key, origin: shownKeyOrigin(key.source ?? null, key.origin) };
  }
  return named;
}

/** Evidence and ARC instances are free-form JSON: rendered as nested key/value lists, escaped. */
function renderValue(value: unknown, depth: number): string {
  if (value === null || value === undefined) return '<span class="note">null</span>';
  if (typeof value === 'string') return escapeHtml(clip(value, 2000));
  if (typeof value === 'number' || typeof value === 'boolean') return escapeHtml(String(value));
  if (depth >= 4) return escapeHtml(clip(JSON.stringify(value), 500));
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return value.map((v) => renderValue(v, depth + 1)).join(', ') || '<span class="note">(empty)</span>';
    return `<ul class="plain">${value.slice(0, 50).map((v) => `<li>${renderValue(v, depth + 1)}</li>`).join('')}</ul>`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).slice(0, 50);
    return `<dl class="kv">${entries.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${renderValue(v, depth + 1)}</dd>`).join('')}</dl>`;
  }
  return escapeHtml(String(value));
}
