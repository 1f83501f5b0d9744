import {
  context,
  Example,
  getSetting,
  type LanguageModelV1,
  type Metric,
  type Module,
  pythonRound,
  type Settings,
  type TraceEntry,
} from '@dspy-ts/core';
import type { CompileContext } from '../compile-context.ts';
import { unjournalModuleLMs } from '../journaled-lm.ts';
import { OptimizerError } from '../optimizer-error.ts';
import { SeededRandom } from '../random.ts';
import {
  type CandidateProgram,
  type Compiled,
  type CompileEstimate,
  type CompileOptions,
  type CompileOutcome,
  callsPerRun,
  type EstimateOptions,
  makeEstimate,
  Teleprompter,
} from '../teleprompter.ts';
import {
  appendADemo,
  appendARule,
  offerFeedback,
  type SimbaRun,
  type StrategyContext,
  type StrategyOutcome,
} from './simba-strategies.ts';

/** Options of {@link SIMBA} (DSPy's keyword arguments, camelCased). */
export interface SIMBAOptions {
  /**
   * Scores a run: `metric(example, prediction)`. May return a number, a boolean, or an object with a `score`
   * (e.g. `{ score, feedback }` or a `Prediction`); its other fields are shown to the prompt model as reward info.
   */
  metric: Metric;
  /** Examples per minibatch; the trainset must hold at least this many. Default 32. */
  bsize?: number;
  /** Sampled LMs per step, and new candidate programs per step (up to one more). Default 6. */
  numCandidates?: number;
  /** Optimization steps. Default 8. */
  maxSteps?: number;
  /** Demos a predictor holds before some are dropped; 0 turns demo appending off. Default 4. */
  maxDemos?: number;
  /** The LM that writes advice (`appendARule`). Default: the configured LM. */
  promptModel?: LanguageModelV1;
  /** With an `lm`, that LM samples the first trajectory set of each step. */
  teacherSettings?: Partial<Settings>;
  /** Characters kept per input field of an appended demo. Default 100 000. */
  demoInputFieldMaxlen?: number;
  /** Runs executed at the same time. Default: the `numThreads` setting. */
  numThreads?: number;
  /** Softmax temperature for picking programs to sample trajectories from. Default 0.2. */
  temperatureForSampling?: number;
  /** Softmax temperature for picking the source program of a new candidate. Default 0.2. */
  temperatureForCandidates?: number;
}

/** Compile options of {@link SIMBA}. */
export interface SIMBACompileOptions extends CompileOptions {
  /** Seed of every random choice (batches, program sampling, demo dropping, strategies). Default 0. */
  seed?: number;
}

/** What one SIMBA step did (DSPy's `trial_logs[step]`, with more detail). */
export interface SIMBATrialLog {
  /** Trainset indices of the step's minibatch. */
  batchIndices: number[];
  /** Mean score of every sampled run of the step. */
  baselineScore: number;
  /** Mean minibatch score of each new candidate. */
  candidateScores: number[];
  /** The strategy applied to each bucket that produced a candidate, with `skipped` when it changed nothing. */
  strategies: string[];
  /** Full-trainset score of the step's winner, when it was among the finally evaluated programs. */
  trainScore?: number;
}

/** What SIMBA attaches to its result besides the {@link CompileReport}. */
export interface SIMBAResult {
  /** The returned program's mean metric value on the trainset (0–1 for 0/1 metrics, not a percentage). */
  readonly score: number;
  /** One entry per step. */
  readonly trialLogs: Record<number, SIMBATrialLog>;
}

/** A program compiled by {@link SIMBA}. */
export type SIMBACompiled<T> = Compiled<T> & SIMBAResult;

const results = new WeakMap<object, SIMBAResult>();

function attachResult(program: object, result: SIMBAResult): void {
  results.set(program, result);
  for (const key of ['score', 'trialLogs'] as const) {
    Object.defineProperty(program, key, {
      get(this: object) {
        return results.get(this)?.[key];
      },
      enumerable: false,
      configurable: true,
    });
  }
}

/** NumPy's default (`linear`) percentile. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = ((sorted.length - 1) * q) / 100;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const lowValue = sorted[low] as number;
  return lowValue + ((sorted[high] as number) - lowValue) * (position - low);
}

/** A Poisson draw (Knuth's method; fine for the small means SIMBA uses). */
function poisson(rng: SeededRandom, mean: number): number {
  if (mean <= 0) return 0;
  const limit = Math.exp(-mean);
  let k = 0;
  let product = rng.random();
  while (product > limit) {
    k++;
    product *= rng.random();
  }
  return k;
}

