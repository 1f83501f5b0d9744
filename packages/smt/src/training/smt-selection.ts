/**
 * Block scoring and top-K selection of Sparse Matrix Tuning (spec §2.3): the warm-up's signed gradient sum
 * Σ_t g_t of every eligible matrix is cut into `bs × bs` blocks, each block gets a score, and the `K` best blocks
 * of each group (e.g. all Q, K and V matrices of all layers together) are kept, in one global ranking per group.
 *
 * @module
 */

import { DspyError } from '@dspy-ts/core';
import type { BlockIndex, KernelBackend } from '../kernels/backend.ts';
import { mulberry32 } from '../kernels/reference/random.ts';
import type { MatrixName } from './training-graph.ts';

/**
 * How a block of the summed gradient G = Σ_t g_t is scored.
 * - `mean-of-abs`: mean_{block} |G| (the paper's wording "average absolute gradients"; the authors' code calls
 *   this `abs_mean`). The default.
 * - `abs-of-mean`: |mean_{block} G| (what the authors' code calls `mean_abs`, its default, and what its attention
 *   path always uses).
 */
export type SmtScore = 'mean-of-abs' | 'abs-of-mean';

/** One group of matrices that share a block budget and one global top-K. */
export interface SmtGroup {
  /** Matrix types in the group, e.g. `['wq', 'wk', 'wv']`. */
  matrices: MatrixName[];
  /** Budget as a number of blocks. */
  blocks?: number;
  /** Budget as a fraction of all blocks of the group's matrices (used when `blocks` is absent). */
  fraction?: number;
}

/** The selected blocks of one matrix of one layer. */
export interface SmtMatrixSelection {
  /** Layer index. */
  layer: number;
  /** Matrix type. */
  matrix: MatrixName;
  /** Selected blocks, in ascending (rowBlock, colBlock) order. */
  blocks: BlockIndex[];
}

/** A block of a candidate matrix with its score. */
interface ScoredBlock {
  layer: number;
  matrix: MatrixName;
  rowBlock: number;
  colBlock: number;
  score: number;
}

/** A matrix taking part in a selection, with its summed gradient. */
export interface SmtCandidate {
  /** Layer index. */
  layer: number;
  /** Matrix type. */
  matrix: MatrixName;
  /** Rows (output dimension). */
  rows: number;
  /** Columns (input dimension). */
  cols: number;
  /** Summed gradient `[rows, cols]` (not needed for random selection). */
  gradSum?: Float32Array;
}

/**
 * Block scores of a `[rows, cols]` matrix, `[ceil(rows/bs), ceil(cols/bs)]`. Uses the backend's `blockScores`;
 * when a dimension is not a multiple of `bs`, the matrix is zero-padded first and the ragged edge blocks are
 * rescaled so their score is the mean over their real entries only.
 */
export function blockScoreGrid(
  backend: KernelBackend,
  matrix: Float32Array,
  rows: number,
  cols: number,
  blockSize: number,
  score: SmtScore,
): Float32Array {
  const bs = blockSize;
  const br = Math.ceil(rows / bs);
  const bc = Math.ceil(cols / bs);
  let padded = matrix;
  if (br * bs !== rows || bc * bs !== cols) {
    padded = new Float32Array(br * bs * bc * bs);
    for (let r = 0; r < rows; r++) padded.set(matrix.subarray(r * cols, (r + 1) * cols), r * bc * bs);
  }
  const scores = backend.blockScores(padded, br * bs, bc * bs, bs);
  const grid = score === 'mean-of-abs' ? scores.meanAbs : scores.absMean;
  for (let i = 0; i < br; i++) {
    for (let j = 0; j < bc; j++) {
      const real = Math.min(bs, rows - i * bs) * Math.min(bs, cols - j * bs);
      // Padding adds zeros: sums are unchanged, only the divisor must be the real entry count.
      if (real !== bs * bs) grid[i * bc + j] = (grid[i * bc + j]! * bs * bs) / real;
    }
  }
  return grid;
}

