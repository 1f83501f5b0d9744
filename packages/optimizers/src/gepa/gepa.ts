import {
  ChatAdapter,
  callLM,
  type Example,
  getSetting,
  History,
  type LanguageModelV1,
  type Metric,
  type MetricValue,
  type Module,
  metricScore,
  type Predict,
  Prediction,
  pythonRepr,
  pythonRound,
  type TraceEntry,
} from '@dspy-ts/core';
import type { CompileContext } from '../compile-context.ts';
import { evaluateCandidate } from '../evaluate-candidate.ts';
import { type TracedStep, traceProgramRun } from '../finetune/trace-run.ts';
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
import { EpochShuffledBatchSampler } from './batch-sampler.ts';
import { type GEPAAuto, type GEPABudgetOptions, minimumUsefulBudget, resolveBudget } from './budget.ts';
import { extractInstruction, type ReflectiveRecord, renderInstructionProposalPrompt } from './instruction-proposal.ts';
import { type GEPACandidate, type MergeHistory, proposeMerge, selectMergeSubsample } from './merge.ts';
import { findDominatorPrograms, idxmax, paretoFronts, selectParetoCandidate } from './pareto.ts';

/** What a GEPA metric may return: a score, or a score with textual feedback for the reflection LM. */
export type GEPAMetricValue = MetricValue | { readonly score: number | boolean; readonly feedback?: string | null };

/**
 * A GEPA metric (DSPy's `GEPAFeedbackMetric`). It is called as `metric(example, prediction)` to score,
 * `metric(example, prediction, trace)` on reflective minibatches, and
 * `metric(example, prediction, trace, predictorName, predictorTrace)` to get feedback for one predictor, where
 * `predictorTrace` holds that predictor's single step. Return `{ score, feedback }` to guide the reflection.
 */
export type GEPAMetric = (
  example: Example,
  prediction: any,
  trace?: TraceEntry[],
  predictorName?: string,
  predictorTrace?: TraceEntry[],
) => GEPAMetricValue | Promise<GEPAMetricValue>;

/** What a custom component selector sees. */
export interface ComponentSelectorState {
  /** The iteration (0-based). */
  iteration: number;
  /** The index of the parent candidate. */
  candidateIndex: number;
  /** The parent's instructions. */
  candidate: Readonly<GEPACandidate>;
  /** Every component (predictor name), in program order. */
  componentNames: readonly string[];
}

/** Chooses which components (predictor names) an iteration rewrites. */
export type GEPAComponentSelector = (state: ComponentSelectorState) => string[];

/** Options of {@link GEPA} (DSPy's keyword arguments, camelCased). Exactly one of `auto`, `maxFullEvals`, `maxMetricCalls`. */
export interface GEPAOptions extends GEPABudgetOptions {
  /** Scores programs and gives feedback (see {@link GEPAMetric}). */
  metric: GEPAMetric;
  /** The LM that rewrites instructions from the reflective records; a strong model pays off. */
  reflectionLM: LanguageModelV1;
  /** Training examples per reflective minibatch. Default 3. */
  reflectionMinibatchSize?: number;
  /** How a parent is picked: sampled from the Pareto front (default) or the best aggregate candidate. */
  candidateSelectionStrategy?: 'pareto' | 'current_best';
  /** Skip the reflection when every minibatch score reaches `perfectScore`. Default true. */
  skipPerfectScore?: boolean;
  /** Turn unparseable replies into format feedback instead of dropping them. Default false. */
  addFormatFailureAsFeedback?: boolean;
  /** Which components an iteration rewrites: `round_robin` (default), `all`, or a function. */
  componentSelector?: 'round_robin' | 'all' | GEPAComponentSelector;
  /** Merge the components of two lineages after a new candidate is found. Default true. */
  useMerge?: boolean;
  /** Accepted merges at most. Default 5. */
  maxMergeInvocations?: number;
  /** Examples evaluated at the same time. Default: the `numThreads` setting. */
  numThreads?: number;
  /** Score of an example whose program or metric raised. Default 0. */
  failureScore?: number;
  /** The metric's best score. Default 1. */
  perfectScore?: number;
  /** Seed of the parent, minibatch and merge draws. Default 0. */
  seed?: number;
  /** Attach {@link GEPADetailedResults} to the result as `detailedResults`. Default false. */
  trackStats?: boolean;
}