/** Runs tasks with at most `threads` at a time; stops starting new ones after a failure and rethrows it. */
async function runPool<T>(tasks: readonly (() => Promise<T>)[], threads: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < tasks.length) {
      const index = next++;
      try {
        out[index] = await (tasks[index] as () => Promise<T>)();
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(threads, tasks.length)) }, worker));
  if (failure) throw failure.error;
  return out;
}

function plain<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** The score and the other fields of a metric result, as DSPy's `wrap_program` reads them. */
function readMetric(output: unknown): { score: number; outputMetadata: Record<string, unknown> } {
  if (typeof output === 'number') return { score: output, outputMetadata: {} };
  if (typeof output === 'boolean') return { score: output ? 1 : 0, outputMetadata: {} };
  if (typeof output === 'object' && output !== null) {
    const entries = output instanceof Example ? output.items() : Object.entries(output);
    const raw = entries.find(([key]) => key === 'score')?.[1];
    if (raw === undefined) {
      throw new OptimizerError('When the metric returns an object, it must contain a `score` field.');
    }
    const score = typeof raw === 'boolean' ? Number(raw) : Number(raw);
    return { score, outputMetadata: Object.fromEntries(entries.filter(([key]) => key !== 'score')) };
  }
  return { score: 0, outputMetadata: {} };
}

/**
 * DSPy's `SIMBA` (Stochastic Introspective Mini-Batch Ascent). Each step takes the next minibatch of `bsize`
 * training examples and samples trajectories: `numCandidates` copies of the LM (fresh rollout ids, temperature 1)
 * each run every example on a program softmax-sampled from the best ones so far (plus the baseline). Per example
 * the runs form a bucket; buckets are sorted by their max−min score gap, then max score, then max−mean gap. For the
 * top buckets a source program is softmax-sampled, a Poisson number of its demos dropped, and a random strategy
 * applied: {@link appendADemo} (the best run becomes a demo) or {@link appendARule} (the prompt model contrasts the
 * best and worst runs and writes advice into the instructions). The new candidates are scored on the same
 * minibatch and join the pool; each step's best is a winner. Finally evenly spaced winners (the baseline first) are
 * scored on the whole trainset and the best is returned, with `candidatePrograms`, `trialLogs` and `score`.
 *
 * Every program run, advice call and evaluation is a checkpointed unit, so a compile can be resumed. Random draws
 * come from this package's seeded generator (not CPython's / NumPy's), so choices differ from DSPy's for a seed.
 *
 * @example
 * ```ts
 * const simba = new SIMBA({ metric, bsize: 16, maxSteps: 4 });
 * const compiled = await simba.compile(program, { trainset, seed: 0 });
 * compiled.score; // mean metric on the trainset
 * ```
 */
export class SIMBA extends Teleprompter<SIMBACompileOptions> {
  /** The optimizer's name. */
  readonly name = 'SIMBA';
  /** The options, with defaults applied. */
  readonly options: Required<Omit<SIMBAOptions, 'promptModel' | 'teacherSettings' | 'numThreads'>> &
    Pick<SIMBAOptions, 'promptModel' | 'teacherSettings' | 'numThreads'>;

  /** @throws {OptimizerError} when the metric is missing or a size is not a positive integer. */
  constructor(options: SIMBAOptions) {
    super();
    if (typeof options?.metric !== 'function') throw new OptimizerError('SIMBA needs a metric to score runs.');
    this.options = {
      bsize: 32,
      numCandidates: 6,
      maxSteps: 8,
      maxDemos: 4,
      demoInputFieldMaxlen: 100_000,
      temperatureForSampling: 0.2,
      temperatureForCandidates: 0.2,
      ...options,
    };
    for (const key of ['bsize', 'numCandidates', 'maxSteps'] as const) {
      const value = this.options[key];
      if (!Number.isInteger(value) || value < 1)
        throw new OptimizerError(`${key} must be a positive integer, got ${value}.`);
    }
  }

  /** The strategies a candidate may get: `appendADemo` (when `maxDemos > 0`) and `appendARule`. */
  get strategies(): ('appendADemo' | 'appendARule')[] {
    return this.options.maxDemos > 0 ? ['appendADemo', 'appendARule'] : ['appendARule'];
  }

  /** Compiles `student`; the result also carries SIMBA's `score` and `trialLogs`. */
  override async compile<T extends Module<any, any, any>>(
    student: T,
    options: SIMBACompileOptions,
  ): Promise<SIMBACompiled<T>> {
    return (await super.compile(student, options)) as SIMBACompiled<T>;
  }

