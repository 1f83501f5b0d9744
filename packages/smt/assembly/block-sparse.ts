/**
 * Kernels of Sparse Matrix Tuning: the block-sparse weight gradient and the per-block importance scores.
 */
import { gemm } from './gemm';

/**
 * For selected blocks `[b0, b1)` of the list at `blocks` (pairs of i32 `rowBlock, colBlock`), writes
 * dS[b] = G[:, rowBlock·bs : +bs]ᵀ · X[:, colBlock·bs : +bs] (a bs×bs matrix) to `out + b·bs²`, where G is
 * `[m, outDim]` and X is `[m, inDim]`. A block reaching past the last row or column of the weight gets zeros
 * there. Each block is one bs×m by m×bs product read straight out of G and X, so
 * memory traffic and work are proportional to the selected blocks only. `scratch` is one GEMM scratch area.
 */
export function blockSparseWeightGrad(
  g: usize,
  x: usize,
  out: usize,
  m: i32,
  outDim: i32,
  inDim: i32,
  blocks: usize,
  bs: i32,
  b0: i32,
  b1: i32,
  scratch: usize,
): void {
  const blockBytes = (<usize>bs * <usize>bs) << 2;
  for (let i = b0; i < b1; i++) {
    const entry = blocks + ((<usize>i) << 3);
    const rowBlock = load<i32>(entry);
    const colBlock = load<i32>(entry, 4);
    const rows = min(bs, outDim - rowBlock * bs);
    const cols = min(bs, inDim - colBlock * bs);
    const dst = out + <usize>i * blockBytes;
    // A ragged edge block (past the last row or column) keeps zeros outside the matrix.
    if (rows < bs || cols < bs) memory.fill(dst, 0, blockBytes);
    const gCols = g + ((<usize>rowBlock * <usize>bs) << 2);
    const xCols = x + ((<usize>colBlock * <usize>bs) << 2);
    gemm(gCols, outDim, 1, xCols, inDim, 0, dst, bs, m, 0, 0, rows, 0, cols, scratch);
  }
}

/**
 * Scores every bs×bs block of the `[rows, cols]` matrix at `mat` (rows and cols multiples of bs): writes the
 * mean of absolute values to `meanAbs` and the absolute value of the mean to `absMean`, both `[rows/bs, cols/bs]`.
 * Sums are kept in f64 so that large blocks do not lose precision.
 */
export function blockScores(mat: usize, rows: i32, cols: i32, bs: i32, meanAbs: usize, absMean: usize): void {
  const blockRows = rows / bs;
  const blockCols = cols / bs;
  const count = <f64>bs * <f64>bs;
  for (let br = 0; br < blockRows; br++) {
    for (let bc = 0; bc < blockCols; bc++) {
      let sumAbs: f64 = 0;
      let sum: f64 = 0;
      for (let i = 0; i < bs; i++) {
        const row = mat + ((<usize>(br * bs + i) * <usize>cols + <usize>(bc * bs)) << 2);
        let vAbs = f32x4.splat(0);
        let vSum = f32x4.splat(0);
        let j = 0;
        for (; j + 4 <= bs; j += 4) {
          const v = v128.load(row + ((<usize>j) << 2));
          vAbs = f32x4.add(vAbs, f32x4.abs(v));
          vSum = f32x4.add(vSum, v);
        }
        let rowAbs: f64 =
          <f64>f32x4.extract_lane(vAbs, 0) +
          <f64>f32x4.extract_lane(vAbs, 1) +
          <f64>f32x4.extract_lane(vAbs, 2) +
          <f64>f32x4.extract_lane(vAbs, 3);
        let rowSum: f64 =
          <f64>f32x4.extract_lane(vSum, 0) +
          <f64>f32x4.extract_lane(vSum, 1) +
          <f64>f32x4.extract_lane(vSum, 2) +
          <f64>f32x4.extract_lane(vSum, 3);
        for (; j < bs; j++) {
          const v = <f64>load<f32>(row + ((<usize>j) << 2));
          rowAbs += Math.abs(v);
          rowSum += v;
        }
        sumAbs += rowAbs;
        sum += rowSum;
      }
      const o = (<usize>(br * blockCols + bc)) << 2;
      store<f32>(meanAbs + o, <f32>(sumAbs / count));
      store<f32>(absMean + o, <f32>Math.abs(sum / count));
    }
  }
}
