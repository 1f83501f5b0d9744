import { RetrievalError } from './errors.ts';

/** A vector as accepted by the stores: a `Float32Array` or a plain array of numbers. */
export type VectorLike = Float32Array | readonly number[];

/**
 * Copies `vector` into a `Float32Array`, checking its length against `dimensions` and that every component is
 * finite. `what` names the vector in error messages (e.g. `record "doc-3"`).
 */
export function toFloat32(
  vector: VectorLike,
  dimensions: number | undefined,
  where: string,
  what: string,
): Float32Array {
  if (!(vector instanceof Float32Array) && !Array.isArray(vector)) {
    throw new RetrievalError(
      'invalid_argument',
      `${where}: expected ${what} to be a Float32Array or an array of numbers, found ${vector === null ? 'null' : typeof vector}.`,
    );
  }
  if (dimensions !== undefined && vector.length !== dimensions) {
    throw new RetrievalError(
      'dimension_mismatch',
      `${where}: expected ${what} to have ${dimensions} dimensions, found ${vector.length}. ` +
        'Every vector in a store must come from the same embedding model.',
    );
  }
  if (vector.length === 0) {
    throw new RetrievalError('dimension_mismatch', `${where}: expected ${what} to have at least 1 dimension, found 0.`);
  }
  const out = Float32Array.from(vector);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) {
      throw new RetrievalError(
        'invalid_argument',
        `${where}: expected ${what} to hold finite numbers, found ${String(vector[i])} at index ${i}.`,
      );
    }
  }
  return out;
}

/** Euclidean norm of `vector`. */
export function norm(vector: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  return Math.sqrt(sum);
}

/** Scales `vector` in place to unit length; a zero vector has no direction, so it is rejected. */
export function normalizeInPlace(vector: Float32Array, where: string, what: string): Float32Array {
  const length = norm(vector);
  if (length === 0) {
    throw new RetrievalError(
      'invalid_argument',
      `${where}: expected ${what} to be a non-zero vector (cosine similarity and L2 normalisation need a direction), found all zeros.`,
    );
  }
  for (let i = 0; i < vector.length; i++) vector[i]! /= length;
  return vector;
}

/** Dot product of two equal-length vectors. */
export function dot(a: Float32Array, b: Float32Array, offsetB = 0): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[offsetB + i]!;
  return sum;
}
