import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { describe, expect, inject, it } from 'vitest';
import { danglingRelativeImports, exportTargets, undeclaredImports } from '../src/inspect.ts';
import { describeRun, repoRoot, run, toolEnv } from '../src/workspace.ts';

const packed = inject('packed');

/** Peer dependencies whose version the user chooses (their code imports the same copy). */
const REQUIRED_PEERS: Record<string, string[]> = {
  '@dspy-ts/core': ['zod'],
  '@dspy-ts/lm-adapters': ['ai'],
};

/** What must never ride along in a published tarball. */
const NOT_PUBLISHED = [
  /(^|\/)node_modules\//,
  /\.test\.[cm]?[jt]s$/,
  /\.test-d\.ts$/,
  /\.test-helper\.ts$/,
  /__fixtures__\//,
];

describe('every package is found', () => {
  it('covers core and lm-adapters at least', () => {
    expect(packed.map((p) => p.name)).toEqual(expect.arrayContaining(['@dspy-ts/core', '@dspy-ts/lm-adapters']));
  });
});

describe.each(packed.map((p) => [p.name, p] as const))('%s tarball', (_name, pkg) => {
  it('passes publint (strict) on the packed files', async () => {
    const bytes = readFileSync(pkg.tarball);
    const { messages } = await publint({
      pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
      strict: true,
    });
    expect(messages.map((m) => `${m.type}: ${formatMessage(m, pkg.manifest, { color: false })}`)).toEqual([]);
  });

  it('passes attw (ESM-only profile: node16 from ESM and bundler resolve to correct types)', async () => {
    const result = await run(
      join(repoRoot, 'node_modules', '.bin', 'attw'),
      [pkg.tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-emoji', '--no-color'],
      { cwd: repoRoot, env: toolEnv() },
    );
    expect(result.code, describeRun(result)).toBe(0);
  });

  it('has every exports target in the tarball, under every condition', () => {
    const targets = exportTargets(pkg.manifest.exports);
    expect(targets.length).toBeGreaterThan(0);
    const missing = targets
      .filter(({ target }) => !pkg.files.includes(target.replace(/^\.\//, '')))
      .map(({ subpath, conditions, target }) => `${subpath} [${conditions.join(' > ') || 'default'}] -> ${target}`);
    expect(missing, 'exports targets that are not in the tarball').toEqual([]);
  });

  it('ships no file that imports a relative path missing from the tarball', () => {
    expect(danglingRelativeImports(pkg)).toEqual([]);
  });

  it('declares every package its published JavaScript and declarations import', () => {
    const builtins = builtinModules.flatMap((m) => [m, `node:${m}`]);
    expect(undeclaredImports(pkg, builtins)).toEqual([]);
  });

  it('ships a README with an install line, the MIT LICENSE, and no tests, fixtures or nested node_modules', () => {
    expect(pkg.files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE']));
    const readme = readFileSync(join(pkg.unpackedDir, 'README.md'), 'utf8');
    expect(readme).toMatch(new RegExp(`npm install [^\\n]*${pkg.name.replace('/', '\\/')}`));
    const license = readFileSync(join(pkg.unpackedDir, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\s+Copyright \(c\) 2026 dspy-ts contributors/);
    expect(pkg.files.filter((f) => NOT_PUBLISHED.some((pattern) => pattern.test(f)))).toEqual([]);
  });

  it('declares an ESM-only, side-effect-free package for Node 22+, under MIT', () => {
    const { manifest } = pkg;
    expect(manifest.type).toBe('module');
    expect(manifest.license).toBe('MIT');
    expect(manifest.sideEffects, 'sideEffects lets bundlers drop unused modules').toBeDefined();
    const minimumMajor = Number(/^>=\s*v?(\d+)/.exec(manifest.engines?.node ?? '')?.[1]);
    expect(minimumMajor, `engines.node is ${JSON.stringify(manifest.engines?.node)}`).toBeGreaterThanOrEqual(22);
  });

  it('depends on sibling packages by their released version, never by a local path', () => {
    const siblings = new Map(packed.map((p) => [p.name, p.manifest.version]));
    for (const [field, deps] of Object.entries({
      dependencies: pkg.manifest.dependencies,
      peerDependencies: pkg.manifest.peerDependencies,
      optionalDependencies: pkg.manifest.optionalDependencies,
    })) {
      for (const [name, spec] of Object.entries(deps ?? {})) {
        expect(spec, `${field}.${name}`).not.toMatch(/^(file|link|workspace|portal):/);
        const version = siblings.get(name);
        if (version !== undefined) expect([version, `^${version}`, `~${version}`], `${field}.${name}`).toContain(spec);
      }
    }
  });

  const peers = REQUIRED_PEERS[pkg.name];
  if (peers) {
    it(`leaves the version of ${peers.join(', ')} to the user (required peer dependencies)`, () => {
      for (const peer of peers) {
        expect(pkg.manifest.peerDependencies?.[peer], `peerDependencies.${peer}`).toBeTypeOf('string');
        expect(pkg.manifest.peerDependenciesMeta?.[peer]?.optional ?? false, `${peer} is a required peer`).toBe(false);
        expect(pkg.manifest.dependencies?.[peer], `${peer} must not also be a dependency`).toBeUndefined();
      }
    });
  }
});
