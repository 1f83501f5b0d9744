/**
 * The `gpujs` kernel backend: every {@link KernelBackend} method as gpu.js kernels, running on WebGL 2 / WebGL /
 * headless-gl where a GPU context exists and on gpu.js's WebAssembly or JavaScript backends elsewhere.
 *
 * @module
 */

import { GPU, Input, type KernelVariable } from 'gpu.js';
import type { AdamParams, AttentionCache, BlockIndex, KernelBackend, RopeLayout } from '../backend.ts';
import { KernelError } from '../kernel-error.ts';
import { checkAdamStep, checkBlockSize, checkBlocks, checkDims, checkLength } from '../validate.ts';
import { KernelCache, type KernelSpec, modeOf } from './kernel-cache.ts';
import * as src from './kernel-sources.ts';
import { type DeviceLimits, FLAT_INDEX_LIMIT, planMatmulTiles, ranges } from './limits.ts';

/** gpu.js modes that execute on a GPU. */
export const GPU_MODES: readonly string[] = ['webgl2', 'webgl', 'headlessgl', 'webgpu'];

/**
 * A gpu.js mode to request. `gpu` lets gpu.js pick (headlessgl → webgl2 → webgl → webasm); the others force one
 * backend. `webgpu` and `async` are rejected at creation: their kernels return Promises, and the kernel backend
 * contract is synchronous.
 */
export type GpuJsMode = 'gpu' | 'webgl2' | 'webgl' | 'headlessgl' | 'webasm' | 'cpu' | 'webgpu' | 'async';

/** Options of {@link createGpuJsBackend}. */
export interface GpuJsBackendOptions {
  /** gpu.js mode to request; default: gpu.js's own choice (best GPU backend, else webasm, else cpu). */
  mode?: GpuJsMode;
  /**
   * Mode(s) that must actually run. Creation throws a {@link KernelError} when gpu.js would run something else,
   * and so does the first call of any kernel that gpu.js degrades to another mode. `'gpu'` stands for any of
   * {@link GPU_MODES}.
   */
  requireMode?: string | readonly string[];
  /** An existing gpu.js instance to create kernels on (it is not destroyed by `dispose`). */
  gpu?: GPU;
  /**
   * Tighter splitting limits. `maxElements` caps the elements of any kernel argument or output (never above
   * 2^24 on GL backends); lowering it forces tiled execution, which tests use to cover the tiling paths.
   */
  limits?: Partial<Pick<DeviceLimits, 'maxElements'>>;
  /** How many compiled (kernel, shape) pairs to keep; the least recently used are destroyed (default 96). */
  cacheSize?: number;
}

/** The gpujs backend, with introspection of what really ran. */
export interface GpuJsBackend extends KernelBackend {
  /** Always `gpujs`. */
  readonly name: 'gpujs';
  /**
   * The mode that actually ran: the mode of the self-test kernel run at creation (`webgl2`, `webasm`, `cpu`, …),
   * followed by `+mode` for every other mode a later kernel was degraded to (e.g. `webgl2+cpu`).
   */
  readonly mode: string;
  /** The mode each kernel family actually ran in so far, e.g. `{ matmulNT: 'webgl2' }`. */
  kernelModes(): Record<string, string>;
  /** The limits work is split by. */
  readonly limits: DeviceLimits;
  /** Destroys the compiled kernels (and the gpu.js instance, when this backend created it). */
  dispose(): Promise<void>;
}

/**
 * Creates the gpu.js kernel backend.
 *
 * @example
 * ```ts
 * // In a browser: insist on a real GPU path.
 * const backend = createGpuJsBackend({ mode: 'webgl2', requireMode: 'webgl2' });
 * const c = backend.matmul(a, b, m, k, n, { transB: true });
 * console.log(backend.mode); // 'webgl2'
 * ```
 *
 * @throws {@link KernelError} when the requested mode is unavailable, returns Promises (`webgpu`, `async`), or
 * differs from `requireMode`, or when gpu.js's self-test computes wrong values.
 */
export function createGpuJsBackend(options: GpuJsBackendOptions = {}): GpuJsBackend {
  return new GpuJsKernelBackend(options);
}

class GpuJsKernelBackend implements GpuJsBackend {
  readonly name = 'gpujs' as const;
  readonly limits: DeviceLimits;
  private readonly gpu: GPU;
  private readonly ownsGpu: boolean;
  private readonly cache: KernelCache;
  private readonly primaryMode: string;
  private readonly extraModes = new Set<string>();
  private readonly required: readonly string[] | null;
  private disposed = false;

