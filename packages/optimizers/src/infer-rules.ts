import {
  ChainOfThought,
  context,
  type Example,
  getSetting,
  LMError,
  type Module,
  type Settings,
  Signature,
} from '@dspy-ts/core';
import {
  type BootstrapConfig,
  type BootstrapFewShotOptions,
  bootstrapConfig,
  estimateBootstrap,
  runBootstrapFewShot,
} from './bootstrap-few-shot.ts';
import type { CompileContext } from './compile-context.ts';
import { evaluateCandidate } from './evaluate-candidate.ts';
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

/** Options of {@link InferRules}: its own, plus every BootstrapFewShot option. */
export interface InferRulesOptions extends BootstrapFewShotOptions {
  /** Candidate rule sets to induce and score. Default 10. */
  numCandidates?: number;
  /** Rules asked for per predictor. Default 10. */
  numRules?: number;
  /** Examples evaluated at the same time. Default: the `numThreads` setting. */
  numThreads?: number;
}

/** The signature that induces rules from examples (DSPy's `CustomRulesInduction`). */
export function rulesInductionSignature(numRules: number): Signature {
  return Signature.fromFields(
    {
      examples_text: { kind: 'input', desc: 'Text containing examples' },
      natural_language_rules: { kind: 'output', desc: 'Induced natural language rules' },
    },
    `Given a set of examples, extract a list of ${numRules} concise and non-redundant natural language rules that ` +
      'provide clear guidance for performing the task. All rules should be actionable for a well-specified scope of ' +
      'examples of this general kind of task.',
  );
}

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** DSPy's `format_examples`: `Input Fields:` / `=========` / `Output Fields:` blocks, one per example. */
export function formatRuleExamples(demos: readonly Record<string, unknown>[], signature: Signature): string {
  const inputs = new Set(signature.inputFields.map((f) => f.name));
  const outputs = new Set(signature.outputFields.map((f) => f.name));
  let text = '';
  for (const demo of demos) {
    const entries = Object.entries(demo);
    const inputText = entries
      .filter(([k]) => inputs.has(k))
      .map(([k, v]) => `${k}: ${valueText(v)}`)
      .join('\n');
    const outputText = entries
      .filter(([k]) => outputs.has(k))
      .map(([k, v]) => `${k}: ${valueText(v)}`)
      .join('\n');
    text += `Input Fields:\n${inputText}\n\n=========\nOutput Fields:\n${outputText}\n\n`;
  }
  return text;
}

function isContextOverflow(error: unknown): boolean {
  if (LMError.isInstance(error) && error.kind === 'context_window_exceeded') return true;
  const text = String(error instanceof Error ? error.message : error).toLowerCase();
  return text.includes('prompt is too long') || text.includes('context length');
}

/**
 * Bootstraps demos, then induces natural-language rules from the training examples and appends them to each
 * predictor's instructions (DSPy's `InferRules`): `numCandidates` rule sets are induced (with a fresh rollout at
 * temperature 1 each) and scored on the valset, and the best program is returned. Without a valset the trainset is
 * split in half (first half for bootstrapping and rules, second half for scoring).
 *
 * @example
 * ```ts
 * const compiled = await new InferRules({ metric, numCandidates: 3 }).compile(program, { trainset });
 * ```
 */
export class InferRules extends Teleprompter {
  /** The optimizer's name. */
  readonly name = 'InferRules';
  /** Candidate rule sets. */
  readonly numCandidates: number;
  /** Rules per predictor. */
  readonly numRules: number;
  /** Evaluation concurrency. */
  readonly numThreads: number | undefined;
  /** The bootstrap step's configuration. */
  readonly config: BootstrapConfig;

  constructor(options: InferRulesOptions = {}) {
    super();
    const { numCandidates, numRules, numThreads, ...bootstrap } = options;
    this.numCandidates = numCandidates ?? 10;
    this.numRules = numRules ?? 10;
    this.numThreads = numThreads;
    this.config = bootstrapConfig(bootstrap);
  }

  private split(options: Pick<CompileOptions, 'trainset' | 'valset'>): [readonly Example[], readonly Example[]] {
    if (options.valset !== undefined) return [options.trainset, options.valset];
    const half = Math.floor(0.5 * options.trainset.length);
    return [options.trainset.slice(0, half), options.trainset.slice(half)];
  }

