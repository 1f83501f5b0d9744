/**
 * The `wasm` kernel backend: AssemblyScript kernels compiled to WebAssembly with 128-bit SIMD, run on a shared
 * memory by the calling thread plus a pool of `worker_threads`. Matrix products are split by row (or column)
 * panels and the block-sparse weight gradient by token rows; everything else runs on the calling thread. Inputs
 * are copied into the wasm memory for each call and outputs copied back, so callers keep plain `Float32Array`s —
 * except inputs that already live there: arrays from {@link WasmBackend.allocate} are read in place.
 *
 * @module
 */
import type { AdamParams, AttentionCache, BlockIndex, KernelBackend, RopeLayout } from '../backend.ts';
import { KernelError } from '../kernel-error.ts';
import { checkBlocks } from '../validate.ts';
import { compileKernelModule, type WasmKernelVariant } from './kernel-module.ts';
import { controlRegionBytes, ThreadPool } from './thread-pool.ts';
import { alignUp, WASM_MAX_PAGES, WASM_PAGE_BYTES, WasmHeap } from './wasm-heap.ts';

/** Options of {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /**
   * Threads that compute, the calling thread included: `threads − 1` workers are started. Default
   * `min(os.availableParallelism(), 4)`; 1 runs everything on the calling thread.
   */
  threads?: number;
  /**
   * Smallest product, in multiply-adds (m·n·k, or blocks·bs²·m for the block-sparse gradient), that is split
   * across threads; smaller ones run on the calling thread, where a dispatch would cost more than it saves.
   * Default 2²¹ (about 40 µs of single-thread work).
   */
  parallelThreshold?: number;
  /**
   * Which build of the kernels to use. `'auto'` (default) takes relaxed SIMD (fused multiply-add) when the engine
   * supports it, else baseline SIMD.
   */
  variant?: WasmKernelVariant | 'auto';
}

/** A {@link KernelBackend} running WebAssembly kernels, with details of how it was set up. */
export interface WasmBackend extends KernelBackend {
  /** Always `wasm`. */
  readonly name: 'wasm';
  /** Threads that compute, the calling thread included. */
  readonly threads: number;
  /** The kernel build in use. */
  readonly variant: WasmKernelVariant;
  /**
   * A zero-filled array of `length` floats that lives in the backend's own memory. Kernels read such an array
   * (or any subarray of it) in place, where a plain `Float32Array` input is copied into that memory on every call
   * — which for large inputs and little arithmetic, such as the block-sparse weight gradient of a few blocks,
   * costs as much as the arithmetic. Outputs are still returned as new plain arrays (or written into `out`, which
   * may itself be resident). The array stays valid until {@link release} or {@link dispose}.
   *
   * @example
   * ```ts
   * const g = backend.allocate(m * outDim); // fill in place, e.g. g.set(upstreamGradient)
   * const x = backend.allocate(m * inDim);
   * const dS = backend.blockSparseWeightGrad(g, x, m, outDim, inDim, blocks, 64); // no copy of g or x
   * backend.release(g);
   * backend.release(x);
   * ```
   */
  allocate(length: number): Float32Array;
  /**
   * Frees an array returned by {@link allocate}. Do not use it afterwards: while its space is free, kernels refuse
   * it (they check that a resident input lies inside a live allocation), but once a later `allocate()` reuses the
   * space they read whatever the new owner wrote there.
   */
  release(array: Float32Array): void;
  /** Whether `array` lives in this backend's memory (returned by {@link allocate}, or a subarray of one). */
  isResident(array: Float32Array): boolean;
  /** Stops the worker threads. The backend must not be used afterwards. */
  dispose(): Promise<void>;
}

