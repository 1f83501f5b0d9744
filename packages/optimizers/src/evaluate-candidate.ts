import {
  DspyError,
  EXECUTION_CANCELLED_MESSAGE,
  type Example,
  getSetting,
  type Metric,
  type MetricValue,
  type Module,
  metricScore,
  pythonRound,
} from '@dspy-ts/core';
import type { CompileContext } from './compile-context.ts';

/** Options of {@link evaluateCandidate}. */
export interface EvaluateCandidateOptions {
  /** Examples run at the same time. Default: the `numThreads` setting. */
  numThreads?: number;
  /** Failed examples tolerated before the evaluation is cancelled. Default: the `maxErrors` setting. */
  maxErrors?: number;
  /** Score of an example whose program or metric raised. Default 0. */
  failureScore?: number;
}

/** The result of {@link evaluateCandidate}. */
export interface CandidateEvaluation {
  /** `round(100 * sum(scores) / devset.length, 2)`, as DSPy's `Evaluate`. */
  score: number;
  /** Per-example metric values (numbers or booleans), in devset order. */
  subscores: (number | boolean)[];
  /** Examples whose program or metric raised. */
  errors: number;
}

interface ExampleOutcome {
  value: number | boolean;
  error?: string;
}

function plainValue(value: MetricValue): number | boolean {
  return typeof value === 'boolean' || typeof value === 'number' ? value : metricScore(value);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Scores `program` on `devset` exactly as DSPy's `Evaluate` does — `program.call(example.inputs())`, then
 * `metric(example, prediction)` with two arguments; failures score `failureScore` and are logged; once `maxErrors`
 * examples failed the run is cancelled with DSPy's message — but one example at a time as a checkpointed unit
 * (`<key>/<index>`), so that an interrupted evaluation resumes where it stopped.
 */
export async function evaluateCandidate(
  program: Module<any, any, any>,
  devset: readonly Example[],
  metric: Metric,
  ctx: CompileContext,
  key: string,
  options: EvaluateCandidateOptions = {},
): Promise<CandidateEvaluation> {
  if (devset.length === 0) {
    throw new DspyError('invalid_argument', 'Cannot evaluate a candidate on an empty set of examples.');
  }
  const numThreads = Math.max(1, Math.floor(options.numThreads ?? getSetting('numThreads')));
  const maxErrors = options.maxErrors ?? getSetting('maxErrors');
  const failureScore = options.failureScore ?? 0;
  const cancel = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, cancel.signal]) : cancel.signal;
  const outcomes: ExampleOutcome[] = new Array(devset.length);
  let errors = 0;
  let next = 0;
  let fatal: unknown;

  const runOne = async (index: number): Promise<void> => {
    const example = devset[index] as Example;
    const outcome = await ctx.unit<ExampleOutcome>(`${key}/${index}`, async () => {
      try {
        const prediction = await program.call(example.inputs().toDict() as Record<string, unknown>, { signal });
        return { value: plainValue(await metric(example, prediction)) };
      } catch (error) {
        if (signal.aborted) throw error;
        // The error that reaches `maxErrors` cancels the run and is not stored, so a resumed run retries it.
        if (errors + 1 >= maxErrors) throw error;
        console.error(
          `Error for ${example.toString()}: ${message(error)}. Set \`provideTraceback: true\` for traceback.`,
        );
        return { value: failureScore, error: message(error) };
      }
    });
    if (outcome.error !== undefined) errors++;
    outcomes[index] = outcome;
  };

  const worker = async (): Promise<void> => {
    while (!signal.aborted && next < devset.length) {
      const index = next++;
      try {
        await runOne(index);
      } catch (error) {
        if (fatal === undefined) fatal = error;
        cancel.abort(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(numThreads, devset.length) }, worker));

  if (fatal !== undefined || outcomes.some((outcome) => outcome === undefined)) {
    ctx.throwIfAborted();
    if (DspyError.isInstance(fatal) && fatal.code === 'aborted') throw fatal;
    throw new DspyError('aborted', EXECUTION_CANCELLED_MESSAGE, { cause: fatal });
  }
  const subscores = outcomes.map((outcome) => outcome.value);
  const sum = subscores.reduce<number>((total, value) => total + (value === true ? 1 : value === false ? 0 : value), 0);
  return { score: pythonRound((100 * sum) / devset.length, 2), subscores, errors };
}