  constructor(options: GpuJsBackendOptions) {
    this.required = expandRequired(options.requireMode);
    const requested = options.gpu?.mode ?? options.mode;
    if (requested === 'webgpu' || requested === 'async') {
      throw new KernelError(
        `gpujs: mode '${requested}' makes every gpu.js kernel return a Promise, but the kernel backend contract ` +
          "is synchronous. Use 'webgl2' (browsers), 'headlessgl' (Node with the gl package), 'webasm' or 'cpu'.",
      );
    }
    if (options.gpu) {
      this.gpu = options.gpu;
      this.ownsGpu = false;
    } else {
      try {
        this.gpu = new GPU(options.mode === undefined ? {} : { mode: options.mode });
      } catch (error) {
        throw new KernelError(
          `gpujs: gpu.js cannot run mode '${options.mode}' here (${error instanceof Error ? error.message : error}). ` +
            "Request another mode, or omit 'mode' to let gpu.js choose.",
          { cause: error },
        );
      }
      this.ownsGpu = true;
    }
    const probe = selfTest(this.gpu);
    this.primaryMode = probe.mode;
    if (this.required && !this.required.includes(probe.mode)) {
      this.releaseGpu();
      throw new KernelError(
        `gpujs: required mode ${describe(this.required)} but gpu.js runs '${probe.mode}' here` +
          `${options.mode ? ` (requested '${options.mode}')` : ''}. In a browser, WebGL 2 needs a GPU or ` +
          "SwiftShader (Chromium: --use-angle=swiftshader --enable-unsafe-swiftshader); in Node, GPU modes need the 'gl' package.",
      );
    }
    const maxTexture = probe.maxTextureSize;
    const gl = GPU_MODES.includes(probe.mode);
    // On GL backends an output of n texels is packed into a near-square texture, so n must also fit maxTexture².
    const deviceMax = gl ? Math.min(FLAT_INDEX_LIMIT, maxTexture * maxTexture) : FLAT_INDEX_LIMIT;
    const requestedMax = options.limits?.maxElements;
    if (requestedMax !== undefined && !(Number.isInteger(requestedMax) && requestedMax >= 16)) {
      throw new KernelError(`gpujs: limits.maxElements must be an integer ≥ 16, got ${requestedMax}.`);
    }
    this.limits = { maxElements: Math.min(deviceMax, requestedMax ?? deviceMax), maxTextureSize: maxTexture };
    this.cache = new KernelCache(this.gpu, (name, mode) => this.onKernelMode(name, mode), options.cacheSize);
  }

  get mode(): string {
    return [this.primaryMode, ...this.extraModes].join('+');
  }

  kernelModes(): Record<string, string> {
    return this.cache.modes();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.cache.clear();
    await this.releaseGpu();
  }

  // ------------------------------------------------------------------------------------------------ matmul

  matmul(
    a: Float32Array,
    b: Float32Array,
    m: number,
    k: number,
    n: number,
    options: { transA?: boolean; transB?: boolean; out?: Float32Array; accumulate?: boolean } = {},
  ): Float32Array {
    const op = 'matmul';
    checkDims(op, { m, k, n });
    checkLength(op, 'a', a, m * k);
    checkLength(op, 'b', b, k * n);
    const { transA = false, transB = false, out, accumulate = false } = options;
    if (accumulate && !out) throw new KernelError(`${op}: 'accumulate' needs an 'out' buffer to add into.`);
    if (out) checkLength(op, 'out', out, m * n);
    const result = out ?? new Float32Array(m * n);
    if (!accumulate) result.fill(0, 0, m * n);
    if (m === 0 || n === 0 || k === 0) return result;
    const tiles = planMatmulTiles(m, k, n, this.limits.maxElements);
    if (!tiles) {
      throw new KernelError(
        `${op}: the reduced dimension k = ${k} exceeds the ${this.limits.maxElements}-element limit of one ` +
          `kernel argument in mode '${this.primaryMode}'; split the product along k.`,
      );
    }
    const name = `matmul${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`;
    const source = transA ? (transB ? src.matmulTT : src.matmulTN) : transB ? src.matmulNT : src.matmulNN;
    for (const [r0, r1] of ranges(m, tiles.rows)) {
      const mt = r1 - r0;
      // A as stored: [m, k] (rows of C are contiguous) or, transposed, [k, m] (a tile needs a column copy).
      const aTile = transA
        ? new Input(asNumbers(columns(a, k, m, r0, r1)), [mt, k])
        : new Input(asNumbers(a.subarray(r0 * k, r1 * k)), [k, mt]);
      for (const [c0, c1] of ranges(n, tiles.cols)) {
        const nt = c1 - c0;
        const bTile = transB
          ? new Input(asNumbers(b.subarray(c0 * k, c1 * k)), [k, nt])
          : new Input(asNumbers(columns(b, k, n, c0, c1)), [nt, k]);
        const raw = this.run({ name, source, output: [nt, 1, mt], constants: { K: k } }, [aTile, bTile]);
        const tile = flatten(raw, mt * nt);
        for (let i = 0; i < mt; i++) {
          const dst = (r0 + i) * n + c0;
          const row = tile.subarray(i * nt, (i + 1) * nt);
          if (accumulate) {
            for (let j = 0; j < nt; j++) result[dst + j] += row[j] as number;
          } else {
            result.set(row, dst);
          }
        }
      }
    }
    return result;
  }

  // ---------------------------------------------------------------------------------- block-sparse gradient

