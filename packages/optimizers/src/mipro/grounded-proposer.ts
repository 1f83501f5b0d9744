import type { Demo, Example, LanguageModelV1, Module } from '@dspy-ts/core';
import type { CompileContext } from '../compile-context.ts';
import type { SeededRandom } from '../random.ts';
import { callPromptModel, errorMessage } from './call-prompt-model.ts';
import { createDatasetSummary } from './dataset-summary.ts';
import { createExampleString, isAugmented, moduleCode, programSourceCode, stripPrefix } from './proposal-text.ts';
import {
  DescribeModule,
  DescribeProgram,
  generateInstructionSignature,
  TIPS,
  type TipName,
} from './proposer-signatures.ts';

/** Options of {@link GroundedProposer} (DSPy's arguments, camelCased; the MIPROv2 `*Proposer` switches map here). */
export interface GroundedProposerOptions {
  /** The LM that writes the summary, the descriptions and the instructions. */
  promptModel: LanguageModelV1;
  /** The program whose predictors get instructions. */
  program: Module<any, any, any>;
  /** Training examples, for the dataset summary. */
  trainset: readonly Example[];
  /** Seeded generator for tips and rollout ids (shared with the optimizer, so draws stay reproducible). */
  rng: SeededRandom;
  /** Examples per dataset-summary call. Default 10. */
  viewDataBatchSize?: number;
  /** Describe the program and the predictor to the prompt model (`programAwareProposer`). Default true. */
  programAware?: boolean;
  /** Summarize the trainset for the prompt model (`dataAwareProposer`). Default true. */
  useDatasetSummary?: boolean;
  /** Show bootstrapped demos to the prompt model (`fewshotAwareProposer`). Default true. */
  useTaskDemos?: boolean;
  /** Bootstrapped demos shown per proposal. Default 3. */
  numDemosInContext?: number;
  /** Draw a random tip from {@link TIPS} for every proposal (`tipAwareProposer`). Default true. */
  useTip?: boolean;
  /** Temperature of the proposal calls. Default 1. */
  initTemperature?: number;
}

/** One generated instruction and how it was prompted. */
export interface InstructionProposal {
  /** The instruction, label prefix and quotes stripped. */
  instruction: string;
  /** The tip drawn for it (`none` when tips are on but the empty one was drawn); absent when tips are off. */
  tip?: TipName;
  /** The rollout id of the prompt-model copy that wrote it. */
  rolloutId?: number;
}

/**
 * DSPy's `GroundedProposer`: writes instruction candidates for each predictor, grounded in a summary of the
 * trainset, a description of the program and of the predictor's role, up to three bootstrapped demos of the
 * predictor (from the matching demo set first, then the following ones), and a randomly drawn prompting tip. Every
 * proposal uses a fresh copy of the prompt model (`withDefaults({ rolloutId, temperature: initTemperature })`) so
 * caches never return an earlier sample. Each proposal (up to three calls: describe program, describe module,
 * generate) is one checkpointed unit.
 *
 * @example
 * ```ts
 * const proposer = await GroundedProposer.create({ promptModel, program, trainset, rng }, ctx);
 * const candidates = await proposer.proposeInstructionsForProgram(demoCandidates, 3, ctx);
 * ```
 */
export class GroundedProposer {
  /** The resolved options. */
  readonly options: Required<Omit<GroundedProposerOptions, 'promptModel' | 'program' | 'trainset' | 'rng'>>;
  /** The program source shown to the prompt model (when program-aware). */
  readonly programCode: string;

  private constructor(
    private readonly source: GroundedProposerOptions,
    /** The dataset summary, when one was made. */
    readonly dataSummary: string | undefined,
  ) {
    this.options = {
      viewDataBatchSize: source.viewDataBatchSize ?? 10,
      programAware: source.programAware ?? true,
      useDatasetSummary: dataSummary !== undefined,
      useTaskDemos: source.useTaskDemos ?? true,
      numDemosInContext: source.numDemosInContext ?? 3,
      useTip: source.useTip ?? true,
      initTemperature: source.initTemperature ?? 1,
    };
    this.programCode = programSourceCode(source.program);
  }

  /**
   * Prepares a proposer: summarizes the trainset first when `useDatasetSummary` (a failing summary is reported and
   * the proposer goes on without it, as DSPy does).
   */
  static async create(options: GroundedProposerOptions, ctx: CompileContext): Promise<GroundedProposer> {
    let summary: string | undefined;
    if (options.useDatasetSummary ?? true) {
      try {
        summary = await createDatasetSummary(
          options.trainset,
          options.viewDataBatchSize ?? 10,
          options.promptModel,
          ctx,
        );
      } catch (error) {
        ctx.throwIfAborted();
        console.warn(`Error getting data summary: ${errorMessage(error)}. Running without data aware proposer.`);
      }
    }
    return new GroundedProposer(options, summary);
  }

