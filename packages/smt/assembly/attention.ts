/**
 * Causal grouped-query self-attention for one sequence, forward and backward.
 */
import { axpy, dot } from './simd';

/**
 * q `[T, nHeads, hd]`, k and v `[S, nKvHeads, hd]`; query t sits at absolute position S − T + t and sees keys
 * 0…that position. Writes out `[T, nHeads, hd]` and the softmax probabilities `[nHeads, T, S]` (zeros above the
 * causal limit). Head h reads kv head h / (nHeads / nKvHeads).
 */
export function attentionForward(
  q: usize,
  k: usize,
  v: usize,
  out: usize,
  probs: usize,
  T: i32,
  S: i32,
  nHeads: i32,
  nKvHeads: i32,
  hd: i32,
): void {
  const group = nHeads / nKvHeads;
  const scale = <f32>(1.0 / Math.sqrt(<f64>hd));
  const kvRow = (<usize>nKvHeads * <usize>hd) << 2;
  for (let h = 0; h < nHeads; h++) {
    const kvHead = (<usize>(h / group) * <usize>hd) << 2;
    for (let t = 0; t < T; t++) {
      const limit = S - T + t;
      const qRow = q + ((<usize>(t * nHeads + h) * <usize>hd) << 2);
      const pRow = probs + ((<usize>(h * T + t) * <usize>S) << 2);
      let max: f32 = -Infinity;
      for (let s = 0; s <= limit; s++) {
        const score = dot(qRow, k + <usize>s * kvRow + kvHead, hd) * scale;
        store<f32>(pRow + ((<usize>s) << 2), score);
        if (score > max) max = score;
      }
      let sum: f64 = 0;
      for (let s = 0; s <= limit; s++) {
        const o = pRow + ((<usize>s) << 2);
        const e = Mathf.exp(load<f32>(o) - max);
        store<f32>(o, e);
        sum += <f64>e;
      }
      const inv = <f32>(1.0 / sum);
      const oRow = out + ((<usize>(t * nHeads + h) * <usize>hd) << 2);
      memory.fill(oRow, 0, (<usize>hd) << 2);
      for (let s = 0; s <= limit; s++) {
        const o = pRow + ((<usize>s) << 2);
        const p = load<f32>(o) * inv;
        store<f32>(o, p);
        axpy(oRow, p, v + <usize>s * kvRow + kvHead, hd);
      }
      if (limit + 1 < S) memory.fill(pRow + ((<usize>(limit + 1)) << 2), 0, (<usize>(S - limit - 1)) << 2);
    }
  }
}

/**
 * Gradients of {@link attentionForward} for T = S. With P the saved probabilities, dV += Pᵀ·dOut,
 * dP = dOut·Vᵀ, dScores = P ⊙ (dP − rowsum(P ⊙ dP)) / sqrt(hd), dQ = dScores·K and dK += dScoresᵀ·Q, summed over
 * the query heads sharing a kv head. `scratch` holds T floats.
 */
export function attentionBackward(
  dOut: usize,
  q: usize,
  k: usize,
  v: usize,
  probs: usize,
  dq: usize,
  dk: usize,
  dv: usize,
  T: i32,
  nHeads: i32,
  nKvHeads: i32,
  hd: i32,
  scratch: usize,
): void {
  const group = nHeads / nKvHeads;
  const scale = <f32>(1.0 / Math.sqrt(<f64>hd));
  const kvRow = (<usize>nKvHeads * <usize>hd) << 2;
  memory.fill(dq, 0, (<usize>T * <usize>nHeads * <usize>hd) << 2);
  memory.fill(dk, 0, (<usize>T * <usize>nKvHeads * <usize>hd) << 2);
  memory.fill(dv, 0, (<usize>T * <usize>nKvHeads * <usize>hd) << 2);
  for (let h = 0; h < nHeads; h++) {
    const kvHead = (<usize>(h / group) * <usize>hd) << 2;
    for (let t = 0; t < T; t++) {
      const head = (<usize>(t * nHeads + h) * <usize>hd) << 2;
      const dRow = dOut + head;
      const qRow = q + head;
      const dqRow = dq + head;
      const pRow = probs + ((<usize>(h * T + t) * <usize>T) << 2);
      let weighted: f64 = 0;
      for (let s = 0; s <= t; s++) {
        const kv = <usize>s * kvRow + kvHead;
        const p = load<f32>(pRow + ((<usize>s) << 2));
        const dp = dot(dRow, v + kv, hd);
        store<f32>(scratch + ((<usize>s) << 2), dp);
        weighted += <f64>p * <f64>dp;
        axpy(dv + kv, p, dRow, hd);
      }
      const wf = <f32>weighted;
      for (let s = 0; s <= t; s++) {
        const kv = <usize>s * kvRow + kvHead;
        const p = load<f32>(pRow + ((<usize>s) << 2));
        const ds = p * (load<f32>(scratch + ((<usize>s) << 2)) - wf) * scale;
        axpy(dqRow, ds, k + kv, hd);
        axpy(dk + kv, ds, qRow, hd);
      }
    }
  }
}
