import type { LMError } from '@dspy-ts/core';
import { retryAfterOf } from './map-error.ts';

/** Backoff settings for retryable LM failures. */
export interface RetryOptions {
  /** Retries after the first attempt (DSPy's `num_retries`). Default 3, i.e. up to 4 attempts. */
  numRetries?: number;
  /** Delay before the first retry, before jitter. Default 1000 ms. */
  initialDelayMs?: number;
  /** Upper bound of any computed delay, and of a `Retry-After` the client is willing to honour. Default 60,000 ms. */
  maxDelayMs?: number;
}

/** {@link RetryOptions} with every field filled. */
export type ResolvedRetryOptions = Required<RetryOptions>;

/** Fills the defaults of {@link RetryOptions}. */
export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  return {
    numRetries: Math.max(0, Math.floor(options.numRetries ?? 3)),
    initialDelayMs: Math.max(0, options.initialDelayMs ?? 1000),
    maxDelayMs: Math.max(0, options.maxDelayMs ?? 60_000),
  };
}

/**
 * Exponential backoff with "equal jitter": retry `attempt` (0-based) waits between half and all of
 * `initialDelayMs · 2^attempt`, capped at `maxDelayMs`. Half the delay is fixed so clients back off for sure; the
 * random half spreads out clients that failed together.
 */
export function backoffDelay(
  attempt: number,
  options: ResolvedRetryOptions,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** attempt);
  return exponential / 2 + random() * (exponential / 2);
}

/**
 * The delay before retry `attempt` after `error`: the server's `Retry-After` when it gave one within `maxDelayMs`,
 * otherwise {@link backoffDelay}.
 */
export function retryDelay(
  error: LMError,
  attempt: number,
  options: ResolvedRetryOptions,
  random?: () => number,
): number {
  const retryAfter = retryAfterOf(error);
  if (retryAfter !== undefined && retryAfter <= options.maxDelayMs) return retryAfter;
  return backoffDelay(attempt, options, random);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Options of {@link withRetries}. */
export interface WithRetriesOptions extends RetryOptions {
  /** Turns any failure into an {@link LMError}; only errors with `isRetryable` are retried. */
  toError: (error: unknown, attempt: number) => LMError;
  /** Stops retrying (and waiting) when aborted. */
  signal?: AbortSignal | undefined;
  /** Called before each retry with the failure and the delay about to be waited. */
  onRetry?: ((error: LMError, attempt: number, delayMs: number) => void) | undefined;
  /** Source of randomness for jitter (tests). */
  random?: () => number;
}

/**
 * Runs `fn` until it succeeds, retrying retryable {@link LMError}s up to `numRetries` times with
 * {@link retryDelay} between attempts. Non-retryable errors and the last failure are thrown as `LMError`s.
 */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, options: WithRetriesOptions): Promise<T> {
  const resolved = resolveRetryOptions(options);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (raw) {
      const error = options.toError(raw, attempt);
      if (!error.isRetryable || attempt >= resolved.numRetries || options.signal?.aborted) throw error;
      const delay = retryDelay(error, attempt, resolved, options.random);
      options.onRetry?.(error, attempt, delay);
      try {
        await sleep(delay, options.signal);
      } catch (abortReason) {
        throw options.toError(abortReason, attempt);
      }
    }
  }
}
