import {
  context,
  Example,
  fieldDescriptionString,
  type LanguageModelV1,
  type Module,
  Predict,
  pythonJsonDumps,
  Signature,
} from '@dspy-ts/core';
import { programSourceCode } from '../mipro/proposal-text.ts';

/** One step of a recorded program run: which predictor ran, with what inputs and outputs. */
export interface TrajectoryStep {
  /** The predictor's name in the program (`namedPredictors`). */
  moduleName: string;
  /** Its inputs. */
  inputs: Record<string, unknown>;
  /** Its outputs. */
  outputs: Record<string, unknown>;
}

/** One program run on one example, scored by the metric (DSPy's `wrap_program` output). */
export interface SimbaRun {
  /** Index of the example in the trainset. */
  exampleIndex: number;
  /** The program's outputs; `null` when the program raised. */
  prediction: Record<string, unknown> | null;
  /** The predictor calls of the run. */
  trace: TrajectoryStep[];
  /** The metric's score (0 when the program or the metric raised). */
  score: number;
  /** Everything else the metric returned besides `score` (e.g. `feedback`). */
  outputMetadata: Record<string, unknown>;
}

/** What a strategy gets besides the bucket and the program it edits. */
export interface StrategyContext {
  /** The trainset example of the bucket. */
  example: Example;
  /** 10th percentile of every score of the step's sampling runs. */
  batch10pScore: number;
  /** 90th percentile of those scores. */
  batch90pScore: number;
  /** Asks the prompt model for advice (the `append_a_rule` call); the caller checkpoints it. */
  offerFeedback?: (inputs: Record<string, string>) => Promise<Record<string, string>>;
}

/** The result of a strategy: whether it changed the program, and how. */
export interface StrategyOutcome {
  /** False when the strategy skipped (scores too close to the batch's extremes). */
  applied: boolean;
  /** Demos appended, per predictor name (`appendADemo`). */
  demos?: Record<string, Record<string, unknown>>;
  /** Advice appended to instructions, per predictor name (`appendARule`). */
  advice?: Record<string, string>;
}

/**
 * DSPy's `OfferFeedback` signature (from `dspy/teleprompt/simba_utils.py`, verbatim): compares a better and a worse
 * trajectory of the program on one example and returns advice per module.
 */
export const OfferFeedback = Signature.fromFields(
  {
    program_code: { kind: 'input', type: 'str', desc: 'The code of the program that we are analyzing' },
    modules_defn: {
      kind: 'input',
      type: 'str',
      desc: 'The definition of each module in the program, including its I/O',
    },
    program_inputs: { kind: 'input', type: 'str', desc: 'The inputs to the program that we are analyzing' },
    oracle_metadata: {
      kind: 'input',
      type: 'str',
      desc: "Any (hidden) metadata about the training set instance we're analyzing",
    },
    worse_program_trajectory: {
      kind: 'input',
      type: 'str',
      desc: "The trajectory of the program's execution, showing each module's I/O",
    },
    worse_program_outputs: { kind: 'input', type: 'str', desc: 'The outputs of the program that we are analyzing' },
    worse_reward_value: { kind: 'input', type: 'float', desc: "The reward value assigned to the program's outputs" },
    worse_reward_info: {
      kind: 'input',
      type: 'str',
      desc: 'Additional information that might be helpful to understanding the assigned reward value.',
    },
    better_program_trajectory: {
      kind: 'input',
      type: 'str',
      desc: "The trajectory of the program's execution, showing each module's I/O",
    },
    better_program_outputs: { kind: 'input', type: 'str', desc: 'The outputs of the program that we are analyzing' },
    better_reward_value: { kind: 'input', type: 'float', desc: "The reward value assigned to the program's outputs" },
    better_reward_info: {
      kind: 'input',
      type: 'str',
      desc: 'Additional information that might be helpful to understanding the assigned reward value.',
    },
    module_names: {
      kind: 'input',
      type: 'list[str]',
      desc: 'The names of the modules in the program, for which we seek advice',
    },
    discussion: { kind: 'output', type: 'str', desc: 'Discussing blame of where each module went wrong, if it did' },
    module_advice: {
      kind: 'output',
      type: 'dict[str, str]',
      desc:
        'For each module, describe very concretely: If the module receives ${description of input or patterns ' +
        'therein}, then it should ${description of content, behavior, or strategies to adopt and/or others to ' +
        'avoid}. Basically, your advice be such that if the module has access to your tip, it would be much more ' +
        'likely to act like the successful trajectory rather than the lower-scoring trajectory.',
    },
  },
  "You will be given two trajectories of an LLM-driven program's execution. Your goal is to help the program's " +
    "modules\nbuild up experience on how to maximize the reward value assigned to the program's outputs if it were " +
    'to receive\nsimilar inputs in the future.\n\n' +
    "The module won't see its own history. It will rely on your advice balancing being concrete and being " +
    'generalizable.\n\n' +
    'In your advice:\n' +
    "- Avoid boilerplate. Offer advice that would change the module's behavior for the better in the future.\n" +
    "- Ensure that advice offered to a module M is specific to that M's specific sub-task, not the overall program.\n" +
    '- Rely on contrasting the behavior of the worse trajectory against the better trajectory in making ' +
    'recommendations.\n' +
    '- Ensure each unique module name appears exactly once as a key in the advice dictionary.',
);

/**
 * DSPy's `inspect_modules`: every predictor's name, input and output field descriptions and original instructions,
 * between lines of dashes.
 */
