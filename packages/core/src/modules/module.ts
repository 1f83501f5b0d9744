import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { DspyError, StateError } from '../errors.ts';
import type { HistoryEntry } from '../lm/history.ts';
import { type InspectHistoryOptions, printHistory } from '../lm/history.ts';
import type { LanguageModelV1 } from '../lm/spec.ts';
import { isLanguageModel } from '../lm/spec.ts';
import { trackUsage } from '../lm/usage.ts';
import { Example } from '../primitives/example.ts';
import { Prediction } from '../primitives/prediction.ts';
import { type Callback, fireCallbacks } from '../settings/callbacks.ts';
import { getSetting } from '../settings/settings.ts';
import { createStateMetadata, metadataWarnings, type StateMetadata } from '../state/metadata.ts';
import { readStateFile, writeStateFile } from '../state/state-file.ts';
import { currentCallerModules, withCallerModule } from './call-stack.ts';
import { isParameter, type Parameter } from './parameter.ts';
import type { Predict } from './predict.ts';

/** Marks `Predict` instances without importing the class (which extends {@link Module}). */
export const PREDICTOR = Symbol.for('@dspy-ts/core.predictor');

/** Options accepted by every module's `call`. Modules extend this with their own options. */
export interface ModuleCallOptions {
  /** Cancels the call, including the LM requests it makes. */
  signal?: AbortSignal;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isPredictor(value: unknown): value is Predict {
  return isParameter(value) && (value as unknown as Record<symbol, unknown>)[PREDICTOR] === true;
}

const rootStateSchema = z.record(z.string(), z.unknown());

/**
 * Base class of every DSPy program. Subclasses implement {@link Module.forward}; callers use {@link Module.call},
 * which runs `forward` inside a call-stack frame so LM calls are recorded in this module's `history`, module
 * callbacks fire, and (with `trackUsage`) the top-level prediction carries the summed usage.
 *
 * Learnable parts (predictors) are found by walking the module's own properties — nested modules, arrays and plain
 * objects — and are named like DSPy's `named_parameters`: `predict`, `hop.predict1`, `layers[1]`, `tools['search']`.
 *
 * @example
 * ```ts
 * class RAG extends Module {
 *   respond = new ChainOfThought('context, question -> answer');
 *   async forward({ question }: { question: string }) {
 *     const context = await retrieve(question);
 *     return this.respond.call({ context, question });
 *   }
 * }
 * ```
 */
export abstract class Module<
  TInputs extends Record<string, unknown> = Record<string, unknown>,
  TOutput = unknown,
  TOptions extends ModuleCallOptions = ModuleCallOptions,
> {
  /** LM calls made while this module was running, oldest first (bounded by `maxHistorySize`). */
  declare history: HistoryEntry[];
  /** Callbacks fired for this module's calls, in addition to the global ones. */
  declare callbacks: Callback[];
  /**
   * True once an optimizer compiled this module; compiled sub-modules are frozen (skipped by
   * {@link Module.namedParameters}).
   */
  declare compiled: boolean;
  /** Metadata of the file this module was last loaded from; written back unchanged by {@link Module.save}. */
  declare loadedMetadata: StateMetadata | undefined;

  constructor() {
    // Bookkeeping is non-enumerable so that walking a module's own properties finds only the program's parts.
    Object.defineProperties(this, {
      history: { value: [], writable: true, configurable: true, enumerable: false },
      callbacks: { value: [], writable: true, configurable: true, enumerable: false },
      compiled: { value: false, writable: true, configurable: true, enumerable: false },
      loadedMetadata: { value: undefined, writable: true, configurable: true, enumerable: false },
    });
  }

  /** The module's computation. Call it through {@link Module.call}, never directly. */
  abstract forward(inputs: TInputs, options?: TOptions): Promise<TOutput>;

  /**
   * Runs {@link Module.forward} inside a call-stack frame: LM calls made inside are added to this module's
   * `history`, `onModuleStart`/`onModuleEnd` callbacks fire, and when `trackUsage` is set and this is the outermost
   * module call, a returned `Prediction` gets `lmUsage` with the usage of every LM call made inside.
   */
  async call(inputs: TInputs, options?: TOptions): Promise<TOutput> {
    if (options?.signal?.aborted) {
      throw new DspyError('aborted', `${this.constructor.name} call was aborted before it started.`, {
        cause: options.signal.reason,
      });
    }
    const isTopLevel = currentCallerModules().length === 0;
    return withCallerModule(this, async () => {
      const callbacks = [...getSetting('callbacks'), ...this.callbacks];
      const callId = randomUUID();
      fireCallbacks(callbacks, 'onModuleStart', callId, this, inputs);
      try {
        let output: TOutput;
        if (isTopLevel && getSetting('trackUsage')) {
          const { result, usage } = await trackUsage(() => this.forward(inputs, options));
          if (result instanceof Prediction) result.lmUsage = usage;
          output = result;
        } else {
          output = await this.forward(inputs, options);
        }
        fireCallbacks(callbacks, 'onModuleEnd', callId, output, undefined);
        return output;
      } catch (error) {
        fireCallbacks(callbacks, 'onModuleEnd', callId, undefined, error);
        throw error;
      }
    });
  }

  /**
   * Every learnable parameter with its dotted name, in property order (DSPy's `named_parameters`): `"self"` when the
   * module itself is a parameter, attributes by name, array items as `name[0]`, plain-object entries as
   * `name['key']`, nested modules as `name.sub`. Each parameter appears once; compiled sub-modules are skipped.
   */
  namedParameters(): [string, Parameter][] {
    const visited = new Set<object>();
    const named: [string, Parameter][] = [];
    const add = (name: string, value: unknown): void => {
      if (isParameter(value)) {
        if (!visited.has(value)) {
          visited.add(value);
          named.push([name, value]);
        }
      } else if (value instanceof Module) {
        if (!value.compiled) for (const [sub, param] of value.namedParameters()) add(`${name}.${sub}`, param);
      }
    };
    if (isParameter(this)) add('self', this);
    for (const [name, value] of Object.entries(this)) {
      if (isParameter(value) || value instanceof Module) add(name, value);
      else if (Array.isArray(value)) for (const [i, item] of value.entries()) add(`${name}[${i}]`, item);
      else if (value instanceof Map) for (const [key, item] of value) add(`${name}['${String(key)}']`, item);
      else if (isPlainObject(value)) for (const [key, item] of Object.entries(value)) add(`${name}['${key}']`, item);
    }
    return named;
  }

  /** The learnable parameters, without names. */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, param]) => param);
  }

  /** Every `Predict` with its dotted name (DSPy's `named_predictors`), e.g. `[['predict', p]]` for ChainOfThought. */
  namedPredictors(): [string, Predict][] {
    return this.namedParameters().filter((entry): entry is [string, Predict] => isPredictor(entry[1]));
  }

  /** Every `Predict` of the program, in {@link Module.namedPredictors} order. */
  predictors(): Predict[] {
    return this.namedPredictors().map(([, predictor]) => predictor);
  }

  /**
   * Every module reachable from this one, breadth first, starting with `['self', this]`; names follow the path, e.g.
   * `self.children[4][key].subModule` (DSPy's `named_sub_modules`). A module reachable by several paths appears once.
   *
   * @param type Only modules that are instances of this class are returned (all are still traversed).
   * @param skipCompiled Do not descend into compiled modules.
   */
  namedSubModules(
    type: abstract new (...args: never[]) => Module = Module as abstract new (
      ...args: never[]
    ) => Module,
    skipCompiled = false,
  ): [string, Module][] {
    const found: [string, Module][] = [];
    const queue: [string, unknown][] = [['self', this]];
    const seen = new Set<unknown>([this]);
    const enqueue = (name: string, item: unknown) => {
      if (typeof item !== 'object' || item === null || seen.has(item)) return;
      seen.add(item);
      queue.push([name, item]);
    };
    for (let head = 0; head < queue.length; head++) {
      const [name, item] = queue[head] as [string, unknown];
      if (item instanceof type) found.push([name, item as Module]);
      if (item instanceof Module) {
        if (skipCompiled && item.compiled) continue;
        for (const [key, value] of Object.entries(item)) enqueue(`${name}.${key}`, value);
      } else if (Array.isArray(item)) {
        for (const [i, value] of item.entries()) enqueue(`${name}[${i}]`, value);
      } else if (item instanceof Map) {
        for (const [key, value] of item) enqueue(`${name}[${String(key)}]`, value);
      } else if (isPlainObject(item)) {
        for (const [key, value] of Object.entries(item)) enqueue(`${name}[${key}]`, value);
      }
    }
    return found;
  }

  /** Sets the LM of every predictor. */
  setLm(lm: LanguageModelV1 | null): void {
    for (const predictor of this.predictors()) predictor.lm = lm;
  }

  /**
   * The LM shared by every predictor (`null` when none has one). Throws when predictors use different LMs, as
   * there is then no single answer.
   */
  getLm(): LanguageModelV1 | null {
    const lms = new Set(this.predictors().map((predictor) => predictor.lm));
    if (lms.size > 1) {
      throw new DspyError(
        'invalid_argument',
        "Multiple LMs are being used in the module. There's no unique LM to return; inspect each predictor's `lm`.",
      );
    }
    const [lm] = lms;
    return lm ?? null;
  }

  /**
   * A structural copy of the program: nested modules, arrays, plain objects, maps, sets and examples are copied;
   * LMs, signatures, predictions, functions and other class instances are shared by reference. Subclasses that
   * keep state in JavaScript private fields (`#x`) must override this.
   */
  deepCopy(): this {
    return cloneValue(this, new Map()) as this;
  }

  /** A {@link Module.deepCopy} with every parameter reset (no demos, no LM, no traces). */
  resetCopy(): this {
    const copy = this.deepCopy();
    for (const param of copy.parameters()) param.reset();
    return copy;
  }

  /** The program's state in DSPy's layout: `{ [parameterName]: parameter.dumpState() }`. */
  dumpState(): Record<string, unknown> {
    return Object.fromEntries(this.namedParameters().map(([name, param]) => [name, param.dumpState()]));
  }

  /**
   * Loads state produced by {@link Module.dumpState} (or by DSPy's `dump_state`). Transactional: every part is
   * validated before anything changes. Throws a `StateError` naming the offending path (`predict.demos[2]`) for
   * wrong types, a missing parameter or a name this program does not have. A top-level `metadata` key is ignored.
   */
  loadState(state: unknown): this {
    const root = rootStateSchema.safeParse(state);
    if (!root.success) {
      throw new StateError(
        '',
        `Expected the program state to be an object keyed by predictor name, found ${describe(state)}.`,
      );
    }
    const params = this.namedParameters();
    const names = new Set(params.map(([name]) => name));
    for (const key of Object.keys(root.data)) {
      if (key === 'metadata' || names.has(key)) continue;
      throw new StateError(
        key,
        `${key}: this program has no predictor named "${key}". Its predictors are: ${[...names].map((n) => `"${n}"`).join(', ') || '(none)'}.`,
      );
    }
    const parsed = params.map(([name, param]) => {
      if (!(name in root.data)) {
        throw new StateError(name, `${name}: missing from the state; expected the saved state of predictor "${name}".`);
      }
      return [param, param.parseState(root.data[name], name)] as const;
    });
    for (const [param, value] of parsed) param.applyState(value);
    return this;
  }

  /**
   * Saves the state to a `.json` file in DSPy's layout (`dumpState()` plus a `metadata` block), atomically. The
   * metadata of a file this module was loaded from is written back unchanged, so load-then-save is byte-identical.
   */
  async save(path: string): Promise<void> {
    await writeStateFile(path, { ...this.dumpState(), metadata: this.loadedMetadata ?? createStateMetadata() });
  }

  /**
   * Loads state saved by {@link Module.save} or by DSPy's `module.save("x.json")`. Nothing in the file is
   * executed; LM state is kept as data. Warns on a DSPy version mismatch, as DSPy does.
   */
  async load(path: string): Promise<this> {
    const state = await readStateFile(path);
    for (const warning of metadataWarnings(state.metadata, path)) console.warn(warning);
    this.loadState(state);
    if (isPlainObject(state.metadata)) this.loadedMetadata = structuredClone(state.metadata) as StateMetadata;
    return this;
  }

  /** Prints and returns the last `n` LM calls made while this module was running. */
  inspectHistory(n = 1, options: InspectHistoryOptions = {}): string {
    return printHistory(this.history, n, options);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function cloneValue(value: unknown, memo: Map<object, unknown>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const known = memo.get(value);
  if (known !== undefined) return known;
  if (isLanguageModel(value) || value instanceof Prediction) return value;
  if (value instanceof Module) {
    const copy = Object.create(Object.getPrototypeOf(value)) as Module;
    memo.set(value, copy);
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key) as PropertyDescriptor;
      if ('value' in descriptor) {
        descriptor.value =
          key === 'history' ? [...(descriptor.value as unknown[])] : cloneValue(descriptor.value, memo);
      }
      Object.defineProperty(copy, key, descriptor);
    }
    return copy;
  }
  if (value instanceof Example) {
    const copy = Example.from(cloneValue(value.toDict(), memo) as Record<string, unknown>);
    const inputKeys = value.inputKeys;
    const result = inputKeys ? copy.withInputs(...inputKeys) : copy;
    memo.set(value, result);
    return result;
  }
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    memo.set(value, copy);
    for (const item of value) copy.push(cloneValue(item, memo));
    return copy;
  }
  if (value instanceof Map) {
    const copy = new Map();
    memo.set(value, copy);
    for (const [k, v] of value) copy.set(k, cloneValue(v, memo));
    return copy;
  }
  if (value instanceof Set) {
    const copy = new Set();
    memo.set(value, copy);
    for (const v of value) copy.add(cloneValue(v, memo));
    return copy;
  }
  if (value instanceof Date) return new Date(value.getTime());
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = Object.create(Object.getPrototypeOf(value));
    memo.set(value, copy);
    for (const [k, v] of Object.entries(value)) copy[k] = cloneValue(v, memo);
    return copy;
  }
  return value;
}
