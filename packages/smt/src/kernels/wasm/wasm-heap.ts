/**
 * A bump allocator over the shared wasm memory. Kernel calls are synchronous and never nested, so each call
 * resets the heap, allocates its inputs and outputs, and leaves the space for the next call: no frees, no
 * fragmentation, and the memory only grows to the largest call seen (wasm memory cannot shrink).
 *
 * @module
 */
import { KernelError } from '../kernel-error.ts';

/** Bytes per wasm page. */
export const WASM_PAGE_BYTES = 65_536;
/** Largest size of a wasm32 memory, in pages (4 GiB). */
export const WASM_MAX_PAGES = 65_536;

/** Alignment of every allocation: a cache line, which also satisfies v128 accesses. */
const ALIGN = 64;

/** Rounds `value` up to a multiple of `alignment` (a power of two). */
export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

type TypedInput = Float32Array | Int32Array | Uint8Array;

/**
 * Per-call scratch space in a `WebAssembly.Memory`, above a fixed base that holds the module's static data, the
 * thread control region and the per-thread GEMM scratch.
 */
export class WasmHeap {
  /** The memory this heap allocates from. */
  readonly memory: WebAssembly.Memory;
  readonly #base: number;
  #top: number;

  /** Creates a heap whose allocations start at byte `base` of `memory`. */
  constructor(memory: WebAssembly.Memory, base: number) {
    this.memory = memory;
    this.#base = alignUp(base, ALIGN);
    this.#top = this.#base;
  }

  /** Releases every allocation; call at the start of each kernel call. */
  reset(): void {
    this.#top = this.#base;
  }

  /** Bytes currently reserved above the base. */
  get used(): number {
    return this.#top - this.#base;
  }

  /** Reserves `bytes` bytes (64-byte aligned), growing the memory when needed, and returns their address. */
  alloc(bytes: number): number {
    const ptr = this.#top;
    const end = alignUp(ptr + Math.max(0, bytes), ALIGN);
    this.#ensure(end);
    this.#top = end;
    return ptr;
  }

  /** Copies `data` into freshly allocated memory and returns its address. */
  copyIn(data: TypedInput): number {
    const ptr = this.alloc(data.byteLength);
    new Uint8Array(this.memory.buffer, ptr, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    return ptr;
  }

  /** Copies the first `length` values of `data` into freshly allocated memory and returns the address. */
  copyInF32(data: Float32Array, length: number): number {
    const ptr = this.alloc(length * 4);
    this.f32(ptr, length).set(length === data.length ? data : data.subarray(0, length));
    return ptr;
  }

  /** A Float32Array view of `length` values at `ptr` (valid until the memory grows). */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  /** An Int32Array view of `length` values at `ptr` (valid until the memory grows). */
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  /** Copies `length` floats at `ptr` into `out` (when given) or into a new array, and returns it. */
  readF32(ptr: number, length: number, out?: Float32Array): Float32Array {
    const target = out ?? new Float32Array(length);
    target.set(this.f32(ptr, length));
    return target;
  }

  #ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const havePages = have / WASM_PAGE_BYTES;
    const needPages = Math.ceil(end / WASM_PAGE_BYTES);
    if (needPages > WASM_MAX_PAGES) {
      throw new KernelError(
        `The wasm backend needs ${end} bytes of memory for this call, more than the 4 GiB a wasm32 memory can hold; ` +
          'split the work into smaller calls.',
      );
    }
    // Grow by at least a quarter of the current size so that slowly increasing shapes do not grow every call.
    const target = Math.min(WASM_MAX_PAGES, Math.max(needPages, Math.ceil(havePages * 1.25)));
    try {
      this.memory.grow(target - havePages);
    } catch (cause) {
      try {
        this.memory.grow(needPages - havePages);
      } catch {
        throw new KernelError(`Could not grow the wasm memory to ${end} bytes.`, { cause });
      }
    }
  }
}
