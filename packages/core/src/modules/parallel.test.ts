import { afterEach, describe, expect, it, vi } from 'vitest';
import { DspyError } from '../errors.ts';
import { Example } from '../primitives/example.ts';
import { Prediction } from '../primitives/prediction.ts';
import { Module, type ModuleCallOptions } from './module.ts';
import { PARALLEL_CANCELLED_MESSAGE, Parallel } from './parallel.ts';

class Echo extends Module<{ x: number }, Prediction> {
  active = 0;
  maxActive = 0;
  signals: (AbortSignal | undefined)[] = [];
  async forward({ x }: { x: number }, options?: ModuleCallOptions) {
    this.signals.push(options?.signal);
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await new Promise((resolve) => setTimeout(resolve, (5 - (x % 5)) * 2));
      if (x < 0) throw new Error(`negative ${x}`);
      return new Prediction({ y: x * 10 });
    } finally {
      this.active -= 1;
    }
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Parallel', () => {
  it('keeps the order of the jobs and bounds the concurrency', async () => {
    const echo = new Echo();
    const jobs = Array.from({ length: 9 }, (_, x) => [echo, { x }] as const);
    const results = await new Parallel({ numThreads: 3 }).call(jobs);
    expect(results.map((r) => (r as Prediction).get('y'))).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80]);
    expect(echo.maxActive).toBe(3);
  });

  it('passes example inputs, and yields null (or the failures) for failed jobs', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const echo = new Echo();
    const example = new Example({ x: 2, label: 'ignored' }).withInputs('x');
    const jobs = [
      [echo, { x: 1 }],
      [echo, { x: -1 }],
      [echo, example],
    ] as const;
    expect(
      (await new Parallel({ numThreads: 2 }).call(jobs)).map((r) => (r as Prediction | null)?.get('y') ?? null),
    ).toEqual([10, null, 20]);
    const outcome = await new Parallel({ numThreads: 2, returnFailedExamples: true }).call(jobs);
    expect(outcome.results[1]).toBeNull();
    expect(outcome.failedExamples).toEqual([{ x: -1 }]);
    expect(String(outcome.exceptions[0])).toBe('Error: negative -1');
  });

  it('cancels everything with DSPy’s message once errors reach maxErrors', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const echo = new Echo();
    const jobs = [-1, 1, -2, 3, 4, 5, 6, 7].map((x) => [echo, { x }] as const);
    const error = await new Parallel({ numThreads: 2, maxErrors: 2 }).call(jobs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DspyError);
    expect((error as DspyError).message).toBe(PARALLEL_CANCELLED_MESSAGE);
    expect((error as DspyError).message).toBe('Execution cancelled due to errors or interruption.');
    expect(echo.signals.length).toBeLessThan(jobs.length);
    expect(echo.signals.every((signal) => signal?.aborted)).toBe(true);
  });

  it('cancels when the caller aborts', async () => {
    const controller = new AbortController();
    const run = new Parallel({ numThreads: 1 }).call(
      [1, 2, 3].map(
        (x) =>
          [
            async () => {
              if (x === 1) controller.abort();
              return x;
            },
            [{ x }],
          ] as const,
      ),
      { signal: controller.signal },
    );
    await expect(run).rejects.toThrow(PARALLEL_CANCELLED_MESSAGE);
  });
});
