import { DspyError, type DspyErrorOptions } from '@dspy-ts/core';

/**
 * An optimizer was misconfigured or cannot continue: invalid options (`breadth <= 1`), a student and teacher with
 * different structures, a checkpoint written by a different compile. `code` is always `'optimizer'`.
 */
export class OptimizerError extends DspyError {
  constructor(message: string, options: DspyErrorOptions = {}) {
    super('optimizer', message, options);
    this.name = 'OptimizerError';
  }

  /** True when `error` is an {@link OptimizerError}, from any copy of the package. */
  static override isInstance(error: unknown): error is OptimizerError {
    return DspyError.isInstance(error) && error.code === 'optimizer';
  }
}
