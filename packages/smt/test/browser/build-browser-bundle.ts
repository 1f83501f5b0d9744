/**
 * Builds `src/browser.ts` with the package's own browser build settings (from `tsdown.config.ts`) into a
 * directory of the caller's choosing, without type declarations or package.json rewriting, so the browser test
 * never depends on (or disturbs) a full package build.
 *
 * @module
 */

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type UserConfig } from 'tsdown';
import configs from '../../tsdown.config.ts';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The browser build of `tsdown.config.ts`. */
export function browserBuildConfig(): UserConfig {
  const found = (configs as UserConfig[]).find((config) => config.platform === 'browser');
  if (!found) throw new Error('tsdown.config.ts has no browser (platform: "browser") build.');
  return found;
}

/** Bundles the browser entry into `outDir/browser.mjs` and returns that file's path. */
export async function buildBrowserBundle(outDir: string): Promise<string> {
  // Workspace packages are read from source, the same way tests resolve them (the '@dspy-ts/source' condition),
  // so the bundle builds before @dspy-ts/core has its own dist.
  const coreSource = resolve(packageRoot, '../core/src/index.ts');
  await build({
    ...browserBuildConfig(),
    config: false,
    cwd: packageRoot,
    outDir,
    clean: true,
    dts: false,
    exports: false,
    publint: false,
    sourcemap: true,
    logLevel: 'warn',
    alias: existsSync(coreSource) ? { '@dspy-ts/core': coreSource } : {},
  });
  const bundle = join(outDir, 'browser.mjs');
  if (!existsSync(bundle)) throw new Error(`The browser build finished without writing ${bundle}.`);
  return bundle;
}
