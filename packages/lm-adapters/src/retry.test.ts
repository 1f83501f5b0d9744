import { LMError } from '@dspy-ts/core';
import { describe, expect, it } from 'vitest';
import { backoffDelay, resolveRetryOptions, withRetries } from './retry.ts';
import { parseRetryAfter } from './retry-after.ts';

const fast = resolveRetryOptions({ initialDelayMs: 1, maxDelayMs: 50 });

describe('backoffDelay', () => {
  it('doubles per attempt, stays within [half, full] and respects the cap', () => {
    const options = resolveRetryOptions({ initialDelayMs: 100, maxDelayMs: 1000 });
    expect(backoffDelay(0, options, () => 0)).toBe(50);
    expect(backoffDelay(0, options, () => 1)).toBe(100);
    expect(backoffDelay(2, options, () => 1)).toBe(400);
    expect(backoffDelay(10, options, () => 1)).toBe(1000);
    expect(backoffDelay(10, options, () => 0)).toBe(500);
  });
});

describe('parseRetryAfter', () => {
  it('reads retry-after-ms, seconds and HTTP dates', () => {
    expect(parseRetryAfter({ 'retry-after-ms': '250' })).toBe(250);
    expect(parseRetryAfter({ 'Retry-After': '2' })).toBe(2000);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter({ 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' }, now)).toBe(3000);
    expect(parseRetryAfter({ 'retry-after': 'soon' })).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('withRetries', () => {
  const toError = (error: unknown) =>
    LMError.isInstance(error) ? error : new LMError('unknown', String(error), { isRetryable: false });

  it('retries retryable errors numRetries times (numRetries + 1 attempts) then throws the last', async () => {
    let attempts = 0;
    const failure = withRetries(
      async () => {
        attempts++;
        throw new LMError('rate_limit', `limited ${attempts}`);
      },
      { ...fast, numRetries: 3, toError },
    );
    await expect(failure).rejects.toMatchObject({ kind: 'rate_limit', message: 'limited 4' });
    expect(attempts).toBe(4);
  });

  it('does not retry non-retryable errors', async () => {
    let attempts = 0;
    await expect(
      withRetries(
        async () => {
          attempts++;
          throw new LMError('auth', 'bad key');
        },
        { ...fast, toError },
      ),
    ).rejects.toMatchObject({ kind: 'auth' });
    expect(attempts).toBe(1);
  });

  it('returns the first success and stops waiting when aborted', async () => {
    let attempts = 0;
    await expect(
      withRetries(
        async () => {
          if (++attempts < 3) throw new LMError('server', 'boom');
          return 'ok';
        },
        { ...fast, toError },
      ),
    ).resolves.toBe('ok');

    const controller = new AbortController();
    const started = Date.now();
    const pending = withRetries(
      async () => {
        throw new LMError('server', 'boom');
      },
      {
        numRetries: 3,
        initialDelayMs: 10_000,
        signal: controller.signal,
        toError: (error) => (LMError.isInstance(error) ? error : new LMError('aborted', 'aborted')),
      },
    );
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ kind: 'aborted' });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
