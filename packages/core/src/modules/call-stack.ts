import { AsyncLocalStorage } from 'node:async_hooks';
import type { HistoryEntry } from '../lm/history.ts';

/** Anything that keeps its own LM call history; every module on the call stack receives each LM call's entry. */
export interface HistoryHolder {
  /** The calls made while this holder was on the call stack, oldest first. */
  history: HistoryEntry[];
}

const callerModules = new AsyncLocalStorage<readonly HistoryHolder[]>();

/** The modules whose `call` is running in the current async context, outermost first. */
export function currentCallerModules(): readonly HistoryHolder[] {
  return callerModules.getStore() ?? [];
}

/** Runs `fn` with `module` pushed on the call stack of the current async context. */
export function withCallerModule<T>(module: HistoryHolder, fn: () => T): T {
  return callerModules.run([...currentCallerModules(), module], fn);
}