  protected override async run<T extends Module<any, any, any>>(
    student: T,
    options: SIMBACompileOptions,
    ctx: CompileContext,
  ): Promise<CompileOutcome<T>> {
    const o = this.options;
    const { trainset } = options;
    if (trainset.length < o.bsize) throw new OptimizerError(`Trainset too small: ${trainset.length} < ${o.bsize}`);
    const seed = options.seed ?? 0;
    const rng = new SeededRandom(seed);
    const poissonRng = new SeededRandom(`simba-poisson/${seed}`);
    const threads = Math.max(1, Math.floor(o.numThreads ?? getSetting('numThreads')));

    const baseline = student.deepCopy();
    const programs: T[] = [baseline];
    const programScores = new Map<number, number[]>([[0, []]]);
    const winners: { program: T; step: number }[] = [{ program: baseline, step: -1 }];
    const average = (index: number) => {
      const scores = programScores.get(index) ?? [];
      return scores.length === 0 ? 0 : scores.reduce((a, b) => a + b, 0) / scores.length;
    };
    const topKPlusBaseline = (k: number) => {
      // Stable: among equal averages the older program ranks first, as Python's `sorted`.
      const ranked = programs.map((_, i) => i).sort((a, b) => average(b) - average(a));
      const top = ranked.slice(0, k);
      if (!top.includes(0) && top.length > 0) top[top.length - 1] = 0;
      return [...new Set(top)];
    };
    const softmaxSample = (indices: number[], temperature: number) => {
      const weights = indices.map((i) => Math.exp(average(i) / temperature));
      const total = weights.reduce((a, b) => a + b, 0);
      if (!(total > 0) || !Number.isFinite(total)) return rng.choice(indices);
      let r = rng.random() * total;
      for (const [j, w] of weights.entries()) {
        r -= w;
        if (r < 0) return indices[j] as number;
      }
      return indices.at(-1) as number;
    };

    const configured = getSetting('lm');
    const baseLm = ctx.lm(baseline.getLm() ?? configured);
    if (!baseLm) {
      throw new OptimizerError("SIMBA needs an LM: configure one with `configure({ lm })` or set the program's LM.");
    }
    const promptModel = ctx.lm(o.promptModel ?? configured ?? baseLm);
    const teacherLm = o.teacherSettings?.lm ? ctx.lm(o.teacherSettings.lm) : undefined;
    const models = this.models(baseLm, teacherLm);

    const runOne = async (program: Module<any, any, any>, exampleIndex: number): Promise<SimbaRun> => {
      const example = trainset[exampleIndex] as Example;
      const names = new Map(program.namedPredictors().map(([name, predictor]) => [predictor, name] as const));
      const trace: TraceEntry[] = [];
      let prediction: Record<string, unknown> | null = null;
      let raw: unknown = null;
      try {
        raw = await context({ trace }, () =>
          program.call(example.inputs().toDict() as Record<string, unknown>, { signal: ctx.signal }),
        );
        prediction =
          raw instanceof Example ? (raw.toDict() as Record<string, unknown>) : (raw as Record<string, unknown>);
      } catch (error) {
        ctx.throwIfAborted();
        console.warn(`SIMBA: the program failed on ${example.toString()}: ${(error as Error)?.message ?? error}`);
      }
      let metric = { score: 0, outputMetadata: {} as Record<string, unknown> };
      try {
        metric = readMetric(await o.metric(example, raw));
      } catch (error) {
        ctx.throwIfAborted();
        console.warn(`SIMBA: the metric failed on ${example.toString()}: ${(error as Error)?.message ?? error}`);
      }
      return plain({
        exampleIndex,
        prediction,
        trace: trace.map((step) => ({
          moduleName: names.get(step.predictor) ?? 'unknown',
          inputs: step.inputs,
          outputs: step.prediction.toDict() as Record<string, unknown>,
        })),
        score: metric.score,
        outputMetadata: metric.outputMetadata,
      });
    };

    const dataIndices = rng.shuffle(trainset.map((_, i) => i));
    let instanceIdx = 0;
    const trialLogs: Record<number, SIMBATrialLog> = {};
    ctx.startLoop(o.maxSteps + 1, 'steps');

    for (let step = 0; step < o.maxSteps; step++) {
      // Step 1: the next minibatch.
      if (instanceIdx + o.bsize > trainset.length) {
        rng.shuffle(dataIndices);
        instanceIdx = 0;
      }
      const batch = dataIndices.slice(instanceIdx, instanceIdx + o.bsize);
      instanceIdx += o.bsize;

      // Step 2: sample trajectories, one program per (model, example), softmax over the best programs.
      const top = topKPlusBaseline(o.numCandidates);
      const samples: { program: number; model: LanguageModelV1; example: number }[] = [];
      for (const model of models) {
        for (const example of batch) {
          samples.push({ program: softmaxSample(top, o.temperatureForSampling), model, example });
        }
      }
      const outputs = await runPool(
        samples.map(
          (sample, j) => () =>
            ctx.unit(`step/${step}/sample/${j}`, () => {
              const candidate = (programs[sample.program] as T).deepCopy();
              candidate.setLm(sample.model);
              return runOne(candidate, sample.example);
            }),
        ),
        threads,
      );

      // Step 3: buckets per example, sorted by (max − min, max, max − mean), largest first.
      const scores = outputs.map((run) => run.score);
      const batch10pScore = percentile(scores, 10);
      const batch90pScore = percentile(scores, 90);
      const buckets = batch.map((_, e) => {
        const bucket = models
          .map((_, m) => outputs[m * batch.length + e] as SimbaRun)
          .sort((a, b) => b.score - a.score);
        const max = (bucket[0] as SimbaRun).score;
        const min = (bucket.at(-1) as SimbaRun).score;
        const mean = bucket.reduce((sum, run) => sum + run.score, 0) / bucket.length;
        return { bucket, key: [max - min, max, max - mean] as const };
      });
      buckets.sort((a, b) => b.key[0] - a.key[0] || b.key[1] - a.key[1] || b.key[2] - a.key[2]);
      const baselineScore = scores.reduce((a, b) => a + b, 0) / scores.length;

      // Step 4: new candidates from the top buckets.
      const candidates: T[] = [];
      const strategiesUsed: string[] = [];
      for (const [bucketIdx, { bucket }] of buckets.entries()) {
        const source = softmaxSample(topKPlusBaseline(o.numCandidates), o.temperatureForCandidates);
        const candidate = (programs[source] as T).deepCopy();
        const predictors = candidate.namedPredictors();
        const numDemos = Math.max(0, ...predictors.map(([, p]) => p.demos.length));
        const maxDemosTmp = o.maxDemos > 0 ? o.maxDemos : 3;
        let toDrop = Math.max(poisson(poissonRng, numDemos / maxDemosTmp), Number(numDemos >= maxDemosTmp));
        toDrop = Math.min(toDrop, numDemos);
        const dropped = new Set(Array.from({ length: toDrop }, () => Math.floor(rng.random() * numDemos)));
        for (const [, predictor] of predictors) predictor.demos = predictor.demos.filter((_, i) => !dropped.has(i));

        const strategy = rng.choice(this.strategies);
        const example = trainset[(bucket[0] as SimbaRun).exampleIndex] as Example;
        const strategyContext: StrategyContext = {
          example,
          batch10pScore,
          batch90pScore,
          offerFeedback: (inputs) =>
            ctx.unit(`step/${step}/advice/${bucketIdx}`, () => offerFeedback(promptModel, inputs, ctx.signal)),
        };
        let outcome: StrategyOutcome;
        try {
          outcome =
            strategy === 'appendADemo'
              ? appendADemo(bucket, candidate, strategyContext, o.demoInputFieldMaxlen)
              : await appendARule(bucket, candidate, strategyContext);
        } catch (error) {
          ctx.throwIfAborted();
          console.warn(`SIMBA: strategy ${strategy} failed with error: ${(error as Error)?.message ?? error}`);
          continue;
        }
        candidates.push(candidate);
        strategiesUsed.push(outcome.applied ? strategy : `${strategy} (skipped)`);
        if (candidates.length >= o.numCandidates + 1) break;
      }

      // Step 5–6: score the candidates on the same minibatch.
      const evaluated = await runPool(
        candidates.flatMap((candidate, c) =>
          batch.map((example, e) => () => ctx.unit(`step/${step}/eval/${c}/${e}`, () => runOne(candidate, example))),
        ),
        threads,
      );
      const candidateRuns = candidates.map((_, c) => evaluated.slice(c * batch.length, (c + 1) * batch.length));
      const candidateScores = candidateRuns.map((runs) => runs.reduce((sum, run) => sum + run.score, 0) / runs.length);

      // Step 7–8: the step's winner, and every candidate joins the pool.
      if (candidateScores.length > 0) {
        const best = candidateScores.indexOf(Math.max(...candidateScores));
        winners.push({ program: (candidates[best] as T).deepCopy(), step });
      }
      for (const [c, candidate] of candidates.entries()) {
        programs.push(candidate);
        programScores.set(
          programs.length - 1,
          (candidateRuns[c] as SimbaRun[]).map((run) => run.score),
        );
      }
      trialLogs[step] = { batchIndices: batch, baselineScore, candidateScores, strategies: strategiesUsed };
      ctx.advance('candidate', {
        bestScore: Math.max(...candidateScores, 0),
        label: `step ${step + 1} of ${o.maxSteps}`,
      });
    }

    // Final: evenly spaced winners (baseline first) on the whole trainset.
    const m = winners.length - 1;
    const n = o.numCandidates + 1;
    const picks = m < 1 ? [0] : [...new Set(Array.from({ length: n }, (_, i) => pythonRound((i * m) / (n - 1), 0)))];
    const finalists = picks.map((i) => winners[i] as { program: T; step: number });
    const finalRuns = await runPool(
      finalists.flatMap((finalist, k) =>
        trainset.map((_, e) => () => ctx.unit(`final/${k}/${e}`, () => runOne(finalist.program, e))),
      ),
      threads,
    );
    const finalScores = finalists.map((_, k) => {
      const runs = finalRuns.slice(k * trainset.length, (k + 1) * trainset.length);
      return runs.reduce((sum, run) => sum + run.score, 0) / runs.length;
    });
    for (const [k, finalist] of finalists.entries()) {
      const log = trialLogs[finalist.step];
      if (log) log.trainScore = finalScores[k] as number;
    }
    const bestIndex = finalScores.indexOf(Math.max(...finalScores));
    const best = (finalists[bestIndex] as { program: T }).program.deepCopy();
    const score = finalScores[bestIndex] as number;
    ctx.advance('evaluate', { bestScore: score, label: 'final evaluation' });

    const candidatePrograms: CandidateProgram<T>[] = finalists
      .map((finalist, k) => ({ score: finalScores[k] as number, program: finalist.program }))
      .sort((a, b) => b.score - a.score);
    for (const entry of candidatePrograms) unjournalModuleLMs(entry.program);
    unjournalModuleLMs(best);
    attachResult(best, { score, trialLogs });
    return { program: best, score, candidatePrograms };
  }

