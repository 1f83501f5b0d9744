/** Marks objects that carry learnable, saveable state (DSPy's `Parameter`: `Predict`, `Retrieve`). */
export const PARAMETER = Symbol.for('@dspy-ts/core.parameter');

/**
 * A learnable unit of a program: it is found by `Module.namedParameters()`, its state is saved under its dotted
 * name, and optimizers reset it. Loading is split in two so that a whole program's state is validated before any
 * part of it changes.
 */
export interface Parameter<TParsed = unknown> {
  /** Brand checked by {@link isParameter}. */
  readonly [PARAMETER]: true;
  /** Forgets everything learned (demos, LM, traces). */
  reset(): void;
  /** JSON-ready state in DSPy's layout. */
  dumpState(): Record<string, unknown>;
  /**
   * Validates `state` without changing anything; throws a `StateError` whose path starts with `path` (e.g.
   * `predict.demos[2]`). Returns what {@link Parameter.applyState} needs.
   */
  parseState(state: unknown, path: string): TParsed;
  /** Applies state returned by {@link Parameter.parseState}; never throws for such state. */
  applyState(parsed: TParsed): void;
}

/** True when `value` is a {@link Parameter}. */
export function isParameter(value: unknown): value is Parameter {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PARAMETER] === true;
}
