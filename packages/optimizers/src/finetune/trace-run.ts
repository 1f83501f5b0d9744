import {
  AdapterParseError,
  type Callback,
  context,
  DspyError,
  type Example,
  getSetting,
  type Module,
  Predict,
  type Prediction,
  type TraceEntry,
} from '@dspy-ts/core';

/** One predictor call of a traced run: a normal trace entry, or a call whose reply could not be parsed. */
export interface TracedStep {
  /** The predictor that ran. */
  predictor: Predict<any, any>;
  /** The inputs it was called with. */
  inputs: Record<string, unknown>;
  /** What it returned (absent for a failed parse). */
  prediction?: Prediction<any>;
  /** Set when the adapter could not parse the LM's reply (DSPy's `FailedPrediction`). */
  failed?: {
    /** The raw text the LM returned. */
    completionText: string;
  };
}

/** The outcome of {@link traceProgramRun}. */
export interface TracedRun {
  /** The program's output; `undefined` when it raised. */
  prediction: unknown;
  /** Every predictor call in order: the core trace, with failed parses inserted where they happened. */
  steps: TracedStep[];
  /** The successful steps only, as core's trace (what metrics receive as `trace`). */
  trace: TraceEntry[];
  /** The error the program raised, if any. */
  error?: unknown;
}

/**
 * Runs `program` on `example`'s inputs under a fresh trace (DSPy's `bootstrap_trace_data` for one example with
 * `capture_failed_parses=True`). A predictor whose reply cannot be parsed leaves a `failed` step with the raw reply;
 * an error raised by the program is returned, not thrown — except an abort, which is rethrown.
 */
export async function traceProgramRun(
  program: Module<any, any, any>,
  example: Example,
  signal: AbortSignal | undefined,
): Promise<TracedRun> {
  const pending = new Map<string, { predictor: Predict<any, any>; inputs: Record<string, unknown> }>();
  const failures: { at: number; step: TracedStep }[] = [];
  let trace: TraceEntry[] = [];
  const recorder: Callback = {
    onModuleStart(callId, instance, inputs) {
      if (instance instanceof Predict) pending.set(callId, { predictor: instance, inputs: { ...inputs } });
    },
    onModuleEnd(callId, _outputs, exception) {
      const call = pending.get(callId);
      pending.delete(callId);
      if (call && AdapterParseError.isInstance(exception)) {
        failures.push({ at: trace.length, step: { ...call, failed: { completionText: exception.lmResponse } } });
      }
    },
  };
  let prediction: unknown;
  let error: unknown;
  await context({ trace: [], callbacks: [...getSetting('callbacks'), recorder] }, async () => {
    trace = getSetting('trace') ?? [];
    try {
      prediction = await program.call(example.inputs().toDict() as Record<string, unknown>, signal ? { signal } : {});
    } catch (caught) {
      error = caught;
    }
  });
  if (error !== undefined && (signal?.aborted || (DspyError.isInstance(error) && error.code === 'aborted'))) {
    throw error;
  }
  const steps: TracedStep[] = [];
  let next = 0;
  for (const [index, entry] of trace.entries()) {
    while (next < failures.length && (failures[next] as { at: number }).at <= index) {
      steps.push((failures[next] as { step: TracedStep }).step);
      next++;
    }
    steps.push({ predictor: entry.predictor, inputs: entry.inputs, prediction: entry.prediction });
  }
  for (; next < failures.length; next++) steps.push((failures[next] as { step: TracedStep }).step);
  return { prediction, steps, trace: [...trace], ...(error === undefined ? {} : { error }) };
}
