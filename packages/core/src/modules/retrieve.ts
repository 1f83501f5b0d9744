import { z } from 'zod';
import { ConfigurationError, StateError } from '../errors.ts';
import type { Retriever } from '../lm/interfaces.ts';
import { Prediction } from '../primitives/prediction.ts';
import { getSetting } from '../settings/settings.ts';
import { Module, type ModuleCallOptions } from './module.ts';
import { PARAMETER, type Parameter } from './parameter.ts';

/** Per-call options of {@link Retrieve}. */
export interface RetrieveCallOptions extends ModuleCallOptions {
  /** Passages to return for this call instead of `retrieve.k`. */
  k?: number;
  /** Retriever for this call instead of the configured `rm`. */
  rm?: Retriever;
  /** Metadata filter, for retrievers that support one. */
  filter?: Record<string, unknown>;
}

const retrieveStateSchema = z.object({ k: z.number().int().nonnegative() });

/**
 * Fetches passages for a query from the configured retriever (`configure({ rm })`), DSPy's `dspy.Retrieve`. It is
 * a learnable parameter (saved state `{ k }`), so programs that hold one save and load it under its name.
 *
 * @example
 * ```ts
 * configure({ rm: myVectorStore });
 * const retrieve = new Retrieve({ k: 3 });
 * const { passages } = await retrieve.call({ query: 'When was DSPy released?' });
 * ```
 */
export class Retrieve
  extends Module<{ query: string }, Prediction<{ passages: string[] }>, RetrieveCallOptions>
  implements Parameter<{ k: number }>
{
  /** Parameter brand. */
  readonly [PARAMETER] = true as const;
  /** Passages per query. */
  k: number;

  /** @param options `k`: passages per query (default 3). */
  constructor(options: { k?: number } = {}) {
    super();
    this.k = options.k ?? 3;
  }

  /** Nothing is learned by a retriever step; kept for the parameter interface (DSPy's `reset` is a no-op). */
  reset(): void {}

  /**
   * Retrieves `k` passages for `query`.
   *
   * @throws {ConfigurationError} when no retriever is configured.
   */
  override async forward(
    inputs: { query: string },
    options: RetrieveCallOptions = {},
  ): Promise<Prediction<{ passages: string[] }>> {
    const rm = options.rm ?? getSetting('rm');
    if (!rm) {
      throw new ConfigurationError(
        'No RM is loaded. Configure a retriever with `configure({ rm })` (any object implementing Retriever, e.g. ' +
          'from `@dspy-ts/retrieval`) or pass one per call with `retrieve.call({ query }, { rm })`.',
      );
    }
    const k = options.k ?? this.k;
    const passages = await rm.retrieve(inputs.query, {
      k,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.filter ? { filter: options.filter } : {}),
    });
    return new Prediction({ passages: passages.map((p) => p.text) });
  }

  /** DSPy's state: `{ k }`. */
  override dumpState(): Record<string, unknown> {
    return { k: this.k };
  }

  /** Validates `{ k }` without changing anything. */
  parseState(state: unknown, path: string): { k: number } {
    const parsed = retrieveStateSchema.safeParse(state);
    if (!parsed.success) {
      const where = path ? `${path}.k` : 'k';
      throw new StateError(where, `${where}: expected a non-negative integer k, as in DSPy's Retrieve state {"k": 3}.`);
    }
    return parsed.data;
  }

  /** Applies state returned by {@link Retrieve.parseState}. */
  applyState(parsed: { k: number }): void {
    this.k = parsed.k;
  }

  /** Loads a flat `{ k }` state. */
  override loadState(state: unknown): this {
    this.applyState(this.parseState(state, ''));
    return this;
  }
}
