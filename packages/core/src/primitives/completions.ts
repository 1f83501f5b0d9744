import { DspyError } from '../errors.ts';
import type { Signature } from '../signature/signature.ts';
import { Prediction } from './prediction.ts';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * The implementation behind {@link Completions}. Use `Completions` (which adds typed per-field attributes)
 * rather than this class directly.
 */
export class CompletionsImpl<O extends Record<string, unknown> = Record<string, unknown>> {
  /** The signature the completions were produced for, when known. */
  readonly signature: Signature | undefined;
  private readonly _fields: Map<string, unknown[]>;
  private readonly _length: number;

  /**
   * @param listOrDict one record per completion, or one array per field.
   * @throws {DspyError} (`invalid_argument`) when the per-field arrays differ in length.
   */
  constructor(listOrDict: readonly O[] | { [K in keyof O]: O[K][] }, signature?: Signature) {
    this.signature = signature;
    const fields = new Map<string, unknown[]>();
    if (Array.isArray(listOrDict)) {
      for (const completion of listOrDict as readonly O[]) {
        for (const [k, v] of Object.entries(completion)) {
          const list = fields.get(k);
          if (list) list.push(v);
          else fields.set(k, [v]);
        }
      }
    } else {
      for (const [k, v] of Object.entries(listOrDict as Record<string, unknown>)) {
        if (!Array.isArray(v)) {
          throw new DspyError('invalid_argument', `Completions: all values must be lists, but field '${k}' is not.`);
        }
        fields.set(k, [...v]);
      }
    }
    const lengths = new Set([...fields.values()].map((v) => v.length));
    if (lengths.size > 1) {
      throw new DspyError(
        'invalid_argument',
        `Completions: all lists must have the same length; found lengths ${[...fields].map(([k, v]) => `${k}=${v.length}`).join(', ')}.`,
      );
    }
    this._fields = fields;
    this._length = [...lengths][0] ?? 0;
    // Per-field arrays read as attributes (`completions.answer`), as in DSPy.
    // biome-ignore lint/correctness/noConstructorReturn: the proxy provides attribute access to field lists.
    return new Proxy(this, {
      get(target, prop, receiver) {
        if (typeof prop === 'symbol' || prop in target) return Reflect.get(target, prop, receiver);
        return fields.get(prop);
      },
      has(target, prop) {
        return (typeof prop === 'string' && fields.has(prop)) || prop in target;
      },
    });
  }

  /** Number of completions. */
  get length(): number {
    return this._length;
  }

  /** Field names, in first-seen order. */
  keys(): string[] {
    return [...this._fields.keys()];
  }

  /** `[field, values]` pairs. */
  items(): [string, unknown[]][] {
    return [...this._fields].map(([k, v]) => [k, [...v]]);
  }

  /** Whether any completion has `field`. */
  has(field: string): boolean {
    return this._fields.has(field);
  }

  /**
   * Every completion's value of `field`.
   *
   * @throws {DspyError} (`invalid_argument`) when no completion has that field.
   */
  get<K extends keyof O & string>(field: K): O[K][] {
    const values = this._fields.get(field);
    if (!values) {
      throw new DspyError(
        'invalid_argument',
        `No field '${field}' in completions; fields are: ${this.keys().join(', ')}.`,
      );
    }
    return [...values] as O[K][];
  }

  /**
   * Completion `index` as a {@link Prediction}.
   *
   * @throws {DspyError} (`invalid_argument`) when `index` is out of range (negative indices are rejected, as in DSPy).
   */
  at(index: number): Prediction<O> {
    if (!Number.isInteger(index) || index < 0 || index >= this._length) {
      throw new DspyError(
        'invalid_argument',
        `Completion index ${index} out of range: there are ${this._length} completions.`,
      );
    }
    const record: Record<string, unknown> = {};
    for (const [k, v] of this._fields) record[k] = v[index];
    return new Prediction(record) as unknown as Prediction<O>;
  }

  /** Iterates completions as predictions. */
  *[Symbol.iterator](): Iterator<Prediction<O>> {
    for (let i = 0; i < this._length; i++) yield this.at(i);
  }

  /** DSPy's repr: `Completions(answer=['a', 'b'])`-like text. */
  toString(): string {
    return `Completions(${[...this._fields].map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')})`;
  }

  /** Node's `util.inspect` shows the repr. */
  [INSPECT](): string {
    return this.toString();
  }
}

/**
 * All completions of one LM call (n ≥ 1): per-field arrays (`completions.answer` or `completions.get('answer')`)
 * and per-completion predictions (`completions.at(i)`, iteration).
 */
export type Completions<O extends Record<string, unknown> = Record<string, unknown>> = CompletionsImpl<O> &
  (string extends keyof O
    ? // `any`: the only index signature typed completions are assignable to.
      { readonly [field: string]: any }
    : { readonly [K in Exclude<keyof O, keyof CompletionsImpl>]: O[K][] });

/** The constructor of {@link Completions}. */
export interface CompletionsConstructor {
  new <O extends Record<string, unknown> = Record<string, unknown>>(
    listOrDict: readonly O[] | { [K in keyof O]: O[K][] },
    signature?: Signature,
  ): Completions<O>;
  readonly prototype: CompletionsImpl;
}

/** Creates completions; see the {@link Completions} type. */
export const Completions = CompletionsImpl as unknown as CompletionsConstructor;
