import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { type Manifest, readJson } from './workspace.ts';

/** One installed package reached from a root package. */
export interface InstalledPackage {
  name: string;
  version: string;
  /** Absolute folder. */
  dir: string;
  manifest: Manifest;
}

/** Finds `name` from `fromDir` the way Node does: `node_modules/<name>` in this folder, then every parent. */
function resolvePackageDir(name: string, fromDir: string, stopAt: string): string | undefined {
  let dir = fromDir;
  while (true) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === stopAt || dirname(dir) === dir) return undefined;
    dir = dirname(dir);
  }
}

/**
 * Everything installed for `rootName` in `projectDir`: the package, its dependencies, optional dependencies and
 * installed peers, transitively, as Node would resolve them. Other packages installed in the project for other
 * reasons are not part of it.
 */
export function installedClosure(projectDir: string, rootName: string): InstalledPackage[] {
  const seen = new Map<string, InstalledPackage>();
  const rootDir = resolvePackageDir(rootName, projectDir, projectDir);
  if (!rootDir) throw new Error(`${rootName} is not installed in ${projectDir}`);
  const queue = [rootDir];
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    if (seen.has(dir)) continue;
    const manifest = readJson(join(dir, 'package.json'));
    seen.set(dir, { name: manifest.name, version: manifest.version, dir, manifest });
    const names = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    for (const name of names) {
      const found = resolvePackageDir(name, dir, projectDir);
      // Optional dependencies and optional peers may legitimately be absent.
      if (found && !seen.has(found)) queue.push(found);
    }
  }
  return [...seen.values()];
}

/** Files of one installed package (its own nested `node_modules` excluded: those are packages of their own). */
function ownFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules') return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? ownFiles(path, base) : [relative(base, path)];
  });
}

/** Signs that a package carries or builds a native addon: `binding.gyp`, `*.node` binaries, `gypfile`, install scripts. */
export function nativeAddonSigns(pkg: InstalledPackage): string[] {
  const signs = ownFiles(pkg.dir)
    .filter((file) => /(^|[\\/])binding\.gyp$/.test(file) || file.endsWith('.node'))
    .map((file) => `${pkg.name}: ${file}`);
  if (pkg.manifest.gypfile) signs.push(`${pkg.name}: gypfile: true`);
  for (const script of ['preinstall', 'install', 'postinstall'] as const) {
    const command = pkg.manifest.scripts?.[script];
    if (command) signs.push(`${pkg.name}: ${script} script \`${command}\``);
  }
  return signs;
}