/** Everything a GEPA run found (DSPy's `DspyGEPAResult`), attached as `detailedResults` when `trackStats` is set. */
export interface GEPADetailedResults<T = Module<any, any, any>> {
  /** Every accepted candidate as a program, in discovery order (0 is the seed). */
  candidates: T[];
  /** The same candidates as instructions by predictor name. */
  instructions: GEPACandidate[];
  /** Each candidate's parents (`[null]` for the seed; two for a merge). */
  parents: (number | null)[][];
  /** Each candidate's mean validation score. */
  valAggregateScores: number[];
  /** Each candidate's score on every validation example. */
  valSubscores: number[][];
  /** Per validation example, the candidates with the highest score on it. */
  perValInstanceBestCandidates: number[][];
  /** Per validation example, the highest score any candidate reached. */
  highestScoreAchievedPerValTask: number[];
  /** Metric calls spent when each candidate was discovered. */
  discoveryEvalCounts: number[];
  /** Metric calls spent in all. */
  totalMetricCalls: number;
  /** The budget the run was given. */
  maxMetricCalls: number;
  /** Full valset evaluations run. */
  numFullValEvals: number;
  /** Iterations run (merge and skipped ones included). */
  iterations: number;
  /** Index of the returned candidate (best mean validation score; first on ties). */
  bestIdx: number;
  /** The returned candidate's instructions. */
  bestCandidate: GEPACandidate;
  /** The seed of the run. */
  seed: number;
}

/** Compile options of {@link GEPA}. `teacher` is not supported. */
export interface GEPACompileOptions extends CompileOptions {
  /** Examples that track the Pareto fronts and pick the result. Default: the trainset. */
  valset?: readonly Example[];
}

/** A GEPA result: the compiled program, with `detailedResults` when `trackStats` was set. */
export type GEPACompiled<T> = Compiled<T> & {
  /** What the run found, when `trackStats` was set. */
  readonly detailedResults?: GEPADetailedResults<T>;
};

/** The stored result of one example run with traces. */
interface TracedOutcome {
  score: number;
  /** The reflective record per component, `null` when the run gave none. */
  records: Record<string, ReflectiveRecord | null>;
}

const FORMAT_FAILURE_FEEDBACK = 'Your output failed to parse. Follow this structure:\n';

/** Python `str()` of a value. */
function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pythonRepr(value);
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : sum(values) / values.length;
}

function hasFeedback(value: unknown): value is { score: number | boolean; feedback?: string | null } {
  return typeof value === 'object' && value !== null && 'feedback' in value;
}

function formatStructure(predictor: Predict): string {
  let text = '';
  for (const message of new ChatAdapter().format(predictor.signature, [], {})) {
    const content =
      typeof message.content === 'string'
        ? message.content
        : message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
    text += `${message.role}: ${content}\n`;
  }
  return text;
}

function recordInputs(inputs: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const historyKey = Object.keys(inputs).find((key) => inputs[key] instanceof History);
  if (historyKey !== undefined) {
    let text = '```json\n';
    for (const [i, message] of (inputs[historyKey] as History).messages.entries()) {
      text += `  ${i}: ${pythonRepr(message)}\n`;
    }
    out.Context = `${text}\`\`\``;
  }
  for (const [key, value] of Object.entries(inputs)) if (key !== historyKey) out[key] = pyStr(value);
  return out;
}

/**
 * GEPA: reflective prompt evolution (DSPy's `dspy.GEPA`, Agrawal et al. 2025). Candidates are instruction sets
 * (`{ predictorName: instruction }`). The seed (the student's instructions) is scored on the valset; then each
 * iteration picks a parent — sampled from the Pareto front, in proportion to the number of validation examples on
 * which it is (one of) the best, or the current best — picks a component round-robin, runs the parent on a
 * minibatch of training examples with traces, and, unless every score is already perfect, shows the reflection LM
 * the component's inputs, outputs and metric feedback with GEPA's instruction-proposal prompt. The rewritten
 * instruction replaces the component's; the child is kept only when its minibatch score sum strictly improves, and
 * is then scored on the whole valset and added to the pool and the Pareto fronts. After a new candidate, up to
 * `maxMergeInvocations` merges combine two lineages that changed different components of a common ancestor.
 * The run stops when the metric-call budget is spent and returns the candidate with the best mean valset score.
 *
 * Every program run, metric feedback and reflection call is a checkpointed unit: with `checkpoint`, an interrupted
 * compile resumes without repeating LM calls. Draws come from this package's seeded generator, so choices differ
 * from DSPy's (CPython `random`) for the same seed.
 *
 * @example
 * ```ts
 * const gepa = new GEPA({ metric, auto: 'light', reflectionLM });
 * const optimized = await gepa.compile(program, { trainset, valset, checkpoint: 'gepa.ckpt.json' });
 * ```
 */
