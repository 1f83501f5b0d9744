import { DspyError, type DspyErrorOptions } from '@dspy-ts/core';

/**
 * A kernel was called with inconsistent arguments (a buffer shorter than its shape says, a block outside the
 * matrix, a target id outside the vocabulary). The message names the argument, the expected and the found size.
 */
export class KernelError extends DspyError {
  constructor(message: string, options: DspyErrorOptions = {}) {
    super('kernel', message, options);
    this.name = 'KernelError';
  }

  /** True when `error` is a {@link KernelError}, from any copy of the package. */
  static override isInstance(error: unknown): error is KernelError {
    return DspyError.isInstance(error) && error.code === 'kernel';
  }
}