  protected override async run<T extends Module<any, any, any>>(
    student: T,
    options: CompileOptions,
    ctx: CompileContext,
  ): Promise<CompileOutcome<T>> {
    const metric = this.config.metric;
    if (typeof metric !== 'function') throw new OptimizerError('InferRules needs a metric to score rule sets.');
    const [trainset, valset] = this.split(options);
    if (valset.length === 0) {
      throw new OptimizerError(
        'InferRules needs validation examples: pass a valset, or a trainset of at least 2 examples to split.',
      );
    }
    const compiled = await runBootstrapFewShot(student, trainset, options.teacher, this.config, ctx.child('', true));
    const original = compiled.deepCopy();
    const instructions = original.predictors().map((p) => p.signature.instructions);
    const rng = new SeededRandom(this.config.seed);
    const induction = new ChainOfThought(rulesInductionSignature(this.numRules));
    const settings: Partial<Settings> = { ...this.config.teacherSettings };
    if (settings.lm) settings.lm = ctx.lm(settings.lm);

    let best: T | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    ctx.startLoop(this.numCandidates, 'candidates');
    for (let c = 0; c < this.numCandidates; c++) {
      const candidate = original.deepCopy();
      for (const [i, predictor] of candidate.predictors().entries()) {
        const signature = predictor.signature.withInstructions(instructions[i] as string);
        // Drawn outside the unit so the generator advances identically when a unit is replayed.
        const rolloutId = rng.randint(0, 10 ** 9);
        const rules = await ctx.unit<string>(`rules/${c}/${i}`, () =>
          this.induceRules(induction, signature, trainset, rolloutId, settings, ctx),
        );
        predictor.signature = signature.withInstructions(
          `${signature.instructions}\n\nPlease adhere to the following rules when making your prediction:\n${rules}`,
        );
      }
      const { score } = await evaluateCandidate(candidate, valset, metric, ctx, `eval/${c}`, {
        ...(this.config.maxErrors === undefined ? {} : { maxErrors: this.config.maxErrors }),
        ...(this.numThreads === undefined ? {} : { numThreads: this.numThreads }),
      });
      if (score > bestScore) {
        bestScore = score;
        best = candidate;
      }
      ctx.advance('candidate', { bestScore, label: `rule set ${c + 1}` });
    }
    return { program: best ?? original, ...(best ? { score: bestScore } : {}) };
  }

  private async induceRules(
    induction: ChainOfThought,
    signature: Signature,
    trainset: readonly Example[],
    rolloutId: number,
    settings: Partial<Settings>,
    ctx: CompileContext,
  ): Promise<string> {
    const keys = new Set(signature.fields.map((f) => f.name));
    let demos = trainset.map((example) => Object.fromEntries(example.items().filter(([key]) => keys.has(key))));
    return context(settings, async () => {
      const lm = getSetting('lm');
      const fresh = lm?.withDefaults ? lm.withDefaults({ rolloutId, temperature: 1 }) : lm;
      for (;;) {
        try {
          const prediction = await context({ lm: fresh }, () =>
            induction.call({ examples_text: formatRuleExamples(demos, signature) }, { signal: ctx.signal }),
          );
          return String(prediction.natural_language_rules ?? '').trim();
        } catch (error) {
          if (!isContextOverflow(error)) throw error;
          if (demos.length <= 1) {
            throw new OptimizerError(
              "Failed to generate natural language rules since a single example couldn't fit in the model's " +
                'context window.',
              { cause: error },
            );
          }
          demos = demos.slice(0, -1);
        }
      }
    });
  }

  /** Projects bootstrap calls, one rule-induction call per predictor and candidate, and the valset evaluations. */
  override estimate(student: Module<any, any, any>, options: EstimateOptions): CompileEstimate {
    const [trainset, valset] = this.split(options);
    const perRun = callsPerRun(student, options);
    const predictors = student.predictors().length;
    const rules = this.numCandidates * predictors;
    const evaluations = this.numCandidates * valset.length * perRun;
    return makeEstimate(
      this.name,
      [
        {
          step: 'bootstrap teacher traces',
          ...estimateBootstrap(
            trainset.length,
            this.config.maxBootstrappedDemos,
            this.config.maxRounds,
            callsPerRun(options.teacher ?? student, options),
          ),
        },
        { step: 'induce rules', minLmCalls: rules, maxLmCalls: rules },
        { step: 'evaluate rule sets on the valset', minLmCalls: evaluations, maxLmCalls: evaluations },
      ],
      [`${perRun} LM call(s) per program run`, 'no context-window retries and no cache hits'],
    );
  }
}
