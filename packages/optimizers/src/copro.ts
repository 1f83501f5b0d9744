import {
  context,
  fieldsEqual,
  type LanguageModelV1,
  type Metric,
  type Module,
  Predict,
  type Prediction,
  type Signature,
} from '@dspy-ts/core';
import type { CompileContext } from './compile-context.ts';
import { BasicGenerateInstruction, GenerateInstructionGivenAttempts } from './copro-signatures.ts';
import { evaluateCandidate } from './evaluate-candidate.ts';
import { unjournalModuleLMs } from './journaled-lm.ts';
import { OptimizerError } from './optimizer-error.ts';
import {
  type CandidateProgram,
  type CompileEstimate,
  type CompileOptions,
  type CompileOutcome,
  callsPerRun,
  type EstimateOptions,
  type EstimateStep,
  makeEstimate,
  Teleprompter,
} from './teleprompter.ts';

/** Options of {@link COPRO} (DSPy's keyword arguments, camelCased). */
export interface COPROOptions {
  /** Scores each candidate instruction on the trainset. */
  metric: Metric;
  /** The LM that proposes instructions. Default: the configured LM. */
  promptModel?: LanguageModelV1;
  /** Candidates per predictor and step; must be greater than 1. Default 10. */
  breadth?: number;
  /** Rounds of proposing and scoring. Default 3. */
  depth?: number;
  /** Temperature of the proposals. Default 1.4. */
  initTemperature?: number;
  /** Examples evaluated at the same time (DSPy's `eval_kwargs`). Default: the `numThreads` setting. */
  numThreads?: number;
  /** Errors tolerated per evaluation (DSPy's `eval_kwargs`). Default: the `maxErrors` setting. */
  maxErrors?: number;
}

interface Proposal {
  instruction: string;
  prefix: string;
}

interface Evaluated<T> extends Proposal {
  score: number;
  program: T;
  depth: number;
}

function lastField(signature: Signature) {
  return signature.fields.at(-1) as Signature['fields'][number];
}

function applyProposal(predictor: Predict, proposal: Proposal): void {
  const last = lastField(predictor.signature).name;
  predictor.signature = predictor.signature
    .withInstructions(proposal.instruction)
    .withUpdatedFields(last, { prefix: proposal.prefix });
}

function clean(text: unknown): string {
  return String(text ?? '')
    .replace(/^"+|"+$/g, '')
    .trim();
}

function completionsOf(prediction: Prediction): Proposal[] {
  const completions = prediction.completions;
  const instructions = completions?.has('proposed_instruction')
    ? completions.get('proposed_instruction')
    : [prediction.get('proposed_instruction')];
  const prefixes = completions?.has('proposed_prefix_for_output_field')
    ? completions.get('proposed_prefix_for_output_field')
    : [prediction.get('proposed_prefix_for_output_field')];
  return instructions.map((instruction, i) => ({
    instruction: String(instruction ?? ''),
    prefix: String(prefixes[i] ?? ''),
  }));
}

/**
 * Coordinate ascent over instructions (DSPy's `COPRO`): for every predictor the prompt model proposes `breadth − 1`
 * instructions (plus the original), each is scored on the trainset with the other predictors at their best, the
 * best is kept, and the scored attempts (ascending, as `Instruction #i` / `Prefix #i` / `Resulting Score #i`)
 * prompt `breadth` new proposals, for `depth` rounds. Returns the best candidate with `candidatePrograms` and
 * `compileReport.totalCalls` (evaluations run).
 *
 * Proposed output prefixes are stored in the signature (and saved), but adapters ignore prefixes, as in DSPy.
 *
 * @example
 * ```ts
 * const copro = new COPRO({ metric, promptModel, breadth: 4, depth: 2 });
 * const compiled = await copro.compile(program, { trainset });
 * ```
 */
export class COPRO extends Teleprompter {
  /** The optimizer's name. */
  readonly name = 'COPRO';
  /** The options, with defaults applied. */
  readonly options: Required<Omit<COPROOptions, 'promptModel' | 'numThreads' | 'maxErrors'>> &
    Pick<COPROOptions, 'promptModel' | 'numThreads' | 'maxErrors'>;

