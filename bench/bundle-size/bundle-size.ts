/**
 * What `@dspy-ts/core` costs in a user's bundle: its built ESM (`packages/core/dist/index.mjs`) bundled and minified
 * with esbuild, with `zod` and `jsonrepair` left external (the package alone) and bundled in (what ships to a user),
 * for the whole barrel and for a typical program that imports only `Predict`, `Signature` and `configure`. Sizes are
 * minified bytes, gzip -9 and brotli. Writes `bench/bundle-size/RESULTS.md`; `--check` also fails when a size is over
 * its budget.
 *
 *   node --import tsx bench/bundle-size/bundle-size.ts [--check]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '..', '..');
const coreDir = join(root, 'packages', 'core');
const coreEntry = join(coreDir, 'dist', 'index.mjs');

/**
 * Budgets in gzip bytes. They sit ~15 % above the sizes measured when they were set, so that a change which makes
 * the package noticeably heavier has to raise them on purpose (and say why in its changeset).
 */
const BUDGET_GZIP: Record<string, number> = {
  'whole barrel, zod + jsonrepair external': 56_000,
  'whole barrel, jsonrepair bundled': 59_000,
  'whole barrel, zod + jsonrepair bundled': 166_000,
  'Predict + Signature + configure, zod + jsonrepair external': 30_000,
  'Predict + Signature + configure, jsonrepair bundled': 33_000,
  'Predict + Signature + configure, zod + jsonrepair bundled': 140_000,
};

// Lazily imported, optional at run time (a progress bar, tracing, the ProgramOfThought sandbox): never bundled.
const ALWAYS_EXTERNAL = ['cli-progress', '@opentelemetry/api', 'quickjs-emscripten'];
const DEPENDENCIES = ['zod', 'jsonrepair'];

type Esbuild = typeof import('esbuild');

function loadEsbuild(): Esbuild {
  try {
    return createRequire(join(root, 'package.json'))('esbuild') as Esbuild;
  } catch {
    throw new Error('esbuild is not installed at the repository root; run `npm ci` (it comes with vitest and tsx).');
  }
}

/** The installed version of a dependency of core, found the way Node finds it (some hide `./package.json`). */
function version(name: string): string {
  for (let dir = coreDir; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'not installed';
}

interface Measurement {
  name: string;
  minified: number;
  gzip: number;
  brotli: number;
}

async function measure(esbuild: Esbuild, name: string, entrySource: string, external: string[]): Promise<Measurement> {
  const result = await esbuild.build({
    stdin: { contents: entrySource, resolveDir: coreDir, sourcefile: 'entry.mjs', loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    external,
    write: false,
    logLevel: 'error',
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  return {
    name,
    minified: code.byteLength,
    gzip: gzipSync(code, { level: 9 }).byteLength,
    brotli: brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).byteLength,
  };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

async function main() {
  const check = process.argv.includes('--check');
  // Measure what the sources build to now (turbo replays the build from its cache when nothing changed).
  execFileSync(
    join(root, 'node_modules', '.bin', 'turbo'),
    ['run', 'build', '--filter=@dspy-ts/core', '--output-logs=errors-only'],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    },
  );
  if (!existsSync(coreEntry)) throw new Error(`${coreEntry} is missing after the build.`);
  const esbuild = loadEsbuild();
  const entries = {
    'whole barrel': `export * from ${JSON.stringify(coreEntry)};`,
    'Predict + Signature + configure': `export { Predict, Signature, configure } from ${JSON.stringify(coreEntry)};`,
  };
  const results: Measurement[] = [];
  for (const [entryName, source] of Object.entries(entries)) {
    results.push(
      await measure(esbuild, `${entryName}, zod + jsonrepair external`, source, [...ALWAYS_EXTERNAL, ...DEPENDENCIES]),
    );
    // zod is a peer dependency: an application that uses core already bundles zod, so this row is what adding
    // core costs it.
    results.push(await measure(esbuild, `${entryName}, jsonrepair bundled`, source, [...ALWAYS_EXTERNAL, 'zod']));
    results.push(await measure(esbuild, `${entryName}, zod + jsonrepair bundled`, source, ALWAYS_EXTERNAL));
  }

  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {}
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.minified.toLocaleString('en')} B (${kb(r.minified)}) | ${r.gzip.toLocaleString('en')} B (${kb(r.gzip)}) | ${r.brotli.toLocaleString('en')} B | ${(BUDGET_GZIP[r.name] ?? 0).toLocaleString('en')} B |`,
  );
  const report = `# @dspy-ts/core bundle size

Generated by \`node --import tsx bench/bundle-size/bundle-size.ts\` — do not edit by hand.

\`packages/core/dist/index.mjs\` bundled and minified by esbuild ${esbuild.version} (ESM, platform node, target
node22). "external" leaves \`zod\` ${version('zod')} and \`jsonrepair\` ${version('jsonrepair')} as imports (the
package's own code); "bundled" includes them (what a user's bundle carries). \`cli-progress\`, \`@opentelemetry/api\`
and \`quickjs-emscripten\` are imported lazily and only when used, so they are always external. The second entry
imports only \`Predict\`, \`Signature\` and \`configure\`, to show what tree-shaking leaves of the barrel. zod is a
peer dependency that an application using core bundles anyway, so the "jsonrepair bundled" rows are what adding
core costs such an application; the difference to "zod + jsonrepair bundled" is zod itself.

| entry | minified | gzip -9 | brotli 11 | gzip budget |
| --- | --- | --- | --- | --- |
${rows.join('\n')}

Measured at commit \`${commit}\`, @dspy-ts/core ${(JSON.parse(readFileSync(join(coreDir, 'package.json'), 'utf8')) as { version: string }).version}, Node ${process.versions.node}.
`;
  writeFileSync(join(import.meta.dirname, 'RESULTS.md'), report);
  console.log(report);

  const over = results.filter((r) => r.gzip > (BUDGET_GZIP[r.name] ?? Number.POSITIVE_INFINITY));
  if (check && over.length > 0) {
    for (const r of over) console.error(`over budget: ${r.name}: ${r.gzip} B gzip > ${BUDGET_GZIP[r.name]} B`);
    process.exitCode = 1;
  }
}

await main();
