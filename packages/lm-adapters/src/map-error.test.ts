import { LMError } from '@dspy-ts/core';
import { APICallError } from 'ai';
import { describe, expect, it } from 'vitest';
import { redactSecrets, retryAfterOf, toLMError } from './map-error.ts';

function apiError(statusCode: number | undefined, message: string, headers: Record<string, string> = {}) {
  return new APICallError({
    message,
    url: 'http://127.0.0.1/v1/chat/completions',
    requestBodyValues: { messages: [{ role: 'user', content: 'SECRET PROMPT' }] },
    ...(statusCode === undefined ? {} : { statusCode }),
    responseHeaders: headers,
    responseBody: message,
  });
}

describe('toLMError', () => {
  it.each([
    [401, 'auth', false],
    [403, 'auth', false],
    [429, 'rate_limit', true],
    [408, 'timeout', true],
    [500, 'server', true],
    [503, 'server', true],
    [400, 'invalid_request', false],
    [404, 'invalid_request', false],
  ] as const)('maps HTTP %i to %s (retryable: %s)', (status, kind, retryable) => {
    const error = toLMError(apiError(status, 'nope'), { modelId: 'm' });
    expect(error).toBeInstanceOf(LMError);
    expect(error).toMatchObject({ kind, isRetryable: retryable, status });
    expect(error.cause).toBeInstanceOf(APICallError);
  });

  it('recognises context-window errors and keeps Retry-After', () => {
    expect(toLMError(apiError(400, "This model's maximum context length is 8192 tokens"), { modelId: 'm' }).kind).toBe(
      'context_window_exceeded',
    );
    const limited = toLMError(apiError(429, 'slow down', { 'retry-after': '3' }), { modelId: 'm' });
    expect(retryAfterOf(limited)).toBe(3000);
  });

  it('never puts the request body or keys into the message', () => {
    const error = toLMError(apiError(401, 'Incorrect API key provided: sk-abcdef123456'), { modelId: 'm' });
    expect(error.message).not.toContain('SECRET PROMPT');
    expect(error.message).not.toContain('sk-abcdef123456');
    expect(redactSecrets('Authorization: Bearer abc.def')).toBe('Authorization: Bearer [redacted]');
  });

  it('distinguishes network failures, local timeouts and aborts', () => {
    const reset = apiError(undefined, 'Cannot connect to API: other side closed');
    expect(toLMError(reset, { modelId: 'm' })).toMatchObject({ kind: 'network', isRetryable: true });
    expect(toLMError(new Error('x'), { modelId: 'm', timedOut: true, timeoutMs: 5 })).toMatchObject({
      kind: 'timeout',
      isRetryable: true,
    });
    expect(toLMError(new DOMException('stop', 'AbortError'), { modelId: 'm', aborted: true })).toMatchObject({
      kind: 'aborted',
      isRetryable: false,
    });
  });
});