  /** @throws {OptimizerError} when `breadth <= 1` or the metric is missing. */
  constructor(options: COPROOptions) {
    super();
    const breadth = options?.breadth ?? 10;
    if (breadth <= 1) throw new OptimizerError('Breadth must be greater than 1');
    if (typeof options?.metric !== 'function') throw new OptimizerError('COPRO needs a metric to score instructions.');
    this.options = { depth: 3, initTemperature: 1.4, ...options, breadth };
  }

  protected override async run<T extends Module<any, any, any>>(
    student: T,
    options: CompileOptions,
    ctx: CompileContext,
  ): Promise<CompileOutcome<T>> {
    const { breadth, depth, initTemperature, metric } = this.options;
    const trainset = options.trainset;
    const promptModel = this.options.promptModel ? ctx.lm(this.options.promptModel) : undefined;
    const propose = async (key: string, signature: Signature, inputs: Record<string, unknown>, n: number) =>
      ctx.unit<Proposal[]>(key, async () => {
        const predictor = new Predict(signature, { n, temperature: initTemperature });
        const call = () => predictor.call(inputs, { signal: ctx.signal });
        return completionsOf(promptModel ? await context({ lm: promptModel }, call) : await call());
      });

    const module = student.deepCopy();
    const clone = module.deepCopy();
    ctx.journalProgram(clone);
    const predictors = clone.predictors();
    const count = predictors.length;
    const evalOptions = {
      ...(this.options.numThreads === undefined ? {} : { numThreads: this.options.numThreads }),
      ...(this.options.maxErrors === undefined ? {} : { maxErrors: this.options.maxErrors }),
    };

    // Seed: breadth − 1 proposals from the original instruction, plus the original itself.
    const allCandidates: Proposal[][] = [];
    for (const [i, predictor] of predictors.entries()) {
      const original = { instruction: predictor.signature.instructions, prefix: lastField(predictor.signature).prefix };
      const proposals = await propose(
        `propose/0/${i}`,
        BasicGenerateInstruction,
        { basic_instruction: original.instruction },
        breadth - 1,
      );
      allCandidates.push([...proposals, original]);
    }
    let latestCandidates = allCandidates.map((pool) => [...pool]);
    const evaluated: Map<string, Evaluated<T>>[] = predictors.map(() => new Map());
    let totalCalls = 0;
    ctx.startLoop(this.evaluationCount(count), 'evaluations');

    for (let d = 0; d < depth; d++) {
      for (const [p, predictor] of predictors.entries()) {
        const pool = count > 1 ? (allCandidates[p] as Proposal[]) : (latestCandidates[p] as Proposal[]);
        for (const [c, candidate] of pool.entries()) {
          const proposal = { instruction: clean(candidate.instruction), prefix: clean(candidate.prefix) };
          applyProposal(predictor, proposal);
          const { score } = await evaluateCandidate(clone, trainset, metric, ctx, `eval/${d}/${p}/${c}`, evalOptions);
          totalCalls++;
          const key = `${proposal.instruction}\u0000${proposal.prefix}`;
          const previous = evaluated[p]?.get(key);
          if (previous === undefined || previous.score < score) {
            evaluated[p]?.set(key, { ...proposal, score, program: clone.deepCopy(), depth: d });
          }
          const best = Math.max(...evaluated.flatMap((m) => [...m.values()].map((e) => e.score)));
          ctx.advance('evaluate', { bestScore: best, label: `depth ${d + 1}, predictor ${p + 1}, candidate ${c + 1}` });
        }
        const best = [...(evaluated[p] as Map<string, Evaluated<T>>).values()].reduce((a, b) =>
          b.score > a.score ? b : a,
        );
        applyProposal(predictor, best);
      }
      if (d === depth - 1) break;

      const next: Proposal[][] = [];
      for (const p of predictors.keys()) {
        const ranked = [...(evaluated[p] as Map<string, Evaluated<T>>).values()].sort((a, b) => b.score - a.score);
        const shortest = Math.min(ranked.length, breadth);
        const attempts: string[] = [];
        for (let i = shortest - 1; i >= 0; i--) {
          const entry = ranked[i] as Evaluated<T>;
          attempts.push(`Instruction #${shortest - i}: ${entry.instruction}`);
          attempts.push(`Prefix #${shortest - i}: ${entry.prefix}`);
          attempts.push(`Resulting Score #${shortest - i}: ${formatScore(entry.score)}`);
        }
        const proposals = await propose(
          `propose/${d + 1}/${p}`,
          GenerateInstructionGivenAttempts,
          { attempted_instructions: attempts },
          breadth,
        );
        next.push(proposals);
        allCandidates[p]?.push(...proposals);
      }
      latestCandidates = next;
    }

    const candidates = evaluated.flatMap((m) => [...m.values()]).sort((a, b) => b.score - a.score);
    const kept = dropDuplicates(candidates);
    for (const candidate of kept) unjournalModuleLMs(candidate.program);
    const best = kept[0] as Evaluated<T>;
    const candidatePrograms: CandidateProgram<T>[] = kept.map(({ score, program, instruction, prefix, depth: at }) => ({
      score,
      program,
      instruction,
      prefix,
      depth: at,
    }));
    return { program: best.program, score: best.score, candidatePrograms, totalCalls };
  }

