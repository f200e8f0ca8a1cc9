/// <reference lib="dom" />
// The demo's report in a real browser (headless Chromium, Debian's package,
// driven by playwright-core): it opens from disk with no network, every chart
// renders, the console stays free of errors, hovering a word on the field
// shows its tooltip and hovering the spectrum shows the value at a
// frequency. A sweep's report renders its table and plots. A screenshot is
// written to out/test-artifacts/report.png.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { ROOT, THEMES, scratch, semfieldIn, writeIn } from './cli-helpers';

const tmp = scratch('semfield-report-');
const ARTIFACTS = path.join(ROOT, 'out', 'test-artifacts');

function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {
      /* next */
    }
  }
  throw new Error('no Chromium found: apt-get install chromium (or set CHROMIUM_PATH)');
}

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
});
afterAll(async () => browser?.close());

/** Opens a report, scrolls it through so every chart loads, and returns the console's errors. */
async function open(report: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => !r.url().startsWith('file:') && !r.url().startsWith('data:') && errors.push(`network request to ${r.url()}`));
  await page.goto(`file://${report}`);
  // Charts load as they scroll into view: bring each one there in turn. (By the DOM's own
  // scrollIntoView: playwright's waits for the element to stop moving, and on a loaded machine
  // the charts above it, rendering one after another, can keep it moving past its timeout.)
  for (const el of await page.$$('.chart')) {
    await el.evaluate((e) => e.scrollIntoView({ block: 'center' }));
    await page.waitForTimeout(20);
  }
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>('.chart')].every((e) => e.dataset.rendered), null, { timeout: 60000 });
  return { page, errors };
}

async function hover(page: Page, selector: string): Promise<string> {
  const el = await page.$(selector);
  expect(el).not.toBeNull();
  await el!.scrollIntoViewIfNeeded();
  const box = (await el!.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForSelector('#vg-tooltip-element.visible', { timeout: 5000 });
  return page.$eval('#vg-tooltip-element', (e) => e.textContent ?? '');
}

test('the demo report: every chart renders, no console errors, tooltips on hover', async () => {
  const out = path.join(tmp, 'demo');
  const r = semfieldIn(ROOT, ['run', path.join(ROOT, 'examples', 'demo.json'), '--out', out]);
  expect(r.status).toBe(0);
  const { page, errors } = await open(path.join(out, 'report.html'));
  const charts = await page.$$eval('.chart', (els) => els.map((e) => [(e as HTMLElement).dataset.rendered, !!e.querySelector('svg')]));
  expect(charts.length).toBe(9);
  expect(charts.every(([ok, svg]) => ok === '1' && svg)).toBe(true);
  // Every figure has a caption of a sentence and a full-size link.
  const captions = await page.$$eval('figcaption', (els) => els.map((e) => e.textContent ?? ''));
  expect(captions).toHaveLength(9);
  for (const c of captions) expect(c).toMatch(/^[A-Z].{40,}\. Full size\.$/);
  // A word under the cursor on the field, and a value on the spectrum.
  const word = await hover(page, '.chart[data-spec$="/field.vl.js"] path[aria-label*="word: "]');
  expect(word).toMatch(/word\s*\S+/);
  expect(word).toMatch(/theme/);
  await page.mouse.move(0, 0);
  const value = await hover(page, '.chart[data-spec$="/spectrum.vl.js"] path[aria-roledescription="point"][aria-label*="frequency w"]');
  expect(value).toMatch(/frequency w/);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(ARTIFACTS, 'report.png') });
  expect(errors).toEqual([]);
  await page.close();
}, 180000);

test('a sweep report: the table of runs and the plots against each parameter', async () => {
  const file = writeIn(tmp, 'sweep.json', {
    name: 'sweep', input: { kind: 'vocabulary', themes: THEMES }, sweep: { kappa: [8, 16, 32], grid: [64, 128] },
    pipeline: [{ op: 'field', grid: '$grid', kappa: '$kappa' }, { op: 'basins' }],
  });
  const out = path.join(tmp, 'sweep');
  expect(semfieldIn(tmp, ['run', file, '--out', out]).status).toBe(0);
  const { page, errors } = await open(path.join(out, 'report.html'));
  const rows = await page.$$eval('#sweep tbody tr', (els) => els.length);
  expect(rows).toBe(6);
  const heads = await page.$$eval('#sweep th', (els) => els.map((e) => e.textContent));
  expect(heads).toEqual(expect.arrayContaining(['kappa', 'grid', 'basins.basins']));
  const plots = await page.$$eval('.chart.sweep', (els) => els.map((e) => (e as HTMLElement).dataset.rendered));
  expect(plots.length).toBeGreaterThanOrEqual(2);
  expect(plots.every((p) => p === '1')).toBe(true);
  expect(await hover(page, '.chart.sweep path[aria-roledescription="point"][aria-label*="kappa"]')).toMatch(/kappa/);
  expect(errors).toEqual([]);
  await page.close();
}, 180000);
