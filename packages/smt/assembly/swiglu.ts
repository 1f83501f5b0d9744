/**
 * SwiGLU gating: h = silu(gate) ⊙ up, elementwise.
 */

/** h[i] = gate[i] · σ(gate[i]) · up[i] for `n` values. */
export function swigluForward(gate: usize, up: usize, h: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 2;
    const g = load<f32>(gate + o);
    const sig = <f32>1 / (<f32>1 + Mathf.exp(-g));
    store<f32>(h + o, g * sig * load<f32>(up + o));
  }
}

/** dUp = dh ⊙ silu(gate); dGate = dh ⊙ up ⊙ σ(gate)·(1 + gate·(1 − σ(gate))). */
export function swigluBackward(dh: usize, gate: usize, up: usize, dGate: usize, dUp: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 2;
    const g = load<f32>(gate + o);
    const d = load<f32>(dh + o);
    const sig = <f32>1 / (<f32>1 + Mathf.exp(-g));
    store<f32>(dUp + o, d * g * sig);
    store<f32>(dGate + o, d * load<f32>(up + o) * sig * (<f32>1 + g * (<f32>1 - sig)));
  }
}