/** Number of blocks a group's budget asks for, given how many blocks its matrices hold. */
export function groupBudget(group: SmtGroup, totalBlocks: number): number {
  if (group.blocks !== undefined) {
    if (!Number.isInteger(group.blocks) || group.blocks < 1) {
      throw new DspyError(
        'invalid_argument',
        `An SMT group budget must be a positive block count, got ${group.blocks}.`,
      );
    }
    return Math.min(group.blocks, totalBlocks);
  }
  const fraction = group.fraction ?? 0.1;
  if (!(fraction > 0 && fraction <= 1)) {
    throw new DspyError('invalid_argument', `An SMT group fraction must lie in (0, 1], got ${fraction}.`);
  }
  return Math.max(1, Math.min(totalBlocks, Math.round(fraction * totalBlocks)));
}

/**
 * Global top-K per group (the authors' `no_restriction` strategy): every block of every candidate matrix of the
 * group competes in one ranking, highest score first; ties go to the lower layer, then the earlier matrix in
 * `group.matrices`, then the lower block row and column, so the result is deterministic. With `random`, a seeded
 * uniform sample of K blocks replaces the ranking (the control of spec §7.2).
 */
export function selectBlocks(
  backend: KernelBackend,
  candidates: readonly SmtCandidate[],
  group: SmtGroup,
  options: { blockSize: number; score: SmtScore; strategy?: 'gradient' | 'random'; seed?: number },
): SmtMatrixSelection[] {
  const bs = options.blockSize;
  const members = candidates.filter((c) => group.matrices.includes(c.matrix));
  const all: ScoredBlock[] = [];
  for (const c of members) {
    const br = Math.ceil(c.rows / bs);
    const bc = Math.ceil(c.cols / bs);
    let grid: Float32Array | undefined;
    if (options.strategy !== 'random') {
      if (!c.gradSum) throw new TypeError(`No gradient sum for layer ${c.layer} ${c.matrix}.`);
      grid = blockScoreGrid(backend, c.gradSum, c.rows, c.cols, bs, options.score);
    }
    for (let i = 0; i < br; i++) {
      for (let j = 0; j < bc; j++) {
        all.push({ layer: c.layer, matrix: c.matrix, rowBlock: i, colBlock: j, score: grid ? grid[i * bc + j]! : 0 });
      }
    }
  }
  const k = groupBudget(group, all.length);
  let chosen: ScoredBlock[];
  if (options.strategy === 'random') {
    const rng = mulberry32(options.seed ?? 0);
    const pool = [...all];
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(rng() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    chosen = pool.slice(0, k);
  } else {
    const order = (m: MatrixName) => group.matrices.indexOf(m);
    chosen = [...all]
      .sort(
        (a, b) =>
          b.score - a.score ||
          a.layer - b.layer ||
          order(a.matrix) - order(b.matrix) ||
          a.rowBlock - b.rowBlock ||
          a.colBlock - b.colBlock,
      )
      .slice(0, k);
  }
  return groupSelection(chosen, group.matrices);
}

function groupSelection(chosen: ScoredBlock[], matrices: readonly MatrixName[]): SmtMatrixSelection[] {
  const byKey = new Map<string, SmtMatrixSelection>();
  for (const block of chosen) {
    const key = `${block.layer}:${block.matrix}`;
    let entry = byKey.get(key);
    if (!entry) {
      entry = { layer: block.layer, matrix: block.matrix, blocks: [] };
      byKey.set(key, entry);
    }
    entry.blocks.push({ rowBlock: block.rowBlock, colBlock: block.colBlock });
  }
  const out = [...byKey.values()];
  for (const entry of out) entry.blocks.sort((a, b) => a.rowBlock - b.rowBlock || a.colBlock - b.colBlock);
  return out.sort((a, b) => a.layer - b.layer || matrices.indexOf(a.matrix) - matrices.indexOf(b.matrix));
}

/**
 * How many blocks each matrix type received per layer, e.g. `{ wv: [3, 0, 5, …], … }` (one entry per layer),
 * for reading off where the budget went (the paper reports V getting most).
 */
export function selectionSummary(
  selection: readonly SmtMatrixSelection[],
  nLayers: number,
): Partial<Record<MatrixName, number[]>> {
  const out: Partial<Record<MatrixName, number[]>> = {};
  for (const { layer, matrix, blocks } of selection) {
    const counts = out[matrix] ?? new Array<number>(nLayers).fill(0);
    counts[layer] = counts[layer]! + blocks.length;
    out[matrix] = counts;
  }
  return out;
}
