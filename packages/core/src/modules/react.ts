import { ChatAdapter } from '../adapters/chat-adapter.ts';
import { makeSignatureView } from '../adapters/signature-view.ts';
import { DspyError, LMError } from '../errors.ts';
import type { LanguageModelV1 } from '../lm/spec.ts';
import { Prediction } from '../primitives/prediction.ts';
import { context, getSetting } from '../settings/settings.ts';
import { createField, Signature } from '../signature/signature.ts';
import { ChainOfThought } from './chain-of-thought.ts';
import { formatErrorForLm } from './format-error.ts';
import { Module, type ModuleCallOptions } from './module.ts';
import { NativeToolCallAdapter } from './native-tool-call-adapter.ts';
import { Predict, type PredictCallOptions } from './predict.ts';
import { Tool, type ToolFunction } from './tool.ts';

/** Options of {@link ReAct}. */
export interface ReActOptions {
  /** The tools the agent may call: `Tool`s, or named functions (wrapped in a `Tool` without arguments schema). */
  tools: readonly (Tool<any, any> | ToolFunction<any, any>)[];
  /** Maximum number of tool calls per run (default 20); overridable per call. */
  maxIters?: number;
  /**
   * Use the provider's native tool calling for the `react` step when the LM declares `capabilities.tools`:
   * the tools are sent in `LMRequest.tools` and the tool call is read from the reply's `toolCalls`. Default
   * `false` (DSPy's text protocol: `next_tool_name` / `next_tool_args` fields). LMs without the capability always
   * use the text protocol.
   */
  nativeToolCalling?: boolean;
}

/** Per-call options of {@link ReAct}. */
export interface ReActCallOptions extends ModuleCallOptions {
  /** Maximum number of tool calls for this call (DSPy's `max_iters=` keyword). */
  maxIters?: number;
  /** LM for this call's `react` and `extract` steps. */
  lm?: LanguageModelV1;
}

/** What {@link ReAct} returns: the trajectory, the extractor's reasoning and the signature's outputs. */
export type ReActOutputs<O extends Record<string, unknown>> = {
  trajectory: Record<string, unknown>;
  reasoning: string;
} & O;

const FINISH = 'finish';

/**
 * The reasoning-and-acting agent (DSPy's `dspy.ReAct`). Each step, the `react` predictor sees the inputs and the
 * trajectory so far and picks `next_thought`, `next_tool_name` (one of the tools or `finish`) and
 * `next_tool_args`; the tool runs and its result (or `Execution error in <name>: …`) is appended as
 * `observation_i`. After `finish` or `maxIters` steps, the `extract` chain of thought produces the signature's
 * outputs from the trajectory.
 *
 * When a prompt exceeds the context window (an `LMError` of kind `context_window_exceeded`) the oldest tool call
 * (four trajectory entries) is dropped and the step retried, up to three attempts.
 *
 * @example
 * ```ts
 * const search = new Tool(({ query }) => wiki.search(query), {
 *   name: 'search', description: 'Searches Wikipedia.', args: z.object({ query: z.string() }),
 * });
 * const agent = new ReAct('question -> answer', { tools: [search], maxIters: 5 });
 * const { answer, trajectory } = await agent.call({ question: 'Where was Ada Lovelace born?' });
 * ```
 */
export class ReAct<
  I extends Record<string, unknown> = Record<string, unknown>,
  O extends Record<string, unknown> = Record<string, unknown>,
