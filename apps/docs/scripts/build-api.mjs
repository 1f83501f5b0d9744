#!/usr/bin/env node
/**
 * Generates the API reference (`apps/docs/api/`) with one TypeDoc run over every package that has a
 * `src/index.ts`, so all packages share one navigation. Packages without an entry point yet are skipped with a
 * notice. A package's own `predocs` script (e.g. `@dspy-ts/smt` compiling its WebAssembly kernels, which its
 * sources import) runs first, as it would for `npm run docs` inside that package.
 *
 * Usage: node scripts/build-api.mjs
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const docsDir = dirname(dirname(fileURLToPath(import.meta.url)));
const packagesDir = join(docsDir, '..', '..', 'packages');

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(
      `\`${command} ${args.join(' ')}\` failed in ${relative(docsDir, cwd) || '.'} (exit ${result.status}).`,
    );
    process.exit(result.status ?? 1);
  }
}

const packages = [];
for (const name of readdirSync(packagesDir).sort()) {
  const dir = join(packagesDir, name);
  const manifestPath = join(dir, 'package.json');
  if (!existsSync(manifestPath)) continue;
  if (!existsSync(join(dir, 'src', 'index.ts'))) {
    console.log(`API reference: skipping packages/${name} (no src/index.ts yet).`);
    continue;
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  if (manifest.scripts?.predocs) run('npm', ['run', 'predocs', '--silent'], dir);
  packages.push(dir);
}
if (packages.length === 0) {
  console.error(`API reference: no package under ${packagesDir} has a src/index.ts.`);
  process.exit(1);
}

const entryPoints = packages.flatMap((dir) => ['--entryPoints', relative(docsDir, dir)]);
run('typedoc', ['--options', 'typedoc.json', '--logLevel', 'Warn', ...entryPoints], docsDir);
console.log(`API reference: ${packages.length} packages → ${relative(process.cwd(), join(docsDir, 'api'))}/`);
