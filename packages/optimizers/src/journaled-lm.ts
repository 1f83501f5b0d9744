import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { isLanguageModel, type LanguageModelV1, type LMRequest, type LMResponse, type Module } from '@dspy-ts/core';
import type { Checkpoint } from './checkpoint.ts';
import { markReplayed } from './compile-stats.ts';

interface UnitScope {
  key: string;
  checkpoint: Checkpoint;
}

const unitScope = new AsyncLocalStorage<UnitScope>();

/** Runs `fn` as unit of work `key`: LM calls made inside through a {@link JournaledLM} are journaled under it. */
export function runInUnit<T>(key: string, checkpoint: Checkpoint, fn: () => Promise<T>): Promise<T> {
  return unitScope.run({ key, checkpoint }, fn);
}

function requestHash(modelId: string, request: LMRequest): string {
  const { signal: _signal, ...rest } = request;
  return createHash('sha256')
    .update(JSON.stringify([modelId, rest]))
    .digest('hex');
}

/**
 * Wraps an LM so that, inside a unit of work (see {@link runInUnit}), every response is journaled in the checkpoint
 * before it is used, and a re-run of an interrupted unit gets the journaled responses back instead of paying for the
 * same requests again. Outside a unit it simply forwards. Replayed responses carry `cacheHit: true` and no usage.
 */
export class JournaledLM implements LanguageModelV1 {
  /** Spec version. */
  readonly specificationVersion = 'v1' as const;
  /** The wrapped LM's model id. */
  readonly modelId: string;
  /** The wrapped LM's defaults. */
  readonly defaults: LanguageModelV1['defaults'];
  /** The wrapped LM's capabilities. */
  readonly capabilities: LanguageModelV1['capabilities'];
  /** A journaled copy of the wrapped LM with other defaults (present when the wrapped LM supports it). */
  readonly withDefaults?: LanguageModelV1['withDefaults'];

  constructor(
    /** The LM that answers requests that were not journaled. */
    readonly inner: LanguageModelV1,
  ) {
    this.modelId = inner.modelId;
    this.defaults = inner.defaults;
    this.capabilities = inner.capabilities;
    if (typeof inner.withDefaults === 'function') {
      const withDefaults = inner.withDefaults.bind(inner);
      this.withDefaults = (defaults) => new JournaledLM(withDefaults(defaults));
    }
  }

  /** Answers from the journal of the current unit when possible, otherwise asks the wrapped LM and journals. */
  async generate(request: LMRequest): Promise<LMResponse> {
    const scope = unitScope.getStore();
    if (!scope) return this.inner.generate(request);
    const hash = requestHash(this.modelId, request);
    const replay = scope.checkpoint.takeReplay(scope.key, hash);
    if (replay) return markReplayed({ ...replay, usage: {}, cacheHit: true });
    const response = await this.inner.generate(request);
    await scope.checkpoint.journalResponse(scope.key, hash, response);
    return response;
  }

  /** The wrapped LM's state. */
  dumpState(): Record<string, unknown> {
    return this.inner.dumpState?.() ?? { model: this.modelId };
  }
}

/** `lm` wrapped in a {@link JournaledLM} (unchanged when already wrapped, `null`/`undefined` passed through). */
export function journaled<T extends LanguageModelV1 | null | undefined>(lm: T): T {
  if (!isLanguageModel(lm) || lm instanceof JournaledLM) return lm;
  return new JournaledLM(lm) as unknown as T;
}

/** `lm` without its {@link JournaledLM} wrapper. */
export function unjournaled<T extends LanguageModelV1 | null | undefined>(lm: T): T {
  return (lm instanceof JournaledLM ? lm.inner : lm) as T;
}

/** Wraps the LM of every predictor of `program` in place. */
export function journalModuleLMs(program: Module<any, any, any>): void {
  for (const predictor of program.predictors()) predictor.lm = journaled(predictor.lm);
}

/** Removes the wrappers added by {@link journalModuleLMs}, in place. */
export function unjournalModuleLMs(program: Module<any, any, any>): void {
  for (const predictor of program.predictors()) predictor.lm = unjournaled(predictor.lm);
}
