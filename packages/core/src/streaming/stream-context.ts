import { AsyncLocalStorage } from 'node:async_hooks';
import type { LanguageModelV1, LMRequest, LMResponse } from '../lm/spec.ts';

/** Receives the text of one streamed LM call (see {@link LMStreamObserver}). */
export interface LMCallStream {
  /** More text of the first choice. */
  write(delta: string): void;
  /** The call finished with `response`. */
  close(response: LMResponse): void;
}

/**
 * Installed by `streamify` for the async context of one program run: `callLM` asks it, for every LM request made
 * inside that run, whether the request should be streamed and where its text goes.
 */
export interface LMStreamObserver {
  /** A stream for this request, or `undefined` to call `generate` as usual. */
  open(lm: LanguageModelV1, request: LMRequest): LMCallStream | undefined;
}

const observers = new AsyncLocalStorage<LMStreamObserver>();

/** The observer of the current async context, if a `streamify` run is active. */
export function activeStreamObserver(): LMStreamObserver | undefined {
  return observers.getStore();
}

/** Runs `fn` with `observer` receiving the LM calls made inside it (and inside the async work it starts). */
export function runWithStreamObserver<T>(observer: LMStreamObserver, fn: () => T): T {
  return observers.run(observer, fn);
}