  blockSparseWeightGrad(
    g: Float32Array,
    x: Float32Array,
    m: number,
    outDim: number,
    inDim: number,
    blocks: readonly BlockIndex[],
    blockSize: number,
  ): Float32Array {
    const op = 'blockSparseWeightGrad';
    checkDims(op, { m, outDim, inDim });
    checkBlockSize(op, blockSize);
    checkLength(op, 'g', g, m * outDim);
    checkLength(op, 'x', x, m * inDim);
    checkBlocks(op, blocks, blockSize, outDim, inDim);
    const bs = blockSize;
    const bs2 = bs * bs;
    const result = new Float32Array(blocks.length * bs2);
    if (blocks.length === 0 || m === 0) return result;
    const lim = this.limits.maxElements;
    if (bs2 > lim) {
      throw new KernelError(`${op}: a ${bs}×${bs} block exceeds the ${lim}-element kernel limit; use smaller blocks.`);
    }
    // Only the selected row blocks of G and column blocks of X are uploaded, compacted side by side; a chunk of
    // blocks is closed when its compacted inputs or its output would pass the element limit.
    const rowsPerPass = Math.min(m, Math.floor(lim / bs));
    const maxSlots = Math.max(1, Math.floor(lim / (rowsPerPass * bs)));
    const maxBlocks = Math.floor(lim / bs2);
    for (const chunk of chunkBlocks(blocks, maxSlots, maxBlocks)) {
      const nb = chunk.end - chunk.start;
      const rowSlot = new Float32Array(nb);
      const colSlot = new Float32Array(nb);
      for (let i = 0; i < nb; i++) {
        const block = blocks[chunk.start + i] as BlockIndex;
        rowSlot[i] = chunk.rowBlocks.indexOf(block.rowBlock);
        colSlot[i] = chunk.colBlocks.indexOf(block.colBlock);
      }
      const gWidth = chunk.rowBlocks.length * bs;
      const xWidth = chunk.colBlocks.length * bs;
      const target = result.subarray(chunk.start * bs2, chunk.end * bs2);
      for (const [t0, t1] of ranges(m, rowsPerPass)) {
        const mc = t1 - t0;
        const gSel = gatherColumnBlocks(g, outDim, t0, t1, chunk.rowBlocks, bs);
        const xSel = gatherColumnBlocks(x, inDim, t0, t1, chunk.colBlocks, bs);
        const raw = this.run(
          {
            name: 'blockGrad',
            source: src.blockGrad,
            output: [bs, bs, nb],
            constants: { M: mc, BS: bs },
            argumentShape: `${gWidth},${xWidth}`,
          },
          [new Input(asNumbers(gSel), [gWidth, mc]), new Input(asNumbers(xSel), [xWidth, mc]), rowSlot, colSlot],
        );
        addInto(target, flatten(raw, nb * bs2), t0 > 0);
      }
    }
    return result;
  }

  blockScores(
    matrix: Float32Array,
    rows: number,
    cols: number,
    blockSize: number,
  ): { meanAbs: Float32Array; absMean: Float32Array } {
    const op = 'blockScores';
    checkDims(op, { rows, cols });
    checkBlockSize(op, blockSize);
    if (rows % blockSize !== 0 || cols % blockSize !== 0) {
      throw new KernelError(
        `${op}: rows (${rows}) and cols (${cols}) must be multiples of the block size ${blockSize}.`,
      );
    }
    checkLength(op, 'matrix', matrix, rows * cols);
    const bs = blockSize;
    const nbr = rows / bs;
    const nbc = cols / bs;
    const meanAbs = new Float32Array(nbr * nbc);
    const absMean = new Float32Array(nbr * nbc);
    if (nbr === 0 || nbc === 0) return { meanAbs, absMean };
    const bandBlocks = Math.floor(this.limits.maxElements / (cols * bs));
    if (bandBlocks < 1) {
      throw new KernelError(
        `${op}: one band of ${bs} rows × ${cols} columns exceeds the ${this.limits.maxElements}-element kernel limit.`,
      );
    }
    for (const [b0, b1] of ranges(nbr, bandBlocks)) {
      const nb = b1 - b0;
      const band = matrix.subarray(b0 * bs * cols, b1 * bs * cols);
      const raw = this.run(
        { name: 'blockScores', source: src.blockScores, output: [nbc, nb, 2], constants: { BS: bs } },
        [new Input(asNumbers(band), [cols, nb * bs])],
      );
      const both = flatten(raw, 2 * nb * nbc);
      meanAbs.set(both.subarray(0, nb * nbc), b0 * nbc);
      absMean.set(both.subarray(nb * nbc), b0 * nbc);
    }
    return { meanAbs, absMean };
  }

  // ------------------------------------------------------------------------------------------------ rmsnorm

  rmsnormForward(
    x: Float32Array,
    weight: Float32Array,
    T: number,
    D: number,
    eps: number,
  ): { y: Float32Array; invRms: Float32Array } {
    const op = 'rmsnormForward';
    checkDims(op, { T, D });
    checkLength(op, 'x', x, T * D);
    checkLength(op, 'weight', weight, D);
    const y = new Float32Array(T * D);
    const invRms = new Float32Array(T);
    if (T === 0 || D === 0) return { y, invRms };
    const w = weight.subarray(0, D);
    for (const [t0, t1] of this.rowChunks(op, T, D)) {
      const tc = t1 - t0;
      const xs = new Input(asNumbers(x.subarray(t0 * D, t1 * D)), [D, tc]);
      const inv = flatten(
        this.run({ name: 'rmsInv', source: src.rmsInv, output: [tc], constants: { D } }, [xs, eps]),
        tc,
      );
      invRms.set(inv, t0);
      const raw = this.run({ name: 'rmsApply', source: src.rmsApply, output: [D, 1, tc], constants: { D } }, [
        xs,
        inv,
        w,
      ]);
      y.set(flatten(raw, tc * D), t0 * D);
    }
    return { y, invRms };
  }