  /**
   * Proposes `min(n, number of demo sets)` instructions per predictor (`n` without demo sets): entry `j` is grounded
   * in demo set `j`. With `keepOriginalFirst` (MIPROv2's use) entry 0 is the predictor's current instruction and
   * costs no call — DSPy generates it and then overwrites it.
   *
   * @param demoCandidates `demoCandidates[predictor][set]`: the demo sets, or `null` when there are none.
   */
  async proposeInstructionsForProgram(
    demoCandidates: readonly (readonly (readonly Demo[])[])[] | null,
    n: number,
    ctx: CompileContext,
    keepOriginalFirst = false,
  ): Promise<InstructionProposal[][]> {
    const numDemoSets = demoCandidates && demoCandidates.length > 0 ? Math.max(demoCandidates[0]?.length ?? 0, 1) : n;
    const count = Math.min(n, numDemoSets);
    const proposals: InstructionProposal[][] = [];
    for (const [p, predictor] of this.source.program.predictors().entries()) {
      const own: InstructionProposal[] = [];
      for (let set = 0; set < count; set++) {
        if (keepOriginalFirst && set === 0) {
          own.push({ instruction: predictor.signature.instructions });
          continue;
        }
        own.push(await this.proposeInstructionForPredictor(p, set, demoCandidates, ctx));
        ctx.progress.note('propose', `instruction ${set} of predictor ${p}`);
      }
      proposals.push(own);
    }
    return proposals;
  }

  /** One proposal for predictor `p`, grounded in demo set `set`: a checkpointed unit `propose/<p>/<set>`. */
  async proposeInstructionForPredictor(
    p: number,
    set: number,
    demoCandidates: readonly (readonly (readonly Demo[])[])[] | null,
    ctx: CompileContext,
  ): Promise<InstructionProposal> {
    const o = this.options;
    const rng = this.source.rng;
    // Drawn outside the unit so that a resumed compile advances the generator identically.
    const tip = o.useTip ? rng.choice(Object.keys(TIPS) as TipName[]) : undefined;
    const rolloutId = rng.randint(0, 10 ** 9);
    const base = this.source.promptModel;
    const lm = base.withDefaults ? base.withDefaults({ rolloutId, temperature: o.initTemperature }) : base;
    const instruction = await ctx.unit<string>(`propose/${p}/${set}`, () =>
      this.generate(lm, p, set, demoCandidates, tip === undefined ? '' : TIPS[tip], ctx),
    );
    return { instruction, ...(tip === undefined ? {} : { tip }), rolloutId };
  }

  private taskDemos(p: number, set: number, demoCandidates: readonly (readonly (readonly Demo[])[])[] | null): string {
    let text = '';
    const sets = demoCandidates?.[p];
    if (this.options.useTaskDemos && sets && sets.length > 0) {
      const predictor = this.source.program.predictors()[p];
      const ordered = [sets[set] ?? [], ...sets.slice(set + 1), ...sets.slice(0, set)];
      const strings: string[] = [];
      for (const demos of ordered) {
        for (const demo of demos) {
          if (strings.length >= this.options.numDemosInContext) break;
          if (isAugmented(demo) && predictor) strings.push(createExampleString(predictor.signature, demo));
        }
      }
      text = `${strings.join('\n\n')}\n\n`;
    }
    // The first set is the zero-shot one: DSPy shows no demos for it.
    return text.trim() === '' || set === 0 ? 'No task demos provided.' : text;
  }

  private async generate(
    lm: LanguageModelV1,
    p: number,
    set: number,
    demoCandidates: readonly (readonly (readonly Demo[])[])[] | null,
    tip: string,
    ctx: CompileContext,
  ): Promise<string> {
    const predictor = this.source.program.predictors()[p];
    if (!predictor) throw new RangeError(`The program has no predictor ${p}.`);
    const taskDemos = this.taskDemos(p, set, demoCandidates);
    let programDescription = 'Not available';
    let module = 'Not provided';
    let moduleDescription = 'Not provided';
    if (this.options.programAware) {
      try {
        const described = await callPromptModel(
          lm,
          DescribeProgram,
          { program_code: this.programCode, program_example: taskDemos },
          ctx,
        );
        programDescription = stripPrefix(String(described.program_description ?? ''));
        module = moduleCode(predictor);
        const moduleOut = await callPromptModel(
          lm,
          DescribeModule,
          {
            program_code: this.programCode,
            program_example: taskDemos,
            program_description: programDescription,
            module,
          },
          ctx,
        );
        moduleDescription = String(moduleOut.module_description ?? '');
      } catch (error) {
        ctx.throwIfAborted();
        console.warn(
          `Error getting program description: ${errorMessage(error)}. Proposing without the program description.`,
        );
      }
    }
    const signature = generateInstructionSignature({
      useDatasetSummary: this.options.useDatasetSummary,
      programAware: this.options.programAware,
      useInstructHistory: false,
      useTip: tip !== '',
    });
    const values: Record<string, unknown> = {
      dataset_description: this.dataSummary,
      program_code: this.programCode,
      program_description: programDescription,
      module,
      module_description: moduleDescription,
      task_demos: taskDemos,
      basic_instruction: predictor.signature.instructions,
      tip,
    };
    const inputs = Object.fromEntries(signature.inputFields.map((field) => [field.name, values[field.name]]));
    const out = await callPromptModel(lm, signature, inputs, ctx);
    return stripPrefix(String(out.proposed_instruction ?? ''));
  }
}
