/**
 * Loading a llama2.c model (`model.bin` + `tokenizer.bin`) from files or bytes.
 *
 * @module
 */

import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendPreference, SelectBackendOptions } from '../kernels/select-backend.ts';
import { parseLlama2cTokenizer } from '../tokenizer/llama2c-tokenizer.ts';
import { type InferencePath, LlamaModel } from './llama-model.ts';
import { parseLlama2cCheckpoint } from './llama2c-checkpoint.ts';
import { ModelFileError } from './model-file-error.ts';

/** A file given by path, `file:` URL or its bytes. */
export type FileSource = string | URL | Uint8Array;

/** Options of {@link loadLlama2c}. */
export interface LoadLlama2cOptions {
  /** The checkpoint (`.bin`, v0 legacy or v1 "ak42"). */
  checkpoint: FileSource;
  /** The llama2.c `tokenizer.bin` matching the checkpoint's vocabulary. */
  tokenizer: FileSource;
  /**
   * Kernels for the runtime: a backend instance, `'auto'` (wasm in Node when it loads, else reference), or a
   * backend name (default `'reference'`). A backend created from a name is released by `model.dispose()`.
   */
  backend?: BackendPreference;
  /** Options for creating the backend from a name (wasm threads, gpujs mode, a fallback callback). */
  backendOptions?: SelectBackendOptions;
  /** Where forward passes compute (default `auto`); see {@link InferencePath}. */
  inference?: InferencePath;
  /** Model name (default: the checkpoint's file name without extension, e.g. `stories260K`). */
  name?: string;
}

/** Reads a {@link FileSource}; returns its bytes and a label for error messages. */
export async function readSource(
  source: FileSource,
  fallbackLabel: string,
): Promise<{ bytes: Uint8Array; label: string }> {
  if (source instanceof Uint8Array) return { bytes: source, label: fallbackLabel };
  const path = source instanceof URL ? fileURLToPath(source) : source;
  try {
    return { bytes: new Uint8Array(await readFile(path)), label: path };
  } catch (cause) {
    throw new ModelFileError(`Cannot read ${path}: ${(cause as Error).message}`, { file: path, cause });
  }
}

/**
 * Loads a llama2.c checkpoint and tokenizer into a {@link LlamaModel} (RoPE layout `interleaved`).
 * Throws a {@link ModelFileError} naming the bad header field or tensor when a file is malformed.
 *
 * @example
 * ```ts
 * const model = await loadLlama2c({
 *   checkpoint: '../shared/models/stories260K/stories260K.bin',
 *   tokenizer: '../shared/models/stories260K/tok512.bin',
 * });
 * model.generate('', { maxNewTokens: 20 }).text; // 'Once upon a time, …'
 * ```
 */
export async function loadLlama2c(options: LoadLlama2cOptions): Promise<LlamaModel> {
  const checkpoint = await readSource(options.checkpoint, 'checkpoint');
  const tokenizer = await readSource(options.tokenizer, 'tokenizer');
  const { config, weights } = parseLlama2cCheckpoint(checkpoint.bytes, checkpoint.label);
  return LlamaModel.create({
    config,
    weights,
    tokenizer: parseLlama2cTokenizer(tokenizer.bytes, config.vocabSize, tokenizer.label),
    backend: options.backend,
    backendOptions: options.backendOptions,
    inference: options.inference,
    name: options.name ?? basename(checkpoint.label).replace(/\.[^.]*$/, ''),
  });
}
