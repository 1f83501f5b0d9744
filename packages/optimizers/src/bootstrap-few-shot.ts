import {
  context,
  type Demo,
  Example,
  getSetting,
  type LanguageModelV1,
  type Metric,
  type MetricValue,
  type Module,
  metricScore,
  type Predict,
  type Settings,
} from '@dspy-ts/core';
import type { CompileContext } from './compile-context.ts';
import { fingerprint } from './fingerprint.ts';
import { assignLabeledDemos } from './labeled-few-shot.ts';
import { OptimizerError } from './optimizer-error.ts';
import { SeededRandom } from './random.ts';
import {
  type CompileEstimate,
  type CompileOptions,
  type CompileOutcome,
  callsPerRun,
  type EstimateOptions,
  makeEstimate,
  Teleprompter,
} from './teleprompter.ts';

/** Options of {@link BootstrapFewShot} (DSPy's keyword arguments, camelCased). */
export interface BootstrapFewShotOptions {
  /**
   * Judges a teacher run: `metric(example, prediction, trace)`. A trace is kept when the value is truthy, or
   * `>= metricThreshold` when a threshold is set. Without a metric every run that does not raise is kept.
   */
  metric?: Metric;
  /** Minimum metric value for a run to count as a success (a threshold of 0 counts as unset, as in DSPy). */
  metricThreshold?: number;
  /** Settings the teacher runs under, e.g. `{ lm: strongerLM }`. */
  teacherSettings?: Partial<Settings>;
  /** Successful traces to collect, and augmented demos per predictor. Default 4. */
  maxBootstrappedDemos?: number;
  /** Demos per predictor including labeled ones; also the `k` of the uncompiled teacher's labeled demos. Default 16. */
  maxLabeledDemos?: number;
  /** Attempts per example; rounds after the first use a fresh rollout id at temperature 1. Default 1. */
  maxRounds?: number;
  /** Failed teacher runs tolerated before the error is raised. Default: the `maxErrors` setting (10). */
  maxErrors?: number;
  /** Seed of the generator that shuffles and samples labeled demos. Default 0. */
  seed?: number;
}

/** The resolved configuration of a bootstrap run. */
export interface BootstrapConfig {
  metric: Metric | undefined;
  metricThreshold: number | undefined;
  teacherSettings: Partial<Settings>;
  maxBootstrappedDemos: number;
  maxLabeledDemos: number;
  maxRounds: number;
  maxErrors: number | undefined;
  seed: number;
}

/** The stored result of one bootstrap attempt (one example, one round). */
interface AttemptOutcome {
  success: boolean;
  /** Augmented demos per predictor name, as plain objects. */
  traces?: Record<string, Record<string, unknown>[]>;
  /** The error message, when the teacher or the metric raised. */
  error?: string;
}

/** Whether a metric value counts as success (Python truthiness, or `>= threshold` when one is set). */
function succeeded(value: MetricValue, threshold: number | undefined): boolean {
  const score = metricScore(value);
  return threshold ? score >= threshold : score !== 0;
}

function demoEquals(demo: Demo, example: Example): boolean {
  const asExample = demo instanceof Example ? demo : new Example(demo as Record<string, unknown>);
  return asExample.equals(example);
}

function rolloutLM(lm: LanguageModelV1, round: number): LanguageModelV1 {
  return lm.withDefaults ? lm.withDefaults({ rolloutId: round, temperature: 1 }) : lm;
}

/** Checks that student and teacher have the same predictors (names and signatures) and maps them to names. */
function mapPredictors(student: Module<any, any, any>, teacher: Module<any, any, any>): Map<Predict, string> {
  const studentPredictors = student.namedPredictors();
  const teacherPredictors = teacher.namedPredictors();
  if (studentPredictors.length !== teacherPredictors.length) {
    throw new OptimizerError(
      `Student and teacher must have the same number of predictors: the student has ${studentPredictors.length}, ` +
        `the teacher ${teacherPredictors.length}.`,
    );
  }
  const names = new Map<Predict, string>();
  for (const [i, [name1, predictor1]] of studentPredictors.entries()) {
    const [name2, predictor2] = teacherPredictors[i] as [string, Predict];
    if (name1 !== name2) {
      throw new OptimizerError(
        `Student and teacher must have the same program structure: predictor ${i} is "${name1}" in the student ` +
          `and "${name2}" in the teacher.`,
      );
    }
    if (!predictor1.signature.equals(predictor2.signature)) {
      throw new OptimizerError(
        `Student and teacher must have the same signatures for "${name1}": ${predictor1.signature.toString()} ` +
          `vs ${predictor2.signature.toString()} (instructions and fields must match).`,
      );
    }
    if (predictor1 === predictor2) {
      throw new OptimizerError('Student and teacher must be different objects.');
    }
    names.set(predictor2, name2);
  }
  return names;
}