/** The raw kernel exports, as compiled from `packages/smt/assembly/`. Pointers are byte addresses. */
interface KernelExports {
  heapBase(): number;
  gemmScratchBytes(): number;
  gemm(...args: number[]): void;
  blockSparseWeightGrad(...args: number[]): void;
  axpy(y: number, alpha: number, x: number, n: number): void;
  blockScores(mat: number, rows: number, cols: number, bs: number, meanAbs: number, absMean: number): void;
  rmsnormForward(x: number, w: number, y: number, invRms: number, T: number, D: number, eps: number): void;
  rmsnormBackward(dy: number, x: number, w: number, invRms: number, dx: number, dW: number, T: number, D: number): void;
  rope(
    x: number,
    T: number,
    nHeads: number,
    headDim: number,
    pos0: number,
    layout: number,
    base: number,
    inverse: number,
  ): void;
  attentionForward(
    q: number,
    k: number,
    v: number,
    out: number,
    probs: number,
    T: number,
    S: number,
    nHeads: number,
    nKvHeads: number,
    hd: number,
  ): void;
  attentionBackward(
    dOut: number,
    q: number,
    k: number,
    v: number,
    probs: number,
    dq: number,
    dk: number,
    dv: number,
    T: number,
    nHeads: number,
    nKvHeads: number,
    hd: number,
    scratch: number,
  ): void;
  swigluForward(gate: number, up: number, h: number, n: number): void;
  swigluBackward(dh: number, gate: number, up: number, dGate: number, dUp: number, n: number): void;
  crossEntropy(
    logits: number,
    targets: number,
    mask: number,
    dLogits: number,
    T: number,
    V: number,
    invCount: number,
  ): number;
  adamUpdate(
    param: number,
    grad: number,
    m: number,
    v: number,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    bc1: number,
    bc2: number,
  ): void;
}

/** Register-tile sizes of the GEMM micro-kernel: thread splits are aligned to them. */
const GEMM_MR = 4;
const GEMM_NR = 8;
/** Depth of the GEMM's k panels (`KC` in assembly/gemm.ts): a product is summed panel by panel in k order. */
const GEMM_KC = 256;
/** Initial heap size above the fixed regions; the heap grows on demand. */
const INITIAL_HEAP_BYTES = 16 * 1024 * 1024;

function fail(message: string): never {
  throw new KernelError(message);
}

function checkDim(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) fail(`${name} must be a non-negative integer, got ${value}.`);
}

function checkPositive(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) fail(`${name} must be a positive integer, got ${value}.`);
}

function checkLength(name: string, array: ArrayLike<number>, expected: number, shape: string): void {
  if (array.length < expected) {
    fail(`${name} must hold ${shape} = ${expected} values, but has ${array.length}; check the shape arguments.`);
  }
}

/** The block list as interleaved `rowBlock, colBlock` pairs, as the kernels read it. */
function blockList(blocks: readonly BlockIndex[]): Int32Array {
  const list = new Int32Array(blocks.length * 2);
  blocks.forEach(({ rowBlock, colBlock }, i) => {
    list[2 * i] = rowBlock;
    list[2 * i + 1] = colBlock;
  });
  return list;
}

/** Checks that every array holds at least as many values as the first (whose length sets the work). */
function checkCovers(names: string, arrays: ArrayLike<number>[]): void {
  const n = arrays[0]!.length;
  if (arrays.some((a) => a.length < n)) {
    fail(`${names} must each hold at least ${n} values, got ${arrays.map((a) => a.length).join(', ')}.`);
  }
}

/** Splits [0, total) into at most `parts` contiguous ranges whose boundaries are multiples of `quantum`. */
function splitRange(total: number, parts: number, quantum: number): [number, number][] {
  const units = Math.ceil(total / quantum);
  const chunks = Math.min(parts, units);
  const ranges: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < chunks; i++) {
    const endUnits = Math.round(((i + 1) * units) / chunks);
    const end = Math.min(total, endUnits * quantum);
    if (end > start) ranges.push([start, end]);
    start = end;
  }
  return ranges;
}

/**
 * Splits `m` rows into at most `threads` contiguous slices on {@link GEMM_KC} boundaries, for a reduction over
 * rows whose per-slice partial sums are added in row order. The caller computes the first slice and copies its
 * input last, so it gets no more panels than any worker. When every worker slice is a single panel, adding the
 * partials in order repeats the single-threaded GEMM's own summation exactly, so the result is bit-identical to
 * one thread's (the case of m ≤ threads · 256); otherwise it differs only by rounding. Returns `[start, end)`
 * per slice, the caller's first; a single slice means "run serially".
 */
function panelAlignedRowSlices(m: number, threads: number): [number, number][] {
  const panels = Math.ceil(m / GEMM_KC);
  const parts = Math.min(threads, panels);
  const callerPanels = Math.floor(panels / parts);
  const workerPanels = panels - callerPanels;
  const rows = (panel: number): number => Math.min(m, panel * GEMM_KC);
  const slices: [number, number][] = [[0, rows(callerPanels)]];
  for (let w = 0; w < parts - 1; w++) {
    const first = callerPanels + Math.round((w * workerPanels) / (parts - 1));
    const last = callerPanels + Math.round(((w + 1) * workerPanels) / (parts - 1));
    slices.push([rows(first), rows(last)]);
  }
  return slices;
}

