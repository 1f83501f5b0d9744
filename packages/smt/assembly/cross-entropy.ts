/**
 * Softmax cross-entropy over rows of logits with an optional row mask.
 */

/**
 * For logits `[T, V]` and i32 targets, returns Σ over counted rows of (logsumexp(row) − row[target]) and writes
 * dLogits = (softmax(row) − onehot(target)) · invCount for counted rows, zeros elsewhere. A row counts when
 * `mask` is 0 (no mask) or its u8 entry is non-zero. Targets of counted rows must lie in [0, V).
 */
export function crossEntropy(
  logits: usize,
  targets: usize,
  mask: usize,
  dLogits: usize,
  T: i32,
  V: i32,
  invCount: f64,
): f64 {
  let total: f64 = 0;
  const inv = <f32>invCount;
  for (let t = 0; t < T; t++) {
    const row = (<usize>t * <usize>V) << 2;
    const src = logits + row;
    const dst = dLogits + row;
    if (mask !== 0 && load<u8>(mask + <usize>t) === 0) {
      memory.fill(dst, 0, (<usize>V) << 2);
      continue;
    }
    let max: f32 = -Infinity;
    for (let j = 0; j < V; j++) {
      const l = load<f32>(src + ((<usize>j) << 2));
      if (l > max) max = l;
    }
    let sum: f64 = 0;
    for (let j = 0; j < V; j++) {
      const o = (<usize>j) << 2;
      const e = Mathf.exp(load<f32>(src + o) - max);
      store<f32>(dst + o, e);
      sum += <f64>e;
    }
    const target = load<i32>(targets + ((<usize>t) << 2));
    total += Math.log(sum) + <f64>max - <f64>load<f32>(src + ((<usize>target) << 2));
    const scale = <f32>(invCount / sum);
    for (let j = 0; j < V; j++) {
      const o = dst + ((<usize>j) << 2);
      store<f32>(o, load<f32>(o) * scale);
    }
    const to = dst + ((<usize>target) << 2);
    store<f32>(to, load<f32>(to) - inv);
  }
  return total;
}
