/**
 * The allocator of the shared wasm memory. It has two regions above the fixed base:
 *
 * - **resident** allocations, which live until they are freed: arrays a caller keeps in the backend's memory so
 *   that kernels read them in place instead of copying them in on every call. First fit over a list of free
 *   gaps, coalesced on free; the region shrinks when its last allocation is freed.
 * - the **per-call** region above them: a bump allocator. Kernel calls are synchronous and never nested, so each
 *   call resets it, allocates its inputs and outputs, and leaves the space for the next call — no frees, no
 *   fragmentation. Resident allocations are made between calls, never during one, and move its start.
 *
 * The memory only grows, to the largest footprint seen (wasm memory cannot shrink).
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
  /** End of the resident region and start of the per-call region. */
  #base: number;
  #top: number;
  /** Live resident allocations: address → bytes reserved. */
  readonly #resident = new Map<number, number>();
  /** Free gaps inside the resident region: address → bytes, never adjacent to each other or to its end. */
  readonly #gaps = new Map<number, number>();

  /** Creates a heap whose allocations start at byte `base` of `memory`. */
  constructor(memory: WebAssembly.Memory, base: number) {
    this.memory = memory;
    this.#base = alignUp(base, ALIGN);
    this.#top = this.#base;
  }

  /**
   * Reserves `bytes` bytes (64-byte aligned) that stay reserved until {@link freeResident}, growing the memory
   * when needed, and returns their address. Must not be called while a kernel call is using the per-call region.
   */
  allocResident(bytes: number): number {
    const size = alignUp(Math.max(1, bytes), ALIGN);
    let fit: number | undefined;
    for (const [ptr, gap] of this.#gaps) if (gap >= size && (fit === undefined || ptr < fit)) fit = ptr;
    if (fit !== undefined) {
      const gap = this.#gaps.get(fit) as number;
      this.#gaps.delete(fit);
      if (gap > size) this.#gaps.set(fit + size, gap - size);
      this.#resident.set(fit, size);
      return fit;
    }
    const ptr = this.#base;
    this.#ensure(ptr + size);
    this.#resident.set(ptr, size);
    this.#base = ptr + size;
    this.#top = this.#base;
    return ptr;
  }

  /** Frees the resident allocation at `ptr`; returns false when there is none there. */
  freeResident(ptr: number): boolean {
    const size = this.#resident.get(ptr);
    if (size === undefined) return false;
    this.#resident.delete(ptr);
    let start = ptr;
    let end = ptr + size;
    for (const [gapPtr, gap] of this.#gaps) {
      if (gapPtr + gap === start) {
        start = gapPtr;
        this.#gaps.delete(gapPtr);
      } else if (gapPtr === end) {
        end += gap;
        this.#gaps.delete(gapPtr);
      }
    }
    if (end === this.#base) {
      this.#base = start;
      this.#top = start;
    } else this.#gaps.set(start, end - start);
    return true;
  }

  /** Whether `[ptr, ptr + bytes)` lies inside one live resident allocation. */
  isResident(ptr: number, bytes: number): boolean {
    for (const [start, size] of this.#resident) if (ptr >= start && ptr + bytes <= start + size) return true;
    return false;
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