class WasmKernelBackend implements WasmBackend {
  readonly name = 'wasm' as const;
  readonly mode = 'wasm';
  readonly threads: number;
  readonly variant: WasmKernelVariant;
  readonly #kernels: KernelExports;
  readonly #heap: WasmHeap;
  readonly #pool: ThreadPool | undefined;
  readonly #scratch: number[];
  readonly #parallelThreshold: number;
  /** Every `SharedArrayBuffer` a resident array was created on (one per size the memory has grown to). */
  readonly #residentBuffers = new WeakSet<ArrayBufferLike>();
  #disposed = false;

  constructor(
    kernels: KernelExports,
    heap: WasmHeap,
    pool: ThreadPool | undefined,
    scratch: number[],
    variant: WasmKernelVariant,
    parallelThreshold: number,
  ) {
    this.#kernels = kernels;
    this.#heap = heap;
    this.#pool = pool;
    this.#scratch = scratch;
    this.variant = variant;
    this.threads = scratch.length;
    this.#parallelThreshold = parallelThreshold;
  }

  #begin(): WasmHeap {
    if (this.#disposed) fail('The wasm backend was disposed; create a new one with createWasmBackend().');
    this.#heap.reset();
    return this.#heap;
  }

  allocate(length: number): Float32Array {
    if (this.#disposed) fail('The wasm backend was disposed; create a new one with createWasmBackend().');
    checkDim('length', length);
    const ptr = this.#heap.allocResident(length * 4);
    const array = this.#heap.f32(ptr, length);
    array.fill(0);
    this.#residentBuffers.add(array.buffer);
    return array;
  }

  release(array: Float32Array): void {
    if (!this.#residentBuffers.has(array.buffer) || !this.#heap.freeResident(array.byteOffset)) {
      fail(
        `release expects an array returned by this backend's allocate() and not yet released; got a ` +
          `${array.length}-value array ${this.#residentBuffers.has(array.buffer) ? `at byte ${array.byteOffset} of the backend's memory that is not the start of a live allocation` : 'that does not live in its memory'}.`,
      );
    }
  }

  isResident(array: Float32Array): boolean {
    return this.#residentBuffers.has(array.buffer) && this.#heap.isResident(array.byteOffset, array.byteLength);
  }

  /**
   * The address of `array` when it is resident (its first `length` values checked to lie in a live allocation),
   * else undefined.
   */
  #inPlace(name: string, array: Float32Array, length: number): number | undefined {
    if (!this.#residentBuffers.has(array.buffer)) return undefined;
    if (!this.#heap.isResident(array.byteOffset, length * 4)) {
      fail(`${name} is an array from allocate() that was released; allocate a new one.`);
    }
    return array.byteOffset;
  }

  /**
   * The address of the first `length` values of `array` in wasm memory: the array itself when it is resident,
   * else a fresh copy in this call's region.
   */
  #input(heap: WasmHeap, name: string, array: Float32Array, length: number): number {
    return this.#inPlace(name, array, length) ?? heap.copyInF32(array, length);
  }

