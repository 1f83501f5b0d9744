import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { LanguageModelV1, LMRequest, LMResponse } from '../lm/spec.ts';
import { currentCallerModules } from '../modules/call-stack.ts';
import { getSetting } from './settings.ts';

/**
 * Hooks called around module, LM, adapter, tool, evaluation and compilation calls (DSPy's `BaseCallback`).
 * Register them globally with `configure({ callbacks: [...] })`, per scope with `context({ callbacks }, fn)`, or on
 * one module through its `callbacks` array. Every hook is optional; a hook that throws is reported with
 * `console.warn` and never breaks the call it observes.
 *
 * Start hooks receive `(callId, instance, inputs)`, end hooks `(callId, outputs, exception)` with exactly one of
 * `outputs` and `exception` set. Inside any hook, {@link currentCallFrame} describes the call (its kind, instance and
 * parent call), so an observer can rebuild the call tree.
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
  /** An adapter is about to render `{ signature, demos, inputs }` into messages. */
  onAdapterFormatStart?(callId: string, adapter: object, inputs: Record<string, unknown>): void;
  /** An adapter finished formatting; `outputs` are the messages. */
  onAdapterFormatEnd?(callId: string, outputs: unknown, exception: unknown): void;
  /** An adapter is about to parse `{ signature, completion }`. */
  onAdapterParseStart?(callId: string, adapter: object, inputs: Record<string, unknown>): void;
  /** An adapter finished parsing; `outputs` are the parsed field values. */
  onAdapterParseEnd?(callId: string, outputs: unknown, exception: unknown): void;
  /** A tool is about to run with `inputs` as its arguments. */
  onToolStart?(callId: string, tool: object, inputs: Record<string, unknown>): void;
  /** A tool finished. */
  onToolEnd?(callId: string, outputs: unknown, exception: unknown): void;
  /** An `Evaluate` run is starting; `inputs` holds the program, devset size and options. */
  onEvaluateStart?(callId: string, instance: object, inputs: Record<string, unknown>): void;
  /** An `Evaluate` run finished; `outputs` is the `EvaluationResult`. */
  onEvaluateEnd?(callId: string, outputs: unknown, exception: unknown): void;
  /** An optimizer's `compile` is starting; `inputs` holds the student and the data. */
  onCompileStart?(callId: string, optimizer: object, inputs: Record<string, unknown>): void;
  /** An optimizer's `compile` finished; `outputs` is the compiled program. */
  onCompileEnd?(callId: string, outputs: unknown, exception: unknown): void;
}

/** The hook names of {@link Callback}. */
export type CallbackHook = keyof Callback;

/** The kinds of observed calls, one pair of start/end hooks each. */
export type CallKind = 'module' | 'lm' | 'adapterFormat' | 'adapterParse' | 'tool' | 'evaluate' | 'compile';

/** The start and end hook of every {@link CallKind}. */
export const CALL_HOOKS = {
  module: ['onModuleStart', 'onModuleEnd'],
  lm: ['onLmStart', 'onLmEnd'],
  adapterFormat: ['onAdapterFormatStart', 'onAdapterFormatEnd'],
  adapterParse: ['onAdapterParseStart', 'onAdapterParseEnd'],
  tool: ['onToolStart', 'onToolEnd'],
  evaluate: ['onEvaluateStart', 'onEvaluateEnd'],
  compile: ['onCompileStart', 'onCompileEnd'],
} as const satisfies Record<CallKind, readonly [CallbackHook, CallbackHook]>;

/** What the start hook of each {@link CallKind} receives as `instance` and `inputs`, and the end hook as `outputs`. */
export interface CallKindTypes {
  /** Module calls. */
  module: { instance: object; inputs: Record<string, unknown>; outputs: unknown };
  /** LM requests. */
  lm: { instance: LanguageModelV1; inputs: LMRequest; outputs: LMResponse };
  /** Adapter formatting. */
  adapterFormat: { instance: object; inputs: Record<string, unknown>; outputs: unknown };
  /** Adapter parsing. */
  adapterParse: { instance: object; inputs: Record<string, unknown>; outputs: unknown };
  /** Tool calls. */
  tool: { instance: object; inputs: Record<string, unknown>; outputs: unknown };
  /** Evaluation runs. */
  evaluate: { instance: object; inputs: Record<string, unknown>; outputs: unknown };
  /** Optimizer compilation. */
  compile: { instance: object; inputs: Record<string, unknown>; outputs: unknown };
}

/** One observed call in progress: what is running and which call it runs inside. */
export interface CallFrame {
  /** The id passed to this call's hooks. */
  readonly callId: string;
  /** What kind of call this is. */
  readonly kind: CallKind;
  /** The module, LM, adapter, tool, `Evaluate` or optimizer being called. */
  readonly instance: object;
  /** The call this one runs inside, if any. */
  readonly parent: CallFrame | undefined;
  /** The module call stack when the frame was opened; used to tell live frames from finished ones. */
  readonly moduleStack: readonly object[];
}

const frames = new AsyncLocalStorage<CallFrame>();

function sameStack(a: readonly object[], b: readonly object[]): boolean {
  return a === b || (a.length === 0 && b.length === 0);
}

