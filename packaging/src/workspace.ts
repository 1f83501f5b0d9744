import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** The repository root (this file lives in `packaging/src/`). */
export const repoRoot = resolve(import.meta.dirname, '..', '..');

/** The Node the repository pins (the `node` devDependency); smoke programs run on it, never on the system Node. */
export const repoNode = join(repoRoot, 'node_modules', '.bin', process.platform === 'win32' ? 'node.cmd' : 'node');

/** Where `packaging/fixtures/<package folder>/` keeps each package's consumer project. */
export const fixturesDir = resolve(import.meta.dirname, '..', 'fixtures');

/** The subset of `package.json` these checks read. */
export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  type?: string;
  license?: string;
  sideEffects?: boolean | string[];
  engines?: Record<string, string>;
  files?: string[];
  scripts?: Record<string, string>;
  exports?: unknown;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optionalDependencies?: Record<string, string>;
  overrides?: Record<string, string>;
  gypfile?: boolean;
}

/** A publishable workspace package. */
export interface WorkspacePackage {
  /** `@dspy-ts/core`. */
  name: string;
  /** `core` (the folder under `packages/`, also the fixture folder name). */
  dirName: string;
  /** Absolute path of the package folder. */
  dir: string;
  manifest: Manifest;
}

export function readJson<T = Manifest>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/**
 * Every package the checks cover: a non-private `packages/*` folder with a `src/index.ts` barrel and a `build`
 * script. Packages still being scaffolded (no barrel yet) are left out until they have one.
 */
export function releasablePackages(): WorkspacePackage[] {
  const packagesDir = join(repoRoot, 'packages');
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(packagesDir, entry.name))
    .filter((dir) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'index.ts')))
    .map((dir) => ({ dir, manifest: readJson(join(dir, 'package.json')) }))
    .filter(({ manifest }) => !manifest.private && typeof manifest.scripts?.build === 'string')
    .map(({ dir, manifest }) => ({ name: manifest.name, dirName: dir.split(/[\\/]/).at(-1) as string, dir, manifest }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every workspace package (published or not), as `changeset status` sees them. */
export function allWorkspaceManifests(): Manifest[] {
  const root = readJson<{ workspaces: string[] }>(join(repoRoot, 'package.json'));
  const manifests: Manifest[] = [];
  for (const pattern of root.workspaces) {
    const dirs = pattern.endsWith('/*')
      ? readdirSync(join(repoRoot, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => join(repoRoot, pattern.slice(0, -2), e.name))
      : [join(repoRoot, pattern)];
    for (const dir of dirs) {
      if (existsSync(join(dir, 'package.json'))) manifests.push(readJson(join(dir, 'package.json')));
    }
  }
  return manifests;
}

/**
 * The environment for child tools: the repository's `node_modules/.bin` first on PATH (so npm, tsc and the smoke
 * programs run on the pinned Node), minus the variables `npm run` exports for *this* workspace, which would
 * otherwise make an `npm install` in a temporary project act on the monorepo.
 */
export function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase();
    if (
      lower.startsWith('npm_package_') ||
      lower.startsWith('npm_lifecycle_') ||
      lower.startsWith('npm_config_workspace') ||
      lower === 'npm_config_include_workspace_root' ||
      lower === 'npm_config_local_prefix' ||
      lower === 'npm_config_prefix' ||
      lower === 'npm_config_global_prefix' ||
      lower === 'npm_config_globalconfig' ||
      lower === 'npm_config_call' ||
      lower === 'init_cwd'
    ) {
      continue;
    }
    env[key] = value;
  }
  env.PATH = [join(repoRoot, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter);
  env.TURBO_TELEMETRY_DISABLED = '1';
  env.NO_COLOR = '1';
  return { ...env, ...extra };
}

/** What a finished child process printed. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (never through a shell) and collects its output. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? toolEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 300_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Like {@link run}, but throws with the command's output when it exits non-zero. */
export async function runOrThrow(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(
      `\`${command} ${args.join(' ')}\` in ${options.cwd} exited with ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

/** Formats a command's output for an assertion message. */
export function describeRun(result: RunResult): string {
  return `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}
