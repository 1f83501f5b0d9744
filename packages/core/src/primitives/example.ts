import { DspyError } from '../errors.ts';
import { pythonRepr } from '../signature/python-repr.ts';
import { toPlainData, valuesEqual } from './values-equal.ts';

/** Per-instance state, kept outside the object so that spreading an example yields exactly its data. */
export interface ExampleState {
  /** The key/value data, in insertion order. */
  store: Map<string, unknown>;
  /** Keys marked as inputs by `withInputs`, if any. */
  inputKeys: ReadonlySet<string> | undefined;
  /** Extra slots used by subclasses (completions, usage). */
  extra: Record<string, unknown>;
}

// Keyed by both the proxy and its target: methods run with either as `this` (Node's inspector uses the target).
const states = new WeakMap<object, ExampleState>();

/** The internal state of an example or prediction. */
export function exampleState(example: object): ExampleState {
  const state = states.get(example);
  if (!state) throw new DspyError('invalid_argument', 'Expected an Example (or Prediction) instance.');
  return state;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

function isDspyKey(key: string): boolean {
  return key.startsWith('dspy_');
}

function entriesOf(base: unknown): [string, unknown][] {
  if (base === undefined || base === null) return [];
  const state = typeof base === 'object' ? states.get(base) : undefined;
  if (state) return [...state.store];
  if (base instanceof Map) return [...base].map(([k, v]) => [String(k), v]);
  if (typeof base === 'object' && !Array.isArray(base)) return Object.entries(base);
  throw new DspyError(
    'invalid_argument',
    `Example data must be an object or an Example, found ${Array.isArray(base) ? 'an array' : typeof base}.`,
  );
}

/**
 * The implementation behind {@link Example}. Use `Example` (which adds typed attribute access) rather than this
 * class directly.
 */
export class ExampleImpl<
  T extends Record<string, unknown> = Record<string, unknown>,
  IK extends keyof T & string = keyof T & string,
> {
  /** Type-level record of the data; never set at runtime. */
  declare readonly __data?: { data: T; inputs: IK };

  /**
   * @param base initial data: a plain object, a `Map`, or another example (whose data is copied; its input keys
   *   are not, as in DSPy).
   * @param extra more keys, overriding those of `base`.
   */
  constructor(base?: unknown, extra?: Record<string, unknown>) {
    const state: ExampleState = {
      store: new Map([...entriesOf(base), ...entriesOf(extra)]),
      inputKeys: undefined,
      extra: {},
    };
    const store = state.store;
    // DSPy examples expose their data as attributes; methods and accessors of the class take precedence.
    const proxy = new Proxy(this, {
      get(target, prop, receiver) {
        if (typeof prop === 'symbol' || prop in target) return Reflect.get(target, prop, receiver);
        return store.get(prop);
      },
      set(target, prop, value, receiver) {
        if (typeof prop === 'symbol' || prop in target) return Reflect.set(target, prop, value, receiver);
        store.set(prop, value);
        return true;
      },
      has(target, prop) {
        return (typeof prop === 'string' && store.has(prop)) || prop in target;
      },
      deleteProperty(target, prop) {
        if (typeof prop === 'string' && store.has(prop)) return store.delete(prop);
        return Reflect.deleteProperty(target, prop);
      },
      ownKeys(target) {
        return [...new Set([...store.keys(), ...Reflect.ownKeys(target)])];
      },
      getOwnPropertyDescriptor(target, prop) {
        if (typeof prop === 'string' && store.has(prop) && !Object.hasOwn(target, prop)) {
          return { value: store.get(prop), writable: true, enumerable: true, configurable: true };
        }
        return Reflect.getOwnPropertyDescriptor(target, prop);
      },
    });
    states.set(this, state);
    states.set(proxy, state);
    // biome-ignore lint/correctness/noConstructorReturn: the proxy is what gives attribute access to the data.
    return proxy;
  }

  /** A new example from `base` (and `extra`), like `new Example(base, extra)`. */
  static from<T extends Record<string, unknown>>(base: T | ExampleImpl<T>): Example<T> {
    return new this(base) as unknown as Example<T>;
  }

  /** Input keys set by {@link ExampleImpl.withInputs}, or `undefined`. */
  get inputKeys(): ReadonlySet<string> | undefined {
    return exampleState(this).inputKeys;
  }

  /** The value stored under `key`, or `fallback` when absent. */
  get<K extends keyof T & string>(key: K): T[K];
  get(key: string, fallback?: unknown): unknown;
  get(key: string, fallback?: unknown): unknown {
    const store = exampleState(this).store;
    return store.has(key) ? store.get(key) : fallback;
  }

  /** Whether `key` is stored (including `dspy_*` keys). */
  has(key: string): boolean {
    return exampleState(this).store.has(key);
  }

  /** Stores `value` under `key` in place (Python's `example[key] = value`) and returns this example. */
  set(key: string, value: unknown): this {
    exampleState(this).store.set(key, value);
    return this;
  }

  /** Keys in insertion order; `dspy_*` bookkeeping keys only with `includeDspy`. */
  keys(includeDspy = false): string[] {
    return [...exampleState(this).store.keys()].filter((k) => includeDspy || !isDspyKey(k));
  }

  /** Values in key order; values of `dspy_*` keys only with `includeDspy`. */
  values(includeDspy = false): unknown[] {
    return this.items(includeDspy).map(([, v]) => v);
  }

  /** `[key, value]` pairs in insertion order; `dspy_*` keys only with `includeDspy`. */
  items(includeDspy = false): [string, unknown][] {
    return [...exampleState(this).store].filter(([k]) => includeDspy || !isDspyKey(k));
  }

  /** Number of keys, not counting `dspy_*` ones (Python's `len(example)`). */
  get size(): number {
    return this.keys().length;
  }

  /** A copy whose input keys are `keys`. */
  withInputs<K extends keyof T & string>(...keys: K[]): Example<T, K> {
    const copy = this.copy() as unknown as Example<T, K>;
    exampleState(copy).inputKeys = new Set(keys);
    return copy;
  }

  /**
   * The input part: an example with only the input keys (keeping the input-key marking).
   *
   * @throws {DspyError} when {@link ExampleImpl.withInputs} was never called.
   */
  inputs(): Example<Pick<T, IK>, IK> {
    const { store, inputKeys } = exampleState(this);
    if (inputKeys === undefined) {
      throw new DspyError(
        'invalid_argument',
        'Inputs have not been set for this example. Use `example.withInputs()` to set them.',
      );
    }
    const result = new (this.constructor as typeof ExampleImpl)(
      [...store].filter(([k]) => inputKeys.has(k)).reduce((m, [k, v]) => m.set(k, v), new Map<string, unknown>()),
    );
    exampleState(result).inputKeys = inputKeys;
    return result as unknown as Example<Pick<T, IK>, IK>;
  }

  /**
   * The label part: an example with every key that is not an input.
   *
   * @throws {DspyError} when {@link ExampleImpl.withInputs} was never called.
   */
  // An untyped example's parts stay untyped: `Omit<Record<string, unknown>, string>` would be `{}`, and that
  // narrower result type would stop typed examples from being assignable to the plain `Example` type.
  labels(): string extends keyof T ? Example : Example<Omit<T, IK>> {
    const inputKeys = new Set(this.inputs().keys());
    const { store } = exampleState(this);
    return new (this.constructor as typeof ExampleImpl)(
      [...store].filter(([k]) => !inputKeys.has(k)).reduce((m, [k, v]) => m.set(k, v), new Map<string, unknown>()),
    ) as unknown as string extends keyof T ? Example : Example<Omit<T, IK>>;
  }

  /** A copy without `keys` (absent keys are ignored). Like every copy, it has no input keys. */
  without<K extends string>(...keys: K[]): string extends keyof T ? Example : Example<Omit<T, K>> {
    const copy = this.copy();
    const store = exampleState(copy).store;
    for (const key of keys) store.delete(key);
    return copy as unknown as string extends keyof T ? Example : Example<Omit<T, K>>;
  }

  /** A shallow copy with `overrides` applied. As in DSPy, the copy does not keep the input keys. */
  copy<E extends Record<string, unknown> = {}>(overrides?: E): Example<Omit<T, keyof E> & E> {
    return new (this.constructor as typeof ExampleImpl)(this, overrides) as unknown as Example<Omit<T, keyof E> & E>;
  }

  /** The data as plain JSON-like values, recursively (nested examples and `toJSON` objects converted). */
  toDict(): T {
    const out: Record<string, unknown> = {};
    for (const [k, v] of exampleState(this).store) out[k] = toPlainData(v);
    return out as T;
  }

  /** Same as {@link ExampleImpl.toDict}, so `JSON.stringify(example)` gives the data. */
  toJSON(): T {
    return this.toDict();
  }

  /** True when `other` is an example with equal data (input keys are not compared, as in DSPy). */
  equals(other: unknown): boolean {
    if (typeof other !== 'object' || other === null) return false;
    const mine = exampleState(this).store;
    const theirs = states.get(other)?.store;
    if (!theirs || theirs.size !== mine.size) return false;
    for (const [k, v] of mine) if (!theirs.has(k) || !valuesEqual(v, theirs.get(k))) return false;
    return true;
  }

  /** DSPy's repr: `Example({'question': 'Why?'}) (input_keys={'question'})`. */
  toString(): string {
    const { inputKeys } = exampleState(this);
    const keys = inputKeys === undefined ? 'None' : `{${[...inputKeys].map((k) => pythonRepr(k)).join(', ')}}`;
    return `Example(${pythonRepr(Object.fromEntries(this.items()))}) (input_keys=${keys})`;
  }

  /** Node's `util.inspect` shows the repr. */
  [INSPECT](): string {
    return this.toString();
  }
}

/**
 * Data keys of `T` that do not collide with example methods (those stay reachable through `get`). An untyped
 * example gets an index signature of `any`: it is the only index signature TypeScript lets typed examples
 * (class instances) be assigned to, so `Example<{ q: string }>` still passes where `Example` is expected.
 */
export type ExampleAttributes<T> = string extends keyof T
  ? // `any`, see above; `unknown` would make typed examples unassignable.
    { readonly [key: string]: any }
  : Readonly<Omit<T, keyof ExampleImpl>>;

/**
 * A training or evaluation example: a record of named values with attribute access (`ex.question`), optional
 * marking of input keys (`withInputs`), and DSPy's dict-like helpers. Keys starting with `dspy_` are bookkeeping
 * and hidden from `keys()/values()/items()` unless asked for.
 *
 * @example
 * const ex = new Example({ question: 'What is 2+2?', answer: '4' }).withInputs('question');
 * ex.question;          // 'What is 2+2?'
 * ex.inputs().toDict(); // { question: 'What is 2+2?' }
 * ex.labels().answer;   // '4'
 */
export type Example<
  T extends Record<string, unknown> = Record<string, unknown>,
  IK extends keyof T & string = keyof T & string,
> = ExampleImpl<T, IK> & ExampleAttributes<T>;

/** The constructor of {@link Example}: `new Example(data)` or `new Example(base, extra)`. */
export interface ExampleConstructor {
  new <T extends Record<string, unknown> = Record<string, unknown>>(base?: T | ExampleImpl<T>): Example<T>;
  new <B extends Record<string, unknown>, E extends Record<string, unknown>>(
    base: B | ExampleImpl<B>,
    extra: E,
  ): Example<Omit<B, keyof E> & E>;
  /** A new example from `base`. */
  from<T extends Record<string, unknown>>(base: T | ExampleImpl<T>): Example<T>;
  readonly prototype: ExampleImpl;
}

/** Creates examples; see the {@link Example} type. */
export const Example = ExampleImpl as unknown as ExampleConstructor;