export function inspectModules(program: Module<any, any, any>): string {
  const separator = '-'.repeat(80);
  const indent = (text: string) => ['', ...text.split('\n')].join('\n\t\t');
  const output = [separator];
  for (const [name, predictor] of program.namedPredictors()) {
    const signature = predictor.signature;
    output.push(`Module ${name}`);
    output.push('\n\tInput Fields:');
    output.push(indent(fieldDescriptionString(signature.inputFields)));
    output.push('\tOutput Fields:');
    output.push(indent(fieldDescriptionString(signature.outputFields)));
    output.push(`\tOriginal Instructions: ${indent(signature.instructions)}`);
    output.push(separator);
  }
  return output.map((line) => line.replace(/^\n+|\n+$/g, '')).join('\n');
}

function truncate(value: unknown, maxlen: number): unknown {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return maxlen && text.length > maxlen ? `${text.slice(0, maxlen)}\n\t\t... <TRUNCATED FOR BREVITY>` : value;
}

/**
 * DSPy's `append_a_demo`: turns the best run of the bucket into one augmented demo per predictor (the last call of
 * each) and appends it — unless that run scored at or below the batch's 10th percentile. Input values longer than
 * `demoInputFieldMaxlen` characters are truncated.
 */
export function appendADemo(
  bucket: readonly SimbaRun[],
  program: Module<any, any, any>,
  strategy: Pick<StrategyContext, 'batch10pScore'>,
  demoInputFieldMaxlen = 100_000,
): StrategyOutcome {
  const good = bucket[0];
  if (!good || good.score <= strategy.batch10pScore) return { applied: false };
  const demos: Record<string, Record<string, unknown>> = {};
  for (const step of good.trace) {
    const inputs = Object.fromEntries(
      Object.entries(step.inputs).map(([k, v]) => [k, truncate(v, demoInputFieldMaxlen)]),
    );
    demos[step.moduleName] = { augmented: true, ...inputs, ...step.outputs };
  }
  const byName = new Map(program.namedPredictors());
  for (const [name, demo] of Object.entries(demos)) byName.get(name)?.demos.push(new Example(demo));
  return { applied: true, demos };
}

function dumps(value: unknown): string {
  return typeof value === 'string' ? value : pythonJsonDumps(value ?? null, { indent: 2 });
}

/**
 * DSPy's `append_a_rule`: contrasts the bucket's best and worst runs with the prompt model (`OfferFeedback`) and
 * appends the advice for each predictor to its instructions (`"\n\n" + advice`). Skips when the best run is at or
 * below the batch's 10th percentile or the worst at or above its 90th. When the best is no better than the worst,
 * one side is shown as unavailable, as DSPy does. The program is shown as in MIPROv2's proposer (signatures as
 * pseudo-code plus the class source of a custom module) rather than Python source.
 */
export async function appendARule(
  bucket: readonly SimbaRun[],
  program: Module<any, any, any>,
  strategy: StrategyContext,
): Promise<StrategyOutcome> {
  const first = bucket[0];
  const last = bucket.at(-1);
  if (!first || !last || !strategy.offerFeedback) return { applied: false };
  if (first.score <= strategy.batch10pScore || last.score >= strategy.batch90pScore) return { applied: false };
  type Side = { trace: TrajectoryStep[]; score: number | string; prediction: Record<string, unknown> | null };
  let good: Side = first;
  let bad: Side = last;
  const unavailable: Side = { trace: [], score: 'N/A', prediction: { 'N/A': 'Prediction not available' } };
  if (first.score <= last.score) {
    if (first.score > strategy.batch90pScore) bad = unavailable;
    else good = unavailable;
  }
  const trajectory = (side: Side) =>
    side.trace.map((step) => ({ module_name: step.moduleName, inputs: step.inputs, outputs: step.outputs }));
  const moduleNames = program.namedPredictors().map(([name]) => name);
  const inputs: Record<string, string> = {
    program_code: programSourceCode(program),
    modules_defn: inspectModules(program),
    program_inputs: dumps(strategy.example.inputs().toDict()),
    oracle_metadata: dumps(strategy.example.labels().toDict()),
    better_program_trajectory: dumps(trajectory(good)),
    better_program_outputs: dumps(good.prediction ?? {}),
    worse_program_trajectory: dumps(trajectory(bad)),
    worse_program_outputs: dumps(bad.prediction ?? {}),
    worse_reward_value: dumps(bad.score),
    better_reward_value: dumps(good.score),
    // The metric's extra outputs stay those of the original runs, also when a side is shown as unavailable.
    worse_reward_info: dumps(last.outputMetadata),
    better_reward_info: dumps(first.outputMetadata),
    module_names: dumps(moduleNames),
  };
  const advice = await strategy.offerFeedback(inputs);
  const applied: Record<string, string> = {};
  for (const [name, predictor] of program.namedPredictors()) {
    const text = advice[name];
    if (typeof text !== 'string') continue;
    predictor.signature = predictor.signature.withInstructions(`${predictor.signature.instructions}\n\n${text}`);
    applied[name] = text;
  }
  return { applied: true, advice: applied };
}

/** Runs `OfferFeedback` on `lm` outside any trace and returns its `module_advice`. */
export async function offerFeedback(
  lm: LanguageModelV1,
  inputs: Record<string, string>,
  signal?: AbortSignal,
): Promise<Record<string, string>> {
  const predictor = new Predict(OfferFeedback);
  // The reward values are passed as text, as DSPy does; do not warn about the `float` annotation.
  const prediction = await context({ lm, trace: null, warnOnTypeMismatch: false }, () =>
    predictor.call(inputs, signal ? { signal } : {}),
  );
  const advice = prediction.module_advice;
  if (typeof advice !== 'object' || advice === null || Array.isArray(advice)) return {};
  return Object.fromEntries(Object.entries(advice).map(([k, v]) => [k, String(v)]));
}
