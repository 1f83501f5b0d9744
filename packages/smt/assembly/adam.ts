/**
 * Adam / AdamW parameter update.
 */

/**
 * One in-place update over `n` values: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
 * p ← p·(1 − lr·wd) − lr · (m/bc1) / (sqrt(v/bc2) + eps), where bc1 = 1 − β1^step and bc2 = 1 − β2^step are
 * passed in. Arithmetic is f64; the stored state is f32.
 */
export function adamUpdate(
  param: usize,
  grad: usize,
  m: usize,
  v: usize,
  n: i32,
  lr: f64,
  beta1: f64,
  beta2: f64,
  eps: f64,
  weightDecay: f64,
  bc1: f64,
  bc2: f64,
): void {
  const decay = 1.0 - lr * weightDecay;
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 2;
    const g = <f64>load<f32>(grad + o);
    const mi = beta1 * <f64>load<f32>(m + o) + (1.0 - beta1) * g;
    const vi = beta2 * <f64>load<f32>(v + o) + (1.0 - beta2) * g * g;
    store<f32>(m + o, <f32>mi);
    store<f32>(v + o, <f32>vi);
    const p = <f64>load<f32>(param + o) * decay;
    store<f32>(param + o, <f32>(p - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps)));
  }
}
