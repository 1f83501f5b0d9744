import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type ConsumerProject, createConsumerProject, fixtureDir } from '../src/consumer-project.ts';
import { installedClosure, nativeAddonSigns } from '../src/dependency-tree.ts';
import { codeSubpaths } from '../src/inspect.ts';
import { describeRun, repoNode, repoRoot, run, toolEnv } from '../src/workspace.ts';

const packed = inject('packed');
const workDir = inject('workDir');

/** The tiny model the smt smoke program decodes with (kept next to the checkout, never downloaded by tests). */
const STORIES260K_DIR = join(repoRoot, '..', 'shared', 'models', 'stories260K');

/** Packages that must never be installed for `@dspy-ts/core` alone: it depends on nothing heavy. */
const HEAVY_FOR_CORE = ['ai', 'gpu.js', 'gl', 'webgpu', 'pg', '@electric-sql/pglite'];

const installs = new Map<string, Promise<ConsumerProject>>();

beforeAll(() => {
  // All installs start together (npm mostly waits on the cache and the network); each package's tests await
  // only their own, so one broken package does not fail the others.
  for (const pkg of packed) {
    if (!fixtureDir(pkg)) continue;
    const install = createConsumerProject(pkg, packed, workDir);
    install.catch(() => {});
    installs.set(pkg.name, install);
  }
});

describe.each(packed.map((p) => [p.name, p] as const))('%s installed from its tarball', (name, pkg) => {
  let project: ConsumerProject;

  it(`has a consumer fixture in packaging/fixtures/${pkg.dirName}/ (package.json, smoke.mjs, consumer.ts)`, () => {
    const dir = fixtureDir(pkg);
    expect(dir, `add packaging/fixtures/${pkg.dirName}/package.json`).toBeDefined();
    expect(existsSync(join(dir as string, 'smoke.mjs'))).toBe(true);
    expect(existsSync(join(dir as string, 'consumer.ts'))).toBe(true);
  });

  describe.runIf(fixtureDir(pkg) !== undefined)('in a fresh project outside the workspace', () => {
    beforeAll(async () => {
      project = await (installs.get(name) as Promise<ConsumerProject>);
    });

    it('resolves every @dspy-ts package from the local tarballs, one copy each', () => {
      const lock = JSON.parse(readFileSync(join(project.dir, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { resolved?: string; version?: string }>;
      };
      const ours = Object.entries(lock.packages).filter(([path]) => /(^|\/)node_modules\/@dspy-ts\//.test(path));
      expect(ours.map(([path]) => path)).toContain(`node_modules/${name}`);
      for (const [path, entry] of ours) {
        expect(entry.resolved, `${path} must come from a local tarball`).toMatch(/^file:.*\.tgz$/);
      }
      const names = ours.map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
      expect(names, 'duplicated @dspy-ts packages').toEqual([...new Set(names)]);
    });

    it('imports every code entry point on the repository Node, as ESM', async () => {
      const specifiers = codeSubpaths(pkg.manifest.exports).map((s) => (s === '.' ? name : `${name}${s.slice(1)}`));
      expect(specifiers.length).toBeGreaterThan(0);
      const script = `
        const report = { node: process.versions.node, entries: {} };
        for (const specifier of ${JSON.stringify(specifiers)}) {
          report.entries[specifier] = Object.keys(await import(specifier)).length;
        }
        console.log(JSON.stringify(report));`;
      const result = await run(repoNode, ['--input-type=module', '-e', script], { cwd: project.dir, env: toolEnv() });
      expect(result.code, describeRun(result)).toBe(0);
      const report = JSON.parse(result.stdout.trim().split('\n').at(-1) as string) as {
        node: string;
        entries: Record<string, number>;
      };
      expect(Number(report.node.split('.')[0])).toBeGreaterThanOrEqual(22);
      for (const specifier of specifiers) expect(report.entries[specifier], specifier).toBeGreaterThan(0);
    });

    it('runs its smoke program', async () => {
      const result = await run(repoNode, ['smoke.mjs'], {
        cwd: project.dir,
        env: toolEnv({ STORIES260K_DIR }),
      });
      expect(result.code, describeRun(result)).toBe(0);
      expect(result.stdout.trim().split('\n').at(-1)).toBe('smoke ok');
    });

    it.each(['node16', 'bundler'])(
      'type-checks a consumer and the README examples with moduleResolution %s',
      async (resolution) => {
        const result = await run(
          repoNode,
          [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', `tsconfig.${resolution}.json`],
          { cwd: project.dir, env: toolEnv() },
        );
        expect(result.code, describeRun(result)).toBe(0);
      },
    );
  });
});

describe.runIf(packed.some((p) => p.name === '@dspy-ts/core'))('@dspy-ts/core installed alone', () => {
  let closure: ReturnType<typeof installedClosure>;

  beforeAll(async () => {
    const project = await (installs.get('@dspy-ts/core') as Promise<ConsumerProject>);
    closure = installedClosure(project.dir, '@dspy-ts/core');
  });

  it('pulls in nothing heavy: no AI SDK, no gpu.js, no Postgres', () => {
    expect(closure.map((p) => p.name)).toContain('zod');
    expect(closure.map((p) => p.name).filter((n) => HEAVY_FOR_CORE.includes(n))).toEqual([]);
  });

  it('installs no native addon (no binding.gyp, no .node binaries, no install scripts)', () => {
    expect(closure.flatMap(nativeAddonSigns)).toEqual([]);
  });
});
