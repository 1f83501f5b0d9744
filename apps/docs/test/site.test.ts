/**
 * Serves the built site on 127.0.0.1 and drives it with headless Chromium: every page loads without console
 * errors, every internal link resolves, every page is reachable from the landing page through the navigation
 * and links, local search finds API names, and a screenshot of the landing page is written for review
 * (`screenshots/landing.png`).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, sep } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distDir, docsDir } from './paths.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml',
};

/** The file a URL path maps to in the built site, as a static host would serve it (`/guide/x` → `x.html`). */
function fileFor(urlPath: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const file = join(distDir, path);
  if (!file.startsWith(distDir)) return undefined;
  const candidates = path.endsWith('/') ? [join(file, 'index.html')] : [file, `${file}.html`, join(file, 'index.html')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

function listPages(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'assets' ? [] : listPages(full);
    return entry.name.endsWith('.html') && entry.name !== '404.html' ? [full] : [];
  });
}

/** The canonical URL path of a built page: `guide/adapters.html` → `/guide/adapters.html`, `index.html` → `/`. */
function pagePath(file: string): string {
  const rel = `/${relative(distDir, file).split(sep).join('/')}`;
  return rel.endsWith('/index.html') ? rel.slice(0, -'index.html'.length) : rel;
}

let server: Server;
let origin: string;
let browser: Browser;
let context: BrowserContext;
const notFound = new Set<string>();

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium was not found at ${CHROMIUM}. Install it with \`apt-get install -y chromium\` ` +
        '(or point CHROMIUM_PATH at a Chromium binary).',
    );
  }
  if (!existsSync(join(distDir, 'index.html'))) {
    throw new Error(`No built site in ${distDir}: run \`npm run docs\` in apps/docs.`);
  }
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const file = fileFor(url.pathname);
    if (!file) {
      notFound.add(url.pathname);
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
      res.end(await readFile(join(distDir, '404.html')));
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
    res.end(await readFile(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

/** The internal links of a built page, read from its HTML (VitePress renders every page fully at build time). */
async function staticLinks(file: string, path: string): Promise<string[]> {
  const html = await readFile(file, 'utf8');
  const links: string[] = [];
  for (const [, href] of html.matchAll(/<a\b[^>]*?\shref="([^"]*)"/g)) {
    const url = new URL(href!.replaceAll('&amp;', '&'), `http://site${path}`);
    if (url.origin === 'http://site') links.push(url.pathname);
  }
  return links;
}

/** The class VitePress gives `.vp-doc` for a route: `/guide/adapters.html` → `_guide_adapters`. */
function docClass(path: string): string {
  return path.replace(/[./]+/g, '_').replace(/_html$/, '');
}

/** Collects console errors, uncaught exceptions and failed requests of a tab, labelled with the current route. */
function watch(page: Page, problems: string[]): void {
  const where = () => new URL(page.url()).pathname;
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`${where()}: console error: ${msg.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${where()}: uncaught: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${where()}: HTTP ${response.status()} for ${response.url()}`);
  });
}

/** A full page load: fresh HTML, scripts and hydration. */
async function load(page: Page, path: string, problems: string[]): Promise<void> {
  const response = await page.goto(origin + path, { waitUntil: 'load' });
  if (response?.status() !== 200) problems.push(`${path}: HTTP ${response?.status()} for the page itself`);
  await page.waitForSelector(`.vp-doc.${docClass(path)}, .VPHome`, { timeout: 15_000 });
}

/** A client-side navigation, as a click on a link does: the page's chunk is fetched and rendered. */
async function navigate(page: Page, path: string, problems: string[]): Promise<void> {
  await page.evaluate((target) => {
    history.pushState({ scrollPosition: 0 }, '', target);
    window.dispatchEvent(new PopStateEvent('popstate', { state: { scrollPosition: 0 } }));
  }, path);
  await page.waitForSelector(`.vp-doc.${docClass(path)}, .NotFound`, { timeout: 15_000 });
  if (await page.locator('.NotFound').count()) problems.push(`${path}: rendered as "page not found"`);
}

