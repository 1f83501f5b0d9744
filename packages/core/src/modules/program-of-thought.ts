import { pythonJsonDumps } from '../adapters/python-text.ts';
import { DspyError } from '../errors.ts';
import type { LanguageModelV1 } from '../lm/spec.ts';
import type { Prediction } from '../primitives/prediction.ts';
import { runInSandbox, type SandboxOptions } from '../sandbox/run-in-sandbox.ts';
import type { Field } from '../signature/field.ts';
import { createField, Signature } from '../signature/signature.ts';
import { ChainOfThought } from './chain-of-thought.ts';
import { Module, type ModuleCallOptions } from './module.ts';
import type { PredictCallOptions } from './predict.ts';

/** Options of {@link ProgramOfThought}. */
export interface ProgramOfThoughtOptions {
  /** Code generation attempts before giving up (the first try plus regenerations). Default 3. */
  maxIters?: number;
  /** Time limit of each code run, in milliseconds (default 1000). */
  timeoutMs?: number;
  /** Heap limit of each code run, in bytes (default 32 MiB). */
  memoryLimitBytes?: number;
}

/** Per-call options of {@link ProgramOfThought}. */
export interface ProgramOfThoughtCallOptions extends ModuleCallOptions {
  /** LM for this call's three predictors. */
  lm?: LanguageModelV1;
}

type Mode = 'generate' | 'regenerate' | 'answer';

const CODE_DESC = 'JavaScript code that answers the question';

/**
 * Solves a task by writing and running a program (DSPy's `dspy.ProgramOfThought`, with JavaScript in place of
 * Python). Three chain-of-thought predictors:
 *
 * 1. `codeGenerate` writes `generated_code`;
 * 2. the code runs in the QuickJS sandbox ({@link runInSandbox}: time and memory limits, no `process`,
 *    `require`, `import`, network or filesystem); on failure `codeRegenerate` sees `previous_code` and `error`
 *    and writes a fix, up to `maxIters` attempts in all;
 * 3. `generateOutput` sees `final_generated_code` and `code_output` and produces the signature's outputs.
 *
 * The program reports its result by calling `SUBMIT(value)` (preferred; the instructions ask for it) or, failing
 * that, through its last expression. The result is shown to the final step as JSON.
 *
 * Needs the optional package `quickjs-emscripten`.
 *
 * @example
 * ```ts
 * const pot = new ProgramOfThought('question -> answer: int', { timeoutMs: 500 });
 * const { answer } = await pot.call({ question: 'What is the sum of the first 100 primes?' });
 * ```
 */
export class ProgramOfThought<
  I extends Record<string, unknown> = Record<string, unknown>,
  O extends Record<string, unknown> = Record<string, unknown>,