/**
 * One example, one round: runs the teacher under a fresh trace (without the example among its demos) and, when the
 * metric accepts the run, turns every trace step into an augmented demo for its predictor.
 */
async function attempt(
  teacher: Module<any, any, any>,
  names: Map<Predict, string>,
  example: Example,
  round: number,
  config: BootstrapConfig,
  ctx: CompileContext,
): Promise<Omit<AttemptOutcome, 'error'>> {
  const settings = { ...config.teacherSettings };
  if (settings.lm) settings.lm = ctx.lm(settings.lm);
  return context({ ...settings, trace: [] }, async () => {
    const predictors = teacher.namedPredictors();
    const savedDemos = predictors.map(([, predictor]) => predictor.demos);
    const savedLMs = predictors.map(([, predictor]) => predictor.lm);
    const overrides: Partial<Settings> = {};
    if (round > 0) {
      // Later rounds sample afresh: a new rollout id bypasses caches, temperature 1 makes the sample differ.
      const lm = getSetting('lm');
      if (lm) overrides.lm = rolloutLM(lm, round);
      for (const [, predictor] of predictors) if (predictor.lm) predictor.lm = rolloutLM(predictor.lm, round);
    }
    let prediction: unknown;
    let trace: NonNullable<Settings['trace']>;
    try {
      for (const [, predictor] of predictors) predictor.demos = predictor.demos.filter((d) => !demoEquals(d, example));
      [prediction, trace] = await context(overrides, async () => [
        await teacher.call(example.inputs().toDict() as Record<string, unknown>, { signal: ctx.signal }),
        getSetting('trace') ?? [],
      ]);
    } finally {
      for (const [i, [, predictor]] of predictors.entries()) {
        predictor.demos = savedDemos[i] as Demo[];
        predictor.lm = savedLMs[i] as LanguageModelV1 | null;
      }
    }
    const success = config.metric
      ? succeeded(await config.metric(example, prediction, trace), config.metricThreshold)
      : true;
    if (!success) return { success };

    const traces: Record<string, Record<string, unknown>[]> = {};
    for (const step of trace) {
      const name = names.get(step.predictor);
      if (name === undefined) continue;
      const demo = new Example({ augmented: true, ...step.inputs, ...Object.fromEntries(step.prediction.items()) });
      traces[name] = [...(traces[name] ?? []), demo.toDict()];
    }
    for (const [name, demos] of Object.entries(traces)) {
      if (demos.length > 1) {
        // A predictor that ran several times contributes one step: 50/50 a random earlier one or the last,
        // seeded by the steps themselves so the choice is reproducible.
        const rng = new SeededRandom(fingerprint(demos));
        traces[name] = [
          rng.random() < 0.5 ? rng.choice(demos.slice(0, -1)) : (demos.at(-1) as Record<string, unknown>),
        ];
      }
    }
    return { success, traces };
  });
}

/**
 * The BootstrapFewShot algorithm on a context, shared by the optimizers that bootstrap as a step. Units are keyed
 * `bootstrap/<example index>/<round>` under the context's prefix.
 */
export async function runBootstrapFewShot<T extends Module<any, any, any>>(
  student: T,
  trainset: readonly Example[],
  teacherProgram: Module<any, any, any> | undefined,
  config: BootstrapConfig,
  ctx: CompileContext,
): Promise<T> {
  const compiled = student.resetCopy();
  if (compiled.compiled) throw new OptimizerError('Student must be uncompiled.');
  const rng = new SeededRandom(config.seed);
  let teacher = (teacherProgram ?? student).deepCopy();
  if (config.maxLabeledDemos && !teacher.compiled) {
    teacher = assignLabeledDemos(teacher, trainset, config.maxLabeledDemos, true, new SeededRandom(config.seed));
  }
  ctx.journalProgram(teacher);
  const names = mapPredictors(compiled, teacher);
  const maxErrors = config.maxErrors ?? getSetting('maxErrors');

  const name2traces = new Map<string, Record<string, unknown>[]>(compiled.namedPredictors().map(([n]) => [n, []]));
  const bootstrapped = new Set<number>();
  let errors = 0;
  ctx.startLoop(trainset.length, 'examples');
  for (const [index, example] of trainset.entries()) {
    if (bootstrapped.size >= config.maxBootstrappedDemos) break;
    for (let round = 0; round < config.maxRounds; round++) {
      const outcome = await ctx.unit<AttemptOutcome>(`bootstrap/${index}/${round}`, async () => {
        try {
          return await attempt(teacher, names, example, round, config, ctx);
        } catch (error) {
          if (ctx.aborted) throw error;
          // The error that reaches `maxErrors` is raised and not stored, so a resumed compile retries it.
          if (errors + 1 >= maxErrors) throw error;
          const text = error instanceof Error ? error.message : String(error);
          console.error(`Failed to run or to evaluate example ${example.toString()} due to ${text}.`);
          return { success: false, error: text };
        }
      });
      if (outcome.error !== undefined) errors++;
      if (outcome.success) {
        bootstrapped.add(index);
        for (const [name, demos] of Object.entries(outcome.traces ?? {})) name2traces.get(name)?.push(...demos);
        break;
      }
    }
    ctx.advance('bootstrap', { label: `example ${index}` });
  }

  const validation = trainset.filter((_, index) => !bootstrapped.has(index));
  rng.shuffle(validation);
  let raw: Example[] = validation;
  for (const [name, predictor] of compiled.namedPredictors()) {
    const augmented = (name2traces.get(name) ?? [])
      .slice(0, config.maxBootstrappedDemos)
      .map((demo) => new Example(demo));
    const size = Math.max(0, Math.min(config.maxLabeledDemos - augmented.length, raw.length));
    // As in DSPy, later predictors sample from the previous predictor's sample.
    raw = rng.sample(raw, size);
    predictor.demos = [...augmented, ...raw];
  }
  compiled.compiled = true;
  return compiled;
}