describe('the built site', () => {
  it('every internal link resolves and every page is reachable from the landing page', async () => {
    const builtPages = new Map(listPages(distDir).map((file) => [pagePath(file), file]));
    const broken: string[] = [];
    const seen = new Set<string>(['/']);
    const queue = ['/'];
    for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
      for (const link of await staticLinks(builtPages.get(path) as string, path)) {
        const file = fileFor(link);
        if (!file) broken.push(`${path} → ${link}`);
        else if (extname(file) === '.html' && !seen.has(pagePath(file))) {
          seen.add(pagePath(file));
          queue.push(pagePath(file));
        }
      }
    }
    expect(broken).toEqual([]);
    expect([...builtPages.keys()].filter((p) => !seen.has(p))).toEqual([]);
    for (const path of ['/guide/getting-started.html', '/guide/from-python.html', '/benchmarks/', '/api/']) {
      expect(seen).toContain(path);
    }
  });

  it('every page renders in Chromium without console errors or failed requests', async () => {
    const pages = listPages(distDir).map(pagePath).sort();
    const problems: string[] = [];
    // Guides, benchmarks and each API package's index get a full load (hydration included); the hundreds of
    // generated member pages are visited the way readers move between them, by client-side navigation.
    const fullLoads = pages.filter((p) => !p.startsWith('/api/') || /^\/api\/([^/]+\/)?$/.test(p));
    const byPackage = new Map<string, string[]>();
    for (const p of pages.filter((p) => !fullLoads.includes(p))) {
      const pkg = p.split('/')[2] as string;
      byPackage.set(pkg, [...(byPackage.get(pkg) ?? []), p]);
    }
    const tabs = await Promise.all([context.newPage(), context.newPage()]);
    for (const tab of tabs) watch(tab, problems);
    const run = async (tab: Page, work: string[][]) => {
      for (const group of work) {
        await load(tab, `/api/${group[0]?.split('/')[2]}/`, problems);
        for (const path of group) await navigate(tab, path, problems);
      }
    };
    const groups = [...byPackage.values()].sort((a, b) => b.length - a.length);
    const [left, right]: string[][][] = [[], []];
    for (const group of groups) {
      const size = (g: string[][]) => g.reduce((n, x) => n + x.length, 0);
      (size(left) <= size(right) ? left : right).push(group);
    }
    try {
      const [first, second] = tabs as [Page, Page];
      await Promise.all([
        (async () => {
          for (const path of fullLoads.filter((_, i) => i % 2 === 0)) await load(first, path, problems);
          await run(first, left);
        })(),
        (async () => {
          for (const path of fullLoads.filter((_, i) => i % 2 === 1)) await load(second, path, problems);
          await run(second, right);
        })(),
      ]);
    } finally {
      await Promise.all(tabs.map((tab) => tab.close()));
    }
    expect(problems).toEqual([]);
    expect([...notFound]).toEqual([]);
    expect(pages.filter((p) => p.startsWith('/api/')).length).toBeGreaterThan(100);
  }, 240_000);

  it('local search finds API names and leads to their reference pages', async () => {
    const page = await context.newPage();
    try {
      await page.goto(`${origin}/`, { waitUntil: 'load' });
      await page.click('#local-search button');
      for (const name of ['ChainOfThought', 'Signature', 'fromAISDK', 'BM25Retriever', 'LocalLM']) {
        await page.fill('#localsearch-input', name);
        const results = page.locator('.VPLocalSearchBox .result');
        const apiHits = async () =>
          results.evaluateAll(
            (links, wanted) =>
              links.filter((a) => a.getAttribute('href')?.includes('/api/') && a.textContent?.includes(wanted)).length,
            name,
          );
        await expect.poll(apiHits, { timeout: 10_000, message: `search for ${name}` }).toBeGreaterThan(0);
      }
      await page.fill('#localsearch-input', 'ChainOfThought');
      const hit = page.locator('.VPLocalSearchBox .result[href*="/api/core/"][href*="ChainOfThought"]').first();
      await expect.poll(() => hit.count(), { timeout: 10_000 }).toBe(1);
      await hit.click();
      await page.waitForURL(/ChainOfThought/);
      await expect.poll(() => page.locator('h1').first().textContent()).toContain('ChainOfThought');
    } finally {
      await page.close();
    }
  });

  it('renders the landing page (screenshot in screenshots/landing.png)', async () => {
    const page = await context.newPage();
    try {
      await page.goto(`${origin}/`, { waitUntil: 'networkidle' });
      await expect.poll(() => page.locator('.VPHero .name').textContent()).toContain('dspy-ts');
      expect(await page.locator('.VPFeature').count()).toBe(6);
      await mkdir(join(docsDir, 'screenshots'), { recursive: true });
      await page.screenshot({ path: join(docsDir, 'screenshots', 'landing.png') });
    } finally {
      await page.close();
    }
  });
});
