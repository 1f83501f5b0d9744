import { writeFile } from 'node:fs/promises';
import { pythonFloatRepr } from '../adapters/python-text.ts';
import { DspyError } from '../errors.ts';
import { Module } from '../modules/module.ts';
import type { Example } from '../primitives/example.ts';
import { Prediction } from '../primitives/prediction.ts';
import { withCallbacks } from '../settings/callbacks.ts';
import { getSetting } from '../settings/settings.ts';
import { toCsv } from './csv.ts';
import {
  createProgressDisplay,
  type EvaluateProgress,
  type ProgressDisplay,
  type ProgressStream,
  progressSnapshot,
} from './progress.ts';
import { pythonNumberText, pythonRound } from './python-number.ts';
import { formatResultTable, resultRows } from './result-table.ts';

/** What a metric may return: a number, a boolean (1/0), or an object with a `score` (a `Prediction`). */
export type MetricValue = number | boolean | { readonly score: number | boolean };

/**
 * A metric: scores one prediction against its example. `Evaluate` calls it with two arguments, as DSPy does;
 * optimizers pass a third, the trace.
 */
export type Metric<TPrediction = any> = (
  example: Example,
  prediction: TPrediction,
  trace?: unknown,
) => MetricValue | Promise<MetricValue>;

/** A program `Evaluate` can run: a module, or a function taking the example's inputs and call options. */
export type EvaluateProgram<TPrediction = any> =
  | Module<any, TPrediction, any>
  | ((inputs: Record<string, unknown>, options: { signal?: AbortSignal }) => TPrediction | Promise<TPrediction>);

/** One evaluated example: the example, the program's output (an empty `Prediction` on failure) and its score. */
export type EvaluationItem<TPrediction = any> = [example: Example, prediction: TPrediction, score: MetricValue];

/** Where `Evaluate` writes its log lines. */
export interface EvaluateLogger {
  /** The final `Average Metric: ...` line. */
  info(message: string): void;
  /** One line per failed example. */
  error(message: string): void;
}

/** Options shared by the {@link Evaluate} constructor and per-call overrides. */
export interface EvaluateCallOptions<TPrediction = any> {
  /** The metric; required on the constructor or the call. */
  metric?: Metric<NoInfer<TPrediction>>;
  /** The examples, each with input keys set (`example.withInputs(...)`). */
  devset?: readonly Example[];
  /** Examples run at the same time. Default: the `numThreads` setting (8). */
  numThreads?: number;
  /** Show progress: a bar on a terminal, JSON lines otherwise (on `progressStream`). Default false. */
  displayProgress?: boolean;
  /** Print a table of the results; a number limits the rows shown. Default false. */
  displayTable?: boolean | number;
  /** Write the result rows to this CSV file (RFC 4180). */
  saveAsCsv?: string;
  /** Write the result rows to this JSON file. */
  saveAsJson?: string;
  /** Passed to `onEvaluateStart` callbacks. */
  callbackMetadata?: Record<string, unknown>;
  /** Receives the progress after every finished example, whether or not progress is displayed. */
  onProgress?: (progress: EvaluateProgress) => void;
  /** Cancels the run. */
  signal?: AbortSignal;
}

/** Options of the {@link Evaluate} constructor (DSPy's keyword arguments, camelCased). */
export interface EvaluateOptions<TPrediction = any> extends EvaluateCallOptions<TPrediction> {
  /** The examples to evaluate. */
  devset: readonly Example[];
  /** Failed examples tolerated before the run is cancelled. Default: the `maxErrors` setting (10). */
  maxErrors?: number;
  /** Score given to an example whose program or metric raised. Default 0. */
  failureScore?: number;
  /** Log the stack of each failure instead of only its message. Default false. */
  provideTraceback?: boolean;
  /** Where log lines go. Default `console`. */
  logger?: EvaluateLogger;
  /** Where progress and tables are written. Default `process.stderr` for progress, `process.stdout` for tables. */
  progressStream?: ProgressStream;
  /** Where the results table is written. Default `process.stdout`. */
  tableStream?: ProgressStream;
}

