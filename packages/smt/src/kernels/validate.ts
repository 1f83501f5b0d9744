/**
 * Argument checks shared by every kernel backend, so that all three reject the same bad input with the same
 * message: which kernel, which argument, what was expected and what was found.
 *
 * @module
 */
import type { AdamParams, BlockIndex } from './backend.ts';
import { KernelError } from './kernel-error.ts';

/** Throws unless `array` holds at least `expected` values. */
export function checkLength(kernel: string, name: string, array: ArrayLike<number>, expected: number): void {
  if (array.length < expected) {
    throw new KernelError(
      `${kernel}: '${name}' must hold at least ${expected} values for the given shape, but has ${array.length}.`,
    );
  }
}

/** Throws unless every value of `dims` is a non-negative integer. */
export function checkDims(kernel: string, dims: Record<string, number>): void {
  for (const [name, value] of Object.entries(dims)) {
    if (!(Number.isInteger(value) && value >= 0)) {
      throw new KernelError(`${kernel}: '${name}' must be a non-negative integer, got ${value}.`);
    }
  }
}

/** Throws unless `blockSize` is a positive integer. */
export function checkBlockSize(kernel: string, blockSize: number): void {
  if (!(Number.isInteger(blockSize) && blockSize > 0)) {
    throw new KernelError(`${kernel}: blockSize must be a positive integer, got ${blockSize}.`);
  }
}

/**
 * Validates the block size and a block list against a `[rows, cols]` matrix. A ragged edge block (one that
 * starts inside the matrix but reaches past its last row or column) is allowed; one starting outside is not.
 */
export function checkBlocks(
  kernel: string,
  blocks: readonly BlockIndex[],
  blockSize: number,
  rows: number,
  cols: number,
): void {
  checkBlockSize(kernel, blockSize);
  blocks.forEach(({ rowBlock, colBlock }, index) => {
    if (
      !Number.isInteger(rowBlock) ||
      !Number.isInteger(colBlock) ||
      rowBlock < 0 ||
      colBlock < 0 ||
      rowBlock * blockSize >= rows ||
      colBlock * blockSize >= cols
    ) {
      throw new KernelError(
        `${kernel}: block ${index} (rowBlock ${rowBlock}, colBlock ${colBlock}) lies outside the ` +
          `[${rows}, ${cols}] matrix with blockSize ${blockSize}; expected rowBlock < ${Math.ceil(rows / blockSize)} ` +
          `and colBlock < ${Math.ceil(cols / blockSize)}.`,
      );
    }
  });
}

/** Throws unless `nKvHeads` is positive and divides `nHeads` (grouped-query attention). */
export function checkHeads(kernel: string, nHeads: number, nKvHeads: number): void {
  if (!(Number.isInteger(nKvHeads) && nKvHeads > 0) || nHeads % nKvHeads !== 0) {
    throw new KernelError(`${kernel}: nHeads (${nHeads}) must be a positive multiple of nKvHeads (${nKvHeads}).`);
  }
}

/** Throws unless the Adam step is an integer ≥ 1 (it drives the bias correction). */
export function checkAdamStep(kernel: string, params: AdamParams): void {
  if (!(Number.isInteger(params.step) && params.step >= 1)) {
    throw new KernelError(`${kernel}: step must be an integer ≥ 1 (it drives bias correction), got ${params.step}.`);
  }
}
