import { mkdirSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type Manifest, readJson, repoRoot, runOrThrow, toolEnv, type WorkspacePackage } from './workspace.ts';

/** One package as `npm pack` published it, unpacked for inspection. */
export interface PackedPackage {
  name: string;
  dirName: string;
  /** The workspace folder it was packed from. */
  sourceDir: string;
  /** Absolute path of the `.tgz`. */
  tarball: string;
  /** The unpacked `package/` folder. */
  unpackedDir: string;
  /** Paths inside the tarball, relative to `package/`, `/`-separated. */
  files: string[];
  /** The `package.json` inside the tarball (what the registry would serve). */
  manifest: Manifest;
}

/**
 * Builds the packages (and, through turbo's `^build`, whatever they depend on). Turbo replays unchanged builds
 * from its cache, so a second run costs seconds; a fresh clone builds everything it needs here.
 */
export async function buildPackages(packages: readonly WorkspacePackage[]): Promise<void> {
  await runOrThrow(
    join(repoRoot, 'node_modules', '.bin', 'turbo'),
    ['run', 'build', '--output-logs=errors-only', ...packages.map((p) => `--filter=${p.name}`)],
    { cwd: repoRoot, env: toolEnv(), timeoutMs: 600_000 },
  );
}

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? listFiles(join(dir, entry.name), base)
      : [relative(base, join(dir, entry.name)).split(/[\\/]/).join('/')],
  );
}

/** `npm pack`s each package exactly as `npm publish` would (lifecycle scripts included) and unpacks the result. */
export async function packPackages(packages: readonly WorkspacePackage[], outDir: string): Promise<PackedPackage[]> {
  const tarballs = join(outDir, 'tarballs');
  mkdirSync(tarballs, { recursive: true });
  const packed: PackedPackage[] = [];
  for (const pkg of packages) {
    const { stdout } = await runOrThrow('npm', ['pack', '--json', '--pack-destination', tarballs], {
      cwd: pkg.dir,
      env: toolEnv(),
    });
    // Lifecycle scripts may print before the JSON; the report is the trailing array.
    const report = JSON.parse(stdout.slice(stdout.indexOf('\n[') + 1 || stdout.indexOf('['))) as {
      filename: string;
    }[];
    const tarball = join(tarballs, report[0]?.filename ?? '');
    const unpackedDir = join(outDir, 'unpacked', pkg.dirName);
    mkdirSync(unpackedDir, { recursive: true });
    await runOrThrow('tar', ['-xzf', tarball, '-C', unpackedDir], { cwd: outDir });
    const root = join(unpackedDir, 'package');
    packed.push({
      name: pkg.name,
      dirName: pkg.dirName,
      sourceDir: pkg.dir,
      tarball,
      unpackedDir: root,
      files: listFiles(root).sort(),
      manifest: readJson(join(root, 'package.json')),
    });
  }
  return packed;
}