function isStrictPrefix(prefix: readonly object[], of: readonly object[]): boolean {
  if (prefix.length >= of.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== of[i]) return false;
  return true;
}

/**
 * The innermost observed call running in the current async context, or `undefined` outside any.
 *
 * Module calls open their frame from inside `Module.call`, after the module was pushed on the call stack. Where the
 * runtime lets such a frame outlive its call (async-hooks based `AsyncLocalStorage`), the frame is recognised as
 * finished because its module call stack is no longer current, and its live ancestor is returned instead.
 */
export function currentCallFrame(): CallFrame | undefined {
  const stack = currentCallerModules();
  let frame = frames.getStore();
  while (frame && !(sameStack(frame.moduleStack, stack) || isStrictPrefix(frame.moduleStack, stack))) {
    frame = frame.parent;
  }
  return frame;
}

function openFrame(kind: CallKind, callId: string, instance: object): CallFrame {
  return { callId, kind, instance, parent: currentCallFrame(), moduleStack: currentCallerModules() };
}

function invoke(callbacks: readonly Callback[], hook: CallbackHook, args: readonly unknown[]): void {
  for (const callback of callbacks) {
    const fn = callback[hook] as ((...a: unknown[]) => void) | undefined;
    if (typeof fn !== 'function') continue;
    try {
      fn.apply(callback, args as unknown[]);
    } catch (error) {
      console.warn(`dspy-ts: callback ${hook} threw and was ignored:`, error);
    }
  }
}

/**
 * Calls `hook` on every callback that defines it, in order. A hook that throws is reported and skipped, so an
 * observer can never change the outcome of the call it observes.
 *
 * `onModuleStart` also opens the module's {@link CallFrame} for the rest of the module call (`Module.call` fires it
 * inside its call-stack frame); prefer {@link withCallbacks}, which scopes the frame exactly, for anything else.
 */
export function fireCallbacks<H extends CallbackHook>(
  callbacks: readonly Callback[],
  hook: H,
  ...args: Parameters<NonNullable<Callback[H]>>
): void {
  if (hook === 'onModuleStart') {
    const [callId, instance] = args as unknown as [string, object];
    // Module.call fires this synchronously before awaiting `forward`, so entering the frame here scopes it to the
    // module's own async continuation.
    frames.enterWith(openFrame('module', callId, instance));
  }
  invoke(callbacks, hook, args);
}

/** Options of {@link withCallbacks}. */
export interface WithCallbacksOptions {
  /** Callbacks of the instance itself, fired after the configured ones. */
  callbacks?: readonly Callback[];
  /** Use this id instead of a fresh UUID. */
  callId?: string;
}

/**
 * Runs `fn` as one observed call of `kind`: fires the start hook of every configured callback (plus
 * `options.callbacks`), runs `fn` inside a {@link CallFrame} so nested calls know their parent, then fires the end
 * hook with the result or the error (which is rethrown). This is the helper adapters, tools, `Evaluate` and
 * optimizers use to become observable (DSPy's `@with_callbacks`).
 *
 * @example
 * ```ts
 * const result = await withCallbacks('tool', tool, args, () => tool.fn(args));
 * ```
 */
export async function withCallbacks<K extends CallKind, T extends CallKindTypes[K]['outputs']>(
  kind: K,
  instance: CallKindTypes[K]['instance'],
  inputs: CallKindTypes[K]['inputs'],
  fn: () => T | Promise<T>,
  options: WithCallbacksOptions = {},
): Promise<T> {
  const callbacks = [...getSetting('callbacks'), ...(options.callbacks ?? [])];
  const callId = options.callId ?? randomUUID();
  const [startHook, endHook] = CALL_HOOKS[kind];
  const frame = openFrame(kind, callId, instance);
  return frames.run(frame, async () => {
    invoke(callbacks, startHook, [callId, instance, inputs]);
    let output: T;
    try {
      output = await fn();
    } catch (error) {
      invoke(callbacks, endHook, [callId, undefined, error]);
      throw error;
    }
    invoke(callbacks, endHook, [callId, output, undefined]);
    return output;
  });
}

/** The synchronous form of {@link withCallbacks}, for synchronous work such as `adapter.format`. */
export function withCallbacksSync<K extends CallKind, T extends CallKindTypes[K]['outputs']>(
  kind: K,
  instance: CallKindTypes[K]['instance'],
  inputs: CallKindTypes[K]['inputs'],
  fn: () => T,
  options: WithCallbacksOptions = {},
): T {
  const callbacks = [...getSetting('callbacks'), ...(options.callbacks ?? [])];
  const callId = options.callId ?? randomUUID();
  const [startHook, endHook] = CALL_HOOKS[kind];
  const frame = openFrame(kind, callId, instance);
  return frames.run(frame, () => {
    invoke(callbacks, startHook, [callId, instance, inputs]);
    let output: T;
    try {
      output = fn();
    } catch (error) {
      invoke(callbacks, endHook, [callId, undefined, error]);
      throw error;
    }
    invoke(callbacks, endHook, [callId, output, undefined]);
    return output;
  });
}