  rmsnormBackward(
    dy: Float32Array,
    x: Float32Array,
    weight: Float32Array,
    invRms: Float32Array,
    T: number,
    D: number,
  ): { dx: Float32Array; dWeight: Float32Array } {
    const op = 'rmsnormBackward';
    checkDims(op, { T, D });
    checkLength(op, 'dy', dy, T * D);
    checkLength(op, 'x', x, T * D);
    checkLength(op, 'weight', weight, D);
    checkLength(op, 'invRms', invRms, T);
    const dx = new Float32Array(T * D);
    const dWeight = new Float32Array(D);
    if (T === 0 || D === 0) return { dx, dWeight };
    const w = weight.subarray(0, D);
    for (const [t0, t1] of this.rowChunks(op, T, D)) {
      const tc = t1 - t0;
      const dys = new Input(asNumbers(dy.subarray(t0 * D, t1 * D)), [D, tc]);
      const xs = new Input(asNumbers(x.subarray(t0 * D, t1 * D)), [D, tc]);
      const inv = invRms.subarray(t0, t1);
      const dot = flatten(
        this.run({ name: 'rmsRowDot', source: src.rmsRowDot, output: [tc], constants: { D } }, [dys, xs, w]),
        tc,
      );
      const raw = this.run({ name: 'rmsDx', source: src.rmsDx, output: [D, 1, tc], constants: { D } }, [
        dys,
        xs,
        w,
        inv,
        dot,
      ]);
      dx.set(flatten(raw, tc * D), t0 * D);
      const dw = this.run({ name: 'rmsDWeight', source: src.rmsDWeight, output: [D], constants: { T: tc } }, [
        dys,
        xs,
        inv,
      ]);
      addInto(dWeight, flatten(dw, D), t0 > 0);
    }
    return { dx, dWeight };
  }

  // --------------------------------------------------------------------------------------------------- rope

