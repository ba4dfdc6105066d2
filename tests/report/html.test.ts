import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTML_FINDINGS_SHOWN, htmlReportPieces, renderHtmlReport } from '../../src/report/html/render-html.ts';
import { openStore } from '../../src/store/open-store.ts';
import { summarize } from '../../src/store/queries.ts';
import { DEMO_DUMP, DEMO_KEYS, runCli, tempDir } from '../helpers/cli.ts';
import { demoDatabase, FORMULA_SUBJECT_START, SCRIPT_SUBJECT } from './demo-db.ts';
import { exportRows } from '../helpers/in-process.ts';

let demo: Awaited<ReturnType<typeof demoDatabase>>;
let html: string;
/** what the database holds: the report is checked against it, the verifier elsewhere */
let counts: { verified: number; unverifiable: number; suspicious: number };
let total: number;

beforeAll(async () => {
  demo = await demoDatabase();
  html = renderHtmlReport(demo.db, {});
  counts = summarize(demo.db).verdicts;
  total = counts.verified + counts.unverifiable + counts.suspicious;
});
afterAll(() => demo?.cleanup());

/** The page with the bodies of its one <style> and one <script> taken out, and those bodies. */
function split(page: string): { markup: string; style: string; script: string } {
  const style = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? '';
  const script = /<script>([\s\S]*?)<\/script>/.exec(page)?.[1] ?? '';
  return { markup: page.replace(style, '').replace(script, ''), style, script };
}

