/**
 * The "Coming from Python DSPy" table promises that every name in its TypeScript column exists. This checks
 * each class (`new X`), called function (`x(...)`) and bare name in that column against the packages' exports;
 * a bare method call (`setLm(lm)`) must be a method of an exported class.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { docsDir } from './paths.ts';

const PACKAGES = [
  '@dspy-ts/core',
  '@dspy-ts/core/testing',
  '@dspy-ts/lm-adapters',
  '@dspy-ts/optimizers',
  '@dspy-ts/retrieval',
  '@dspy-ts/smt',
];

/** Not dspy-ts APIs, named in the column for context: Node's `AsyncLocalStorage`, the `forward` you write. */
const NOT_API = new Set(['AsyncLocalStorage', 'forward']);

/** Names used in a code span: `new X`, `x(` not preceded by a dot, or the whole span when it is one identifier. */
function namesIn(code: string): string[] {
  if (/^[A-Za-z_]\w*$/.test(code)) return [code];
  const names = [...code.matchAll(/(?<![.\w'"])(?:new\s+)?([A-Za-z_]\w*)(?=\s*\()/g)].map((m) => m[1] as string);
  return names.filter((name) => !['await', 'import', 'async', 'if', 'for'].includes(name));
}

describe('Coming from Python DSPy', () => {
  it('names only APIs that the packages export', async () => {
    const page = await readFile(join(docsDir, 'guide', 'from-python.md'), 'utf8');
    const rows = page
      .split('\n')
      .filter((line) => line.startsWith('| `') || line.startsWith('| class') || line.startsWith('| with'))
      .map((line) => line.split(' | ')[1] ?? '');
    expect(rows.length).toBeGreaterThan(30);

    const exported = new Set<string>();
    const methods = new Set<string>();
    for (const name of PACKAGES) {
      for (const [key, value] of Object.entries(await import(name))) {
        exported.add(key);
        for (let proto = (value as { prototype?: object })?.prototype; proto; proto = Object.getPrototypeOf(proto)) {
          for (const method of Object.getOwnPropertyNames(proto)) methods.add(method);
        }
      }
    }

    const used = new Set(
      rows.flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].flatMap((m) => namesIn(m[1] as string))),
    );
    const missing = [...used].filter((name) => !exported.has(name) && !methods.has(name) && !NOT_API.has(name));
    expect(used.size).toBeGreaterThan(30);
    expect(missing).toEqual([]);
  });
});
