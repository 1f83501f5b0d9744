import { LMError, type LMErrorKind } from '@dspy-ts/core';
import { APICallError } from 'ai';
import { parseRetryAfter } from './retry-after.ts';

const retryAfterByError = new WeakMap<LMError, number>();

/** The wait (ms) the provider asked for with `Retry-After` when `error` was produced, if it gave one. */
export function retryAfterOf(error: LMError): number | undefined {
  return retryAfterByError.get(error);
}

/** Why a request ended on our side rather than the provider's. */
export interface LocalFailureContext {
  /** Model id used in messages. */
  modelId: string;
  /** The per-request timeout fired. */
  timedOut?: boolean;
  /** The timeout that fired, in ms (for the message). */
  timeoutMs?: number;
  /** The caller's signal aborted. */
  aborted?: boolean;
}

const CONTEXT_WINDOW_PATTERNS = [
  /context[_ ]length[_ ]exceeded/i,
  /maximum context length/i,
  /context window/i,
  /prompt is too long/i,
  /too many (input )?tokens/i,
  /input is too long/i,
  /exceeds the (model's )?(maximum|max) (number of )?tokens/i,
];

const SECRET_PATTERNS: [RegExp, string][] = [
  [/\b(sk|pk|rk)-[A-Za-z0-9_*-]{6,}/g, '$1-[redacted]'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [redacted]'],
  [/\b(api[_-]?key|key|token)=([^&\s]+)/gi, '$1=[redacted]'],
  [/\bAIza[0-9A-Za-z_-]{20,}/g, '[redacted]'],
];

/** Removes anything that looks like a credential from provider text before it goes into an error message. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function providerMessage(error: APICallError): string {
  // The provider's own error text, never the request body; trimmed so a verbose HTML error page stays readable.
  const message = redactSecrets(error.message || '')
    .replace(/\s+/g, ' ')
    .trim();
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

function kindForStatus(status: number, text: string): LMErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) {
    // Some providers signal an oversized prompt with 429 + a tokens message; quota errors stay rate limits.
    return /context|too long/i.test(text) && CONTEXT_WINDOW_PATTERNS.some((p) => p.test(text))
      ? 'context_window_exceeded'
      : 'rate_limit';
  }
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500) return 'server';
  if (status === 413 || CONTEXT_WINDOW_PATTERNS.some((p) => p.test(text))) return 'context_window_exceeded';
  if (status >= 400) return 'invalid_request';
  return 'server';
}

function isAbortError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    ((error as { name?: string }).name === 'AbortError' || (error as { name?: string }).name === 'TimeoutError')
  );
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function isMalformedResponse(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const name = (current as { name?: unknown }).name;
    if (name === 'AI_JSONParseError' || name === 'AI_TypeValidationError' || name === 'AI_InvalidResponseDataError') {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Maps any failure of a provider call to core's {@link LMError}: HTTP statuses to kinds (401/403 `auth`, 429
 * `rate_limit`, 408/504 `timeout`, 5xx `server`, context-length messages `context_window_exceeded`, other 4xx
 * `invalid_request`), socket failures to `network`, malformed successful responses to `server` (retryable), our own
 * timeout to `timeout` and the caller's abort to `aborted`. The provider error is kept as `cause`; the message holds
 * the model id, the status and the provider's (redacted) explanation, never the request.
 */
export function toLMError(error: unknown, context: LocalFailureContext): LMError {
  if (LMError.isInstance(error)) return error;
  const { modelId } = context;
  if (context.aborted) {
    return new LMError('aborted', `The request to ${modelId} was aborted by the caller.`, { cause: error });
  }
  if (context.timedOut) {
    return new LMError(
      'timeout',
      `The request to ${modelId} timed out after ${context.timeoutMs ?? '?'} ms. Raise \`timeoutMs\` or check the provider's status.`,
      { cause: error },
    );
  }
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const text = `${error.message ?? ''} ${typeof error.responseBody === 'string' ? error.responseBody : ''}`;
    if (status !== undefined && (status < 200 || status >= 300)) {
      const kind = kindForStatus(status, text);
      const hint: Partial<Record<LMErrorKind, string>> = {
        auth: 'Check the API key for this provider.',
        rate_limit: 'Lower the request rate (`rateLimit`) or raise `numRetries`.',
        context_window_exceeded:
          'Shorten the prompt (fewer demos or shorter inputs) or use a model with a larger context.',
        invalid_request: 'The provider rejected the request; check the request options for this model.',
        server: 'The provider failed; retrying later may help.',
        timeout: 'The provider timed out; retrying later may help.',
      };
      const lmError = new LMError(
        kind,
        `${modelId} returned HTTP ${status}: ${providerMessage(error)}. ${hint[kind] ?? ''}`.trim(),
        { cause: error, status },
      );
      const retryAfter = parseRetryAfter(error.responseHeaders);
      if (retryAfter !== undefined) retryAfterByError.set(lmError, retryAfter);
      return lmError;
    }
    if (isMalformedResponse(error)) {
      return new LMError('server', `${modelId} sent a response that could not be parsed: ${providerMessage(error)}.`, {
        cause: error,
        isRetryable: true,
        ...(status === undefined ? {} : { status }),
      });
    }
    const code = networkCode(error);
    return new LMError(
      'network',
      `The connection to ${modelId} failed${code ? ` (${code})` : ''}: ${providerMessage(error)}.`,
      { cause: error },
    );
  }
  if (isMalformedResponse(error)) {
    return new LMError('server', `${modelId} sent a response that could not be parsed.`, {
      cause: error,
      isRetryable: true,
    });
  }
  if (isAbortError(error)) {
    return new LMError('aborted', `The request to ${modelId} was aborted.`, { cause: error });
  }
  const code = networkCode(error);
  if (code) {
    return new LMError('network', `The connection to ${modelId} failed (${code}).`, { cause: error });
  }
  const message = error instanceof Error ? redactSecrets(error.message) : String(error);
  return new LMError('unknown', `The request to ${modelId} failed: ${message}`, { cause: error, isRetryable: false });
}
