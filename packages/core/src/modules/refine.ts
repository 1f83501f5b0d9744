import { ChatAdapter } from '../adapters/chat-adapter.ts';
import { fieldDescriptionString } from '../adapters/field-prompt.ts';
import { pyDedent, pySplitLines, pythonJsonDumps } from '../adapters/python-text.ts';
import type { SignatureView } from '../adapters/types.ts';
import { Example } from '../primitives/example.ts';
import { context, getSetting, type TraceEntry } from '../settings/settings.ts';
import { type BestOfNOptions, resolveModuleLM, rolloutLM, startRolloutId } from './best-of-n.ts';
import { HintAdapter } from './hint-adapter.ts';
import { Module, type ModuleCallOptions } from './module.ts';
import { OfferFeedback } from './offer-feedback.ts';
import { Predict } from './predict.ts';

/** Options of {@link Refine} (the same as `BestOfN`'s). */
export type RefineOptions<I, P> = BestOfNOptions<I, P>;

function stripNewlines(text: string): string {
  return text.replace(/^\n+|\n+$/g, '');
}

/**
 * DSPy's `inspect_modules`: each predictor's name, input and output field descriptions and instructions, between
 * 80-dash separators.
 */
export function inspectModules(program: Module<any, any, any>): string {
  const separator = '-'.repeat(80);
  const output = [separator];
  const indent = (text: string) => ['', ...pySplitLines(text)].join('\n\t\t');
  for (const [name, predictor] of program.namedPredictors()) {
    const signature = predictor.signature;
    output.push(`Module ${name}`);
    output.push('\n\tInput Fields:');
    output.push(indent(fieldDescriptionString(signature.inputFields)));
    output.push('\tOutput Fields:');
    output.push(indent(fieldDescriptionString(signature.outputFields)));
    output.push(`\tOriginal Instructions: ${indent(pyDedent(signature.instructions))}`);
    output.push(separator);
  }
  return output.map(stripNewlines).join('\n');
}

/** DSPy's `recursive_mask`: JSON-ready data, with anything else replaced by `<non-serializable: Type>`. */
function mask(value: unknown): unknown {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value;
  if (value instanceof Example) return mask(value.toDict());
  if (Array.isArray(value)) return value.map(mask);
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, mask(v)]));
    }
  }
  const type = typeof value === 'object' ? ((value as object).constructor?.name ?? 'object') : typeof value;
  return `<non-serializable: ${type}>`;
}

function dumps(value: unknown): string {
  return typeof value === 'string' ? value : pythonJsonDumps(mask(value), { indent: 2 });
}

/**
 * `BestOfN` with feedback (DSPy's `dspy.Refine`): after each attempt that scores below the threshold (except the
 * last), an `OfferFeedback` predictor reads the program's source, its modules, the trajectory of the attempt and the
 * reward function's source, and writes advice per predictor; the next attempt runs with an adapter that adds the
 * input field `hint_` carrying each predictor's advice. Attempts, rollout ids, the threshold and the failure rule
 * are as in {@link BestOfN}.
 *
 * @example
 * ```ts
 * const refined = new Refine(new ChainOfThought('question -> answer'), {
 *   N: 3, rewardFn: (_args, pred) => (pred.answer.split(' ').length === 1 ? 1 : 0), threshold: 1,
 * });
 * await refined.call({ question: 'What is the capital of Belgium?' });
 * ```
 */
export class Refine<I extends Record<string, unknown> = Record<string, unknown>, P = unknown> extends Module<
  I,
  P,
  ModuleCallOptions
> {
  /** The module being refined. */
  module: Module<I, P, any>;
  /** Maximum number of attempts. */
  N: number;
  /** Reward that ends the search early. */
  threshold: number;
  /** Failed attempts tolerated. */
  failCount: number;
  /** Scores attempts. */
  declare readonly rewardFn: BestOfNOptions<I, P>['rewardFn'];
  /** Source of the module's class, shown to the feedback predictor. */
  moduleCode: string;
  /** Source of the reward function, shown to the feedback predictor. */
  rewardFnCode: string;

  constructor(module: Module<I, P, any>, options: RefineOptions<I, P>) {
    super();
    this.module = module;
    this.N = options.N;
    this.threshold = options.threshold;
    this.failCount = options.failCount || options.N;
    Object.defineProperty(this, 'rewardFn', { value: options.rewardFn, enumerable: false, writable: true });
    this.moduleCode = module.constructor.toString();
    this.rewardFnCode = options.rewardFn.toString();
  }

  override async forward(inputs: I, options: ModuleCallOptions = {}): Promise<P> {
    const lm = resolveModuleLM(this.module, 'Refine');
    const start = startRolloutId(lm);
    const adapter = getSetting('adapter') ?? new ChatAdapter();
    let failCount = this.failCount;
    let best: { prediction: P; trace: TraceEntry[]; reward: number } | undefined;
    let advice: Record<string, string> | undefined;
    let lastError: unknown;

    for (let idx = 0; idx < this.N; idx++) {
      const rid = start + idx;
      const copy = this.module.deepCopy();
      copy.setLm(rolloutLM(lm, rid));
      const named = copy.namedPredictors();
      const predictorName = new Map<Predict, string>(named.map(([name, p]) => [p, name]));
      const signatureName = new Map<SignatureView, string>(named.map(([name, p]) => [p.signature, name]));
      const moduleNames = named.map(([name]) => name);
      try {
        const trace: TraceEntry[] = [];
        const currentAdvice = advice;
        const overrides = currentAdvice
          ? {
              trace,
              adapter: new HintAdapter(adapter, (signature) => {
                const name = signatureName.get(signature);
                return name === undefined ? undefined : currentAdvice[name];
              }),
            }
          : { trace };
        const outputs = await context(overrides, () => copy.call(inputs, options));
        const reward = await this.rewardFn(inputs, outputs);
        if (best === undefined || reward > best.reward) best = { prediction: outputs, trace, reward };
        if (reward >= this.threshold) break;
        if (idx === this.N - 1) break;

        const feedbackInputs = {
          program_code: this.moduleCode,
          modules_defn: inspectModules(copy),
          program_inputs: dumps(inputs),
          program_trajectory: dumps(
            trace.map((entry) => ({
              module_name: predictorName.get(entry.predictor) ?? 'unknown',
              inputs: entry.inputs,
              outputs: entry.prediction.toDict(),
            })),
          ),
          program_outputs: dumps(outputs instanceof Example ? outputs.toDict() : outputs),
          reward_code: this.rewardFnCode,
          target_threshold: this.threshold,
          reward_value: reward,
          module_names: moduleNames,
        };
        // The feedback call is bookkeeping, not part of the program: keep it out of the caller's trace.
        const feedback = await context({ trace: null }, () =>
          new Predict(OfferFeedback).call(feedbackInputs, {
            lm,
            ...(options.signal ? { signal: options.signal } : {}),
          }),
        );
        advice = (feedback.get('advice') ?? {}) as Record<string, string>;
      } catch (error) {
        if (options.signal?.aborted) throw error;
        console.warn(`Refine: Attempt failed with rollout id ${rid}: ${String(error)}`);
        lastError = error;
        if (idx > failCount) throw error;
        failCount -= 1;
      }
    }
    if (best === undefined) throw lastError;
    getSetting('trace')?.push(...best.trace);
    return best.prediction;
  }
}