/** Every start tag of the page. Message text can never contribute one: its `<` is escaped. */
function tags(markup: string): string[] {
  return [...markup.matchAll(/<[a-zA-Z][^>]*>/g)].map((m) => m[0]);
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('base64');

describe('HTML report of the demo dump', () => {
  it('has every section: summary, charts, reasons, domains, messages, details', () => {
    for (const id of ['summary', 'charts', 'verdict-chart', 'timeline-chart', 'reasons', 'domains', 'domain-table', 'messages', 'message-table', 'details']) {
      expect(html, id).toContain(`id="${id}"`);
    }
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(html).toContain('<meta charset="utf-8">');
  });

  it('counts every verdict, says what each means, and that unverifiable is not fake', () => {
    for (const verdict of ['verified', 'unverifiable', 'suspicious'] as const) {
      expect(counts[verdict], `the demo dump has ${verdict} messages`).toBeGreaterThan(0);
      const card = new RegExp(`<div class="card ${verdict}" id="card-${verdict}">\\n<div><span class="count">${counts[verdict]}</span>`);
      expect(html).toMatch(card);
    }
    expect(html).toContain('<h3>Unverifiable is not fake.</h3>');
    expect(html).toContain('<strong>Does not mean:</strong> That the message is fake.');
  });

  it('lists every message in the table and gives each a detail section', () => {
    expect(html.match(/<tr data-verdict="/g)).toHaveLength(total);
    expect(html.match(/<tr data-verdict="suspicious">/g)).toHaveLength(counts.suspicious);
    expect(html.match(/<details class="msg /g)).toHaveLength(total);
    expect(html).toContain(
      `Details are included for all ${counts.suspicious} suspicious, all ${counts.unverifiable} unverifiable and all ${counts.verified} verified messages`,
    );
  });

  it('shows key provenance, ARC instances, findings, repairs and evidence in the details', () => {
    expect(html).toContain('sha256:9cbbcad842047c92a9ed9f4a8991d5cf661ec08acd566e0cf2d8f509bf2aaaef');
    expect(html).toContain('<dt>Key source</dt><dd>file <span class="mono">demo-keys.json</span></dd>');
    expect(html).toContain('<dt>Key</dt><dd>RSA 2048-bit</dd>');
    expect(html).toContain('<dt>sealDomain</dt><dd>lists.example</dd>');
    expect(html).toContain('<span class="sev red-flag">red-flag</span> <code>header-injected</code>');
    expect(html).toContain('<code>mboxrd-unquote</code>: mbox &quot;&gt;From &quot; quoting undone');
    expect(html).toContain('archive/2017.mbox#1');
    expect(html).toContain('Message-ID: &lt;20190108081531.7731.sam@demo.example&gt;');
  });

  it('shows the hostile subject only escaped, and carries exactly one script: its own', () => {
    expect(html).toContain('Contact form: &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain(SCRIPT_SUBJECT);
    expect(html).not.toMatch(/<script>alert/i);
    expect(html.match(/<script/gi)).toHaveLength(1);
    expect(html).toContain(`${FORMULA_SUBJECT_START.replaceAll('"', '&quot;')}`);
  });

  it('references nothing outside itself', () => {
    const { markup, style, script } = split(html);
    const all = tags(markup);
    expect(all.length).toBeGreaterThan(100);
    for (const tag of all) {
      // Only in-page anchors: no src, srcset, action, poster, data, xlink:href, and no href but "#…".
      expect(tag, tag).not.toMatch(/\s(src|srcset|action|formaction|poster|data|background|ping|manifest|xlink:href|codebase|longdesc)\s*=/i);
      for (const href of tag.matchAll(/\shref\s*=\s*"([^"]*)"/gi)) expect(href[1], tag).toMatch(/^#[\w-]+$/);
      expect(tag, tag).not.toMatch(/https?:|\/\/|url\(/i);
      expect(tag, tag).not.toMatch(/\sstyle\s*=/i); // the policy would refuse inline style attributes
      expect(tag, tag).not.toMatch(/\son[a-z]+\s*=/i); // nor event-handler attributes
    }
    expect(markup).not.toMatch(/<(link|img|iframe|object|embed|base|image|use|audio|video|source|form)\b/i);
    expect(style).not.toMatch(/url\(|@import|@font-face|https?:/i);
    expect(script).not.toMatch(/fetch\(|XMLHttpRequest|import\(|https?:|WebSocket|EventSource|sendBeacon|\.src\b|innerHTML|eval\(/);
  });

  it('sets a Content-Security-Policy that allows only its own style and script, by hash', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1]?.replaceAll('&#39;', "'");
    expect(csp).toBeDefined();
    const directives = new Map(csp!.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('img-src')).toEqual(['data:']);
    const { style, script } = split(html);
    expect(directives.get('style-src')).toEqual([`'sha256-${sha256(style)}'`]);
    expect(directives.get('script-src')).toEqual([`'sha256-${sha256(script)}'`]);
    // The policy comes before anything it governs.
    expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('<style>'));
  });

  it('is the same bytes for the same database, and carries a time only when given one', () => {
    expect(renderHtmlReport(demo.db, {})).toBe(html);
    expect(html).not.toContain('report generated');
    const stamped = renderHtmlReport(demo.db, { generatedAt: '2024-05-01T10:00:00Z' });
    expect(stamped).toContain('report generated 2024-05-01T10:00:00Z');
  });

  it('comes in pieces that make the same page, all of one state of the database, whatever is committed while it is written', () => {
    const pieces = htmlReportPieces(demo.db, { pieceChars: 1 });
    // the first piece comes once the first pass over the messages is done, before the table's rows
    const first = pieces.next();
    expect(first.done).toBe(false);
    expect(first.value).toContain('id="messages-h"');
    expect(first.value).not.toContain('<tr data-verdict="');
    const other = new Database(demo.path);
    const saved = other.prepare('SELECT message_id, verdict FROM verdicts').all() as Array<{ message_id: number; verdict: string }>;
    try {
      other.prepare("UPDATE verdicts SET verdict = 'suspicious'").run();
      const rest = [...{ [Symbol.iterator]: () => pieces }];
      expect(rest.length).toBeGreaterThan(total);
      expect(first.value + rest.join('')).toBe(html);
      expect(demo.db.inTransaction).toBe(false);
      expect(renderHtmlReport(demo.db, {})).not.toBe(html);
    } finally {
      const restore = other.prepare('UPDATE verdicts SET verdict = ? WHERE message_id = ?');
      other.transaction(() => saved.forEach((v) => restore.run(v.verdict, v.message_id)))();
      other.close();
    }
  });

  it('keeps to one verdict with --verdict, and says so', () => {
    const page = renderHtmlReport(demo.db, { verdict: 'suspicious' });
    expect(page.match(/<tr data-verdict="/g)).toHaveLength(counts.suspicious);
    expect(page).not.toMatch(/<tr data-verdict="(verified|unverifiable)"/);
    expect(page).toContain('This report is limited to <strong>suspicious</strong> messages');
    expect(page).toContain(`The whole database holds ${counts.verified} verified, ${counts.unverifiable} unverifiable, ${counts.suspicious} suspicious.`);
  });

  it('caps the detail sections, says so, and still lists every message', () => {
    const page = renderHtmlReport(demo.db, { detailLimits: { verified: 2, unverifiable: 0 } });
    expect(page.match(/<tr data-verdict="/g)).toHaveLength(total);
    expect(page.match(/<details class="msg /g)).toHaveLength(counts.suspicious + 2);
    expect(page).toContain(`all ${counts.suspicious} suspicious, none of the ${counts.unverifiable} unverifiable and the first 2 of ${counts.verified} verified`);
    expect(page).toContain(`<strong>${total - counts.suspicious - 2} messages have none here</strong>`);
    // A row without a detail section has no link to one.
    expect(page.match(/<a href="#msg-\d+">/g)).toHaveLength(counts.suspicious + 2);
  });
});

// Red team 28, H-07: the page printed each signature's key file with the folders it was given
// with, where every other output names it by its file name (red team 27, C-05): a published
// report showed the analyst's case folders, and two analysts' reports of the same evidence differed.
describe('HTML report: key files named by their file name', () => {
  it('two analysts with the same keys in their own folders get the same page, which shows neither folder', () => {
    const tmp = tempDir('leakcheck-html-keys-');
    try {
      const pageWithKeysIn = (folder: string): string => {
        const keys = join(tmp.path, folder, 'keys.json');
        mkdirSync(dirname(keys), { recursive: true });
        copyFileSync(DEMO_KEYS, keys);
        const path = join(tmp.path, `${folder.replaceAll('/', '-')}.db`);
        const run = runCli(['verify', DEMO_DUMP, '--keys', keys, '--offline', '--db', path, '--quiet']);
        expect(run.status, run.stderr).toBe(0);
        const db = openStore(path, { readonly: true });
        try {
          return renderHtmlReport(db, {});
        } finally {
          db.close();
        }
      };
      const jane = pageWithKeysIn('home/jane/cases/source-x');
      const bob = pageWithKeysIn('home/bob/leak');
      expect(jane).toContain('file <span class="mono">keys.json</span>');
      expect(jane).not.toContain('/home/jane');
      // (each page names its own run's start, to the minute: two runs may fall either side of one)
      const runStart = /(<span>run #1, completed, )[^<]*( UTC<\/span>)/;
      expect(jane).toMatch(runStart);
      expect(bob.replace(runStart, '$1…$2')).toBe(jane.replace(runStart, '$1…$2'));
    } finally {
      tmp.cleanup();
    }
  });

  it('in the domain table and in the details', () => {
    expect(html).not.toContain(DEMO_KEYS);
    expect(html).toContain('<td><strong>RSA 2048-bit</strong> · file <span class="mono">demo-keys.json</span>');
  });
});

// Red team K, K-06 and K-11: the demo's payment instructions carry two From fields, both at
// demo.example, and its signature by demo.example was labelled "third party (not the From domain)",
// in the card and in the domain table, while its explanation said it was aligned. The table's lede
// said that a third party's signature "can still prove the content".
describe('HTML report: a signature is called a third party\'s only when it is one', () => {
  it('the From domain\'s signature over two From fields is aligned with the first, and the author cannot be determined', () => {
    const card = /<div class="sig-head"><strong>#1<\/strong> <span>d=<span class="mono">demo\.example<\/span><\/span> <span>s=<span class="mono">s2048<\/span><\/span> <span class="outcome pass">pass<\/span> <span class="note">([^<]*)<\/span>/g;
    const notes = [...html.matchAll(card)].map((m) => m[1]);
    expect(notes).toContain('aligned with the first From address, but the author cannot be determined (2 From fields)');
    expect(notes).not.toContain('third party (not the From domain)');
    const row = /<tr>\s*<td><span class="mono">demo\.example<\/span>(.*?)<\/td>\s*<td class="mono">s2048<\/td>/s.exec(html)?.[1];
    expect(row).toBe('<span class="sub">author not proven in 1 of 18</span>');
    // a third party's own signature keeps its label
    expect(html).toMatch(/d=<span class="mono">lists\.example<\/span>.*?<span class="note">third party \(not the From domain\)<\/span>/);
  });

  it('never says a third party\'s signature proves the content', () => {
    expect(html).not.toContain('can still prove');
    expect(html).toContain('it proves only that this domain sent these bytes, not that the From domain did');
  });
});

describe('HTML report of a database holding hostile text everywhere', () => {
  it('escapes every field, in text and in attributes, and shows bidi overrides instead of obeying them', () => {
    const copy = join(demo.dir, 'hostile.db');
    demo.db.prepare('VACUUM INTO ?').run(copy);
    const raw = new Database(copy);
    const evil = '"><img src=x onerror=alert(1)><svg onload=alert(2)>\u202Egpj.exe\u2066\u0007';
    raw.prepare('UPDATE messages SET from_header = ?, subject = ?, message_id = ?, date_header = ?').run(evil, evil, evil, evil);
    raw.prepare("UPDATE source_files SET path = path || ?").run(evil);
    raw.prepare('UPDATE signatures SET domain = ?, selector = ?, key_origin = ?, comment = ?').run(evil, evil, evil, evil);
    raw.prepare('UPDATE findings SET text = ?, evidence_json = ?').run(evil, JSON.stringify({ [evil]: [evil, { nested: evil }] }));
    raw.prepare('UPDATE verdicts SET explanation = ?, reasons_json = ?').run(evil, JSON.stringify([evil]));
    raw.prepare('UPDATE arc_results SET reason = ?, instances_json = ?').run(evil, JSON.stringify({ instances: [{ sealDomain: evil }] }));
    raw.prepare('UPDATE runs SET dump_root = ?, status = ?').run(evil, evil);
    raw.prepare("UPDATE verdicts SET verdict = ? WHERE message_id = (SELECT min(message_id) FROM verdicts)").run(evil);
    raw.close();
    const db = openStore(copy, { readonly: true });
    try {
      const page = renderHtmlReport(db, {});
      const { markup } = split(page);
      expect(markup).not.toMatch(/<img|<svg onload/i);
      expect(page).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u0007]/);
      expect(page).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;svg onload=alert(2)&gt;[U+202E]gpj.exe[U+2066]\\x07');
      for (const tag of tags(markup)) {
        // Attribute values are always double-quoted, with any quote inside escaped: what is left
        // outside quotes is the element and its attribute names, none of which text can add.
        const names = tag.replace(/"[^"]*"/g, '""');
        expect(names, tag).not.toMatch(/\son[a-z]+\s*=|\ssrc\s*=|\sstyle\s*=/i);
        expect(names, tag).toMatch(/^<[a-z0-9-]+(\s[a-zA-Z][a-zA-Z0-9:-]*(="")?)*>$/);
      }
      expect(page.match(/<script/gi)).toHaveLength(1);
    } finally {
      db.close();
    }
  });
});

describe('HTML report of a message whose decoded Subject and From hold line feeds', () => {
  it('shows them escaped: no header line of the message is drawn that the message does not have (red team 14, finding 03)', () => {
    const copy = join(demo.dir, 'line-feeds.db');
    demo.db.prepare('VACUUM INTO ?').run(copy);
    const raw = new Database(copy);
    raw.prepare('UPDATE messages SET subject = ?, from_header = ?').run('Lunch on Friday\nFrom: CEO Bank <ceo@bank.example>\nX-Verified: yes', 'CEO\nDate: Mon, 1 Jan 2018');
    raw.close();
    const db = openStore(copy, { readonly: true });
    try {
      const page = renderHtmlReport(db, {});
      const headers = [...page.matchAll(/<pre class="headers">([\s\S]*?)<\/pre>/g)].map((m) => m[1]!);
      expect(headers.length).toBeGreaterThan(0);
      for (const block of headers) {
        expect(block.split('\n').map((line) => line.slice(0, line.indexOf(':')))).toEqual(['From', 'Date', 'Subject', 'Message-ID']);
        expect(block).toContain('Subject: Lunch on Friday\\x0aFrom: CEO Bank &lt;ceo@bank.example&gt;\\x0aX-Verified: yes');
      }
    } finally {
      db.close();
    }
  });
});

describe('HTML report of an empty database', () => {
  it('renders without messages', () => {
    const path = join(demo.dir, 'empty.db');
    demo.db.prepare('VACUUM INTO ?').run(path);
    const raw = new Database(path);
    raw.exec('DELETE FROM verdicts; DELETE FROM findings; DELETE FROM arc_results; DELETE FROM signatures; DELETE FROM messages;');
    raw.close();
    const db = openStore(path, { readonly: true });
    try {
      const page = renderHtmlReport(db, {});
      expect(page).toContain('No message has a usable date.');
      expect(page).toContain('No messages.');
      expect(page).not.toContain('<tr data-verdict=');
    } finally {
      db.close();
    }
  });
});

// Red team BB, BB-07: a message with thousands of findings (a thousand replies that each find it
// dated after them) was shown whole, with each finding's evidence, and the page's detail sections
// were kept until the end and joined: past V8's longest string the report failed half written.
describe('HTML report: a message with many findings', () => {
  it('shows the first HTML_FINDINGS_SHOWN of its findings and counts the rest by code', () => {
    const tmp = tempDir('leakcheck-html-findings-');
    try {
      const path = join(tmp.path, 'many.db');
      demo.db.exec(`VACUUM INTO '${path.replaceAll("'", "''")}'`);
      const writable = new Database(path);
      const { id } = writable.prepare("SELECT m.id FROM messages m JOIN verdicts v ON v.message_id = m.id WHERE v.verdict = 'suspicious' ORDER BY m.id LIMIT 1").get() as { id: number };
      const own = (writable.prepare('SELECT count(*) AS n FROM findings WHERE message_id = ?').get(id) as { n: number }).n;
      const insert = writable.prepare("INSERT INTO findings (message_id, code, severity, text, evidence_json, scope) VALUES (?, ?, 'warning', ?, '{}', 'dump')");
      for (let i = 0; i < 200; i++) insert.run(id, i % 4 ? 'reply-before-parent' : 'divergent-copies', `finding number ${i}.`);
      writable.close();
      const db = openStore(path, { readonly: true });
      try {
        const page = renderHtmlReport(db, {});
        const shown = HTML_FINDINGS_SHOWN - own;
        expect(page.match(/finding number \d+\./g)).toHaveLength(shown);
        expect(page).toContain(`<h4>Findings (${own + 200})</h4>`);
        const rest = Array.from({ length: 200 }, (_, i) => i).filter((i) => i >= shown);
        const more = (code: string, n: number) => `… and ${n} more <code>${code}</code>: <code>leakcheck show</code> on this message lists every finding.`;
        expect(page).toContain(more('reply-before-parent', rest.filter((i) => i % 4).length));
        expect(page).toContain(more('divergent-copies', rest.filter((i) => !(i % 4)).length));
        // the export is the complete record: every one, whatever it reads at once
        const exported = exportRows<{ findings: unknown[] }>(path);
        expect(Math.max(...exported.map((r) => r.findings.length))).toBe(own + 200);
      } finally {
        db.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});
