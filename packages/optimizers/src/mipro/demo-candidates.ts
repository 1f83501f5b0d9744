import type { Demo, Example, Metric, Module, Settings } from '@dspy-ts/core';
import { bootstrapConfig, runBootstrapFewShot } from '../bootstrap-few-shot.ts';
import type { CompileContext } from '../compile-context.ts';
import { assignLabeledDemos } from '../labeled-few-shot.ts';
import { SeededRandom } from '../random.ts';

/** How one demo set of {@link createNFewshotDemoSets} is made. */
export interface DemoSetPlan {
  /** DSPy's seed: −3 zero-shot, −2 labeled only, −1 unshuffled bootstrap, ≥ 0 shuffled bootstrap. */
  seed: number;
  /** What the set holds. */
  kind: 'zero-shot' | 'labeled' | 'bootstrap';
  /** Bootstrapped demos asked for (bootstrap sets). */
  size: number;
  /** The trainset order the bootstrap walks through, as indices (bootstrap sets). */
  order: number[];
}

/** Options of {@link planDemoSets}. */
export interface DemoSetPlanOptions {
  /** Demo sets to make, the three fixed ones included (DSPy's `num_candidate_sets`). */
  numCandidateSets: number;
  /** Training examples available. */
  trainSize: number;
  /** Labeled demos per predictor; 0 turns the labeled-only set into another shuffled bootstrap, as in DSPy. */
  maxLabeledDemos: number;
  /** Upper bound of a shuffled set's random number of bootstrapped demos. */
  maxBootstrappedDemos: number;
  /** Lower bound of that random number. Default 1. */
  minNumSamples?: number;
  /** The optimizer's generator: shuffles and sizes are drawn from it, in set order. */
  rng: SeededRandom;
}

/**
 * The demo sets DSPy's `create_n_fewshot_demo_sets` makes, without making them: seeds −3 … `numCandidateSets − 4`,
 * with the shuffles and sizes drawn from `rng` (so a plan and a run with equal generators agree).
 */
export function planDemoSets(options: DemoSetPlanOptions): DemoSetPlan[] {
  const plans: DemoSetPlan[] = [];
  const identity = Array.from({ length: options.trainSize }, (_, i) => i);
  for (let seed = -3; seed < options.numCandidateSets - 3; seed++) {
    if (seed === -3) {
      plans.push({ seed, kind: 'zero-shot', size: 0, order: [] });
    } else if (seed === -2 && options.maxLabeledDemos > 0) {
      plans.push({ seed, kind: 'labeled', size: 0, order: identity });
    } else if (seed === -1) {
      plans.push({ seed, kind: 'bootstrap', size: options.maxBootstrappedDemos, order: identity });
    } else {
      const order = options.rng.shuffle([...identity]);
      const low = options.minNumSamples ?? 1;
      const size = options.maxBootstrappedDemos >= low ? options.rng.randint(low, options.maxBootstrappedDemos) : 0;
      plans.push({ seed, kind: 'bootstrap', size, order });
    }
  }
  return plans;
}

/** Options of {@link createNFewshotDemoSets}. */
export interface DemoSetsOptions extends Omit<DemoSetPlanOptions, 'trainSize'> {
  /** The program whose predictors get demos. */
  student: Module<any, any, any>;
  /** Training examples. */
  trainset: readonly Example[];
  /** Judges bootstrapped traces. */
  metric: Metric;
  /** Settings the teacher runs under. */
  teacherSettings: Partial<Settings>;
  /** Failed teacher runs tolerated per bootstrap. */
  maxErrors: number | undefined;
  /** Minimum metric value for a trace to be kept. */
  metricThreshold: number | undefined;
  /** The teacher program (default: the student). */
  teacher: Module<any, any, any> | undefined;
}

/**
 * DSPy's `create_n_fewshot_demo_sets` (as BootstrapFewShotWithRandomSearch makes its candidates): a zero-shot set,
 * a labeled-only set, an unshuffled bootstrap, then shuffled bootstraps of random size — each made with this
 * package's `BootstrapFewShot`, its units checkpointed under `demos/<seed>/`. Returns `sets[predictor][set]`.
 */
export async function createNFewshotDemoSets(
  options: DemoSetsOptions,
  ctx: CompileContext,
): Promise<{ sets: Demo[][][]; plans: DemoSetPlan[] }> {
  const { student, trainset } = options;
  const plans = planDemoSets({ ...options, trainSize: trainset.length });
  const sets: Demo[][][] = student.predictors().map(() => []);
  for (const plan of plans) {
    let program: Module<any, any, any>;
    if (plan.kind === 'zero-shot') {
      program = student.resetCopy();
    } else if (plan.kind === 'labeled') {
      program = assignLabeledDemos(student, trainset, options.maxLabeledDemos, true, new SeededRandom(0));
    } else {
      const config = bootstrapConfig({
        metric: options.metric,
        maxBootstrappedDemos: plan.size,
        maxLabeledDemos: options.maxLabeledDemos,
        teacherSettings: options.teacherSettings,
        maxRounds: 1,
        ...(options.maxErrors === undefined ? {} : { maxErrors: options.maxErrors }),
        ...(options.metricThreshold === undefined ? {} : { metricThreshold: options.metricThreshold }),
      });
      const ordered = plan.order.map((i) => trainset[i] as Example);
      program = await runBootstrapFewShot(student, ordered, options.teacher, config, ctx.child(`demos/${plan.seed}/`));
    }
    ctx.progress.note('bootstrap', `demo set ${plan.seed + 4} of ${plans.length}`);
    for (const [i, predictor] of program.predictors().entries()) sets[i]?.push([...predictor.demos]);
  }
  return { sets, plans };
}
