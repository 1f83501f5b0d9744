/**
 * Vitest global setup: makes sure `.vitepress/dist` is a build of the current sources. The site is rebuilt
 * (`npm run docs`: TypeDoc, rendered examples, VitePress) when it is missing or when any input — a page, a
 * snippet, the config, a package's sources, a benchmark README or RESULTS — is newer than the build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { distDir, docsDir, repoDir } from './paths.ts';

const SKIP = new Set([
  'test',
  'node_modules',
  'dist',
  'cache',
  'api',
  '.generated',
  'screenshots',
  'docs-api',
  '.turbo',
]);

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (SKIP.has(entry)) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

function inputsMtime(): number {
  const roots = [docsDir, join(repoDir, 'packages'), join(repoDir, 'bench')];
  return Math.max(...roots.map((root) => newestMtime(root)));
}

export default function setup(): void {
  const builtAt = existsSync(join(distDir, 'index.html')) ? statSync(join(distDir, 'index.html')).mtimeMs : 0;
  if (builtAt > 0 && builtAt >= inputsMtime()) return;
  console.log(builtAt === 0 ? 'Building the docs site…' : 'Sources changed since the last build; rebuilding…');
  const result = spawnSync('npm', ['run', 'docs'], { cwd: docsDir, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`\`npm run docs\` failed (exit ${result.status}); see the output above.`);
}
