import { DspyError, type DspyErrorOptions } from '@dspy-ts/core';

/** Options of {@link ModelFileError}. */
export interface ModelFileErrorOptions extends DspyErrorOptions {
  /** The file that is wrong (a path, or a label such as `checkpoint` for in-memory bytes). */
  file?: string;
  /** The tensor, header field or JSON key at fault, e.g. `wq` or `num_key_value_heads`. */
  field?: string;
}

/**
 * A model, tokenizer or configuration file is malformed: truncated, a tensor of the wrong size, a header field
 * out of range, a bad magic number, offsets outside the file or a missing tensor. The message names the file,
 * the offending tensor or header field, and what size or value was expected versus found.
 */
export class ModelFileError extends DspyError {
  /** The file that is wrong, when known. */
  readonly file: string | undefined;
  /** The tensor, header field or key at fault, when known. */
  readonly field: string | undefined;

  constructor(message: string, options: ModelFileErrorOptions = {}) {
    super('model_file', message, options);
    this.name = 'ModelFileError';
    this.file = options.file;
    this.field = options.field;
  }

  /** True when `error` is a {@link ModelFileError}, from any copy of the package. */
  static override isInstance(error: unknown): error is ModelFileError {
    return DspyError.isInstance(error) && error.code === 'model_file';
  }
}
