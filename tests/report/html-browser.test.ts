/**
 * The HTML report in a real browser: Debian's Chromium, headless, driven by playwright-core
 * (which never downloads a browser of its own). No console error, no request but the file
 * itself, charts drawn, the hostile subject shown as text and never run, sorting and filtering.
 *
 * Without /usr/bin/chromium the test fails and says what to install; LEAKCHECK_SKIP_BROWSER=1
 * skips it on purpose.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/report/html/render-html.ts';
import { iterateMessages, summarize } from '../../src/store/queries.ts';
import { ROOT } from '../helpers/cli.ts';
import { demoDatabase, SCRIPT_SUBJECT } from './demo-db.ts';

const CHROMIUM = '/usr/bin/chromium';
const SKIP = process.env['LEAKCHECK_SKIP_BROWSER'] === '1';
const SKIP_REASON = 'LEAKCHECK_SKIP_BROWSER=1: the HTML report is not checked in a real browser';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOT = join(ROOT, 'test-output/html-report.png');
const DOCS_SCREENSHOT = join(ROOT, 'docs/images/html-report.png');

let demo: Awaited<ReturnType<typeof demoDatabase>> | undefined;
let context: BrowserContext | undefined;
let page: Page;
let fileUrl: string;
/** what the database holds: the page is checked against it, the verifier elsewhere */
let counts = { verified: 0, unverifiable: 0, suspicious: 0 };
let total = 0;
let suspiciousFromDemo = 0;
const problems: string[] = [];
const requests: string[] = [];
const dialogs: string[] = [];

async function launch(profile: string, javaScriptEnabled = true): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    javaScriptEnabled,
    viewport: { width: 1280, height: 1180 },
    deviceScaleFactor: 1,
    serviceWorkers: 'block',
    timeout: 15_000,
  });
}

const MISSING =
  `${CHROMIUM} not found. The HTML report is tested in a real browser: install Debian's chromium package ` +
  '(apt-get install -y chromium), or set LEAKCHECK_SKIP_BROWSER=1 to skip this test on purpose.';

/** Every test skips with LEAKCHECK_SKIP_BROWSER=1, and fails, saying what to install, without Chromium. */
function ready(ctx: { skip: (note?: string) => void }): void {
  if (SKIP) ctx.skip(SKIP_REASON);
  if (!existsSync(CHROMIUM)) throw new Error(MISSING);
}

beforeAll(async () => {
  if (SKIP || !existsSync(CHROMIUM)) return;
  demo = await demoDatabase();
  counts = summarize(demo.db).verdicts;
  total = counts.verified + counts.unverifiable + counts.suspicious;
  suspiciousFromDemo = [...iterateMessages(demo.db, { verdict: 'suspicious' })].filter((m) => m.from?.includes('demo.example')).length;
  const file = join(demo.dir, 'report.html');
  writeFileSync(file, renderHtmlReport(demo.db, {}));
  fileUrl = pathToFileURL(file).href;
  context = await launch(join(demo.dir, 'profile'));
  context.on('request', (request) => requests.push(request.url()));
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.goto(fileUrl, { waitUntil: 'load' });
});

afterAll(async () => {
  await context?.close();
  demo?.cleanup();
});

const rowCount = (): Promise<number> => page.locator('#message-table tbody tr:visible').count();
const dates = (): Promise<string[]> => page.$$eval('#message-table tbody tr td:first-child', (cells) => cells.map((c) => c.textContent ?? ''));

