/**
 * Rotary position embedding, in place, for both pairings used by LLaMA-family checkpoints.
 */

/**
 * Rotates x `[T, nHeads, headDim]` for positions pos0…pos0+T−1 with θ_i = base^(−2i/headDim). `layout` 0 pairs
 * dimensions (2i, 2i+1) (llama2.c/Meta), 1 pairs (i, i + headDim/2) (Hugging Face `rotate_half`). `inverse`
 * rotates by −angle, the transpose used by the backward pass. Angles and their sines are computed in f64.
 */
export function rope(
  x: usize,
  T: i32,
  nHeads: i32,
  headDim: i32,
  pos0: i32,
  layout: i32,
  base: f64,
  inverse: i32,
): void {
  const half = headDim >> 1;
  const sign: f64 = inverse !== 0 ? -1.0 : 1.0;
  for (let t = 0; t < T; t++) {
    const pos = <f64>(pos0 + t);
    for (let i = 0; i < half; i++) {
      const theta = base ** ((-2.0 * <f64>i) / <f64>headDim);
      const angle = pos * theta;
      const c = <f32>Math.cos(angle);
      const s = <f32>(sign * Math.sin(angle));
      const i0 = layout === 0 ? 2 * i : i;
      const i1 = layout === 0 ? 2 * i + 1 : i + half;
      for (let h = 0; h < nHeads; h++) {
        const head = x + ((<usize>(t * nHeads + h) * <usize>headDim) << 2);
        const p0 = head + ((<usize>i0) << 2);
        const p1 = head + ((<usize>i1) << 2);
        const a = load<f32>(p0);
        const b = load<f32>(p1);
        store<f32>(p0, a * c - b * s);
        store<f32>(p1, a * s + b * c);
      }
    }
  }
}
