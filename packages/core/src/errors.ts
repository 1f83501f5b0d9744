const MARKER = Symbol.for('@dspy-ts/core.error');

/** The family a {@link DspyError} belongs to; callers switch on this rather than on message text. */
export type DspyErrorCode =
  | 'signature'
  | 'adapter_parse'
  | 'lm'
  | 'configuration'
  | 'state'
  | 'optimizer'
  | 'kernel'
  | 'model_file'
  | 'aborted'
  | 'invalid_argument';

/** Options shared by every dspy-ts error constructor. */
export interface DspyErrorOptions {
  /** The underlying error, if this one wraps another. */
  cause?: unknown;
}

/**
 * Base class of every error dspy-ts throws. A `Symbol.for` marker makes {@link DspyError.isInstance} work even
 * when two copies of the package are loaded (where `instanceof` would fail).
 */
export class DspyError extends Error {
  /** Machine-readable family of the failure. */
  readonly code: DspyErrorCode;

  constructor(code: DspyErrorCode, message: string, options: DspyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    // Non-enumerable so the marker never shows up when errors are logged or serialized.
    Object.defineProperty(this, MARKER, { value: true });
    this.name = 'DspyError';
  }

  /** True when `error` is a dspy-ts error, from any copy of the package. */
  static isInstance(error: unknown): error is DspyError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** A signature string or builder input is malformed (no `->`, duplicate names, unknown type, bad brackets). */
export class SignatureError extends DspyError {
  constructor(message: string, options: DspyErrorOptions = {}) {
    super('signature', message, options);
    this.name = 'SignatureError';
  }

  /** True when `error` is a {@link SignatureError}, from any copy of the package. */
  static override isInstance(error: unknown): error is SignatureError {
    return DspyError.isInstance(error) && error.code === 'signature';
  }
}

/** Details carried by an {@link AdapterParseError}. */
export interface AdapterParseErrorDetails extends DspyErrorOptions {
  /** Name of the adapter that failed, e.g. `ChatAdapter`. */
  adapterName: string;
  /** The signature being parsed, as its `inputs -> outputs` string. */
  signature: string;
  /** The raw LM text. */
  lmResponse: string;
  /** Fields parsed before the failure, if any. */
  parsedResult?: Record<string, unknown>;
  /** An optional leading message (e.g. which field failed to parse). */
  message?: string;
  /** Output fields the adapter expected. */
  expectedFields?: readonly string[];
}

/**
 * The LM reply could not be parsed into the signature's output fields. The message text matches DSPy's
 * `AdapterParseError` byte for byte.
 */
export class AdapterParseError extends DspyError {
  /** Name of the adapter that failed, e.g. `ChatAdapter`. */
  readonly adapterName: string;
  /** The signature being parsed, as its `inputs -> outputs` string. */
  readonly signature: string;
  /** The raw LM text that could not be parsed. */
  readonly lmResponse: string;
  /** Fields parsed before the failure, if any. */
  readonly parsedResult: Record<string, unknown> | undefined;

  constructor(details: AdapterParseErrorDetails) {
    const expected = details.expectedFields ?? [];
    const parsedKeys = details.parsedResult ? Object.keys(details.parsedResult) : [];
    let text = '';
    if (details.message) text += `${details.message}\n\n`;
    text +=
      `Adapter ${details.adapterName} failed to parse the LM response. \n\n` +
      `LM Response: ${details.lmResponse} \n\n` +
      `Expected to find output fields in the LM response: [${expected.join(', ')}] \n\n`;
    if (details.parsedResult !== undefined) {
      text += `Actual output fields parsed from the LM response: [${parsedKeys.join(', ')}] \n\n`;
    }
    super('adapter_parse', text, details);
    this.name = 'AdapterParseError';
    this.adapterName = details.adapterName;
    this.signature = details.signature;
    this.lmResponse = details.lmResponse;
    this.parsedResult = details.parsedResult;
  }

  /** True when `error` is an {@link AdapterParseError}, from any copy of the package. */
  static override isInstance(error: unknown): error is AdapterParseError {
    return DspyError.isInstance(error) && error.code === 'adapter_parse';
  }
}

/** Sub-codes of {@link LMError}, shared by every LM implementation. */
export type LMErrorKind =
  | 'auth'
  | 'rate_limit'
  | 'timeout'
  | 'context_window_exceeded'
  | 'invalid_request'
  | 'server'
  | 'network'
  | 'aborted'
  | 'unknown';

/**
 * A call to a language model failed. Adapters never fall back to another format on an `LMError`; optimizers and
 * retry layers consult {@link LMError.isRetryable}.
 */
export class LMError extends DspyError {
  /** What kind of LM failure this is. */
  readonly kind: LMErrorKind;
  /** Whether retrying the same request may succeed (rate limits, 5xx, timeouts, resets). */
  readonly isRetryable: boolean;
  /** HTTP status, when the failure came from an HTTP response. */
  readonly status: number | undefined;

  constructor(
    kind: LMErrorKind,
    message: string,
    options: DspyErrorOptions & { isRetryable?: boolean; status?: number } = {},
  ) {
    super('lm', message, options);
    this.name = 'LMError';
    this.kind = kind;
    this.status = options.status;
    this.isRetryable =
      options.isRetryable ?? (kind === 'rate_limit' || kind === 'server' || kind === 'timeout' || kind === 'network');
  }

  /** True when `error` is an {@link LMError}, from any copy of the package. */
  static override isInstance(error: unknown): error is LMError {
    return DspyError.isInstance(error) && error.code === 'lm';
  }
}

/** Settings are missing or contradictory (for example no LM configured). */
export class ConfigurationError extends DspyError {
  constructor(message: string, options: DspyErrorOptions = {}) {
    super('configuration', message, options);
    this.name = 'ConfigurationError';
  }
}

/** Saved program state is invalid; the message names the offending JSON path. */
export class StateError extends DspyError {
  /** JSON path of the offending value, e.g. `predict.demos[2]`. */
  readonly path: string;

  constructor(path: string, message: string, options: DspyErrorOptions = {}) {
    super('state', message, options);
    this.name = 'StateError';
    this.path = path;
  }
}
