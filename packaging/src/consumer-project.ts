import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackedPackage } from './pack.ts';
import { fixturesDir, type Manifest, readJson, repoRoot, runOrThrow, toolEnv } from './workspace.ts';

/** A fresh npm project outside the workspace that installed one package from its tarball. */
export interface ConsumerProject {
  pkg: PackedPackage;
  dir: string;
  /** The `readme-<n>.ts` files written from the package README's TypeScript blocks. */
  readmeExamples: string[];
}

/** The fixture folder for a package, if it has one: `packaging/fixtures/<package folder>/`. */
export function fixtureDir(pkg: PackedPackage): string | undefined {
  const dir = join(fixturesDir, pkg.dirName);
  return existsSync(join(dir, 'package.json')) ? dir : undefined;
}

/**
 * The version range for a third-party dependency written as `"*"` in a fixture: the peer range a packed package
 * declares (what users are told to install), else the repository's own devDependency range, else the range the
 * package under test develops against.
 */
function rangeFor(name: string, pkg: PackedPackage, packed: readonly PackedPackage[]): string {
  for (const p of packed) {
    const peer = p.manifest.peerDependencies?.[name];
    if (peer) return peer;
  }
  const root = readJson(join(repoRoot, 'package.json'));
  const fromRoot =
    root.devDependencies?.[name] ?? readJson(join(pkg.sourceDir, 'package.json')).devDependencies?.[name];
  if (!fromRoot) throw new Error(`No version range known for ${name}; write one in the fixture's package.json.`);
  return fromRoot;
}

/** TypeScript blocks (```ts / ```typescript) of a README, except those whose info string says `nocheck`. */
export function readmeTypeScriptBlocks(readme: string): string[] {
  const blocks: string[] = [];
  for (const match of readme.matchAll(/^```(ts|typescript)([^\n]*)\n([\s\S]*?)^```$/gm)) {
    if (!(match[2] ?? '').includes('nocheck')) blocks.push(match[3] ?? '');
  }
  return blocks;
}

function tsconfig(moduleResolution: 'node16' | 'bundler', files: string[]) {
  return {
    compilerOptions: {
      target: 'ES2023',
      lib: ['ES2023'],
      module: moduleResolution === 'node16' ? 'node16' : 'esnext',
      moduleResolution,
      moduleDetection: 'force',
      strict: true,
      noEmit: true,
      // Consumers' defaults: our declarations must hold up without the repository's custom condition.
      skipLibCheck: true,
      types: ['node'],
    },
    files,
  };
}

/**
 * Writes the consumer project for `pkg` (from its fixture) and installs it with npm: every `@dspy-ts/*` package
 * from the local tarballs (as a dependency where the fixture names it, and as an override so transitive
 * references resolve to the tarball too), everything else from the registry, reusing npm's cache.
 */
export async function createConsumerProject(
  pkg: PackedPackage,
  packed: readonly PackedPackage[],
  workDir: string,
): Promise<ConsumerProject> {
  const fixture = fixtureDir(pkg);
  if (!fixture) throw new Error(`packaging/fixtures/${pkg.dirName}/package.json is missing`);
  const dir = join(workDir, 'consumers', pkg.dirName);
  mkdirSync(dir, { recursive: true });

  const tarballOf = new Map(packed.map((p) => [p.name, `file:${p.tarball}`]));
  const template = readJson<Manifest>(join(fixture, 'package.json'));
  const resolveDeps = (deps: Record<string, string> | undefined) =>
    Object.fromEntries(
      Object.entries(deps ?? {}).map(([name, spec]) => {
        if (name.startsWith('@dspy-ts/')) {
          const tarball = tarballOf.get(name);
          if (!tarball) throw new Error(`${name} is needed by the ${pkg.dirName} fixture but was not packed`);
          return [name, tarball];
        }
        return [name, spec === '*' ? rangeFor(name, pkg, packed) : spec];
      }),
    );
  const manifest = {
    name: `dspy-ts-consumer-${pkg.dirName}`,
    version: '0.0.0',
    private: true,
    type: 'module',
    dependencies: resolveDeps(template.dependencies),
    devDependencies: resolveDeps(template.devDependencies),
    overrides: Object.fromEntries(tarballOf),
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  for (const file of readdirSync(fixture)) {
    if (file !== 'package.json') copyFileSync(join(fixture, file), join(dir, file));
  }
  // A missing README is reported by the tarball checks; here it just means no examples to check.
  const readmePath = join(pkg.unpackedDir, 'README.md');
  const readme = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : '';
  const readmeExamples = readmeTypeScriptBlocks(readme).map((code, i) => {
    const file = `readme-${i + 1}.ts`;
    writeFileSync(join(dir, file), code);
    return file;
  });
  const typeChecked = ['consumer.ts', ...readmeExamples].filter((f) => existsSync(join(dir, f)));
  for (const resolution of ['node16', 'bundler'] as const) {
    writeFileSync(
      join(dir, `tsconfig.${resolution}.json`),
      `${JSON.stringify(tsconfig(resolution, typeChecked), null, 2)}\n`,
    );
  }

  await runOrThrow('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: dir,
    env: toolEnv(),
    timeoutMs: 600_000,
  });
  return { pkg, dir, readmeExamples };
}