  /** Runs `op` over the given per-thread argument lists: serially when there is one, else on the pool. */
  #run(op: 'gemm' | 'blockSparseWeightGrad', argLists: number[][]): void {
    if (argLists.length === 1 || !this.#pool) {
      for (const args of argLists) this.#kernels[op](...args);
    } else {
      this.#pool.run(op, argLists);
    }
  }

  /** C[m, n] (=|+=) op(A)·op(B) on wasm pointers, split over threads when large enough. */
  #gemm(
    a: number,
    transA: boolean,
    b: number,
    transB: boolean,
    c: number,
    m: number,
    k: number,
    n: number,
    accumulate: boolean,
  ): void {
    const lda = transA ? m : k;
    const ldb = transB ? k : n;
    const head = [a, lda, transA ? 1 : 0, b, ldb, transB ? 1 : 0, c, n, k, accumulate ? 1 : 0];
    const parallel = this.threads > 1 && m * n * k >= this.#parallelThreshold;
    if (!parallel) {
      this.#kernels.gemm(...head, 0, m, 0, n, this.#scratch[0]!);
      return;
    }
    // Each thread packs the operand it shares with the others; split along the dimension that duplicates less.
    const byRows = (n <= m && m >= GEMM_MR * 2) || n < GEMM_NR * 2;
    const ranges = byRows ? splitRange(m, this.threads, GEMM_MR) : splitRange(n, this.threads, GEMM_NR);
    this.#run(
      'gemm',
      ranges.map(([start, end], i) =>
        byRows ? [...head, start, end, 0, n, this.#scratch[i]!] : [...head, 0, m, start, end, this.#scratch[i]!],
      ),
    );
  }

  matmul(
    a: Float32Array,
    b: Float32Array,
    m: number,
    k: number,
    n: number,
    options: { transA?: boolean; transB?: boolean; out?: Float32Array; accumulate?: boolean } = {},
  ): Float32Array {
    const { transA = false, transB = false, out, accumulate = false } = options;
    checkDim('m', m);
    checkDim('k', k);
    checkDim('n', n);
    checkLength('a', a, m * k, transA ? `[k=${k}, m=${m}]` : `[m=${m}, k=${k}]`);
    checkLength('b', b, k * n, transB ? `[n=${n}, k=${k}]` : `[k=${k}, n=${n}]`);
    if (accumulate && !out) fail('matmul with accumulate needs the `out` buffer to add into.');
    if (out) checkLength('out', out, m * n, `[m=${m}, n=${n}]`);
    const heap = this.#begin();
    const pa = this.#input(heap, 'a', a, m * k);
    const pb = this.#input(heap, 'b', b, k * n);
    const pc = accumulate && out ? heap.copyInF32(out, m * n) : heap.alloc(m * n * 4);
    this.#gemm(pa, transA, pb, transB, pc, m, k, n, accumulate);
    if (!out) return heap.readF32(pc, m * n);
    heap.readF32(pc, m * n, out.length === m * n ? out : out.subarray(0, m * n));
    return out;
  }

  blockSparseWeightGrad(
    g: Float32Array,
    x: Float32Array,
    m: number,
    outDim: number,
    inDim: number,
    blocks: readonly BlockIndex[],
    blockSize: number,
  ): Float32Array {
    checkDim('m', m);
    checkDim('outDim', outDim);
    checkDim('inDim', inDim);
    checkPositive('blockSize', blockSize);
    checkLength('g', g, m * outDim, `[m=${m}, outDim=${outDim}]`);
    checkLength('x', x, m * inDim, `[m=${m}, inDim=${inDim}]`);
    const bs = blockSize;
    checkBlocks('blockSparseWeightGrad', blocks, bs, outDim, inDim);
    const list = blockList(blocks);
    const count = blocks.length;
    if (count === 0) return new Float32Array(0);
    const heap = this.#begin();
    const pl = heap.copyIn(list);
    const size = count * bs * bs;
    const work = size * m;
    const slices = this.#pool && work >= this.#parallelThreshold ? panelAlignedRowSlices(m, this.threads) : [];
    if (!this.#pool || slices.length < 2) {
      const pg = this.#input(heap, 'g', g, m * outDim);
      const px = this.#input(heap, 'x', x, m * inDim);
      const po = heap.alloc(size * 4);
      this.#kernels.blockSparseWeightGrad(pg, px, po, m, outDim, inDim, pl, bs, 0, count, this.#scratch[0]!);
      return heap.readF32(po, size);
    }
    // Parallel: every thread takes a slice of the m rows and computes the partial dS of every block over it;
    // the partials are added in row order at the end. Splitting the reduction dimension lets the copy of the
    // inputs into wasm memory (which must happen on this thread, and costs as much as a sizeable share of the
    // arithmetic when few blocks are selected) overlap with the workers' arithmetic: each worker's rows are
    // copied and posted before the next, and this thread copies and computes its own slice last. A resident
    // input (from allocate()) is read in place, with nothing to copy.
    const gInPlace = this.#inPlace('g', g, m * outDim);
    const xInPlace = this.#inPlace('x', x, m * inDim);
    const pg = gInPlace ?? heap.alloc(m * outDim * 4);
    const px = xInPlace ?? heap.alloc(m * inDim * 4);
    const outs = slices.map(() => heap.alloc(size * 4));
    const copyRows = (start: number, end: number): void => {
      if (gInPlace === undefined) {
        heap.f32(pg + start * outDim * 4, (end - start) * outDim).set(g.subarray(start * outDim, end * outDim));
      }
      if (xInPlace === undefined) {
        heap.f32(px + start * inDim * 4, (end - start) * inDim).set(x.subarray(start * inDim, end * inDim));
      }
    };
    const argsFor = (t: number): number[] => {
      const [start, end] = slices[t]!;
      return [
        pg + start * outDim * 4,
        px + start * inDim * 4,
        outs[t]!,
        end - start,
        outDim,
        inDim,
        pl,
        bs,
        0,
        count,
        this.#scratch[t]!,
      ];
    };
    this.#pool.overlap('blockSparseWeightGrad', slices.length - 1, (post) => {
      for (let t = 1; t < slices.length; t++) {
        copyRows(...slices[t]!);
        post(argsFor(t));
      }
      copyRows(...slices[0]!);
      this.#kernels.blockSparseWeightGrad(...argsFor(0));
    });
    for (let t = 1; t < slices.length; t++) this.#kernels.axpy(outs[0]!, 1, outs[t]!, size);
    return heap.readF32(outs[0]!, size);
  }

  blockScores(
    matrix: Float32Array,
    rows: number,
    cols: number,
    blockSize: number,
  ): { meanAbs: Float32Array; absMean: Float32Array } {
    checkDim('rows', rows);
    checkDim('cols', cols);
    checkPositive('blockSize', blockSize);
    if (rows % blockSize !== 0 || cols % blockSize !== 0) {
      fail(`blockScores needs rows and cols that are multiples of blockSize ${blockSize}, got [${rows}, ${cols}].`);
    }
    checkLength('matrix', matrix, rows * cols, `[rows=${rows}, cols=${cols}]`);
    const heap = this.#begin();
    const scores = (rows / blockSize) * (cols / blockSize);
    const pm = this.#input(heap, 'matrix', matrix, rows * cols);
    const pMeanAbs = heap.alloc(scores * 4);
    const pAbsMean = heap.alloc(scores * 4);
    this.#kernels.blockScores(pm, rows, cols, blockSize, pMeanAbs, pAbsMean);
    return { meanAbs: heap.readF32(pMeanAbs, scores), absMean: heap.readF32(pAbsMean, scores) };
  }

  rmsnormForward(
    x: Float32Array,
    weight: Float32Array,
    T: number,
    D: number,
    eps: number,
  ): { y: Float32Array; invRms: Float32Array } {
    checkDim('T', T);
    checkPositive('D', D);
    checkLength('x', x, T * D, `[T=${T}, D=${D}]`);
    checkLength('weight', weight, D, `[D=${D}]`);
    const heap = this.#begin();
    const px = this.#input(heap, 'x', x, T * D);
    const pw = this.#input(heap, 'weight', weight, D);
    const py = heap.alloc(T * D * 4);
    const pr = heap.alloc(T * 4);
    this.#kernels.rmsnormForward(px, pw, py, pr, T, D, eps);
    return { y: heap.readF32(py, T * D), invRms: heap.readF32(pr, T) };
  }

  rmsnormBackward(
    dy: Float32Array,
    x: Float32Array,
    weight: Float32Array,
    invRms: Float32Array,
    T: number,
    D: number,
  ): { dx: Float32Array; dWeight: Float32Array } {
    checkDim('T', T);
    checkPositive('D', D);
    checkLength('dy', dy, T * D, `[T=${T}, D=${D}]`);
    checkLength('x', x, T * D, `[T=${T}, D=${D}]`);
    checkLength('weight', weight, D, `[D=${D}]`);
    checkLength('invRms', invRms, T, `[T=${T}]`);
    const heap = this.#begin();
    const pdy = this.#input(heap, 'dy', dy, T * D);
    const px = this.#input(heap, 'x', x, T * D);
    const pw = this.#input(heap, 'weight', weight, D);
    const pr = this.#input(heap, 'invRms', invRms, T);
    const pdx = heap.alloc(T * D * 4);
    const pdw = heap.alloc(D * 4);
    this.#kernels.rmsnormBackward(pdy, px, pw, pr, pdx, pdw, T, D);
    return { dx: heap.readF32(pdx, T * D), dWeight: heap.readF32(pdw, D) };
  }

  rope(
    x: Float32Array,
    T: number,
    nHeads: number,
    headDim: number,
    pos0: number,
    options: { layout: RopeLayout; base?: number; inverse?: boolean },
  ): void {
    checkDim('T', T);
    checkDim('nHeads', nHeads);
    checkPositive('headDim', headDim);
    checkDim('pos0', pos0);
    if (headDim % 2 !== 0) fail(`RoPE needs an even headDim, got ${headDim}.`);
    if (options.layout !== 'interleaved' && options.layout !== 'rotate-half') {
      fail(`Unknown RoPE layout ${String(options.layout)}; use 'interleaved' or 'rotate-half'.`);
    }
    const length = T * nHeads * headDim;
    checkLength('x', x, length, `[T=${T}, nHeads=${nHeads}, headDim=${headDim}]`);
    const heap = this.#begin();
    const px = heap.copyInF32(x, length);
    this.#kernels.rope(
      px,
      T,
      nHeads,
      headDim,
      pos0,
      options.layout === 'interleaved' ? 0 : 1,
      options.base ?? 10_000,
      options.inverse ? 1 : 0,
    );
    heap.readF32(px, length, length === x.length ? x : x.subarray(0, length));
  }

  attentionForward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    T: number,
    S: number,
    nHeads: number,
    nKvHeads: number,
    headDim: number,
  ): { out: Float32Array; cache: AttentionCache } {
    checkDim('T', T);
    checkDim('S', S);
    checkPositive('nHeads', nHeads);
    checkPositive('nKvHeads', nKvHeads);
    checkPositive('headDim', headDim);
    if (S < T) fail(`attentionForward needs S ≥ T (cached keys precede the new ones), got T=${T}, S=${S}.`);
    if (nHeads % nKvHeads !== 0) fail(`nHeads (${nHeads}) must be a multiple of nKvHeads (${nKvHeads}).`);
    const qLen = T * nHeads * headDim;
    const kvLen = S * nKvHeads * headDim;
    checkLength('q', q, qLen, `[T=${T}, nHeads=${nHeads}, headDim=${headDim}]`);
    checkLength('k', k, kvLen, `[S=${S}, nKvHeads=${nKvHeads}, headDim=${headDim}]`);
    checkLength('v', v, kvLen, `[S=${S}, nKvHeads=${nKvHeads}, headDim=${headDim}]`);
    const heap = this.#begin();
    const pq = this.#input(heap, 'q', q, qLen);
    const pk = this.#input(heap, 'k', k, kvLen);
    const pv = this.#input(heap, 'v', v, kvLen);
    const po = heap.alloc(qLen * 4);
    const probsLen = nHeads * T * S;
    const pp = heap.alloc(probsLen * 4);
    this.#kernels.attentionForward(pq, pk, pv, po, pp, T, S, nHeads, nKvHeads, headDim);
    return { out: heap.readF32(po, qLen), cache: { probs: heap.readF32(pp, probsLen) } };
  }

  attentionBackward(
    dOut: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    cache: AttentionCache,
    T: number,
    nHeads: number,
    nKvHeads: number,
    headDim: number,
  ): { dq: Float32Array; dk: Float32Array; dv: Float32Array } {
    checkDim('T', T);
    checkPositive('nHeads', nHeads);
    checkPositive('nKvHeads', nKvHeads);
    checkPositive('headDim', headDim);
    if (nHeads % nKvHeads !== 0) fail(`nHeads (${nHeads}) must be a multiple of nKvHeads (${nKvHeads}).`);
    const qLen = T * nHeads * headDim;
    const kvLen = T * nKvHeads * headDim;
    checkLength('dOut', dOut, qLen, `[T=${T}, nHeads=${nHeads}, headDim=${headDim}]`);
    checkLength('q', q, qLen, `[T=${T}, nHeads=${nHeads}, headDim=${headDim}]`);
    checkLength('k', k, kvLen, `[T=${T}, nKvHeads=${nKvHeads}, headDim=${headDim}]`);
    checkLength('v', v, kvLen, `[T=${T}, nKvHeads=${nKvHeads}, headDim=${headDim}]`);
    checkLength('cache.probs', cache.probs, nHeads * T * T, `[nHeads=${nHeads}, T=${T}, T=${T}]`);
    const heap = this.#begin();
    const pdo = this.#input(heap, 'dOut', dOut, qLen);
    const pq = this.#input(heap, 'q', q, qLen);
    const pk = this.#input(heap, 'k', k, kvLen);
    const pv = this.#input(heap, 'v', v, kvLen);
    const pp = this.#input(heap, 'probs', cache.probs, nHeads * T * T);
    const pdq = heap.alloc(qLen * 4);
    const pdk = heap.alloc(kvLen * 4);
    const pdv = heap.alloc(kvLen * 4);
    const scratch = heap.alloc(T * 4);
    this.#kernels.attentionBackward(pdo, pq, pk, pv, pp, pdq, pdk, pdv, T, nHeads, nKvHeads, headDim, scratch);
    return { dq: heap.readF32(pdq, qLen), dk: heap.readF32(pdk, kvLen), dv: heap.readF32(pdv, kvLen) };
  }

  swigluForward(gate: Float32Array, up: Float32Array): Float32Array {
    checkCovers('gate and up', [gate, up]);
    const n = gate.length;
    const heap = this.#begin();
    const pg = this.#input(heap, 'gate', gate, n);
    const pu = this.#input(heap, 'up', up, n);
    const ph = heap.alloc(n * 4);
    this.#kernels.swigluForward(pg, pu, ph, n);
    return heap.readF32(ph, n);
  }

  swigluBackward(dh: Float32Array, gate: Float32Array, up: Float32Array): { dGate: Float32Array; dUp: Float32Array } {
    checkCovers('dh, gate and up', [dh, gate, up]);
    const n = dh.length;
    const heap = this.#begin();
    const pdh = this.#input(heap, 'dh', dh, n);
    const pg = this.#input(heap, 'gate', gate, n);
    const pu = this.#input(heap, 'up', up, n);
    const pdg = heap.alloc(n * 4);
    const pdu = heap.alloc(n * 4);
    this.#kernels.swigluBackward(pdh, pg, pu, pdg, pdu, n);
    return { dGate: heap.readF32(pdg, n), dUp: heap.readF32(pdu, n) };
  }

  crossEntropy(
    logits: Float32Array,
    targets: Int32Array,
    T: number,
    V: number,
    mask?: Uint8Array,
  ): { loss: number; count: number; dLogits: Float32Array } {
    checkDim('T', T);
    checkPositive('V', V);
    checkLength('logits', logits, T * V, `[T=${T}, V=${V}]`);
    checkLength('targets', targets, T, `[T=${T}]`);
    if (mask) checkLength('mask', mask, T, `[T=${T}]`);
    let count = 0;
    for (let t = 0; t < T; t++) {
      if (mask && mask[t] === 0) continue;
      count++;
      const target = targets[t]!;
      if (!Number.isInteger(target) || target < 0 || target >= V) {
        fail(`Target ${target} at row ${t} is outside the vocabulary [0, ${V}); mask the row out instead.`);
      }
    }
    const heap = this.#begin();
    const pl = this.#input(heap, 'logits', logits, T * V);
    const pt = heap.copyIn(targets.length === T ? targets : targets.subarray(0, T));
    const pm = mask ? heap.copyIn(mask.length === T ? mask : mask.subarray(0, T)) : 0;
    const pd = heap.alloc(T * V * 4);
    const total = this.#kernels.crossEntropy(pl, pt, pm, pd, T, V, count > 0 ? 1 / count : 0);
    return { loss: count > 0 ? total / count : 0, count, dLogits: heap.readF32(pd, T * V) };
  }

  adamUpdate(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, p: AdamParams): void {
    checkCovers('param, grad, m and v', [param, grad, m, v]);
    checkPositive('step', p.step);
    const n = param.length;
    const heap = this.#begin();
    const pp = heap.copyInF32(param, n);
    const pg = this.#input(heap, 'grad', grad, n);
    const pm = heap.copyInF32(m, n);
    const pv = heap.copyInF32(v, n);
    this.#adam(pp, pg, pm, pv, n, p);
    heap.readF32(pp, n, param);
    heap.readF32(pm, n, m);
    heap.readF32(pv, n, v);
  }

  #adam(pp: number, pg: number, pm: number, pv: number, n: number, p: AdamParams): void {
    const bc1 = 1 - p.beta1 ** p.step;
    const bc2 = 1 - p.beta2 ** p.step;
    this.#kernels.adamUpdate(pp, pg, pm, pv, n, p.lr, p.beta1, p.beta2, p.eps, p.weightDecay, bc1, bc2);
  }

  adamUpdateBlocks(
    param: Float32Array,
    cols: number,
    blocks: readonly BlockIndex[],
    blockSize: number,
    grads: Float32Array,
    m: Float32Array,
    v: Float32Array,
    p: AdamParams,
  ): void {
    checkPositive('step', p.step);
    checkPositive('cols', cols);
    checkPositive('blockSize', blockSize);
    if (param.length % cols !== 0) {
      fail(`adamUpdateBlocks: param length ${param.length} is not a multiple of cols (${cols}).`);
    }
    const rows = param.length / cols;
    const bs = blockSize;
    const area = bs * bs;
    checkBlocks('adamUpdateBlocks', blocks, bs, rows, cols);
    const packed = blocks.length * area;
    checkLength('grads', grads, packed, `[blocks=${blocks.length}, ${bs}, ${bs}]`);
    checkLength('m', m, packed, `[blocks=${blocks.length}, ${bs}, ${bs}]`);
    checkLength('v', v, packed, `[blocks=${blocks.length}, ${bs}, ${bs}]`);
    if (blocks.length === 0) return;
    // The selected blocks are gathered into a packed buffer, updated as one dense run and scattered back, so the
    // work is proportional to the selection. A block listed twice must see its first update, so such lists are
    // processed one block at a time.
    const keys = new Set(blocks.map(({ rowBlock, colBlock }) => rowBlock * cols + colBlock));
    const batches: [number, number][] =
      keys.size === blocks.length ? [[0, blocks.length]] : blocks.map((_, i) => [i, i + 1] as [number, number]);
    for (const [first, end] of batches) {
      const n = (end - first) * area;
      const heap = this.#begin();
      const pp = heap.alloc(n * 4);
      const pg = this.#input(heap, 'grads', grads.subarray(first * area), n);
      const pm = heap.copyInF32(m.subarray(first * area), n);
      const pv = heap.copyInF32(v.subarray(first * area), n);
      // Entries of a ragged edge block outside the matrix are updated here but never written back.
      const view = heap.f32(pp, n);
      view.fill(0);
      for (let b = first; b < end; b++) {
        const { rowBlock, colBlock } = blocks[b]!;
        const height = Math.min(bs, rows - rowBlock * bs);
        const width = Math.min(bs, cols - colBlock * bs);
        for (let i = 0; i < height; i++) {
          const src = (rowBlock * bs + i) * cols + colBlock * bs;
          view.set(param.subarray(src, src + width), (b - first) * area + i * bs);
        }
      }
      this.#adam(pp, pg, pm, pv, n, p);
      const updated = heap.f32(pp, n);
      const mNew = heap.f32(pm, n);
      const vNew = heap.f32(pv, n);
      for (let b = first; b < end; b++) {
        const { rowBlock, colBlock } = blocks[b]!;
        const height = Math.min(bs, rows - rowBlock * bs);
        const width = Math.min(bs, cols - colBlock * bs);
        const local = (b - first) * area;
        if (height === bs && width === bs) {
          m.set(mNew.subarray(local, local + area), first * area + local);
          v.set(vNew.subarray(local, local + area), first * area + local);
        }
        for (let i = 0; i < height; i++) {
          const off = local + i * bs;
          param.set(updated.subarray(off, off + width), (rowBlock * bs + i) * cols + colBlock * bs);
          if (height < bs || width < bs) {
            m.set(mNew.subarray(off, off + width), first * area + off);
            v.set(vNew.subarray(off, off + width), first * area + off);
          }
        }
      }
    }
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#pool?.dispose();
  }
}