  rope(
    x: Float32Array,
    T: number,
    nHeads: number,
    headDim: number,
    pos0: number,
    options: { layout: RopeLayout; base?: number; inverse?: boolean },
  ): void {
    const op = 'rope';
    checkDims(op, { T, nHeads, headDim });
    if (headDim % 2 !== 0) throw new KernelError(`${op}: headDim must be even, got ${headDim}.`);
    if (options.layout !== 'interleaved' && options.layout !== 'rotate-half') {
      throw new KernelError(`${op}: layout must be 'interleaved' or 'rotate-half', got '${String(options.layout)}'.`);
    }
    checkLength(op, 'x', x, T * nHeads * headDim);
    const width = nHeads * headDim;
    if (T === 0 || width === 0) return;
    const half = headDim / 2;
    const base = options.base ?? 10000;
    const sign = options.inverse ? -1 : 1;
    // Angles are computed in double precision here: (pos · θ) for positions in the thousands loses several
    // digits when formed in float32 on the GPU, and the tables are only T × headDim/2 values.
    const cos = new Float32Array(T * half);
    const sin = new Float32Array(T * half);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < half; i++) {
        const angle = (pos0 + t) * base ** ((-2 * i) / headDim);
        cos[t * half + i] = Math.cos(angle);
        sin[t * half + i] = sign * Math.sin(angle);
      }
    }
    const source = options.layout === 'interleaved' ? src.ropeInterleaved : src.ropeRotateHalf;
    for (const [t0, t1] of this.rowChunks(op, T, width)) {
      const tc = t1 - t0;
      const raw = this.run(
        {
          name: options.layout === 'interleaved' ? 'ropeInterleaved' : 'ropeRotateHalf',
          source,
          output: [headDim, nHeads, tc],
          constants: { HALF: half },
        },
        [
          new Input(asNumbers(x.subarray(t0 * width, t1 * width)), [headDim, nHeads, tc]),
          new Input(asNumbers(cos.subarray(t0 * half, t1 * half)), [half, tc]),
          new Input(asNumbers(sin.subarray(t0 * half, t1 * half)), [half, tc]),
        ],
      );
      x.set(flatten(raw, tc * width), t0 * width);
    }
  }

  // ---------------------------------------------------------------------------------------------- attention

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
    const op = 'attentionForward';
    const G = this.checkAttention(op, T, S, nHeads, nKvHeads, headDim);
    checkLength(op, 'q', q, T * nHeads * headDim);
    checkLength(op, 'k', k, S * nKvHeads * headDim);
    checkLength(op, 'v', v, S * nKvHeads * headDim);
    const out = new Float32Array(T * nHeads * headDim);
    const probs = new Float32Array(nHeads * T * S);
    if (T === 0) return { out, cache: { probs } };
    const constants = { T, S, HD: headDim, G };
    const scale = 1 / Math.sqrt(headDim);
    const qIn = new Input(asNumbers(q.subarray(0, T * nHeads * headDim)), [headDim, nHeads, T]);
    const kIn = new Input(asNumbers(k.subarray(0, S * nKvHeads * headDim)), [headDim, nKvHeads, S]);
    const vIn = new Input(asNumbers(v.subarray(0, S * nKvHeads * headDim)), [headDim, nKvHeads, S]);
    for (const [g0, g1] of this.headChunks(op, nKvHeads, G * T * S)) {
      const h0 = g0 * G;
      const hc = (g1 - g0) * G;
      const lse = flatten(
        this.run({ name: 'attentionLse', source: src.attentionLse, output: [T, 1, hc], constants }, [
          qIn,
          kIn,
          h0,
          scale,
        ]),
        hc * T,
      );
      const p = flatten(
        this.run({ name: 'attentionProbs', source: src.attentionProbs, output: [S, T, hc], constants }, [
          qIn,
          kIn,
          new Input(asNumbers(lse), [T, hc]),
          h0,
          scale,
        ]),
        hc * T * S,
      );
      probs.set(p, h0 * T * S);
      const o = flatten(
        this.run({ name: 'attentionOut', source: src.attentionOut, output: [headDim, hc, T], constants }, [
          new Input(asNumbers(p), [S, T, hc]),
          vIn,
          h0,
        ]),
        T * hc * headDim,
      );
      scatterHeads(o, out, T, hc, nHeads, h0, headDim);
    }
    return { out, cache: { probs } };
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
    const op = 'attentionBackward';
    const G = this.checkAttention(op, T, T, nHeads, nKvHeads, headDim);
    checkLength(op, 'dOut', dOut, T * nHeads * headDim);
    checkLength(op, 'q', q, T * nHeads * headDim);
    checkLength(op, 'k', k, T * nKvHeads * headDim);
    checkLength(op, 'v', v, T * nKvHeads * headDim);
    checkLength(op, 'cache.probs', cache.probs, nHeads * T * T);
    const dq = new Float32Array(T * nHeads * headDim);
    const dk = new Float32Array(T * nKvHeads * headDim);
    const dv = new Float32Array(T * nKvHeads * headDim);
    if (T === 0) return { dq, dk, dv };
    const constants = { T, S: T, HD: headDim, G };
    const scale = 1 / Math.sqrt(headDim);
    const qIn = new Input(asNumbers(q.subarray(0, T * nHeads * headDim)), [headDim, nHeads, T]);
    const kIn = new Input(asNumbers(k.subarray(0, T * nKvHeads * headDim)), [headDim, nKvHeads, T]);
    const vIn = new Input(asNumbers(v.subarray(0, T * nKvHeads * headDim)), [headDim, nKvHeads, T]);
    const dOutIn = new Input(asNumbers(dOut.subarray(0, T * nHeads * headDim)), [headDim, nHeads, T]);
    for (const [g0, g1] of this.headChunks(op, nKvHeads, G * T * T)) {
      const h0 = g0 * G;
      const gc = g1 - g0;
      const hc = gc * G;
      const pIn = new Input(asNumbers(cache.probs.subarray(h0 * T * T, (h0 + hc) * T * T)), [T, T, hc]);
      const dp = flatten(
        this.run({ name: 'attentionDProbs', source: src.attentionDProbs, output: [T, T, hc], constants }, [
          dOutIn,
          vIn,
          h0,
        ]),
        hc * T * T,
      );
      const dpIn = new Input(asNumbers(dp), [T, T, hc]);
      const rowDot = flatten(
        this.run({ name: 'attentionRowDot', source: src.attentionRowDot, output: [T, 1, hc], constants }, [pIn, dpIn]),
        hc * T,
      );
      const ds = flatten(
        this.run({ name: 'attentionDScores', source: src.attentionDScores, output: [T, T, hc], constants }, [
          pIn,
          dpIn,
          new Input(asNumbers(rowDot), [T, hc]),
          scale,
        ]),
        hc * T * T,
      );
      const dsIn = new Input(asNumbers(ds), [T, T, hc]);
      const dqc = flatten(
        this.run({ name: 'attentionDq', source: src.attentionDq, output: [headDim, hc, T], constants }, [
          dsIn,
          kIn,
          h0,
        ]),
        T * hc * headDim,
      );
      scatterHeads(dqc, dq, T, hc, nHeads, h0, headDim);
      const dkc = flatten(
        this.run({ name: 'attentionDk', source: src.attentionDk, output: [headDim, gc, T], constants }, [
          dsIn,
          qIn,
          g0,
        ]),
        T * gc * headDim,
      );
      scatterHeads(dkc, dk, T, gc, nKvHeads, g0, headDim);
      const dvc = flatten(
        this.run({ name: 'attentionDv', source: src.attentionDv, output: [headDim, gc, T], constants }, [
          pIn,
          dOutIn,
          g0,
        ]),
        T * gc * headDim,
      );
      scatterHeads(dvc, dv, T, gc, nKvHeads, g0, headDim);
    }
    return { dq, dk, dv };
  }

  // ------------------------------------------------------------------------------------------------ swiglu

  swigluForward(gate: Float32Array, up: Float32Array): Float32Array {
    const op = 'swigluForward';
    const L = gate.length;
    checkLength(op, 'up', up, L);
    const h = new Float32Array(L);
    for (const [i0, i1] of ranges(L, this.limits.maxElements)) {
      const raw = this.run({ name: 'swigluForward', source: src.swigluForward, output: [i1 - i0] }, [
        gate.subarray(i0, i1),
        up.subarray(i0, i1),
      ]);
      h.set(flatten(raw, i1 - i0), i0);
    }
    return h;
  }

  swigluBackward(dh: Float32Array, gate: Float32Array, up: Float32Array): { dGate: Float32Array; dUp: Float32Array } {
    const op = 'swigluBackward';
    const L = dh.length;
    checkLength(op, 'gate', gate, L);
    checkLength(op, 'up', up, L);
    const dGate = new Float32Array(L);
    const dUp = new Float32Array(L);
    for (const [i0, i1] of ranges(L, Math.floor(this.limits.maxElements / 2))) {
      const n = i1 - i0;
      const raw = this.run({ name: 'swigluBackward', source: src.swigluBackward, output: [n, 1, 2] }, [
        dh.subarray(i0, i1),
        gate.subarray(i0, i1),
        up.subarray(i0, i1),
      ]);
      const both = flatten(raw, 2 * n);
      dGate.set(both.subarray(0, n), i0);
      dUp.set(both.subarray(n), i0);
    }
    return { dGate, dUp };
  }

  // ------------------------------------------------------------------------------------------ cross-entropy

  crossEntropy(
    logits: Float32Array,
    targets: Int32Array,
    T: number,
    V: number,
    mask?: Uint8Array,
  ): { loss: number; count: number; dLogits: Float32Array } {
    const op = 'crossEntropy';
    checkDims(op, { T, V });
    checkLength(op, 'logits', logits, T * V);
    checkLength(op, 'targets', targets, T);
    if (mask) checkLength(op, 'mask', mask, T);
    const dLogits = new Float32Array(T * V);
    let count = 0;
    for (let t = 0; t < T; t++) {
      if (mask && mask[t] === 0) continue;
      const target = targets[t] as number;
      if (!(target >= 0 && target < V)) {
        throw new KernelError(`${op}: target ${target} at row ${t} is outside the vocabulary [0, ${V}).`);
      }
      count++;
    }
    if (count === 0 || V === 0) return { loss: 0, count, dLogits };
    const weights = new Float32Array(T);
    const targetValues = new Float32Array(T);
    for (let t = 0; t < T; t++) {
      const counted = mask?.[t] !== 0;
      weights[t] = counted ? 1 / count : 0;
      targetValues[t] = counted ? (targets[t] as number) : -1;
    }
    let loss = 0;
    for (const [t0, t1] of this.rowChunks(op, T, V)) {
      const tc = t1 - t0;
      const rows = new Input(asNumbers(logits.subarray(t0 * V, t1 * V)), [V, tc]);
      const lse = flatten(
        this.run({ name: 'rowLogSumExp', source: src.rowLogSumExp, output: [tc], constants: { V } }, [rows]),
        tc,
      );
      for (let t = t0; t < t1; t++) {
        if (weights[t] === 0) continue;
        loss += (lse[t - t0] as number) - (logits[t * V + (targets[t] as number)] as number);
      }
      const raw = this.run(
        { name: 'crossEntropyGrad', source: src.crossEntropyGrad, output: [V, 1, tc], constants: { V } },
        [rows, lse, targetValues.subarray(t0, t1), weights.subarray(t0, t1)],
      );
      dLogits.set(flatten(raw, tc * V), t0 * V);
    }
    return { loss: loss / count, count, dLogits };
  }

  // -------------------------------------------------------------------------------------------------- adam

  adamUpdate(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, p: AdamParams): void {
    const op = 'adamUpdate';
    const L = param.length;
    checkLength(op, 'grad', grad, L);
    checkLength(op, 'm', m, L);
    checkLength(op, 'v', v, L);
    checkAdamStep(op, p);
    const scalars = adamScalars(p);
    for (const [i0, i1] of ranges(L, Math.floor(this.limits.maxElements / 3))) {
      const n = i1 - i0;
      const raw = this.run({ name: 'adamStep', source: src.adamStep, output: [n, 1, 3] }, [
        param.subarray(i0, i1),
        grad.subarray(i0, i1),
        m.subarray(i0, i1),
        v.subarray(i0, i1),
        ...scalars,
      ]);
      const all = flatten(raw, 3 * n);
      param.set(all.subarray(0, n), i0);
      m.set(all.subarray(n, 2 * n), i0);
      v.set(all.subarray(2 * n), i0);
    }
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
    const op = 'adamUpdateBlocks';
    checkBlockSize(op, blockSize);
    if (!(Number.isInteger(cols) && cols > 0 && param.length % cols === 0)) {
      throw new KernelError(`${op}: param length ${param.length} is not a multiple of cols (${cols}).`);
    }
    const rows = param.length / cols;
    checkBlocks(op, blocks, blockSize, rows, cols);
    checkAdamStep(op, p);
    const bs = blockSize;
    const bs2 = bs * bs;
    const packed = blocks.length * bs2;
    checkLength(op, 'grads', grads, packed);
    checkLength(op, 'm', m, packed);
    checkLength(op, 'v', v, packed);
    // The selected blocks are packed like their gradients and updated by the dense kernel. Entries of a ragged
    // edge block that fall outside the matrix are padding: their moments are restored afterwards and they are
    // never written back.
    const weights = new Float32Array(packed);
    const padding: number[] = [];
    blocks.forEach((block, i) => {
      const r0 = block.rowBlock * bs;
      const c0 = block.colBlock * bs;
      const rEnd = Math.min(bs, rows - r0);
      const cEnd = Math.min(bs, cols - c0);
      for (let r = 0; r < bs; r++) {
        if (r < rEnd) weights.set(param.subarray((r0 + r) * cols + c0, (r0 + r) * cols + c0 + cEnd), i * bs2 + r * bs);
        for (let c = r < rEnd ? cEnd : 0; c < bs; c++) padding.push(i * bs2 + r * bs + c);
      }
    });
    const savedM = padding.map((at) => m[at] as number);
    const savedV = padding.map((at) => v[at] as number);
    this.adamUpdate(weights, grads.subarray(0, packed), m.subarray(0, packed), v.subarray(0, packed), p);
    padding.forEach((at, j) => {
      m[at] = savedM[j] as number;
      v[at] = savedV[j] as number;
    });
    blocks.forEach((block, i) => {
      const r0 = block.rowBlock * bs;
      const c0 = block.colBlock * bs;
      const rEnd = Math.min(bs, rows - r0);
      const cEnd = Math.min(bs, cols - c0);
      for (let r = 0; r < rEnd; r++) {
        param.set(weights.subarray(i * bs2 + r * bs, i * bs2 + r * bs + cEnd), (r0 + r) * cols + c0);
      }
    });
  }

  // ------------------------------------------------------------------------------------------------ helpers

  private run(spec: KernelSpec, args: KernelVariable[]): unknown {
    if (this.disposed) throw new KernelError('gpujs: the backend was disposed; create a new one.');
    return this.cache.run(spec, args);
  }

  private onKernelMode(name: string, mode: string): void {
    if (this.required && !this.required.includes(mode)) {
      throw new KernelError(
        `gpujs: kernel '${name}' ran in mode '${mode}', but ${describe(this.required)} is required ` +
          '(gpu.js degraded it; see the console warning for the reason).',
      );
    }
    if (mode !== this.primaryMode) this.extraModes.add(mode);
  }

  /** Row ranges of a `[rows, width]` tensor such that each range stays within the element limit. */
  private rowChunks(op: string, rows: number, width: number): Array<[number, number]> {
    const perChunk = Math.floor(this.limits.maxElements / Math.max(1, width));
    if (perChunk < 1) {
      throw new KernelError(
        `${op}: one row of ${width} values exceeds the ${this.limits.maxElements}-element kernel limit.`,
      );
    }
    return ranges(rows, perChunk);
  }

  /** Ranges of kv heads whose query heads' `[heads, T, S]` probabilities fit the element limit. */
  private headChunks(op: string, nKvHeads: number, perKvHead: number): Array<[number, number]> {
    const perChunk = Math.floor(this.limits.maxElements / perKvHead);
    if (perChunk < 1) {
      throw new KernelError(
        `${op}: the attention probabilities of one kv-head group (${perKvHead} values) exceed the ` +
          `${this.limits.maxElements}-element kernel limit of mode '${this.primaryMode}'; shorten the sequence.`,
      );
    }
    return ranges(nKvHeads, perChunk);
  }

  private checkAttention(op: string, T: number, S: number, nHeads: number, nKvHeads: number, headDim: number): number {
    checkDims(op, { T, S, nHeads, nKvHeads, headDim });
    if (S < T) throw new KernelError(`${op}: S (${S}) must be at least T (${T}).`);
    if (nKvHeads === 0 || nHeads % nKvHeads !== 0) {
      throw new KernelError(`${op}: nHeads (${nHeads}) must be a positive multiple of nKvHeads (${nKvHeads}).`);
    }
    const lim = this.limits.maxElements;
    if (T * nHeads * headDim > lim || S * nKvHeads * headDim > lim) {
      throw new KernelError(
        `${op}: q, k or v holds more than the ${lim}-element kernel limit of mode '${this.primaryMode}'; ` +
          'process the sequence in shorter pieces.',
      );
    }
    return nHeads / nKvHeads;
  }

  private releaseGpu(): Promise<void> {
    if (!this.ownsGpu) return Promise.resolve();
    return Promise.resolve(this.gpu.destroy()).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------- module helpers

/**
 * Runs a tiny kernel to learn which backend gpu.js really uses (it falls back silently when a context or
 * shader fails) and to check that it computes.
 */
function selfTest(gpu: GPU): { mode: string; maxTextureSize: number } {
  const kernel = gpu.createKernel('function probe(a) { return a[this.thread.x] * 2.0 + 1.0; }', {
    output: [4],
    precision: 'single',
    tactic: 'precision',
  });
  try {
    let result: unknown;
    try {
      result = kernel(new Float32Array([0, 1, 2, 3]));
    } catch (error) {
      throw new KernelError(
        `gpujs: gpu.js failed its self-test in mode '${modeOf(kernel)}': ${error instanceof Error ? error.message : error}`,
        { cause: error },
      );
    }
    const mode = modeOf(kernel);
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      throw new KernelError(
        `gpujs: gpu.js mode '${mode}' returns Promises; the kernel backend contract is synchronous.`,
      );
    }
    const values = flatten(result, 4);
    if (values.join(',') !== '1,3,5,7') {
      throw new KernelError(
        `gpujs: gpu.js's self-test in mode '${mode}' computed [${values.join(', ')}], not [1, 3, 5, 7].`,
      );
    }
    const features = (kernel.kernel.constructor as { features?: { maxTextureSize?: unknown } }).features;
    const reported = Number(features?.maxTextureSize);
    const maxTextureSize =
      Number.isFinite(reported) && reported > 0 ? reported : GPU_MODES.includes(mode) ? 4096 : Infinity;
    return { mode, maxTextureSize };
  } finally {
    kernel.destroy();
  }
}

