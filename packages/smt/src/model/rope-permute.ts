/**
 * Conversion of q/k projection rows between the two RoPE pairings. Meta/llama2.c rotate dimensions
 * (2i, 2i+1) of a head together; Hugging Face rotates i with i + headDim/2. HF's
 * `convert_llama_weights_to_hf.py` therefore permutes the rows of `wq` and `wk` per head:
 * `w.view(nHeads, headDim/2, 2, in).transpose(1, 2).reshape(out, in)`.
 *
 * @module
 */

function permuteRows(w: Float32Array, nHeads: number, cols: number, toRotateHalf: boolean): Float32Array {
  const rows = w.length / cols;
  const headDim = rows / nHeads;
  if (!Number.isInteger(rows) || !Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new RangeError(`cannot split ${w.length} values into ${nHeads} heads of even size with ${cols} columns`);
  }
  const half = headDim / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++) {
    for (let j = 0; j < half; j++) {
      for (let a = 0; a < 2; a++) {
        const interleaved = h * headDim + 2 * j + a;
        const rotateHalf = h * headDim + a * half + j;
        const [from, to] = toRotateHalf ? [interleaved, rotateHalf] : [rotateHalf, interleaved];
        out.set(w.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return out;
}

/**
 * Reorders the rows of a `[nHeads·headDim, cols]` q or k projection from the interleaved (llama2.c) layout to
 * the rotate-half (Hugging Face) layout, exactly as HF's conversion script does. Returns a new array.
 */
export function interleavedToRotateHalf(w: Float32Array, nHeads: number, cols: number): Float32Array {
  return permuteRows(w, nHeads, cols, true);
}

/** The inverse of {@link interleavedToRotateHalf}: Hugging Face q/k rows back to the llama2.c layout. */
export function rotateHalfToInterleaved(w: Float32Array, nHeads: number, cols: number): Float32Array {
  return permuteRows(w, nHeads, cols, false);
}