> extends Module<I, Prediction<{ reasoning: string } & O>, ProgramOfThoughtCallOptions> {
  /** The task signature. */
  signature: Signature<I, O>;
  /** Code generation attempts per call. */
  maxIters: number;
  /** Limits for each code run. */
  sandboxOptions: Pick<SandboxOptions, 'timeoutMs' | 'memoryLimitBytes'>;
  /** Writes the first program. */
  codeGenerate: ChainOfThought;
  /** Rewrites a program that failed, given its error. */
  codeRegenerate: ChainOfThought;
  /** Produces the outputs from the program and its result. */
  generateOutput: ChainOfThought;

  /**
   * @param signature The task, e.g. `'question -> answer'`.
   * @param options Attempts and sandbox limits.
   */
  constructor(signature: Signature<I, O> | string, options: ProgramOfThoughtOptions = {}) {
    super();
    this.signature = Signature.from(signature as Signature | string) as Signature<I, O>;
    this.maxIters = options.maxIters ?? 3;
    this.sandboxOptions = {
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.memoryLimitBytes !== undefined ? { memoryLimitBytes: options.memoryLimitBytes } : {}),
    };
    this.codeGenerate = new ChainOfThought(this.modeSignature('generate'));
    this.codeRegenerate = new ChainOfThought(this.modeSignature('regenerate'));
    this.generateOutput = new ChainOfThought(this.modeSignature('answer'));
  }

  private modeFields(mode: Mode): Field[] {
    const generated = createField('generated_code', { kind: 'output', prefix: 'Code:', desc: CODE_DESC });
    const byMode: Record<Mode, Field[]> = {
      generate: [generated],
      regenerate: [
        createField('previous_code', {
          kind: 'input',
          prefix: 'Previous Code:',
          desc: 'previously-generated JavaScript code that errored',
        }),
        createField('error', {
          kind: 'input',
          prefix: 'Error:',
          desc: 'error message from previously-generated JavaScript code',
        }),
        generated,
      ],
      answer: [
        createField('final_generated_code', { kind: 'input', prefix: 'Code:', desc: CODE_DESC }),
        createField('code_output', {
          kind: 'input',
          prefix: 'Code Output:',
          desc: 'output of previously-generated JavaScript code',
        }),
        ...this.signature.outputFields,
      ],
    };
    return [...this.signature.inputFields, ...byMode[mode]];
  }

  private modeSignature(mode: Mode): Signature {
    const fields = this.modeFields(mode);
    const names = (kind: 'input' | 'output') =>
      fields
        .filter((f) => f.kind === kind)
        .map((f) => `\`${f.name}\``)
        .join(', ');
    const modeInputs = names('input');
    const modeOutputs = names('output');
    const finalOutputs = this.signature.outputFields.map((f) => `\`${f.name}\``).join(', ');
    const instructions: Record<Mode, string[]> = {
      generate: [
        `You will be given ${modeInputs} and you will respond with ${modeOutputs}.`,
        `Generating executable JavaScript code that programmatically computes the correct ${modeOutputs}.`,
        "After you're done with the computation and think you have the answer, make sure to provide your answer by calling the preloaded function `SUBMIT()`.",
        `You should structure your answer in an object, like {"field_a": answer_a, ...}, that evaluates to the correct value mapping for ${finalOutputs}.`,
        'The code runs in a sandboxed JavaScript interpreter with only the standard built-ins: there is no `require`, `import`, `process`, `fetch`, timers, network or filesystem.',
      ],
      regenerate: [
        `You are given ${modeInputs} due to an error in previous code.`,
        'Your task is to correct the error and provide the new `generated_code`.',
      ],
      answer: [`Given the final code ${modeInputs}, provide the final ${modeOutputs}.`],
    };
    return new Signature(fields, instructions[mode].join('\n'));
  }

  /**
   * Generates, runs and (on error) regenerates code, then produces the outputs.
   *
   * @throws {DspyError} (`invalid_argument`) "Max hops reached. Failed to run ProgramOfThought: …" when every
   *   attempt failed.
   */
  override async forward(
    inputs: I,
    options: ProgramOfThoughtCallOptions = {},
  ): Promise<Prediction<{ reasoning: string } & O>> {
    const { signal, lm } = options;
    const callOptions: PredictCallOptions = { ...(signal ? { signal } : {}), ...(lm ? { lm } : {}) };
    const inputKwargs: Record<string, unknown> = {};
    for (const field of this.signature.inputFields)
      inputKwargs[field.name] = (inputs as Record<string, unknown>)[field.name];

    let codeData = await this.codeGenerate.call(inputKwargs, callOptions);
    let { code, error } = parseCode(codeData.get('generated_code'));
    let output: string | undefined;
    if (error === undefined) ({ output, error } = await this.executeCode(code, signal));
    let hop = 1;
    while (error !== undefined) {
      if (hop >= this.maxIters) {
        throw new DspyError('invalid_argument', `Max hops reached. Failed to run ProgramOfThought: ${error}`);
      }
      codeData = await this.codeRegenerate.call({ ...inputKwargs, previous_code: code, error }, callOptions);
      ({ code, error } = parseCode(codeData.get('generated_code')));
      if (error === undefined) ({ output, error } = await this.executeCode(code, signal));
      hop += 1;
    }
    const answer = await this.generateOutput.call(
      { ...inputKwargs, final_generated_code: code, code_output: output },
      callOptions,
    );
    return answer as unknown as Prediction<{ reasoning: string } & O>;
  }

  private async executeCode(
    code: string,
    signal: AbortSignal | undefined,
  ): Promise<{ output?: string; error?: string }> {
    if (!code) return { error: 'Error: Empty code before execution.' };
    const result = await runInSandbox(code, { ...this.sandboxOptions, ...(signal ? { signal } : {}) });
    if (result.ok) return { output: pythonJsonDumps(result.value) };
    if (result.kind === 'aborted') signal?.throwIfAborted();
    return { error: result.error };
  }
}

const FENCE = /```(?:javascript|js|typescript|ts)?[ \n]([\s\S]*?)[ \n]```?/;
const LAST_ASSIGNMENT = /^(?:(?:const|let|var)\s+)?([A-Za-z_$][\w$]*)\s*=(?!=)/;

/**
 * DSPy's `_parse_code`, for JavaScript: keeps the text before `---` or a double blank line, takes the fenced code
 * block when there is one, turns literal `\n` sequences into newlines, and — when the program neither calls
 * `SUBMIT` nor ends in an expression but in an assignment — appends the assigned name so its value is the result.
 */
export function parseCode(generated: unknown): { code: string; error?: string } {
  const text = (typeof generated === 'string' ? generated : '').split('---', 1)[0]?.split('\n\n\n', 1)[0] ?? '';
  const match = FENCE.exec(text);
  let block = (match ? (match[1] ?? '') : text).replaceAll('\\n', '\n');
  if (!block.trim()) return { code: text, error: 'Error: Empty code after parsing.' };
  if (!block.includes('SUBMIT(')) {
    const lines = block.trimEnd().split('\n');
    const last = LAST_ASSIGNMENT.exec((lines.at(-1) ?? '').trim());
    if (last) block = `${block.trimEnd()}\n${last[1]}`;
  }
  return { code: block };
}
