import { z } from 'zod';
import { ChatAdapter } from '../adapters/chat-adapter.ts';
import { ConfigurationError, DspyError, StateError } from '../errors.ts';
import type { LanguageModelV1, LMRequest } from '../lm/spec.ts';
import { isLanguageModel } from '../lm/spec.ts';
import { trackUsage } from '../lm/usage.ts';
import { Example } from '../primitives/example.ts';
import { Prediction } from '../primitives/prediction.ts';
import { getSetting } from '../settings/settings.ts';
import { Signature } from '../signature/signature.ts';
import { annotationName, validateValue } from '../signature/type-node.ts';
import { formatStatePath } from '../state/state-path.ts';
import { Module, type ModuleCallOptions, PREDICTOR } from './module.ts';
import { PARAMETER, type Parameter } from './parameter.ts';

/** Request options a predictor sends with every call (DSPy's `**config`), e.g. `{ n: 3, temperature: 0.7 }`. */
export type PredictConfig = Partial<Omit<LMRequest, 'messages' | 'signal'>>;

/** A demonstration: an `Example` or a plain object of field values (loaded demos are plain objects, as in DSPy). */
export type Demo = Pick<Example, 'toDict'> | Record<string, unknown>;

/** Per-call options of {@link Predict.call} (DSPy's privileged keyword arguments). */
export interface PredictCallOptions extends ModuleCallOptions {
  /** LM for this call only; wins over the predictor's `lm` and the configured one. */
  lm?: LanguageModelV1;
  /** Request options merged over the predictor's `config`. */
  config?: PredictConfig;
  /** Demos for this call only, instead of the predictor's `demos`. */
  demos?: readonly Demo[];
  /** Signature for this call only. */
  signature?: Signature | string;
}

/** The validated result of {@link Predict.parseState}. */
export interface PredictParsedState {
  /** Saved traces. */
  traces: unknown[];
  /** Saved training data. */
  train: unknown[];
  /** Demos, as plain objects. */
  demos: Record<string, unknown>[];
  /** The predictor's signature with the saved instructions, prefixes and descriptions applied. */
  signature: Signature;
  /** The saved LM state, kept as data. */
  lmState: Record<string, unknown> | null;
}

const predictStateSchema = z.object({
  traces: z.array(z.unknown()).optional(),
  train: z.array(z.unknown()).optional(),
  demos: z.array(z.record(z.string(), z.unknown())),
  signature: z.object({
    instructions: z.string(),
    fields: z.array(z.object({ prefix: z.string(), description: z.string() })),
  }),
  lm: z.record(z.string(), z.unknown()).nullable().optional(),
  extended_signature: z.unknown().optional(),
});

const NO_LM_MESSAGE =
  'No LM is loaded. Please configure the LM using `configure({ lm })` with an object implementing LanguageModelV1 ' +
  '(for example one from `@dspy-ts/lm-adapters`), pass one per call with `predict.call(inputs, { lm })`, ' +
  'or set `predict.lm`.';

function toPlainDemo(demo: Demo): Record<string, unknown> {
  return demo instanceof Example
    ? (demo.toDict() as Record<string, unknown>)
    : { ...(demo as Record<string, unknown>) };
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null || value instanceof Example;
}

/**
 * The basic predictor: formats the inputs with the adapter, calls the LM and parses the reply into the signature's
 * output fields (DSPy's `dspy.Predict`).
 *
 * LM resolution per call: `options.lm` → `this.lm` → `settings.lm`. With `n > 1` and a temperature that is unset
 * or ≤ 0.15, the temperature is raised to 0.7 (DSPy's rule, so the samples differ).
 *
 * @example
 * ```ts
 * const qa = new Predict('question -> answer');
 * const pred = await qa.call({ question: 'What is the capital of France?' }, { lm });
 * pred.answer; // 'Paris'
 * ```
 */