function expandRequired(require: string | readonly string[] | undefined): readonly string[] | null {
  if (require === undefined) return null;
  const list = typeof require === 'string' ? [require] : [...require];
  return [...new Set(list.flatMap((mode) => (mode === 'gpu' ? GPU_MODES : [mode])))];
}

function describe(modes: readonly string[]): string {
  return modes.length === 1 ? `'${modes[0]}'` : `one of ${modes.map((m) => `'${m}'`).join(', ')}`;
}

/** gpu.js's `Input` is typed over `number[]`; typed arrays are what it actually uploads fastest. */
function asNumbers(array: Float32Array): number[] {
  return array as unknown as number[];
}

/**
 * Copies a gpu.js result (a typed array, or nested arrays of rows for 2-D/3-D outputs) into one flat array in
 * row-major order.
 */
export function flatten(result: unknown, length: number): Float32Array {
  if (result instanceof Float32Array && result.length === length) return result.slice();
  const out = new Float32Array(length);
  let at = 0;
  const visit = (value: unknown): void => {
    if (ArrayBuffer.isView(value)) {
      const row = value as unknown as ArrayLike<number>;
      out.set(row as ArrayLike<number>, at);
      at += row.length;
    } else if (Array.isArray(value)) {
      if (value.length > 0 && typeof value[0] === 'number') {
        out.set(value as number[], at);
        at += value.length;
      } else {
        for (const item of value) visit(item);
      }
    } else {
      throw new KernelError(`gpujs: unexpected kernel result of type ${typeof value}.`);
    }
  };
  visit(result);
  if (at !== length) throw new KernelError(`gpujs: kernel returned ${at} values where ${length} were expected.`);
  return out;
}

