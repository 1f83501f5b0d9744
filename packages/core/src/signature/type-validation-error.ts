import { DspyError, type DspyErrorOptions } from '../errors.ts';

const MARKER = Symbol.for('@dspy-ts/core.type-validation-error');

/** Where and why a value did not match a {@link TypeNode}. */
export interface TypeValidationErrorDetails extends DspyErrorOptions {
  /** Annotation name of the whole type being validated, e.g. `list[int]`. */
  annotation: string;
  /** Annotation name of the (innermost) type that rejected a value, e.g. `int`. */
  expected: string;
  /** Keys and indices from the top-level value down to the rejected one; empty at the top. */
  path: readonly (string | number)[];
  /** Python-style description of the rejected value, e.g. `str 'abc'`. */
  found: string;
  /** Why the value was rejected, e.g. `unable to parse string as an integer`. */
  reason: string;
}

/**
 * A value does not conform to a field's type (pydantic's `ValidationError`). Its `code` is `invalid_argument`;
 * the message names the expected type, where in the value the problem is, and what was found.
 */
export class TypeValidationError extends DspyError {
  /** Annotation name of the whole type being validated. */
  readonly annotation: string;
  /** Annotation name of the type that rejected a value. */
  readonly expected: string;
  /** Location of the rejected value inside the validated one. */
  readonly path: readonly (string | number)[];
  /** Description of the rejected value. */
  readonly found: string;
  /** Why the value was rejected. */
  readonly reason: string;

  constructor(details: TypeValidationErrorDetails) {
    const location = details.path.length === 0 ? '' : ` at ${formatPath(details.path)} of ${details.annotation}`;
    super(
      'invalid_argument',
      `Expected ${details.expected}${location}, found ${details.found}: ${details.reason}.`,
      details,
    );
    this.name = 'TypeValidationError';
    this.annotation = details.annotation;
    this.expected = details.expected;
    this.path = details.path;
    this.found = details.found;
    this.reason = details.reason;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True when `error` is a {@link TypeValidationError}, from any copy of the package. */
  static override isInstance(error: unknown): error is TypeValidationError {
    return DspyError.isInstance(error) && (error as unknown as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** Renders a value path the way Python subscripts read: `[0]['name']`. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `[${JSON.stringify(p)}]`)).join('');
}