/** The message DSPy raises when a run is cancelled. */
export const EXECUTION_CANCELLED_MESSAGE = 'Execution cancelled due to errors or interruption.';

/**
 * The result of an evaluation (DSPy's `EvaluationResult`): the overall `score` as a percentage rounded to two
 * decimals, and `results` as `[example, prediction, score]` in devset order.
 */
export class EvaluationResult<TPrediction = any> {
  constructor(
    /** `round(100 * sum(scores) / devset.length, 2)`. */
    readonly score: number,
    /** One `[example, prediction, score]` per example, in devset order. */
    readonly results: EvaluationItem<TPrediction>[],
  ) {}

  /** DSPy's repr: `EvaluationResult(score=66.67, results=<list of 3 results>)`. */
  toString(): string {
    return `EvaluationResult(score=${pythonFloatRepr(this.score)}, results=<list of ${this.results.length} results>)`;
  }
}

/** The numeric value of a metric result: booleans count 1/0, objects contribute their `score`. */
export function metricScore(value: MetricValue): number {
  const raw = typeof value === 'object' && value !== null ? value.score : value;
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  if (typeof raw === 'number' && !Number.isNaN(raw)) return raw;
  throw new DspyError(
    'invalid_argument',
    `Expected the metric to return a number, a boolean or an object with a numeric \`score\`, found ${JSON.stringify(value) ?? typeof value}.`,
  );
}

function isIntegral(value: MetricValue): boolean {
  const raw = typeof value === 'object' && value !== null ? value.score : value;
  return typeof raw === 'boolean' || (typeof raw === 'number' && Number.isInteger(raw));
}

