import { AsyncLocalStorage } from 'node:async_hooks';
import type { Adapter } from '../adapters/adapter.ts';
import { DspyError } from '../errors.ts';
import type { Retriever } from '../lm/interfaces.ts';
import type { LanguageModelV1 } from '../lm/spec.ts';
import type { Predict } from '../modules/predict.ts';
import type { Prediction } from '../primitives/prediction.ts';
import type { Callback } from './callbacks.ts';

/** One step of a program run, as recorded in the active trace (DSPy's `(predictor, inputs, prediction)`). */
export interface TraceEntry {
  /** The predictor that ran. */
  predictor: Predict<any, any>;
  /** The inputs it was called with (after defaults were filled in). */
  inputs: Record<string, unknown>;
  /** What it returned. */
  prediction: Prediction<any>;
}

/** Every setting, with DSPy's defaults (see {@link DEFAULT_SETTINGS}). */
export interface Settings {
  /** The LM used by predictors that have none of their own. */
  lm: LanguageModelV1 | null;
  /** The adapter used by predictors; `null` means a fresh `ChatAdapter`. */
  adapter: Adapter | null;
  /** The retriever used by `Retrieve`. */
  rm: Retriever | null;
  /** Where predictors append `{ predictor, inputs, prediction }`; `null` turns tracing off. */
  trace: TraceEntry[] | null;
  /** Hooks fired around module and LM calls. */
  callbacks: readonly Callback[];
  /** When true, top-level module calls attach summed LM usage to the returned prediction. */
  trackUsage: boolean;
  /** Default concurrency of parallel evaluation and optimizers. */
  numThreads: number;
  /** Errors tolerated by parallel runs before they stop. */
  maxErrors: number;
  /** Length limit of the global, per-LM and per-module call histories (0 keeps none). */
  maxHistorySize: number;
  /** Length limit of the trace (oldest entries are dropped first; 0 records nothing). */
  maxTraceSize: number;
  /** Turns off every call history. */
  disableHistory: boolean;
  /** Warn when an input value does not match its field's declared type. */
  warnOnTypeMismatch: boolean;
}

/**
 * DSPy's defaults for every setting. `trace` is `null` here because a frozen object cannot hold the mutable list;
 * the global scope starts (and `configure({ trace: undefined })` restarts) with its own empty array, as in DSPy.
 */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  lm: null,
  adapter: null,
  rm: null,
  trace: null,
  callbacks: Object.freeze([]) as readonly Callback[],
  trackUsage: false,
  numThreads: 8,
  maxErrors: 10,
  maxHistorySize: 10_000,
  maxTraceSize: 10_000,
  disableHistory: false,
  warnOnTypeMismatch: true,
});

const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[];

// The only process-wide mutable state: what `configure()` set. Like DSPy, the global trace starts as an empty list.
const globalSettings: Settings = { ...DEFAULT_SETTINGS, trace: [] };

const scopedSettings = new AsyncLocalStorage<Partial<Settings>>();

function checkKeys(values: object, where: string): void {
  for (const key of Object.keys(values)) {
    if (!(SETTING_KEYS as string[]).includes(key)) {
      throw new DspyError(
        'invalid_argument',
        `${where}: unknown setting "${key}". Expected one of: ${SETTING_KEYS.join(', ')}.`,
      );
    }
  }
}

/**
 * Sets global defaults, visible to every call that is not inside a {@link context} scope overriding them.
 * Keys left out keep their current values; pass `undefined` to restore a key's default.
 *
 * @example
 * ```ts
 * configure({ lm: myLM, trackUsage: true });
 * ```
 */
export function configure(values: Partial<Settings>): void {
  checkKeys(values, 'configure()');
  for (const key of SETTING_KEYS) {
    if (!(key in values)) continue;
    const value = values[key];
    (globalSettings as unknown as Record<string, unknown>)[key] =
      value === undefined ? (key === 'trace' ? [] : DEFAULT_SETTINGS[key]) : value;
  }
}

/**
 * Runs `fn` with `overrides` layered over the current settings. The overrides follow the async work started inside
 * `fn` (through `AsyncLocalStorage`), so concurrent requests with different settings never see each other's values.
 * Scopes nest: an inner scope overrides the outer one.
 *
 * @example
 * ```ts
 * const answer = await context({ lm: cheapLM }, () => qa.call({ question }));
 * ```
 */
export function context<T>(overrides: Partial<Settings>, fn: () => T): T {
  checkKeys(overrides, 'context()');
  const outer = scopedSettings.getStore();
  const defined: Partial<Settings> = {};
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (defined as Record<string, unknown>)[key] = value;
  }
  return scopedSettings.run({ ...outer, ...defined }, fn);
}

/** The value of one setting as seen by the current async context (scope overrides first, then globals). */
export function getSetting<K extends keyof Settings>(key: K): Settings[K] {
  const scoped = scopedSettings.getStore();
  if (scoped !== undefined && key in scoped) return scoped[key] as Settings[K];
  return globalSettings[key];
}

/** A snapshot of every setting as seen by the current async context. */
export function currentSettings(): Settings {
  return { ...globalSettings, ...scopedSettings.getStore() };
}

/**
 * Read-only view of the settings in effect for the current async context: `settings.lm` resolves the innermost
 * {@link context} override, then the {@link configure} global, then the default.
 */
export const settings: Readonly<Settings> = Object.freeze(
  Object.defineProperties(
    {},
    Object.fromEntries(
      SETTING_KEYS.map((key) => [key, { enumerable: true, get: () => getSetting(key) }]),
    ) as PropertyDescriptorMap,
  ),
) as Readonly<Settings>;