/** Columns `[c0, c1)` of a row-major `[rows, cols]` matrix, as a compact `[rows, c1 − c0]` copy. */
function columns(matrix: Float32Array, rows: number, cols: number, c0: number, c1: number): Float32Array {
  if (c0 === 0 && c1 === cols) return matrix.subarray(0, rows * cols);
  const width = c1 - c0;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(matrix.subarray(r * cols + c0, r * cols + c1), r * width);
  return out;
}

/**
 * Rows `[t0, t1)` of `matrix` `[·, width]`, keeping only the listed column blocks, side by side. A ragged last
 * block (one that runs past `width`) is zero-padded, which makes the matching gradient entries zero.
 */
function gatherColumnBlocks(
  matrix: Float32Array,
  width: number,
  t0: number,
  t1: number,
  blockIds: readonly number[],
  bs: number,
): Float32Array {
  const outWidth = blockIds.length * bs;
  const out = new Float32Array((t1 - t0) * outWidth);
  for (let t = t0; t < t1; t++) {
    for (let slot = 0; slot < blockIds.length; slot++) {
      const c0 = (blockIds[slot] as number) * bs;
      const at = t * width + c0;
      out.set(matrix.subarray(at, at + Math.min(bs, width - c0)), (t - t0) * outWidth + slot * bs);
    }
  }
  return out;
}

