import { DspyError } from '../errors.ts';
import { Example } from '../primitives/example.ts';
import { getSetting } from '../settings/settings.ts';
import type { ModuleCallOptions } from './module.ts';

/** Anything `Parallel` can run: a module (or any object with `call(inputs, options)`) or a plain function. */
export type ParallelTarget =
  | { call(inputs: any, options?: ModuleCallOptions): Promise<unknown> }
  | ((inputs: any, options?: ModuleCallOptions) => unknown);

/**
 * One job: a target and what to call it with — an `Example` (its `inputs()`), a plain object of inputs, or an
 * array of arguments.
 */
export type ParallelPair = readonly [
  target: ParallelTarget,
  // Structural, so examples of every data type are accepted (checked with `instanceof Example` at run time).
  input: { inputs(): unknown } | Record<string, unknown> | readonly unknown[],
];

/** Options of {@link Parallel}. */
export interface ParallelOptions<R extends boolean = boolean> {
  /** Jobs running at once; defaults to the `numThreads` setting. */
  numThreads?: number;
  /** Failures after which everything is cancelled; defaults to the `maxErrors` setting. */
  maxErrors?: number;
  /** Call targets with `example.inputs()` (default) rather than the example itself. */
  accessExamples?: boolean;
  /** Return `{ results, failedExamples, exceptions }` instead of just the results. */
  returnFailedExamples?: R;
}

/** What {@link Parallel.call} returns with `returnFailedExamples: true`. */
export interface ParallelOutcome {
  /** One entry per job, in order; `null` where the job failed. */
  results: unknown[];
  /** The inputs of the failed jobs, in job order. */
  failedExamples: unknown[];
  /** The errors of the failed jobs, in job order. */
  exceptions: unknown[];
}

/** DSPy's message when a parallel run is cancelled. */
export const PARALLEL_CANCELLED_MESSAGE = 'Execution cancelled due to errors or interruption.';

/**
 * Runs many module calls with bounded concurrency (DSPy's `dspy.Parallel`). Results keep the order of the jobs;
 * a failed job yields `null` (and is logged). Once the number of failures reaches `maxErrors`, no further job
 * starts, running jobs are aborted through their `signal`, and the call rejects with
 * "Execution cancelled due to errors or interruption." (as it does when the caller's signal aborts). Settings
 * scopes (`context`) carry over to every job.
 *
 * @example
 * ```ts
 * const parallel = new Parallel({ numThreads: 4 });
 * const preds = await parallel.call(devset.map((ex) => [program, ex] as const));
 * ```
 */
export class Parallel<R extends boolean = false> {
  /** Concurrency. */
  readonly numThreads: number;
  /** Failures tolerated before cancelling. */
  readonly maxErrors: number;
  /** Whether examples are passed as `example.inputs()`. */
  readonly accessExamples: boolean;
  /** Whether failed examples and errors are returned too. */
  readonly returnFailedExamples: R;

  constructor(options: ParallelOptions<R> = {}) {
    this.numThreads = options.numThreads || getSetting('numThreads');
    this.maxErrors = options.maxErrors ?? getSetting('maxErrors');
    this.accessExamples = options.accessExamples ?? true;
    this.returnFailedExamples = (options.returnFailedExamples ?? false) as R;
    if (!Number.isInteger(this.numThreads) || this.numThreads < 1) {
      throw new DspyError('invalid_argument', `numThreads must be a positive integer, found ${this.numThreads}.`);
    }
  }

  /**
   * Runs every job and returns their results in order.
   *
   * @throws {DspyError} (`aborted`) "Execution cancelled due to errors or interruption." when failures reach
   *   `maxErrors` or `options.signal` aborts; its `cause` is the last error.
   */
  async call(
    execPairs: readonly ParallelPair[],
    options: ModuleCallOptions & { numThreads?: number } = {},
  ): Promise<R extends true ? ParallelOutcome : unknown[]> {
    const numThreads = options.numThreads ?? this.numThreads;
    const results: unknown[] = new Array(execPairs.length).fill(null);
    const failed: { index: number; error: unknown }[] = [];
    const controller = new AbortController();
    const outer = options.signal;
    const onOuterAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) onOuterAbort();
    else outer?.addEventListener('abort', onOuterAbort, { once: true });
    let errorCount = 0;
    let lastError: unknown;
    let next = 0;

    const worker = async (): Promise<void> => {
      while (!controller.signal.aborted && next < execPairs.length) {
        const index = next++;
        const pair = execPairs[index] as ParallelPair;
        try {
          results[index] = await this.processPair(pair, controller.signal);
        } catch (error) {
          if (controller.signal.aborted) return;
          errorCount += 1;
          lastError = error;
          failed.push({ index, error });
          console.error(`Error for ${describeInput(pair[1])}: ${String(error)}`);
          if (errorCount >= this.maxErrors) controller.abort(error);
        }
      }
    };

    try {
      await Promise.all(Array.from({ length: Math.min(numThreads, execPairs.length) }, worker));
    } finally {
      outer?.removeEventListener('abort', onOuterAbort);
    }
    if (controller.signal.aborted) {
      throw new DspyError('aborted', PARALLEL_CANCELLED_MESSAGE, { cause: lastError ?? outer?.reason });
    }
    if (!this.returnFailedExamples) return results as R extends true ? ParallelOutcome : unknown[];
    failed.sort((a, b) => a.index - b.index);
    const outcome: ParallelOutcome = {
      results,
      failedExamples: failed.map(({ index }) => (execPairs[index] as ParallelPair)[1]),
      exceptions: failed.map(({ error }) => error),
    };
    return outcome as R extends true ? ParallelOutcome : unknown[];
  }

  private async processPair([target, input]: ParallelPair, signal: AbortSignal): Promise<unknown> {
    const run = (...args: unknown[]) =>
      typeof target === 'function'
        ? target(...(args as [unknown, ModuleCallOptions]))
        : target.call(...(args as [unknown, ModuleCallOptions]));
    if (input instanceof Example) return await run(this.accessExamples ? input.inputs() : input, { signal });
    if (Array.isArray(input)) return await run(...input);
    if (typeof input === 'object' && input !== null) return await run(input, { signal });
    throw new DspyError(
      'invalid_argument',
      `Invalid example type: ${typeof input}, only supported types are Example, plain objects and arrays.`,
    );
  }
}

function describeInput(input: unknown): string {
  try {
    return input instanceof Example ? input.toString() : JSON.stringify(input);
  } catch {
    return String(input);
  }
}
