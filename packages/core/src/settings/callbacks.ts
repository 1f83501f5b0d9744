import type { LanguageModelV1, LMRequest, LMResponse } from '../lm/spec.ts';

/**
 * Hooks called around module and LM calls (DSPy's `BaseCallback`). Register them globally with
 * `configure({ callbacks: [...] })`, per scope with `context({ callbacks }, fn)`, or on one module through its
 * `callbacks` array. Every hook is optional; a hook that throws is reported with `console.warn` and never breaks the
 * call it observes.
 *
 * @example
 * ```ts
 * configure({ callbacks: [{ onLmEnd: (id, response) => console.log(id, response?.usage) }] });
 * ```
 */
export interface Callback {
  /** A module's `call` is about to run `forward`. */
  onModuleStart?(callId: string, instance: object, inputs: Record<string, unknown>): void;
  /** A module's `call` finished; exactly one of `outputs` and `exception` is set. */
  onModuleEnd?(callId: string, outputs: unknown, exception: unknown): void;
  /** A request (with the LM's defaults merged in) is about to be sent. */
  onLmStart?(callId: string, lm: LanguageModelV1, request: LMRequest): void;
  /** An LM request finished; exactly one of `response` and `exception` is set. */
  onLmEnd?(callId: string, response: LMResponse | undefined, exception: unknown): void;
}

/** The hook names of {@link Callback}. */
export type CallbackHook = keyof Callback;

/**
 * Calls `hook` on every callback that defines it, in order. A hook that throws is reported and skipped, so an
 * observer can never change the outcome of the call it observes.
 */
export function fireCallbacks<H extends CallbackHook>(
  callbacks: readonly Callback[],
  hook: H,
  ...args: Parameters<NonNullable<Callback[H]>>
): void {
  for (const callback of callbacks) {
    const fn = callback[hook] as ((...a: unknown[]) => void) | undefined;
    if (typeof fn !== 'function') continue;
    try {
      fn.apply(callback, args);
    } catch (error) {
      console.warn(`dspy-ts: callback ${hook} threw and was ignored:`, error);
    }
  }
}