  /** DSPy's `prepare_models_for_resampling`: the teacher's LM first (if any), then rollout copies at temperature 1. */
  private models(base: LanguageModelV1, teacher: LanguageModelV1 | undefined): LanguageModelV1[] {
    const start = typeof base.defaults?.rolloutId === 'number' ? base.defaults.rolloutId : 0;
    const ids = Array.from({ length: this.options.numCandidates }, (_, i) => start + i);
    const models: LanguageModelV1[] = [];
    let next = 0;
    if (teacher) {
      models.push(teacher.withDefaults ? teacher.withDefaults({ rolloutId: ids[0] as number }) : teacher);
      next = 1;
    }
    for (const id of ids.slice(next)) {
      models.push(base.withDefaults ? base.withDefaults({ rolloutId: id, temperature: 1 }) : base);
    }
    return models;
  }

  /**
   * Projects the LM calls: per step, `bsize × numCandidates` sampled runs, up to `numCandidates + 1` advice calls
   * and candidate evaluations on the minibatch; then the final evaluation of the winners on the trainset. Exact
   * given `callsPerRun`, except that skipped or failed strategies lower the advice calls.
   */
  override estimate(student: Module<any, any, any>, options: EstimateOptions): CompileEstimate {
    const o = this.options;
    const perRun = callsPerRun(student, options);
    const candidates = Math.min(o.bsize, o.numCandidates + 1);
    const sampling = o.maxSteps * o.bsize * o.numCandidates * perRun;
    const evaluation = o.maxSteps * candidates * o.bsize * perRun;
    const winners = o.maxSteps + 1;
    const finalists = new Set(
      Array.from({ length: o.numCandidates + 1 }, (_, i) => pythonRound((i * (winners - 1)) / o.numCandidates, 0)),
    ).size;
    const final = finalists * options.trainset.length * perRun;
    return makeEstimate(
      this.name,
      [
        { step: 'sample trajectories', minLmCalls: sampling, maxLmCalls: sampling },
        { step: 'advice (prompt model)', minLmCalls: 0, maxLmCalls: o.maxSteps * candidates },
        { step: 'evaluate candidates on minibatches', minLmCalls: evaluation, maxLmCalls: evaluation },
        { step: 'evaluate winners on the trainset', minLmCalls: final, maxLmCalls: final },
      ],
      [`${perRun} LM call(s) per program run`, 'every bucket yields a candidate', 'no cache hits'],
    );
  }
}
