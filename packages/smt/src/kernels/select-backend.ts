/**
 * Choosing a {@link KernelBackend} by name: `'auto'` takes the WebAssembly SIMD backend in Node when it can be
 * loaded and falls back to the reference backend (telling the caller why); a backend name insists on that
 * backend. The `wasm` and `gpujs` modules are imported only when they are asked for, so programs that use the
 * reference backend never load them.
 *
 * @module
 */

import type { BackendName, KernelBackend } from './backend.ts';
import type { GpuJsBackendOptions } from './gpujs/gpujs-backend.ts';
import { KernelError } from './kernel-error.ts';
import { createReferenceBackend } from './reference/reference-backend.ts';
import type { WasmBackendOptions } from './wasm/wasm-backend.ts';

/**
 * Which kernels to use: `'auto'` (the fastest that loads here), a backend name (that backend or an error), or a
 * backend instance (used as given).
 */
export type BackendPreference = 'auto' | BackendName | KernelBackend;

/** Why `'auto'` did not select its first choice. */
export interface BackendFallback {
  /** The backend `'auto'` tried first. */
  tried: BackendName;
  /** The backend selected instead. */
  selected: BackendName;
  /** Human-readable reason, e.g. `not running in Node (the wasm backend needs worker_threads)`. */
  reason: string;
  /** The error that made the first choice fail, if one was thrown. */
  cause?: unknown;
}

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /** Options for the `wasm` backend (threads, variant, …) when it is selected. */
  wasm?: WasmBackendOptions;
  /** Options for the `gpujs` backend when it is requested. */
  gpujs?: GpuJsBackendOptions;
  /** Called when `'auto'` falls back to the reference backend, with the reason. */
  onFallback?: (fallback: BackendFallback) => void;
}

const NAMES: readonly BackendName[] = ['reference', 'wasm', 'gpujs'];

function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

/** The error's message as a sentence (ending in a full stop), to be followed by advice. */
function errorText(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).trim();
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function isBackend(value: unknown): value is KernelBackend {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as KernelBackend).matmul === 'function' &&
    NAMES.includes((value as KernelBackend).name)
  );
}

async function createWasm(options: WasmBackendOptions | undefined): Promise<KernelBackend> {
  const { createWasmBackend } = await import('./wasm/wasm-backend.ts');
  return createWasmBackend(options);
}

async function createGpuJs(options: GpuJsBackendOptions | undefined): Promise<KernelBackend> {
  const { createGpuJsBackend } = await import('./gpujs/gpujs-backend.ts');
  return createGpuJsBackend(options);
}

/**
 * Resolves a {@link BackendPreference} to a ready backend.
 *
 * - `'auto'`: in Node, the `wasm` backend (multi-threaded WebAssembly SIMD) when its module loads and its kernels
 *   compile; otherwise the `reference` backend, after calling `options.onFallback` with the reason (outside
 *   Node, or when the engine lacks WebAssembly SIMD or shared memory).
 * - `'reference'`, `'wasm'`, `'gpujs'`: exactly that backend; when it cannot be created, a `kernel`
 *   {@link KernelError} says why (its `cause` is the original error).
 * - a {@link KernelBackend}: returned unchanged.
 *
 * Backends created here hold resources (`wasm` starts worker threads, `gpujs` a GPU context): call their
 * `dispose()` when done. Idle `wasm` workers never keep a Node process alive.
 *
 * @example
 * ```ts
 * const backend = await selectBackend('auto', {
 *   onFallback: ({ reason }) => console.warn(`using the reference kernels: ${reason}`),
 * });
 * const model = await loadLlama2c({ checkpoint, tokenizer, backend });
 * // …
 * await backend.dispose?.();
 * ```
 */
export async function selectBackend(
  preference: BackendPreference = 'auto',
  options: SelectBackendOptions = {},
): Promise<KernelBackend> {
  if (typeof preference === 'object' && preference !== null) {
    if (!isBackend(preference)) {
      throw new KernelError(
        `selectBackend: expected 'auto', one of ${NAMES.map((n) => `'${n}'`).join(', ')} or a KernelBackend ` +
          'object (with a matmul method and a backend name), but got an object that is neither.',
      );
    }
    return preference;
  }
  switch (preference) {
    case 'reference':
      return createReferenceBackend();
    case 'auto': {
      const fallback = (reason: string, cause?: unknown): KernelBackend => {
        options.onFallback?.({ tried: 'wasm', selected: 'reference', reason, cause });
        return createReferenceBackend();
      };
      if (!isNode()) return fallback('not running in Node (the wasm backend needs worker_threads)');
      try {
        return await createWasm(options.wasm);
      } catch (error) {
        return fallback(`the wasm backend could not be created: ${errorText(error).slice(0, -1)}`, error);
      }
    }
    case 'wasm':
      if (!isNode()) {
        throw new KernelError(
          "The 'wasm' backend needs Node (it runs its kernels on worker_threads); in a browser use 'gpujs' or " +
            "'reference', or 'auto' to pick what is available.",
        );
      }
      try {
        return await createWasm(options.wasm);
      } catch (error) {
        throw new KernelError(
          `The 'wasm' backend is unavailable here: ${errorText(error)} Use 'reference', or 'auto' to fall back ` +
            'to it automatically.',
          { cause: error },
        );
      }
    case 'gpujs':
      try {
        return await createGpuJs(options.gpujs);
      } catch (error) {
        throw new KernelError(
          `The 'gpujs' backend is unavailable here: ${errorText(error)} Use 'reference', or 'auto' to pick ` +
            'what is available.',
          { cause: error },
        );
      }
    default:
      throw new KernelError(
        `selectBackend: unknown backend ${JSON.stringify(preference)}; expected 'auto', ` +
          `${NAMES.map((n) => `'${n}'`).join(', ')} or a KernelBackend object.`,
      );
  }
}