/** The resolved configuration of {@link BootstrapFewShotOptions}. */
export function bootstrapConfig(options: BootstrapFewShotOptions): BootstrapConfig {
  return {
    metric: options.metric,
    metricThreshold: options.metricThreshold,
    teacherSettings: options.teacherSettings ?? {},
    maxBootstrappedDemos: options.maxBootstrappedDemos ?? 4,
    maxLabeledDemos: options.maxLabeledDemos ?? 16,
    maxRounds: options.maxRounds ?? 1,
    maxErrors: options.maxErrors,
    seed: options.seed ?? 0,
  };
}

/** The projected calls of one bootstrap run. */
export function estimateBootstrap(
  trainSize: number,
  maxBootstrapped: number,
  maxRounds: number,
  perRun: number,
): { minLmCalls: number; maxLmCalls: number } {
  return {
    minLmCalls: Math.min(maxBootstrapped, trainSize) * perRun,
    maxLmCalls: trainSize * maxRounds * perRun,
  };
}

/**
 * Bootstraps demonstrations from the teacher's own successful runs (DSPy's `BootstrapFewShot`).
 *
 * The teacher (default: the student) runs on each training example — with labeled demos when it is uncompiled,
 * never seeing the example itself among them — until `maxBootstrappedDemos` examples succeeded by the metric. Each
 * successful run's trace becomes one `augmented: true` demo per predictor; the rest of each predictor's
 * `maxLabeledDemos` slots are filled with a sample of the examples that were not bootstrapped.
 *
 * Labeled demos are shuffled and sampled with this package's seeded generator, so their order differs from DSPy's
 * (CPython's `random`) for the same seed.
 *
 * @example
 * ```ts
 * const optimizer = new BootstrapFewShot({ metric: answerExactMatch, maxBootstrappedDemos: 4 });
 * const compiled = await optimizer.compile(program, { trainset, checkpoint: 'bootstrap.ckpt.json' });
 * console.log(compiled.compileReport.stats.lmCalls);
 * ```
 */
export class BootstrapFewShot extends Teleprompter {
  /** The optimizer's name. */
  readonly name = 'BootstrapFewShot';
  /** The resolved options. */
  readonly config: BootstrapConfig;

  constructor(options: BootstrapFewShotOptions = {}) {
    super();
    this.config = bootstrapConfig(options);
  }

  protected override async run<T extends Module<any, any, any>>(
    student: T,
    options: CompileOptions,
    ctx: CompileContext,
  ): Promise<CompileOutcome<T>> {
    return { program: await runBootstrapFewShot(student, options.trainset, options.teacher, this.config, ctx) };
  }

  /** Projects the teacher calls: at least one run per wanted demo, at most every example for every round. */
  override estimate(student: Module<any, any, any>, options: EstimateOptions): CompileEstimate {
    const perRun = callsPerRun(options.teacher ?? student, options);
    const bootstrap = estimateBootstrap(
      options.trainset.length,
      this.config.maxBootstrappedDemos,
      this.config.maxRounds,
      perRun,
    );
    return makeEstimate(
      this.name,
      [{ step: 'bootstrap teacher traces', ...bootstrap }],
      [`${perRun} LM call(s) per teacher run`, 'minimum: every teacher run passes the metric at the first round'],
    );
  }
}