export class GEPA extends Teleprompter<GEPACompileOptions> {
  /** The optimizer's name. */
  readonly name = 'GEPA';
  /** The options, with defaults applied. */
  readonly options: Required<Omit<GEPAOptions, 'auto' | 'maxFullEvals' | 'maxMetricCalls' | 'numThreads'>> &
    Pick<GEPAOptions, 'auto' | 'maxFullEvals' | 'maxMetricCalls' | 'numThreads'>;

  /**
   * @throws {OptimizerError} unless exactly one of `auto`, `maxFullEvals`, `maxMetricCalls` is set, or without a
   *   metric or a reflection LM.
   */
  constructor(options: GEPAOptions) {
    super();
    if (typeof options?.metric !== 'function') throw new OptimizerError('GEPA needs a metric to score candidates.');
    const set = [options.auto, options.maxFullEvals, options.maxMetricCalls].filter((v) => v !== undefined).length;
    if (set !== 1) {
      throw new OptimizerError(
        'Exactly one of maxMetricCalls, maxFullEvals, auto must be set. ' +
          `You set maxMetricCalls=${options.maxMetricCalls}, maxFullEvals=${options.maxFullEvals}, auto=${options.auto}.`,
      );
    }
    if (options.auto !== undefined && !['light', 'medium', 'heavy'].includes(options.auto)) {
      throw new OptimizerError(`auto must be "light", "medium" or "heavy", found "${options.auto as string}".`);
    }
    for (const key of ['maxFullEvals', 'maxMetricCalls'] as const) {
      const value = options[key];
      if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
        throw new OptimizerError(`${key} must be a positive integer, found ${value}.`);
      }
    }
    if (!options.reflectionLM) {
      throw new OptimizerError(
        'GEPA requires a reflection language model (`reflectionLM`). It reflects on the behaviour of the program ' +
          'and proposes new instructions, and benefits from a strong model.',
      );
    }
    const minibatch = options.reflectionMinibatchSize ?? 3;
    if (!(Number.isInteger(minibatch) && minibatch > 0)) {
      throw new OptimizerError(`reflectionMinibatchSize must be a positive integer, found ${minibatch}.`);
    }
    this.options = {
      reflectionMinibatchSize: 3,
      candidateSelectionStrategy: 'pareto',
      skipPerfectScore: true,
      addFormatFailureAsFeedback: false,
      componentSelector: 'round_robin',
      useMerge: true,
      maxMergeInvocations: 5,
      failureScore: 0,
      perfectScore: 1,
      seed: 0,
      trackStats: false,
      ...options,
    };
  }

  /** The `auto` preset, if any. */
  get auto(): GEPAAuto | undefined {
    return this.options.auto;
  }

  /**
   * The metric-call budget for this student and data (DSPy's formula for `auto`, `maxFullEvals × (|train| + |val|)`
   * — `|val|` counting 0 when no valset is given, as upstream — or `maxMetricCalls`).
   */
  budget(student: Module<any, any, any>, trainset: readonly Example[], valset?: readonly Example[]): number {
    return resolveBudget(this.options, student.predictors().length, trainset.length, valset?.length);
  }

  /**
   * Compiles `student` (see {@link Teleprompter.compile}); the result carries `detailedResults` when `trackStats`
   * is set.
   */
  override async compile<T extends Module<any, any, any>>(
    student: T,
    options: GEPACompileOptions,
  ): Promise<GEPACompiled<T>> {
    // Rejected before anything is opened or spent.
    this.check(student, options);
    return (await super.compile(student, options)) as GEPACompiled<T>;
  }

  /**
   * @throws {OptimizerError} for an empty trainset or valset, a teacher, or a budget too small for one proposal.
   */
  private check(
    student: Module<any, any, any>,
    options: GEPACompileOptions,
  ): { budget: number; valset: readonly Example[] } {
    if (!options.trainset || options.trainset.length === 0) {
      throw new OptimizerError('GEPA needs a non-empty trainset.');
    }
    if (options.teacher !== undefined) throw new OptimizerError('Teacher is not supported in GEPA.');
    if (student.predictors().length === 0)
      throw new OptimizerError('GEPA needs a program with at least one predictor.');
    const valset = options.valset ?? options.trainset;
    if (valset.length === 0)
      throw new OptimizerError('GEPA needs a non-empty valset (or omit it to use the trainset).');
    const budget = this.budget(student, options.trainset, options.valset);
    const needed = minimumUsefulBudget(valset.length, this.options.reflectionMinibatchSize);
    if (budget < needed) {
      const m = this.options.reflectionMinibatchSize;
      throw new OptimizerError(
        `GEPA's budget of ${budget} metric calls is too small to make a single proposal. The smallest useful run ` +
          `needs ${needed} metric calls: ${valset.length} to score the seed program on the valset, ${m} to run a ` +
          `reflective minibatch with traces and ${m} to score the proposed instruction on it. Raise the budget, ` +
          'or use a smaller valset or reflectionMinibatchSize.',
      );
    }
    return { budget, valset };
  }

  protected override async run<T extends Module<any, any, any>>(
    student: T,
    options: GEPACompileOptions,
    ctx: CompileContext,
  ): Promise<CompileOutcome<T>> {
    const { budget, valset } = this.check(student, options);
    const o = this.options;
    const trainset = options.trainset;
    const names = student.namedPredictors().map(([name]) => name);
    const rng = new SeededRandom(o.seed);
    const sampler = new EpochShuffledBatchSampler(o.reflectionMinibatchSize, rng);
    const reflectionLM = ctx.lm(o.reflectionLM);
    const evalOptions = {
      failureScore: o.failureScore,
      // DSPy evaluates with `max_errors = len(batch) * 100`: failures score `failureScore` and never cancel.
      maxErrors: Number.POSITIVE_INFINITY,
      ...(o.numThreads === undefined ? {} : { numThreads: o.numThreads }),
    };
    const build = (candidate: GEPACandidate, journal: boolean): T => {
      const program = student.deepCopy();
      for (const [name, predictor] of program.namedPredictors()) {
        const instruction = candidate[name];
        if (instruction !== undefined) predictor.signature = predictor.signature.withInstructions(instruction);
      }
      if (journal) ctx.journalProgram(program);
      return program;
    };
    const score = async (candidate: GEPACandidate, examples: readonly Example[], key: string): Promise<number[]> => {
      const result = await evaluateCandidate(
        build(candidate, true),
        examples,
        o.metric as Metric,
        ctx,
        key,
        evalOptions,
      );
      return result.subscores.map((value) => Number(value));
    };

    // The pool.
    const seedCandidate: GEPACandidate = Object.fromEntries(
      student.namedPredictors().map(([name, predictor]) => [name, predictor.signature.instructions]),
    );
    const candidates: GEPACandidate[] = [];
    const parents: (number | null)[][] = [];
    const subscores: number[][] = [];
    const aggregate: number[] = [];
    const discovery: number[] = [];
    const nextComponent: number[] = [];
    let totalEvals = 0;
    let fullEvals = 0;
    const add = (candidate: GEPACandidate, from: (number | null)[], scores: number[], discoveredAt: number) => {
      candidates.push(candidate);
      parents.push(from);
      subscores.push(scores);
      aggregate.push(mean(scores));
      discovery.push(discoveredAt);
      const pointers = from.filter((p): p is number => p !== null).map((p) => nextComponent[p] as number);
      nextComponent.push(pointers.length === 0 ? 0 : Math.max(...pointers));
    };
    const best = () => pythonRound(100 * (aggregate[idxmax(aggregate)] as number), 2);

    add(seedCandidate, [null], await score(seedCandidate, valset, 'seed/val'), 0);
    totalEvals += valset.length;
    fullEvals++;
    const m = o.reflectionMinibatchSize;
    // The seed evaluation counts as one unit of the loop, then at most one iteration per minibatch of the budget.
    ctx.startLoop(1 + Math.ceil((budget - valset.length) / m), 'iterations');
    ctx.advance('evaluate', { bestScore: best(), label: 'seed program' });

    const history: MergeHistory = { triplets: [], descriptions: [] };
    let mergesDue = 0;
    let mergesTested = 0;
    let lastIterationFoundNew = false;
    let iteration = 0;
    let warnedMismatch = false;

    const accept = async (candidate: GEPACandidate, from: number[], key: string): Promise<void> => {
      const discoveredAt = totalEvals;
      const scores = await score(candidate, valset, key);
      totalEvals += valset.length;
      fullEvals++;
      add(candidate, from, scores, discoveredAt);
    };

    while (totalEvals < budget) {
      ctx.throwIfAborted();
      const i = iteration++;
      const prefix = `iter/${i}`;

      // 1) A merge, when one is due after a newly found candidate.
      if (o.useMerge) {
        if (mergesDue > 0 && lastIterationFoundNew) {
          lastIterationFoundNew = false;
          const pool = { candidates, parents, aggregateScores: aggregate };
          const mergeCandidates = findDominatorPrograms(paretoFronts(subscores), aggregate);
          const merge = proposeMerge(rng, mergeCandidates, pool, history);
          if (merge !== undefined) {
            history.triplets.push([merge.id1, merge.id2, merge.ancestor]);
            const ids = selectMergeSubsample(rng, subscores[merge.id1] as number[], subscores[merge.id2] as number[]);
            const after = await score(
              merge.candidate,
              ids.map((k) => valset[k] as Example),
              `${prefix}/merge`,
            );
            totalEvals += ids.length;
            const before = [merge.id1, merge.id2].map((id) =>
              sum(ids.map((k) => (subscores[id] as number[])[k] as number)),
            );
            if (sum(after) >= Math.max(...before)) {
              await accept(merge.candidate, [merge.id1, merge.id2], `${prefix}/val`);
              mergesDue--;
              mergesTested++;
              ctx.advance('candidate', {
                bestScore: best(),
                label: `iteration ${i}: merged ${merge.id1} and ${merge.id2}`,
              });
            } else {
              ctx.advance('candidate', { bestScore: best(), label: `iteration ${i}: merge rejected` });
            }
            continue;
          }
        }
        lastIterationFoundNew = false;
      }

      // 2) Reflective mutation.
      const parent =
        o.candidateSelectionStrategy === 'current_best'
          ? idxmax(aggregate)
          : selectParetoCandidate(paretoFronts(subscores), aggregate, rng);
      const parentCandidate = candidates[parent] as GEPACandidate;
      const ids = sampler.next(trainset.length, i);
      const minibatch = ids.map((k) => trainset[k] as Example);
      const components = this.selectComponents(i, parent, parentCandidate, names, nextComponent);

      const traced = await this.runTraced(
        build(parentCandidate, true),
        minibatch,
        components,
        `${prefix}/trace`,
        ctx,
        () => {
          if (warnedMismatch) return false;
          warnedMismatch = true;
          return true;
        },
      );
      totalEvals += minibatch.length;
      const parentScores = traced.map((outcome) => outcome.score);
      if (o.skipPerfectScore && parentScores.every((s) => s >= o.perfectScore)) {
        ctx.advance('propose', { bestScore: best(), label: `iteration ${i}: all minibatch scores perfect` });
        continue;
      }
      const proposals: GEPACandidate = {};
      for (const component of components) {
        const records = traced.map((outcome) => outcome.records[component]).filter((r): r is ReflectiveRecord => !!r);
        if (records.length === 0) continue;
        const current = parentCandidate[component] as string;
        proposals[component] = await ctx.unit<string>(`${prefix}/propose/${component}`, async () => {
          const prompt = renderInstructionProposalPrompt(current, records);
          const response = await callLM(reflectionLM, {
            messages: [{ role: 'user', content: prompt }],
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          }).catch((error: unknown) => {
            ctx.throwIfAborted();
            throw error;
          });
          return extractInstruction(response.choices[0]?.text ?? '');
        });
      }
      if (Object.keys(proposals).length === 0) {
        console.warn(`GEPA iteration ${i}: No valid predictions found for any module.`);
        ctx.advance('propose', { bestScore: best(), label: `iteration ${i}: no reflective records` });
        continue;
      }
      const child: GEPACandidate = { ...parentCandidate, ...proposals };
      const childScores = await score(child, minibatch, `${prefix}/child`);
      totalEvals += minibatch.length;
      if (sum(childScores) <= sum(parentScores)) {
        ctx.advance('propose', { bestScore: best(), label: `iteration ${i}: proposal not better on the minibatch` });
        continue;
      }
      await accept(child, [parent], `${prefix}/val`);
      if (o.useMerge) {
        lastIterationFoundNew = true;
        if (mergesTested < o.maxMergeInvocations) mergesDue++;
      }
      ctx.advance('candidate', { bestScore: best(), label: `iteration ${i}: new candidate ${candidates.length - 1}` });
    }

    const bestIdx = idxmax(aggregate);
    const programs = candidates.map((candidate) => build(candidate, false));
    const program = programs[bestIdx] as T;
    const fronts = paretoFronts(subscores);
    const candidatePrograms: CandidateProgram<T>[] = programs
      .map((p, k) => ({
        program: p,
        score: pythonRound(100 * (aggregate[k] as number), 2),
        subscores: subscores[k] as number[],
      }))
      .sort((a, b) => b.score - a.score);
    if (o.trackStats) {
      const details: GEPADetailedResults<T> = {
        candidates: programs,
        instructions: candidates,
        parents,
        valAggregateScores: aggregate,
        valSubscores: subscores,
        perValInstanceBestCandidates: fronts,
        highestScoreAchievedPerValTask: fronts.map(
          (front, k) => (subscores[front[0] as number] as number[])[k] as number,
        ),
        discoveryEvalCounts: discovery,
        totalMetricCalls: totalEvals,
        maxMetricCalls: budget,
        numFullValEvals: fullEvals,
        iterations: iteration,
        bestIdx,
        bestCandidate: candidates[bestIdx] as GEPACandidate,
        seed: o.seed,
      };
      Object.defineProperty(program, 'detailedResults', { value: details, enumerable: false, configurable: true });
    }
    return { program, score: pythonRound(100 * (aggregate[bestIdx] as number), 2), candidatePrograms };
  }

  private selectComponents(
    iteration: number,
    parent: number,
    candidate: GEPACandidate,
    names: readonly string[],
    nextComponent: number[],
  ): string[] {
    const selector = this.options.componentSelector;
    if (selector === 'all') return [...names];
    if (selector === 'round_robin') {
      const pointer = nextComponent[parent] as number;
      nextComponent[parent] = (pointer + 1) % names.length;
      return [names[pointer] as string];
    }
    const chosen = selector({ iteration, candidateIndex: parent, candidate, componentNames: names });
    const unknown = chosen.filter((name) => !names.includes(name));
    if (unknown.length > 0 || chosen.length === 0) {
      throw new OptimizerError(
        `The component selector must return predictor names of the program (${names.join(', ')}); ` +
          `it returned [${chosen.join(', ')}].`,
      );
    }
    return chosen;
  }

  /**
   * Runs the parent on the minibatch with traces, one checkpointed unit per example: the score
   * (`metric(example, prediction, trace)`) and, per component, the reflective record of one of its steps with the
   * metric's feedback (`metric(example, prediction, trace, name, [step])`).
   */
  private async runTraced(
    program: Module<any, any, any>,
    minibatch: readonly Example[],
    components: readonly string[],
    key: string,
    ctx: CompileContext,
    warnOnce: () => boolean,
  ): Promise<TracedOutcome[]> {
    const o = this.options;
    const byName = new Map(program.namedPredictors());
    const outcomes: TracedOutcome[] = new Array(minibatch.length);
    const runOne = async (j: number): Promise<void> => {
      const example = minibatch[j] as Example;
      const unitKey = `${key}/${j}`;
      outcomes[j] = await ctx.unit<TracedOutcome>(unitKey, async () => {
        const run = await traceProgramRun(program, example, ctx.signal).catch((error: unknown) => {
          ctx.throwIfAborted();
          throw error;
        });
        let score = o.failureScore;
        if (run.error === undefined) {
          try {
            score = metricScore(await o.metric(example, run.prediction, run.trace));
          } catch (error) {
            console.error(`GEPA: the metric failed on ${example.toString()}: ${(error as Error)?.message ?? error}`);
          }
        }
        // Per-unit generator: a resumed compile picks the same steps without replaying earlier draws.
        const rng = new SeededRandom(`${o.seed}:${ctx.prefix}${unitKey}`);
        const records: Record<string, ReflectiveRecord | null> = {};
        for (const name of components) {
          records[name] = await this.record(byName.get(name) as Predict, name, run, example, score, rng, warnOnce);
        }
        return { score, records };
      });
    };
    const threads = Math.max(1, Math.min(minibatch.length, Math.floor(o.numThreads ?? getSetting('numThreads'))));
    let next = 0;
    await Promise.all(
      Array.from({ length: threads }, async () => {
        while (next < minibatch.length) await runOne(next++);
      }),
    );
    return outcomes;
  }

  /** DSPy's `DspyAdapter.make_reflective_dataset` for one component and one traced run. */
  private async record(
    predictor: Predict,
    name: string,
    run: Awaited<ReturnType<typeof traceProgramRun>>,
    example: Example,
    moduleScore: number,
    rng: SeededRandom,
    warnOnce: () => boolean,
  ): Promise<ReflectiveRecord | null> {
    let instances = run.steps.filter((step) => step.predictor.signature.equals(predictor.signature));
    if (!this.options.addFormatFailureAsFeedback) instances = instances.filter((step) => !step.failed);
    if (instances.length === 0) return null;
    let selected: TracedStep | undefined = instances.find((step) => step.failed);
    if (selected === undefined) {
      if (run.error !== undefined) return null;
      selected = rng.choice(instances);
    }
    const Inputs = recordInputs(selected.inputs);
    if (selected.failed) {
      return {
        Inputs,
        'Generated Outputs':
          "Couldn't parse the output as per the expected output format. The model's raw response was:\n" +
          `\`\`\`\n${selected.failed.completionText}\n\`\`\`\n\n`,
        Feedback: FORMAT_FAILURE_FEEDBACK + formatStructure(predictor),
      };
    }
    const prediction = selected.prediction as Prediction;
    const outputs: Record<string, string> = {};
    for (const [key, value] of prediction instanceof Prediction ? prediction.items() : Object.entries(prediction)) {
      outputs[key] = pyStr(value);
    }
    const step: TraceEntry = { predictor: selected.predictor, inputs: selected.inputs, prediction };
    const value = await this.options.metric(example, run.prediction, run.trace, name, [step]);
    let feedback: string;
    let score: unknown;
    if (hasFeedback(value)) {
      score = value.score;
      feedback = value.feedback ?? `This trajectory got a score of ${pyStr(value.score)}.`;
    } else {
      score = value;
      feedback = `This trajectory got a score of ${pyStr(typeof value === 'object' && value !== null ? value.score : value)}.`;
    }
    if (metricScore(score as MetricValue) !== moduleScore && warnOnce()) {
      console.warn(
        'The score returned by the metric with pred_name is different from the overall metric score. This can ' +
          'indicate 2 things: Either the metric is non-deterministic (e.g., LLM-as-judge, Semantic score, etc.) or ' +
          'the metric returned a score specific to pred_name that differs from the module level score. GEPA only ' +
          'uses the feedback text and keeps the module level score.',
      );
    }
    return { Inputs, 'Generated Outputs': outputs, Feedback: feedback };
  }

  /**
   * Projects the LM calls: the budget's program runs (at least the budget; an iteration that starts just under it
   * may overshoot by a reflective iteration plus a full valset evaluation) and one reflection call per component
   * per iteration at most.
   */
  override estimate(student: Module<any, any, any>, options: EstimateOptions): CompileEstimate {
    const valSize = (options.valset ?? options.trainset).length;
    const budget = this.budget(student, options.trainset, options.valset);
    const perRun = callsPerRun(student, options);
    const m = this.options.reflectionMinibatchSize;
    const components = this.options.componentSelector === 'all' ? student.predictors().length : 1;
    const iterations = Math.max(0, Math.ceil((budget - valSize) / m));
    // The last iteration starts under budget and may finish a reflective (2m) or merge (5) step plus a full eval.
    const overshoot = Math.max(2 * m, 5) + valSize - 1;
    return makeEstimate(
      this.name,
      [
        {
          step: 'program runs scored by the metric',
          minLmCalls: budget * perRun,
          maxLmCalls: (budget + overshoot) * perRun,
        },
        { step: 'reflection LM proposals', minLmCalls: 0, maxLmCalls: iterations * components },
      ],
      [
        `${perRun} LM call(s) per program run`,
        `a budget of ${budget} metric calls`,
        'no cache hits and no checkpoint replays',
      ],
    );
  }
}