/**
 * Creates the WebAssembly kernel backend: compiles the embedded kernels, allocates a shared memory and starts
 * `threads − 1` worker threads on it. Node only (it uses `worker_threads`). Call `dispose()` when done; idle
 * workers never keep the process alive.
 *
 * @example
 * ```ts
 * const backend = await createWasmBackend({ threads: 2 });
 * const c = backend.matmul(a, b, 512, 512, 512);
 * await backend.dispose();
 * ```
 */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  const { availableParallelism } = await import('node:os');
  const threads = options.threads ?? Math.min(availableParallelism(), 4);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    fail(`threads must be an integer between 1 and 64, got ${threads}.`);
  }
  const parallelThreshold = options.parallelThreshold ?? 2 ** 21;
  if (!(parallelThreshold >= 0)) fail(`parallelThreshold must be ≥ 0, got ${parallelThreshold}.`);
  const { module, variant } = await compileKernelModule(options.variant ?? 'auto');

  // Probe the fixed layout with a one-page memory: static data, then the control slots, then per-thread scratch.
  const probe = new WebAssembly.Instance(module, {
    env: { memory: new WebAssembly.Memory({ initial: 1, maximum: WASM_MAX_PAGES, shared: true }) },
  }).exports as unknown as KernelExports;
  const controlOffset = alignUp(probe.heapBase(), 128);
  const scratchBytes = alignUp(probe.gemmScratchBytes(), 64);
  const scratchBase = alignUp(controlOffset + controlRegionBytes(threads - 1), 64);
  const scratch = Array.from({ length: threads }, (_, i) => scratchBase + i * scratchBytes);
  const heapBase = scratchBase + threads * scratchBytes;
  const memory = new WebAssembly.Memory({
    initial: Math.ceil((heapBase + INITIAL_HEAP_BYTES) / WASM_PAGE_BYTES),
    maximum: WASM_MAX_PAGES,
    shared: true,
  });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const pool =
    threads > 1 ? await ThreadPool.create(module, memory, controlOffset, threads - 1, instance.exports) : undefined;
  return new WasmKernelBackend(
    instance.exports as unknown as KernelExports,
    new WasmHeap(memory, heapBase),
    pool,
    scratch,
    variant,
    parallelThreshold,
  );
}
