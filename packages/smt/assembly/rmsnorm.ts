/**
 * RMSNorm forward and backward over rows of a `[T, D]` matrix.
 */

/** y[t] = x[t] · invRms[t] ⊙ w with invRms[t] = 1/sqrt(mean(x[t]²) + eps); writes y and invRms. */
export function rmsnormForward(x: usize, w: usize, y: usize, invRms: usize, T: i32, D: i32, eps: f64): void {
  for (let t = 0; t < T; t++) {
    const row = (<usize>t * <usize>D) << 2;
    let ss: f64 = 0;
    for (let j = 0; j < D; j++) {
      const v = <f64>load<f32>(x + row + ((<usize>j) << 2));
      ss += v * v;
    }
    const r = 1.0 / Math.sqrt(ss / <f64>D + eps);
    store<f32>(invRms + ((<usize>t) << 2), <f32>r);
    const rf = <f32>r;
    for (let j = 0; j < D; j++) {
      const o = row + ((<usize>j) << 2);
      store<f32>(y + o, load<f32>(x + o) * rf * load<f32>(w + ((<usize>j) << 2)));
    }
  }
}

/**
 * Gradients of {@link rmsnormForward}: dx[t] = r·(w ⊙ dy[t]) − r³/D · (Σ w ⊙ dy[t] ⊙ x[t]) · x[t] and
 * dW = Σ_t dy[t] ⊙ x[t] · r[t], with r = invRms[t].
 */
export function rmsnormBackward(
  dy: usize,
  x: usize,
  w: usize,
  invRms: usize,
  dx: usize,
  dW: usize,
  T: i32,
  D: i32,
): void {
  memory.fill(dW, 0, (<usize>D) << 2);
  for (let t = 0; t < T; t++) {
    const row = (<usize>t * <usize>D) << 2;
    const r = <f64>load<f32>(invRms + ((<usize>t) << 2));
    let s: f64 = 0;
    for (let j = 0; j < D; j++) {
      const o = (<usize>j) << 2;
      s += <f64>load<f32>(dy + row + o) * <f64>load<f32>(w + o) * <f64>load<f32>(x + row + o);
    }
    const coef = (r * r * r * s) / <f64>D;
    for (let j = 0; j < D; j++) {
      const o = (<usize>j) << 2;
      const g = <f64>load<f32>(dy + row + o);
      const xv = <f64>load<f32>(x + row + o);
      store<f32>(dx + row + o, <f32>(r * g * <f64>load<f32>(w + o) - coef * xv));
      store<f32>(dW + o, load<f32>(dW + o) + <f32>(g * xv * r));
    }
  }
}
