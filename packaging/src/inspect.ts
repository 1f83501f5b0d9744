import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { PackedPackage } from './pack.ts';

/** One target of the `exports` map: the subpath, the chain of conditions that leads to it, and the file. */
export interface ExportTarget {
  subpath: string;
  conditions: string[];
  target: string;
}

/** Every file the `exports` map can hand out, under every condition (custom ones included). */
export function exportTargets(exportsField: unknown): ExportTarget[] {
  if (exportsField === undefined || exportsField === null) return [];
  const isSubpathMap =
    typeof exportsField === 'object' &&
    !Array.isArray(exportsField) &&
    Object.keys(exportsField).every((k) => k.startsWith('.'));
  const map: Record<string, unknown> = isSubpathMap ? (exportsField as Record<string, unknown>) : { '.': exportsField };
  const targets: ExportTarget[] = [];
  const walk = (subpath: string, value: unknown, conditions: string[]) => {
    if (typeof value === 'string') targets.push({ subpath, conditions, target: value });
    else if (Array.isArray(value)) for (const item of value) walk(subpath, item, conditions);
    else if (value && typeof value === 'object') {
      for (const [condition, inner] of Object.entries(value)) walk(subpath, inner, [...conditions, condition]);
    }
  };
  for (const [subpath, value] of Object.entries(map)) walk(subpath, value, []);
  return targets;
}

/** The subpaths a consumer can import as code (`./package.json` and other non-code subpaths left out). */
export function codeSubpaths(exportsField: unknown): string[] {
  const subpaths = new Set<string>();
  for (const { subpath, target } of exportTargets(exportsField)) {
    if (/\.(m?js|cjs)$/.test(target) && !subpath.includes('*')) subpaths.add(subpath);
  }
  return [...subpaths];
}

const SPECIFIER =
  /(?:^|[\s;}])(?:import|export)\s*(?:type\s+)?(?:[^'"`;]*?\sfrom\s*)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Module specifiers a JavaScript or TypeScript file imports (static, re-exports and literal dynamic imports). */
export function importSpecifiers(source: string): string[] {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const found: string[] = [];
  for (const match of withoutComments.matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2];
    if (specifier) found.push(specifier);
  }
  return found;
}

const CODE_FILE = /\.(m?[jt]s|d\.m?ts)$/;

/** Files in the tarball that import a relative path which is not in the tarball. */
export function danglingRelativeImports(pkg: PackedPackage): string[] {
  const shipped = new Set(pkg.files);
  const problems: string[] = [];
  for (const file of pkg.files.filter((f) => CODE_FILE.test(f) && !f.endsWith('.map'))) {
    const source = readFileSync(posix.join(pkg.unpackedDir, file), 'utf8');
    for (const specifier of importSpecifiers(source)) {
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue;
      const target = posix.normalize(posix.join(posix.dirname(file), specifier));
      const candidates = [target, `${target}.ts`, `${target}.mts`, `${target}.d.mts`, `${target}/index.ts`];
      // A declaration file may import `./x.mjs` whose types sit in `./x.d.mts`.
      if (/\.m?js$/.test(target)) candidates.push(target.replace(/\.(m?)js$/, '.d.$1ts'));
      if (!candidates.some((c) => shipped.has(c))) problems.push(`${file} imports ${specifier}`);
    }
  }
  return problems;
}

const NPM_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

/** `lodash/fp` → `lodash`, `@scope/pkg/sub` → `@scope/pkg`; `undefined` for relative, `node:` and absolute specifiers. */
export function packageNameOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.includes(':')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  // Text that merely looks like an import inside a string (`export "${name}"`) is not a package name.
  return name !== undefined && NPM_NAME.test(name) ? name : undefined;
}

/**
 * Bare packages that the published JavaScript or declarations import without declaring them in `dependencies`,
 * `peerDependencies` or `optionalDependencies` (Node built-ins and self-references are fine).
 */
export function undeclaredImports(pkg: PackedPackage, builtins: readonly string[]): string[] {
  const declared = new Set([
    pkg.manifest.name,
    ...Object.keys(pkg.manifest.dependencies ?? {}),
    ...Object.keys(pkg.manifest.peerDependencies ?? {}),
    ...Object.keys(pkg.manifest.optionalDependencies ?? {}),
  ]);
  const problems = new Set<string>();
  for (const file of pkg.files.filter((f) => f.startsWith('dist/') && CODE_FILE.test(f))) {
    const source = readFileSync(posix.join(pkg.unpackedDir, file), 'utf8');
    for (const specifier of importSpecifiers(source)) {
      const name = packageNameOf(specifier);
      if (name === undefined || builtins.includes(name) || declared.has(name)) continue;
      problems.add(`${file} imports ${specifier}`);
    }
  }
  return [...problems];
}