interface BlockChunk {
  start: number;
  end: number;
  rowBlocks: number[];
  colBlocks: number[];
}

/** Consecutive runs of blocks whose distinct row and column blocks each fit `maxSlots`, at most `maxBlocks` long. */
function chunkBlocks(blocks: readonly BlockIndex[], maxSlots: number, maxBlocks: number): BlockChunk[] {
  const chunks: BlockChunk[] = [];
  let current: BlockChunk = { start: 0, end: 0, rowBlocks: [], colBlocks: [] };
  blocks.forEach((block, i) => {
    const newRow = !current.rowBlocks.includes(block.rowBlock);
    const newCol = !current.colBlocks.includes(block.colBlock);
    const full =
      current.end - current.start >= maxBlocks ||
      current.rowBlocks.length + (newRow ? 1 : 0) > maxSlots ||
      current.colBlocks.length + (newCol ? 1 : 0) > maxSlots;
    if (full && current.end > current.start) {
      chunks.push(current);
      current = { start: i, end: i, rowBlocks: [], colBlocks: [] };
    }
    if (!current.rowBlocks.includes(block.rowBlock)) current.rowBlocks.push(block.rowBlock);
    if (!current.colBlocks.includes(block.colBlock)) current.colBlocks.push(block.colBlock);
    current.end = i + 1;
  });
  if (current.end > current.start) chunks.push(current);
  return chunks;
}

/** Writes a chunk `[T, hc, hd]` into the head range `[h0, h0 + hc)` of `[T, H, hd]`. */
function scatterHeads(
  chunk: Float32Array,
  target: Float32Array,
  T: number,
  hc: number,
  H: number,
  h0: number,
  hd: number,
): void {
  if (hc === H) {
    target.set(chunk);
    return;
  }
  for (let t = 0; t < T; t++) {
    target.set(chunk.subarray(t * hc * hd, (t + 1) * hc * hd), (t * H + h0) * hd);
  }
}

function addInto(target: Float32Array, values: Float32Array, accumulate: boolean): void {
  if (!accumulate) {
    target.set(values);
    return;
  }
  for (let i = 0; i < values.length; i++) target[i] = (target[i] as number) + (values[i] as number);
}

function adamScalars(p: AdamParams): number[] {
  const stepSize = p.lr / (1 - p.beta1 ** p.step);
  const vScale = 1 / (1 - p.beta2 ** p.step);
  return [p.beta1, p.beta2, p.eps, stepSize, vScale, 1 - p.lr * p.weightDecay];
}