function metricName(metric: Metric): string {
  return metric.name || (metric as object).constructor?.name || 'metric';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function exampleText(example: Example): string {
  return typeof example?.toString === 'function' ? example.toString() : JSON.stringify(example);
}

/**
 * Runs a program over a devset and scores it (DSPy's `dspy.Evaluate`).
 *
 * Each example runs as `program.call(example.inputs())` and is scored with `metric(example, prediction)` (two
 * arguments). Up to `numThreads` examples run at once; results keep devset order. An example whose program or
 * metric raises is logged (`Error for Example(...): <message>. ...`) and scored `failureScore` with an empty
 * prediction; once `maxErrors` examples failed, the run is cancelled with
 * `Execution cancelled due to errors or interruption.` The score is `round(100 * mean, 2)`.
 *
 * @example
 * ```ts
 * const evaluate = new Evaluate({ devset, metric: answerExactMatch, numThreads: 4, displayProgress: true });
 * const { score, results } = await evaluate.call(program);
 * ```
 */
export class Evaluate<TPrediction = any> {
  /** The constructor options. */
  readonly options: EvaluateOptions<TPrediction>;

  constructor(options: EvaluateOptions<TPrediction>) {
    if ('returnOutputs' in options || 'return_outputs' in options) {
      throw new DspyError(
        'invalid_argument',
        '`returnOutputs` is no longer supported. Results are always returned inside the `results` field of the `EvaluationResult` object.',
      );
    }
    this.options = { ...options };
  }

  /**
   * Evaluates `program`; `overrides` replace the constructor's options for this call only.
   *
   * @throws {DspyError} code `aborted` with DSPy's cancellation message when `maxErrors` is reached or `signal` fires.
   */
  async call(
    program: EvaluateProgram<TPrediction>,
    overrides: EvaluateCallOptions<TPrediction> = {},
  ): Promise<EvaluationResult<TPrediction>> {
    const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
    const options: EvaluateOptions<TPrediction> = { ...this.options, ...defined };
    const metric = options.metric;
    if (typeof metric !== 'function') {
      throw new DspyError('invalid_argument', 'Evaluate needs a metric: pass `metric` to the constructor or the call.');
    }
    const devset = options.devset ?? [];
    if (devset.length === 0) {
      throw new DspyError('invalid_argument', 'Evaluate needs a non-empty devset; found no examples.');
    }
    return withCallbacks(
      'evaluate',
      this,
      {
        program,
        devset,
        metric,
        numThreads: options.numThreads,
        displayProgress: options.displayProgress,
        displayTable: options.displayTable,
        callbackMetadata: options.callbackMetadata,
      },
      () => this.run(program, metric, devset, options),
    );
  }

  private async run(
    program: EvaluateProgram<TPrediction>,
    metric: Metric<TPrediction>,
    devset: readonly Example[],
    options: EvaluateOptions<TPrediction>,
  ): Promise<EvaluationResult<TPrediction>> {
    const numThreads = Math.max(1, Math.floor(options.numThreads ?? getSetting('numThreads')));
    const maxErrors = options.maxErrors ?? getSetting('maxErrors');
    const failureScore = options.failureScore ?? 0;
    const logger = options.logger ?? console;
    const total = devset.length;

    const cancel = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, cancel.signal]) : cancel.signal;
    const display: ProgressDisplay | undefined = options.displayProgress
      ? await createProgressDisplay(options.progressStream ?? process.stderr, total)
      : undefined;

    const results: (EvaluationItem<TPrediction> | undefined)[] = new Array(total);
    let completed = 0;
    let scoreSum = 0;
    let errors = 0;
    let next = 0;
    let lastError: unknown;

    const report = () => {
      const progress = progressSnapshot(completed, total, scoreSum, errors);
      display?.update(progress);
      options.onProgress?.(progress);
    };

    const evaluateOne = async (index: number): Promise<void> => {
      const example = devset[index] as Example;
      let item: EvaluationItem<TPrediction>;
      try {
        const inputs = example.inputs().toDict() as Record<string, unknown>;
        const prediction =
          program instanceof Module ? await program.call(inputs, { signal }) : await program(inputs, { signal });
        const score = await metric(example, prediction);
        scoreSum += metricScore(score);
        item = [example, prediction, score];
      } catch (error) {
        if (signal.aborted) return;
        errors++;
        lastError = error;
        const detail =
          options.provideTraceback && error instanceof Error && error.stack
            ? `Error for ${exampleText(example)}: ${errorMessage(error)}\n${error.stack}`
            : `Error for ${exampleText(example)}: ${errorMessage(error)}. Set \`provideTraceback: true\` for traceback.`;
        logger.error(detail);
        item = [example, new Prediction() as TPrediction, failureScore];
        scoreSum += failureScore;
        if (errors >= maxErrors) cancel.abort(error);
      }
      if (signal.aborted) return;
      results[index] = item;
      completed++;
      report();
    };

    const worker = async () => {
      while (!signal.aborted && next < total) await evaluateOne(next++);
    };

    const cancelled = new Promise<never>((_, reject) => {
      const onAbort = () =>
        reject(
          new DspyError('aborted', EXECUTION_CANCELLED_MESSAGE, {
            cause: cancel.signal.aborted ? lastError : options.signal?.reason,
          }),
        );
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    cancelled.catch(() => {});

    try {
      await Promise.race([Promise.all(Array.from({ length: Math.min(numThreads, total) }, worker)), cancelled]);
      if (signal.aborted) await cancelled;
    } finally {
      display?.stop();
    }

    const items = results as EvaluationItem<TPrediction>[];
    const integral = items.every(([, , score]) => isIntegral(score));
    const percent = pythonRound((100 * scoreSum) / total, 1);
    logger.info(`Average Metric: ${pythonNumberText(scoreSum, integral)} / ${total} (${pythonFloatRepr(percent)}%)`);

    const name = metricName(metric as Metric);
    if (options.displayTable || options.saveAsCsv || options.saveAsJson) {
      const rows = resultRows(items, name);
      if (options.displayTable) {
        const limit = typeof options.displayTable === 'number' ? options.displayTable : undefined;
        (options.tableStream ?? process.stdout).write(formatResultTable(rows, name, limit));
      }
      if (options.saveAsCsv) await writeFile(options.saveAsCsv, toCsv(rows), 'utf8');
      if (options.saveAsJson) await writeFile(options.saveAsJson, JSON.stringify(rows), 'utf8');
    }

    return new EvaluationResult(pythonRound((100 * scoreSum) / total, 2), items);
  }
}
