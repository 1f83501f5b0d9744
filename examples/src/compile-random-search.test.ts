import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { compileRandomSearch, scriptedArithmeticLM, TwoHopArithmetic } from './compile-random-search.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rs-example-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('random-search compile example', () => {
  it('beats zero-shot, accounts for every LM call, and saves a loadable program', async () => {
    const lm = scriptedArithmeticLM();
    const outPath = join(dir, 'compiled.json');
    const run = await compileRandomSearch({ lm, outPath });

    expect(run.score).toBe(100);
    expect(run.candidates.find((c) => c.seed === -3)?.score).toBe(0);
    expect(run.candidates).toHaveLength(6);
    expect(run.stats.lmCalls).toBe(lm.calls.length);
    expect(run.stats.inputTokens).toBe(120 * lm.calls.length);
    expect(run.stats.lmCalls).toBeGreaterThanOrEqual(run.estimate.minLmCalls);
    expect(run.stats.lmCalls).toBeLessThanOrEqual(run.estimate.maxLmCalls);

    const saved = JSON.parse(await readFile(outPath, 'utf8'));
    expect(Object.keys(saved)).toEqual(['extract.predict', 'solve.predict', 'metadata']);
    const loaded = await new TwoHopArithmetic().load(outPath);
    expect(loaded.dumpState()).toEqual(run.program.dumpState());
  });

  it('runs as a script', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const outPath = join(dir, 'script.json');
    const argv = process.argv;
    process.argv = [argv[0] as string, new URL('./compile-random-search.ts', import.meta.url).pathname, outPath];
    try {
      vi.resetModules();
      // The query string gives a fresh module instance, so the script's top-level code runs again.
      const scriptModule: string = './compile-random-search.ts?script';
      await import(scriptModule);
    } finally {
      process.argv = argv;
    }
    const lines = log.mock.calls.map((c) => String(c[0]));
    expect(lines).toContain('Best score: 100%');
    expect(lines.some((l) => l.startsWith('Spent: '))).toBe(true);
    expect(JSON.parse(await readFile(outPath, 'utf8')).metadata).toBeDefined();
    log.mockRestore();
  });
});
