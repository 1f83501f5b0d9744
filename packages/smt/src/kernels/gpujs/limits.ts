/**
 * Size limits of the gpu.js backends and the tiling arithmetic that keeps every kernel inside them.
 *
 * @module
 */

/**
 * Largest number of elements one kernel argument or output may hold on the GL backends. The GLSL helpers of
 * gpu.js turn `(z, y, x)` into one flat index before addressing the texture; on WebGL 1 (and on drivers whose
 * `highp int` is emulated in floats) that index loses precision above 2^24 and the kernel silently reads the
 * wrong element. The backend therefore splits work so that no argument or output exceeds this count, and throws
 * where a split is impossible.
 */
export const FLAT_INDEX_LIMIT = 2 ** 24;

/** Limits that decide how work is split into kernel calls. */
export interface DeviceLimits {
  /** Most elements in one kernel argument or output (at most {@link FLAT_INDEX_LIMIT} on GL backends). */
  maxElements: number;
  /** Largest texture side the device accepts (`Infinity` for the cpu and webasm backends). */
  maxTextureSize: number;
}

/**
 * The texture gpu.js allocates for a kernel output, replicating `utils.getKernelTextureSize` for single-precision
 * kernels without `optimizeFloatMemory`: a true 2-D output `[w, h]` (h > 1, no depth) becomes a `w × h`
 * texture, so its width is limited by the device's maximum texture size (16384 on most GPUs, 8192 on some),
 * while 1-D and 3-D outputs are packed into a near-square texture.
 */
export function outputTextureSize(output: readonly number[]): [number, number] {
  const w = output[0] ?? 1;
  const h = output[1] ?? 1;
  const d = output[2] ?? 1;
  const texels = w * h * d;
  if (h > 1 && w * h === texels) return [w, h];
  return closestSquare(texels);
}

/** gpu.js's `utils.closestSquareDimensions`: the near-square `[width, height]` holding `length` texels. */
export function closestSquare(length: number): [number, number] {
  const root = Math.sqrt(length);
  let high = Math.ceil(root);
  let low = Math.floor(root);
  while (high * low < length) {
    high--;
    low = Math.ceil(length / high);
  }
  return [low, Math.ceil(length / low)];
}

/** Splits `[0, total)` into consecutive `[start, end)` ranges of at most `size` items. */
export function ranges(total: number, size: number): Array<[number, number]> {
  const step = Math.max(1, Math.floor(size));
  const out: Array<[number, number]> = [];
  for (let start = 0; start < total; start += step) out.push([start, Math.min(total, start + step)]);
  return out;
}

/** Tile sizes of a matrix product C[m, n] = A[m, k] · B[k, n] under {@link DeviceLimits.maxElements}. */
export interface MatmulTiles {
  /** Rows of C per tile. */
  rows: number;
  /** Columns of C per tile. */
  cols: number;
}

/**
 * Chooses tiles so that every A tile `[rows, k]`, B tile `[k, cols]` and C tile `[rows, cols]` stays within
 * `maxElements`, preferring whole rows of C (no B copies) when they fit. Returns `null` when even a single row
 * of A (k values) is too large.
 */
export function planMatmulTiles(m: number, k: number, n: number, maxElements: number): MatmulTiles | null {
  if (k > maxElements) return null;
  const perOperand = Math.floor(maxElements / k);
  const cols = Math.max(1, Math.min(n, perOperand));
  const rows = Math.max(1, Math.min(m, perOperand, Math.floor(maxElements / cols)));
  return { rows, cols };
}
