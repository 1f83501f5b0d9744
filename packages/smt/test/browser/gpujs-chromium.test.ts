import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConformanceResult } from '../../src/kernels/gpujs/backend-conformance.ts';
import { buildBrowserBundle } from './build-browser-bundle.ts';

/**
 * Runs the gpujs backend's real shader path: the browser bundle is built, served from a local HTTP server and
 * loaded into Debian's Chromium, whose WebGL is backed by SwiftShader (a CPU implementation of the GPU APIs), so
 * every kernel is translated to GLSL, compiled and executed exactly as on a GPU. Each kernel is compared with the
 * reference backend inside the page.
 */

const CHROMIUM = process.env.DSPY_TS_CHROMIUM ?? '/usr/bin/chromium';
const SKIP = process.env.DSPY_TS_SKIP_BROWSER === '1';
const here = dirname(fileURLToPath(import.meta.url));

if (SKIP) {
  console.warn('gpujs Chromium test skipped: DSPY_TS_SKIP_BROWSER=1 is set, so no shader ran in a real browser.');
}

// Float32 shaders against a float64 reference: the same bound as the Node tests, 1e-5 absolute plus 1e-4
// relative (SwiftShader's largest observed difference is below 1e-6).
const GPU_TOLERANCE = { atol: 1e-5, rtol: 1e-4 };

interface PageReport {
  mode: string;
  kernelModes: Record<string, string>;
  limits: { maxElements: number; maxTextureSize: number };
  results: ConformanceResult[];
  cpuRejection: { code: string; message: string; isKernelError: boolean } | null;
  userAgent: string;
}

describe('gpujs backend in headless Chromium (WebGL via SwiftShader)', () => {
  let workDir = '';
  let server: Server | undefined;
  let browser: Browser | undefined;
  let baseUrl = '';

  beforeAll(async () => {
    if (SKIP) return;
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium was not found at ${CHROMIUM}. This test runs the gpu.js shaders in a real browser: install it ` +
          'with `apt-get install -y chromium` (the CI image does), point DSPY_TS_CHROMIUM at another Chromium ' +
          'binary, or set DSPY_TS_SKIP_BROWSER=1 to skip this test explicitly.',
      );
    }
    workDir = mkdtempSync(join(tmpdir(), 'dspy-ts-smt-browser-'));
    const bundlePath = await buildBrowserBundle(workDir);
    const files: Record<string, { body: Buffer; type: string }> = {
      '/': { body: readFileSync(join(here, 'gpujs-page.html')), type: 'text/html; charset=utf-8' },
      '/browser.mjs': { body: readFileSync(bundlePath), type: 'text/javascript; charset=utf-8' },
      '/browser.mjs.map': { body: readFileSync(`${bundlePath}.map`), type: 'application/json' },
      '/favicon.ico': { body: Buffer.alloc(0), type: 'image/x-icon' },
    };
    server = createServer((request, response) => {
      const file = files[new URL(request.url ?? '/', 'http://127.0.0.1').pathname];
      if (!file) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
    });
    await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--use-angle=swiftshader',
        '--enable-unsafe-swiftshader',
        '--headless=new',
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  const title = SKIP
    ? 'skipped because DSPY_TS_SKIP_BROWSER=1: the real-browser shader test did not run'
    : 'runs every kernel as WebGL shaders and matches the reference backend';
  it.skipIf(SKIP)(
    title,
    async () => {
      if (!browser) throw new Error('Chromium did not start.');
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') pageErrors.push(message.text());
      });
      await page.goto(`${baseUrl}/`);
      await page.waitForFunction(
        () => (window as unknown as { gpuJsPageReady?: boolean }).gpuJsPageReady === true,
        null,
        {
          timeout: 30_000,
        },
      );
      let report: PageReport;
      try {
        report = (await page.evaluate(
          (tolerance) => (window as unknown as { runGpuJsChecks(t: unknown): unknown }).runGpuJsChecks(tolerance),
          GPU_TOLERANCE,
        )) as PageReport;
      } catch (error) {
        // Re-thrown without the page's stack: its http:// frames are not files vitest can map.
        const failure = new Error(`The page's checks threw: ${error instanceof Error ? error.message : String(error)}`);
        failure.stack = failure.message;
        throw failure;
      }

      const table = report.results.map((r) => ({
        case: r.name,
        maxAbsError: r.maxAbsError.toExponential(2),
        ratio: r.worstRatio.toFixed(3),
        ok: r.ok,
        ...(r.error ? { error: r.error } : {}),
      }));
      console.log(`gpujs in Chromium: mode ${report.mode}, limits ${JSON.stringify(report.limits)}`);
      console.table(table);

      expect(report.mode, `page errors: ${pageErrors.join(' | ')}`).toBe('webgl2');
      expect(new Set(Object.values(report.kernelModes))).toEqual(new Set(['webgl2']));
      expect(Object.keys(report.kernelModes).length).toBeGreaterThanOrEqual(20);
      expect(report.results.filter((r) => !r.ok)).toEqual([]);
      expect(report.cpuRejection?.code).toBe('kernel');
      expect(report.cpuRejection?.isKernelError).toBe(true);
      expect(report.cpuRejection?.message).toMatch(/required mode 'webgl2' but gpu\.js runs 'cpu'/);
      expect(pageErrors.filter((text) => /Falling back to CPU|error/i.test(text))).toEqual([]);
      await page.close();
    },
    180_000,
  );
});