> extends Module<I, Prediction<ReActOutputs<O>>, ReActCallOptions> {
  /** The task signature. */
  signature: Signature<I, O>;
  /** Default maximum number of steps. */
  maxIters: number;
  /** Whether native tool calling is used when the LM supports it. */
  nativeToolCalling: boolean;
  /** The tools by name, including `finish`. */
  tools: Record<string, Tool<any, any>>;
  /** Chooses the next thought, tool and arguments. */
  react: Predict;
  /** Produces the outputs from the trajectory. */
  extract: ChainOfThought;

  /**
   * @param signature The task, e.g. `'question -> answer'`.
   * @param options Tools and limits.
   * @throws {DspyError} (`invalid_argument`) for duplicate tool names or a tool named `finish`.
   */
  constructor(signature: Signature<I, O> | string, options: ReActOptions) {
    super();
    const base = Signature.from(signature as Signature | string) as Signature<I, O>;
    this.signature = base;
    this.maxIters = options.maxIters ?? 20;
    this.nativeToolCalling = options.nativeToolCalling ?? false;

    const tools: Record<string, Tool<any, any>> = {};
    for (const item of options.tools ?? []) {
      const tool = item instanceof Tool ? item : new Tool(item);
      if (tool.name === FINISH || Object.hasOwn(tools, tool.name)) {
        throw new DspyError(
          'invalid_argument',
          tool.name === FINISH
            ? "A tool may not be named 'finish': ReAct adds its own finish tool."
            : `Two tools are named '${tool.name}'; tool names must be unique.`,
        );
      }
      tools[tool.name] = tool;
    }

    const inputs = base.inputFields.map((f) => `\`${f.name}\``).join(', ');
    const outputs = base.outputFields.map((f) => `\`${f.name}\``).join(', ');
    const instr: string[] = base.instructions ? [`${base.instructions}\n`] : [];
    instr.push(
      `You are an Agent. In each episode, you will be given the fields ${inputs} as input. And you can see your past trajectory so far.`,
      `Your goal is to use one or more of the supplied tools to collect any necessary information for producing ${outputs}.\n`,
      'To do this, you will interleave next_thought, next_tool_name, and next_tool_args in each turn, and also when finishing the task.',
      'After each tool call, you receive a resulting observation, which gets appended to your trajectory.\n',
      'When writing next_thought, you may reason about the current situation and plan for future steps.',
      'When selecting the next_tool_name and its next_tool_args, the tool must be one of:\n',
    );
    tools[FINISH] = new Tool(() => 'Completed.', {
      name: FINISH,
      description: `Marks the task as complete. That is, signals that all information for producing the outputs, i.e. ${outputs}, are now available to be extracted.`,
      args: {},
    });
    Object.values(tools).forEach((tool, idx) => {
      instr.push(`(${idx + 1}) ${tool}`);
    });
    instr.push('When providing `next_tool_args`, the value inside the field must be in JSON format');

    const reactSignature = new Signature(
      [
        ...base.inputFields,
        createField('trajectory', { kind: 'input', type: 'str' }),
        createField('next_thought', { kind: 'output', type: 'str' }),
        createField('next_tool_name', { kind: 'output', type: { kind: 'literal', values: Object.keys(tools) } }),
        createField('next_tool_args', { kind: 'output', type: 'dict[str, Any]' }),
      ],
      instr.join('\n'),
    );
    const fallbackSignature = new Signature([...base.inputFields, ...base.outputFields], base.instructions).append(
      'trajectory',
      { kind: 'input', type: 'str' },
    );

    this.tools = tools;
    this.react = new Predict(reactSignature);
    this.extract = new ChainOfThought(fallbackSignature);
  }

  /** Runs the agent loop, then the extractor. */
  override async forward(inputs: I, options: ReActCallOptions = {}): Promise<Prediction<ReActOutputs<O>>> {
    const trajectory: Record<string, unknown> = {};
    const maxIters = options.maxIters ?? this.maxIters;
    const { signal, lm } = options;
    const callOptions: PredictCallOptions = { ...(signal ? { signal } : {}), ...(lm ? { lm } : {}) };
    for (let idx = 0; idx < maxIters; idx++) {
      let pred: Prediction;
      try {
        pred = await this.callWithPotentialTrajectoryTruncation('react', trajectory, inputs, callOptions);
      } catch (error) {
        // DSPy ends the run on a ValueError from the step (e.g. a trajectory that cannot be truncated further).
        if (DspyError.isInstance(error) && error.code === 'invalid_argument') {
          console.warn(`Ending the trajectory: Agent failed to select a valid tool: ${formatErrorForLm(error)}`);
          break;
        }
        throw error;
      }
      const toolName = pred.get('next_tool_name') as string;
      const toolArgs = pred.get('next_tool_args');
      trajectory[`thought_${idx}`] = pred.get('next_thought');
      trajectory[`tool_name_${idx}`] = toolName;
      trajectory[`tool_args_${idx}`] = toolArgs;
      try {
        const tool = this.tools[toolName];
        if (tool === undefined) {
          throw new DspyError(
            'invalid_argument',
            `There is no tool named '${toolName}'. The tools are: ${Object.keys(this.tools).join(', ')}.`,
          );
        }
        trajectory[`observation_${idx}`] = await tool.call(
          (toolArgs ?? {}) as Record<string, unknown>,
          signal ? { signal } : {},
        );
      } catch (error) {
        if (signal?.aborted) throw error;
        trajectory[`observation_${idx}`] = `Execution error in ${toolName}: ${formatErrorForLm(error)}`;
      }
      if (toolName === FINISH) break;
    }
    const extracted = await this.callWithPotentialTrajectoryTruncation('extract', trajectory, inputs, callOptions);
    return new Prediction({ trajectory, ...extracted.toDict() }) as unknown as Prediction<ReActOutputs<O>>;
  }

  /**
   * Drops the oldest tool call (the first four trajectory entries) in place so the prompt fits the context
   * window. Override to truncate differently.
   *
   * @throws {DspyError} (`invalid_argument`) when fewer than four entries are left.
   */
  truncateTrajectory(trajectory: Record<string, unknown>): Record<string, unknown> {
    const keys = Object.keys(trajectory);
    if (keys.length < 4) {
      throw new DspyError(
        'invalid_argument',
        'The trajectory is too long so your prompt exceeded the context window, but the trajectory cannot be ' +
          'truncated because it only has one tool call.',
      );
    }
    for (const key of keys.slice(0, 4)) delete trajectory[key];
    return trajectory;
  }

  /** Renders the trajectory as the adapter renders input fields (`[[ ## thought_0 ## ]]` blocks for ChatAdapter). */
  formatTrajectory(trajectory: Record<string, unknown>): string {
    const adapter = getSetting('adapter') ?? new ChatAdapter();
    const fields = Object.keys(trajectory).map((key) => createField(key, { kind: 'input' }));
    const view = makeSignatureView(fields, [createField('x', { kind: 'output' })], '');
    return adapter.formatUserMessageContent(view, trajectory);
  }

  private async callWithPotentialTrajectoryTruncation(
    step: 'react' | 'extract',
    trajectory: Record<string, unknown>,
    inputs: I,
    options: PredictCallOptions,
  ): Promise<Prediction> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const stepInputs = { ...inputs, trajectory: this.formatTrajectory(trajectory) };
      try {
        if (step === 'extract') return await this.extract.call(stepInputs, options);
        return await this.callReact(stepInputs, options);
      } catch (error) {
        if (!(LMError.isInstance(error) && error.kind === 'context_window_exceeded')) throw error;
        console.warn('Trajectory exceeded the context window, truncating the oldest tool call information.');
        lastError = error;
        this.truncateTrajectory(trajectory);
      }
    }
    throw lastError;
  }

  private callReact(inputs: Record<string, unknown>, options: PredictCallOptions): Promise<Prediction> {
    const lm = options.lm ?? this.react.lm ?? getSetting('lm');
    if (!this.nativeToolCalling || lm?.capabilities?.tools !== true) return this.react.call(inputs, options);
    const adapter = new NativeToolCallAdapter(getSetting('adapter') ?? new ChatAdapter());
    const tools = Object.values(this.tools).map((tool) => tool.toDefinition());
    return context({ adapter }, () =>
      this.react.call(inputs, { ...options, config: { ...options.config, tools, toolChoice: 'required' } }),
    );
  }
}