export class Predict<
    I extends Record<string, unknown> = Record<string, unknown>,
    O extends Record<string, unknown> = Record<string, unknown>,
  >
  extends Module<I, Prediction<O>, PredictCallOptions>
  implements Parameter<PredictParsedState>
{
  /** Parameter brand. */
  readonly [PARAMETER] = true as const;
  /** Predictor brand. */
  readonly [PREDICTOR] = true as const;
  /** The task: input and output fields plus instructions. */
  signature: Signature;
  /** Request options sent with every call. */
  config: PredictConfig;
  /** This predictor's own LM; `null` defers to the configured one. */
  lm: LanguageModelV1 | null = null;
  /** Demonstrations shown to the LM before the current input. */
  demos: Demo[] = [];
  /** Saved traces (kept for DSPy state compatibility). */
  traces: unknown[] = [];
  /** Saved training data (kept for DSPy state compatibility). */
  train: unknown[] = [];
  /**
   * LM state loaded from a saved program, kept as plain data (never used to instantiate a class). Written back by
   * {@link Predict.dumpState} while `lm` is unset, so loading and saving preserves it.
   */
  lmState: Record<string, unknown> | null = null;

  /**
   * @param signature A `Signature` or a signature string like `'question -> answer'`.
   * @param config Request options for every call, e.g. `{ temperature: 0.7, n: 3 }`.
   */
  constructor(signature: Signature<I, O> | string, config: PredictConfig = {}) {
    super();
    this.signature = Signature.from(signature as Signature | string);
    this.config = { ...config };
  }

  /** Forgets learned state: LM, demos, traces and training data. */
  reset(): void {
    this.lm = null;
    this.lmState = null;
    this.demos = [];
    this.traces = [];
    this.train = [];
  }

  /**
   * Runs the predictor once. Inputs must be an object keyed by the signature's input fields; missing ones are filled
   * from field defaults (with a warning when still missing).
   */
  override async forward(inputs: I, options: PredictCallOptions = {}): Promise<Prediction<O>> {
    if (!isPlainRecord(inputs)) {
      const names = this.signature.inputFields.map((f) => `'${f.name}'`).join(', ');
      throw new DspyError(
        'invalid_argument',
        `Predict must be called with an object of named inputs that match the signature input fields: ${names}. ` +
          `For example: \`predict.call({ ${this.signature.inputFields[0]?.name ?? 'input'}: inputValue })\`.`,
      );
    }
    const signature = options.signature === undefined ? this.signature : Signature.from(options.signature);
    const demos = (options.demos ?? this.demos).map(toPlainDemo);
    const config: PredictConfig = { ...this.config, ...options.config };

    const lm = options.lm ?? this.lm ?? getSetting('lm');
    if (lm === null || lm === undefined) throw new ConfigurationError(NO_LM_MESSAGE);
    if (!isLanguageModel(lm)) {
      throw new ConfigurationError(
        `Expected the LM to be an object implementing LanguageModelV1 (specificationVersion 'v1' and a generate() ` +
          `method), found ${typeof lm === 'string' ? `the string "${lm}"` : typeof lm}. Create an LM object first.`,
      );
    }

    // DSPy's rule: several samples at (near-)zero temperature would all be identical. `||` mirrors Python's `or`.
    const temperature = config.temperature || lm.defaults?.temperature;
    const n = config.n || lm.defaults?.n || 1;
    if (n > 1 && (temperature === undefined || temperature <= 0.15)) config.temperature = 0.7;

    const filled = this.fillInputs(signature, inputs);
    const adapter = getSetting('adapter') ?? new ChatAdapter();
    const request = options.signal ? { ...config, signal: options.signal } : config;
    const { result, usage } = await trackUsage(() => adapter.call(lm, request, signature, demos, filled));

    const prediction = Prediction.fromCompletions(result.outputs as O[], signature);
    prediction.lmUsage = usage;

    const trace = getSetting('trace');
    const maxTraceSize = getSetting('maxTraceSize');
    if (trace && maxTraceSize > 0) {
      if (trace.length >= maxTraceSize) trace.splice(0, trace.length - maxTraceSize + 1);
      // Traces hold predictors of every signature, so the entry is stored with its type parameters erased.
      trace.push({ predictor: this, inputs: filled, prediction: prediction as Prediction<any> });
    }
    return prediction;
  }

  private fillInputs(signature: Signature, inputs: Record<string, unknown>): Record<string, unknown> {
    const filled: Record<string, unknown> = { ...(inputs instanceof Example ? inputs.toDict() : inputs) };
    const missing: string[] = [];
    for (const field of signature.inputFields) {
      if (filled[field.name] !== undefined) continue;
      if (field.hasDefault) filled[field.name] = field.default;
      else missing.push(field.name);
    }
    if (getSetting('warnOnTypeMismatch')) {
      for (const field of signature.inputFields) {
        const value = filled[field.name];
        if (field.typeUndefined || value === undefined) continue;
        try {
          validateValue(field.type, value);
        } catch {
          console.warn(
            `Type mismatch for input field '${field.name}': expected ${annotationName(field.type)}, got ` +
              `${describeValue(value)}. Set \`configure({ warnOnTypeMismatch: false })\` to silence this warning.`,
          );
        }
      }
    }
    if (missing.length > 0) {
      const present = Object.keys(filled).filter((k) => signature.inputFields.some((f) => f.name === k));
      console.warn(
        `Not all input fields were provided to module. Present: [${present.join(', ')}]. Missing: [${missing.join(', ')}].`,
      );
    }
    return filled;
  }

  /**
   * State in DSPy's layout: `{ traces, train, demos, signature: { instructions, fields }, lm }`, demos as plain
   * objects (bootstrapped demos keep `augmented: true`), `lm` as the LM's `dumpState()` or `null`.
   */
  override dumpState(): Record<string, unknown> {
    return {
      traces: [...this.traces],
      train: [...this.train],
      demos: this.demos.map(toPlainDemo),
      signature: this.signature.dumpState(),
      lm: this.lm ? (this.lm.dumpState?.() ?? null) : this.lmState,
    };
  }

  /** Validates a flat predictor state (DSPy's `Predict.dump_state` layout) without changing this predictor. */
  parseState(state: unknown, path: string): PredictParsedState {
    const parsed = predictStateSchema.safeParse(state);
    if (!parsed.success) {
      const issue = parsed.error.issues[0] as (typeof parsed.error.issues)[number];
      const where = formatStatePath(path, issue.path);
      const label = where || 'state';
      const found = issue.path.reduce<unknown>(
        (value, key) =>
          typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined,
        state,
      );
      throw new StateError(where, `${label}: ${issue.message} (found ${describeValue(found)}).`);
    }
    const data = parsed.data;
    if (data.extended_signature !== undefined) {
      throw new StateError(
        formatStatePath(path, ['extended_signature']),
        `${formatStatePath(path, ['extended_signature'])}: legacy "extended_signature" state is not supported ` +
          '(DSPy dropped it too); re-save the program with a current DSPy version.',
      );
    }
    const expected = this.signature.fields.length;
    if (data.signature.fields.length !== expected) {
      const where = formatStatePath(path, ['signature', 'fields']);
      throw new StateError(
        where,
        `${where}: expected ${expected} fields (${this.signature.fields.map((f) => f.name).join(', ')}), found ` +
          `${data.signature.fields.length}. The state was saved from a program with a different signature.`,
      );
    }
    return {
      traces: data.traces ?? [],
      train: data.train ?? [],
      demos: data.demos.map((demo) => ({ ...demo })),
      signature: this.signature.loadState(data.signature),
      lmState: data.lm ?? null,
    };
  }

  /** Applies state validated by {@link Predict.parseState}. The LM object itself is left as it is. */
  applyState(parsed: PredictParsedState): void {
    this.traces = parsed.traces;
    this.train = parsed.train;
    this.demos = parsed.demos;
    this.signature = parsed.signature;
    this.lmState = parsed.lmState;
  }

  /** Loads a flat predictor state (what {@link Predict.dumpState} returns); validated before anything changes. */
  override loadState(state: unknown): this {
    this.applyState(this.parseState(state, ''));
    return this;
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`.slice(0, 80);
}