  /** Evaluations a compile runs for a program with `predictors` predictors (DSPy's `total_calls`). */
  evaluationCount(predictors: number): number {
    const { breadth, depth } = this.options;
    let total = 0;
    for (let d = 0; d < depth; d++) {
      // One predictor tests the latest `breadth` proposals; several re-test every proposal so far.
      total += predictors > 1 ? predictors * breadth * (d + 1) : breadth;
    }
    return total;
  }

  /** Projects proposal calls (one per predictor and step) and evaluation calls (exact, given `callsPerRun`). */
  override estimate(student: Module<any, any, any>, options: EstimateOptions): CompileEstimate {
    const predictors = student.predictors().length;
    const perRun = callsPerRun(student, options);
    const proposals = predictors * this.options.depth;
    const evaluations = this.evaluationCount(predictors) * options.trainset.length * perRun;
    const steps: EstimateStep[] = [
      { step: 'propose instructions (prompt model)', minLmCalls: proposals, maxLmCalls: proposals },
      { step: 'evaluate candidates on the trainset', minLmCalls: evaluations, maxLmCalls: evaluations },
    ];
    return makeEstimate(this.name, steps, [
      `${perRun} LM call(s) per program run`,
      'the prompt model returns all n completions in one call',
      'no duplicate proposals and no cache hits',
    ]);
  }
}

/** Python's `str(float)` for scores: integral values keep `.0`. */
function formatScore(score: number): string {
  return Number.isInteger(score) ? `${score}.0` : String(score);
}

/** DSPy's `_drop_duplicates`: among candidates with the same score, drop those with the same instructions. */
function dropDuplicates<T extends Module<any, any, any>>(candidates: Evaluated<T>[]): Evaluated<T>[] {
  const kept: Evaluated<T>[] = [];
  let batch: Evaluated<T>[] = [];
  let batchScore = -1;
  for (const candidate of candidates) {
    let repeat = false;
    if (candidate.score === batchScore) {
      repeat = batch.some((other) => sameInstructions(candidate.program, other.program));
      if (!repeat) batch.push(candidate);
    } else {
      batch = [candidate];
      batchScore = candidate.score;
    }
    if (!repeat) kept.push(candidate);
  }
  return kept;
}

function sameInstructions(a: Module<any, any, any>, b: Module<any, any, any>): boolean {
  const left = a.predictors();
  const right = b.predictors();
  return left.every((p1, i) => {
    const p2 = right[i];
    return (
      p2 !== undefined &&
      p1.signature.instructions === p2.signature.instructions &&
      fieldsEqual(lastField(p1.signature), lastField(p2.signature))
    );
  });
}