describe('HTML report in headless Chromium', () => {
  it('loads with no console error and no request but the file itself', async (ctx) => {
    ready(ctx);
    await expect(page.title()).resolves.toMatch(/^leakcheck report/);
    expect(problems).toEqual([]);
    expect(requests.length).toBeGreaterThan(0);
    for (const url of requests) expect(url === fileUrl || url.startsWith('data:'), url).toBe(true);
  });

  it('draws the verdict chart and the timeline with non-zero bars', async (ctx) => {
    ready(ctx);
    const verdictBars = page.locator('svg#verdict-chart rect.bar');
    await expect(verdictBars.count()).resolves.toBe(3);
    for (const bar of await verdictBars.all()) {
      const box = await bar.boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(0);
    }
    const timelineBars = page.locator('svg#timeline-chart rect.bar');
    expect(await timelineBars.count()).toBeGreaterThan(10);
    const heights = await timelineBars.evaluateAll((rects) => rects.map((r) => r.getBoundingClientRect().height));
    for (const h of heights) expect(h).toBeGreaterThan(0);
    const counted = await timelineBars.evaluateAll((rects) => rects.reduce((s, r) => s + Number(r.getAttribute('data-count')), 0));
    expect(counted).toBe(total);
  });

  it('shows the <script> subject as text, in the table, and never runs it', async (ctx) => {
    ready(ctx);
    const row = page.locator('#message-table tbody tr', { hasText: SCRIPT_SUBJECT });
    await expect(row.count()).resolves.toBe(1);
    await row.scrollIntoViewIfNeeded();
    await expect(row.isVisible()).resolves.toBe(true);
    await expect(row.locator('td').nth(2).textContent()).resolves.toBe(SCRIPT_SUBJECT);
    await expect(page.locator('script').count()).resolves.toBe(1);
    expect(dialogs).toEqual([]);
  });

  it('sorts by a column when its header is clicked', async (ctx) => {
    ready(ctx);
    const fileOrder = await dates();
    expect(fileOrder).toHaveLength(total);
    const ascending = [...fileOrder].sort();
    expect(fileOrder).not.toEqual(ascending);
    const dateHeader = page.locator('#message-table thead th').first();
    await dateHeader.locator('button').click();
    await expect(dates()).resolves.toEqual(ascending);
    await expect(dateHeader.getAttribute('aria-sort')).resolves.toBe('ascending');
    await dateHeader.locator('button').click();
    await expect(dates()).resolves.toEqual([...ascending].reverse());
    await expect(dateHeader.getAttribute('aria-sort')).resolves.toBe('descending');
  });

  it('filters by text and by verdict, and counts what it shows', async (ctx) => {
    ready(ctx);
    await expect(rowCount()).resolves.toBe(total);
    // one subject in the whole dump
    await page.fill('#message-filter', 'FINAL, approved');
    await expect(rowCount()).resolves.toBe(1);
    await expect(page.textContent('#visible-count')).resolves.toBe(`Showing 1 of ${total} messages`);
    await page.fill('#message-filter', '');
    await page.selectOption('#verdict-filter', 'suspicious');
    await expect(rowCount()).resolves.toBe(counts.suspicious);
    await page.selectOption('#verdict-filter', 'unverifiable');
    await expect(rowCount()).resolves.toBe(counts.unverifiable);
    await page.selectOption('#verdict-filter', 'suspicious');
    await page.fill('#message-filter', 'demo.example');
    await expect(rowCount()).resolves.toBe(suspiciousFromDemo);
    await page.fill('#message-filter', 'no such text anywhere');
    await expect(rowCount()).resolves.toBe(0);
    await page.fill('#message-filter', '');
    await page.selectOption('#verdict-filter', '');
    await expect(rowCount()).resolves.toBe(total);
    await expect(page.textContent('#visible-count')).resolves.toBe(`Showing all ${total} messages`);
  });

  it('opens a message’s details when its subject is followed', async (ctx) => {
    ready(ctx);
    const link = page.locator('#message-table tbody tr', { hasText: 'FINAL, approved' }).locator('a');
    const target = (await link.getAttribute('href'))!;
    expect(target).toMatch(/^#msg-\d+$/);
    await link.click();
    // The script opens it on hashchange, which follows the click asynchronously.
    await page.locator(`details${target}[open]`).waitFor({ state: 'attached', timeout: 5_000 });
    await expect(page.locator(`details${target} .explanation`).isVisible()).resolves.toBe(true);
    await expect(page.locator(`details${target}`).textContent()).resolves.toContain('dkim-signature-mismatch');
  });

  it('saves a screenshot, with still no console error, request or dialog', async (ctx) => {
    ready(ctx);
    await page.goto(fileUrl, { waitUntil: 'load' });
    await page.evaluate('window.scrollTo(0, 0)');
    mkdirSync(join(ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: false, animations: 'disabled', caret: 'hide' });
    // The README's picture is refreshed only on request: a run must not dirty the work tree.
    if (process.env['LEAKCHECK_UPDATE_SCREENSHOT'] === '1') {
      mkdirSync(join(ROOT, 'docs/images'), { recursive: true });
      copyFileSync(SCREENSHOT, DOCS_SCREENSHOT);
    }
    expect(problems).toEqual([]);
    expect(dialogs).toEqual([]);
    for (const url of requests) expect(url === fileUrl || url.startsWith('data:'), url).toBe(true);
  });

  it('is complete without JavaScript: every row, every detail, no controls that do nothing', async (ctx) => {
    ready(ctx);
    const noJs = await launch(join(demo!.dir, 'profile-nojs'), false);
    try {
      const plain = noJs.pages()[0] ?? (await noJs.newPage());
      await plain.goto(fileUrl, { waitUntil: 'load' });
      await expect(plain.locator('#message-table tbody tr:visible').count()).resolves.toBe(total);
      await expect(plain.locator('details.msg').count()).resolves.toBe(total);
      await expect(plain.locator('#table-controls').isVisible()).resolves.toBe(false);
      await expect(plain.locator('#verdict-chart').isVisible()).resolves.toBe(true);
    } finally {
      await noJs.close();
    }
  });
});
