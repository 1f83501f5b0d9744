/**
 * The gpu.js kernel functions of the `gpujs` backend, as source text. gpu.js parses each function and translates it
 * (to GLSL, WGSL, WebAssembly or plain JavaScript), so these bodies use only the subset it understands: numbers,
 * `let`/`const`, `for` loops, `if`, `Math.*`, array reads and `this.thread` / `this.constants`.
 *
 * Conventions shared by every kernel here:
 * - Every size is a compile-time constant (`this.constants.*`). A loop whose bound comes from a kernel argument
 *   is capped by gpu.js at `loopMaxIterations` (1000 by default) and silently stops early; a constant bound
 *   compiles to an exact loop. Kernels are therefore compiled per shape (see `kernel-cache.ts`).
 * - Values that change between calls without changing shapes (learning rate, epsilon, head offsets) are plain
 *   number arguments, which become uniforms, so they never trigger a recompile.
 * - A logical 2-D result `[rows, cols]` is written as the 3-D output `[cols, 1, rows]`: gpu.js stores a true 2-D
 *   output in a `cols × rows` texture (rejected when `cols` exceeds the maximum texture size, 16384 on most GPUs
 *   and 8192 on some), while 3-D outputs are packed into a near-square texture. `this.thread.x` is then the
 *   column and `this.thread.z` the row.
 * - Multi-dimensional reads (`a[r][c]`) go through `Input` values with explicit sizes, so gpu.js addresses the
 *   texture from integer coordinates.
 * - Accumulators start from `0.0` literals so gpu.js types them as floats.
 *
 * @module
 */

/**
 * JavaScript source of one gpu.js kernel function. Kernels are kept as string literals rather than functions
 * because gpu.js parses `Function.prototype.toString()`, and bundlers rewrite function bodies: rolldown turns
 * `let sum = 0.0` into `let sum = 0` and drops the braces of a loop body holding a single `if`, and the GLSL
 * gpu.js generated from the rewritten attention kernels referred to undeclared variables and failed to compile.
 * A string reaches gpu.js exactly as written here, whatever bundler or minifier a consumer uses.
 */
export type KernelSource = string;

/** C = A·B with A stored `[m, k]` and B stored `[k, n]`; output `[n, 1, m]`. */
export const matmulNN: KernelSource = `function matmulNN(a, b) {
  const row = this.thread.z;
  const col = this.thread.x;
  let sum = 0.0;
  for (let i = 0; i < this.constants.K; i++) {
    sum += a[row][i] * b[i][col];
  }
  return sum;
}`;

/** C = A·Bᵀ with A stored `[m, k]` and B stored `[n, k]`; output `[n, 1, m]`. */
export const matmulNT: KernelSource = `function matmulNT(a, b) {
  const row = this.thread.z;
  const col = this.thread.x;
  let sum = 0.0;
  for (let i = 0; i < this.constants.K; i++) {
    sum += a[row][i] * b[col][i];
  }
  return sum;
}`;

/** C = Aᵀ·B with A stored `[k, m]` and B stored `[k, n]`; output `[n, 1, m]`. */
export const matmulTN: KernelSource = `function matmulTN(a, b) {
  const row = this.thread.z;
  const col = this.thread.x;
  let sum = 0.0;
  for (let i = 0; i < this.constants.K; i++) {
    sum += a[i][row] * b[i][col];
  }
  return sum;
}`;

/** C = Aᵀ·Bᵀ with A stored `[k, m]` and B stored `[n, k]`; output `[n, 1, m]`. */
export const matmulTT: KernelSource = `function matmulTT(a, b) {
  const row = this.thread.z;
  const col = this.thread.x;
  let sum = 0.0;
  for (let i = 0; i < this.constants.K; i++) {
    sum += a[i][row] * b[col][i];
  }
  return sum;
}`;

/**
 * dS[k][i][j] = Σ_t G[t][rowBase_k + i] · X[t][colBase_k + j] over compacted inputs: `g` `[M, nRowBlocks·BS]`
 * and `x` `[M, nColBlocks·BS]` hold only the selected row / column blocks, and `rowSlot` / `colSlot` give each
 * output block's slot in them. Output `[BS, BS, nBlocks]`.
 */
export const blockGrad: KernelSource = `function blockGrad(g, x, rowSlot, colSlot) {
  const kb = this.thread.z;
  const gc = rowSlot[kb] * this.constants.BS + this.thread.y;
  const xc = colSlot[kb] * this.constants.BS + this.thread.x;
  let sum = 0.0;
  for (let t = 0; t < this.constants.M; t++) {
    sum += g[t][gc] * x[t][xc];
  }
  return sum;
}`;

/**
 * Block scores of `matrix` `[rows, cols]`: output `[cols/BS, rows/BS, 2]`, where z = 0 holds mean |·| and z = 1
 * holds |mean|.
 */
export const blockScores: KernelSource = `function blockScores(matrix) {
  const r0 = this.thread.y * this.constants.BS;
  const c0 = this.thread.x * this.constants.BS;
  let sum = 0.0;
  let sumAbs = 0.0;
  for (let i = 0; i < this.constants.BS; i++) {
    for (let j = 0; j < this.constants.BS; j++) {
      const value = matrix[r0 + i][c0 + j];
      sum += value;
      sumAbs += Math.abs(value);
    }
  }
  const count = this.constants.BS * this.constants.BS;
  if (this.thread.z > 0) {
    return Math.abs(sum / count);
  }
  return sumAbs / count;
}`;

/** invRms[t] = 1 / sqrt(mean(x[t]²) + eps); output `[T]`. */
export const rmsInv: KernelSource = `function rmsInv(x, eps) {
  const t = this.thread.x;
  let sum = 0.0;
  for (let j = 0; j < this.constants.D; j++) {
    const value = x[t][j];
    sum += value * value;
  }
  return 1.0 / Math.sqrt(sum / this.constants.D + eps);
}`;

/** y[t][j] = x[t][j] · invRms[t] · weight[j]; output `[D, 1, T]`. */
export const rmsApply: KernelSource = `function rmsApply(x, invRms, weight) {
  const t = this.thread.z;
  const j = this.thread.x;
  return x[t][j] * invRms[t] * weight[j];
}`;

/** dot[t] = Σ_j dy[t][j] · weight[j] · x[t][j]; output `[T]`. */
export const rmsRowDot: KernelSource = `function rmsRowDot(dy, x, weight) {
  const t = this.thread.x;
  let sum = 0.0;
  for (let j = 0; j < this.constants.D; j++) {
    sum += dy[t][j] * weight[j] * x[t][j];
  }
  return sum;
}`;

/** dx[t][j] = r·w[j]·dy[t][j] − r³·x[t][j]·dot[t]/D with r = invRms[t]; output `[D, 1, T]`. */
export const rmsDx: KernelSource = `function rmsDx(dy, x, weight, invRms, dot) {
  const t = this.thread.z;
  const j = this.thread.x;
  const r = invRms[t];
  return r * weight[j] * dy[t][j] - ((r * r * r * x[t][j] * dot[t]) / this.constants.D);
}`;

/** dWeight[j] = Σ_t dy[t][j] · x[t][j] · invRms[t]; output `[D]`. */
export const rmsDWeight: KernelSource = `function rmsDWeight(dy, x, invRms) {
  const j = this.thread.x;
  let sum = 0.0;
  for (let t = 0; t < this.constants.T; t++) {
    sum += dy[t][j] * x[t][j] * invRms[t];
  }
  return sum;
}`;

/**
 * Interleaved RoPE: dimensions (2i, 2i+1) rotate by the angle in `cos[t][i]` / `sin[t][i]` (the sine table
 * is negated by the caller for the inverse rotation). `x` is `[T, H, HD]`; output `[HD, H, T]`.
 */
export const ropeInterleaved: KernelSource = `function ropeInterleaved(x, cos, sin) {
  const t = this.thread.z;
  const h = this.thread.y;
  const d = this.thread.x;
  const i = Math.floor(d / 2);
  const c = cos[t][i];
  const s = sin[t][i];
  if (d - i * 2 > 0) {
    return x[t][h][d - 1] * s + x[t][h][d] * c;
  }
  return x[t][h][d] * c - x[t][h][d + 1] * s;
}`;

/** Rotate-half RoPE: dimension i rotates with i + HD/2. Layout as {@link ropeInterleaved}. */
export const ropeRotateHalf: KernelSource = `function ropeRotateHalf(x, cos, sin) {
  const t = this.thread.z;
  const h = this.thread.y;
  const d = this.thread.x;
  const half = this.constants.HALF;
  if (d >= half) {
    const i = d - half;
    return x[t][h][i] * sin[t][i] + x[t][h][d] * cos[t][i];
  }
  return x[t][h][d] * cos[t][d] - x[t][h][d + half] * sin[t][d];
}`;

/**
 * Row log-sum-exp of the causal, scaled scores of query heads `h0 + z` (z over this chunk). `q` is
 * `[T, H, HD]`, `k` `[S, Hkv, HD]`; output `[T, 1, HC]`.
 */
export const attentionLse: KernelSource = `function attentionLse(q, k, h0, scale) {
  const t = this.thread.x;
  const h = h0 + this.thread.z;
  // +0.5 keeps the integer division exact on GPUs whose float division is off by an ulp.
  const kvh = Math.floor((h + 0.5) / this.constants.G);
  const last = this.constants.S - this.constants.T + t;
  let best = -1e30;
  for (let s = 0; s < this.constants.S; s++) {
    if (s <= last) {
      let raw = 0.0;
      for (let d = 0; d < this.constants.HD; d++) {
        raw += q[t][h][d] * k[s][kvh][d];
      }
      best = Math.max(best, raw * scale);
    }
  }
  let sum = 0.0;
  for (let s2 = 0; s2 < this.constants.S; s2++) {
    if (s2 <= last) {
      let raw2 = 0.0;
      for (let d2 = 0; d2 < this.constants.HD; d2++) {
        raw2 += q[t][h][d2] * k[s2][kvh][d2];
      }
      sum += Math.exp(raw2 * scale - best);
    }
  }
  return best + Math.log(sum);
}`;

/** Causal softmax probabilities P[hl][t][s] from the row log-sum-exp `lse` `[HC, T]`; output `[S, T, HC]`. */
export const attentionProbs: KernelSource = `function attentionProbs(q, k, lse, h0, scale) {
  const s = this.thread.x;
  const t = this.thread.y;
  const hl = this.thread.z;
  const h = h0 + hl;
  const kvh = Math.floor((h + 0.5) / this.constants.G);
  if (s > this.constants.S - this.constants.T + t) {
    return 0.0;
  }
  let raw = 0.0;
  for (let d = 0; d < this.constants.HD; d++) {
    raw += q[t][h][d] * k[s][kvh][d];
  }
  return Math.exp(raw * scale - lse[hl][t]);
}`;

/** out[t][h][d] = Σ_s P[hl][t][s] · v[s][kvh][d] for the chunk's heads; `p` `[HC, T, S]`; output `[HD, HC, T]`. */
export const attentionOut: KernelSource = `function attentionOut(p, v, h0) {
  const d = this.thread.x;
  const hl = this.thread.y;
  const t = this.thread.z;
  const kvh = Math.floor((h0 + hl + 0.5) / this.constants.G);
  const last = this.constants.S - this.constants.T + t;
  let sum = 0.0;
  for (let s = 0; s < this.constants.S; s++) {
    if (s <= last) {
      sum += p[hl][t][s] * v[s][kvh][d];
    }
  }
  return sum;
}`;

/** dP[hl][t][s] = Σ_d dOut[t][h][d] · v[s][kvh][d] for s ≤ t (T = S); output `[S, T, HC]`. */
export const attentionDProbs: KernelSource = `function attentionDProbs(dOut, v, h0) {
  const s = this.thread.x;
  const t = this.thread.y;
  const h = h0 + this.thread.z;
  const kvh = Math.floor((h + 0.5) / this.constants.G);
  if (s > t) {
    return 0.0;
  }
  let sum = 0.0;
  for (let d = 0; d < this.constants.HD; d++) {
    sum += dOut[t][h][d] * v[s][kvh][d];
  }
  return sum;
}`;

/** rowDot[hl][t] = Σ_s P · dP over the causal row; output `[T, 1, HC]`. */
export const attentionRowDot: KernelSource = `function attentionRowDot(p, dp) {
  const t = this.thread.x;
  const hl = this.thread.z;
  let sum = 0.0;
  for (let s = 0; s < this.constants.S; s++) {
    if (s <= t) {
      sum += p[hl][t][s] * dp[hl][t][s];
    }
  }
  return sum;
}`;

/** Gradient of the scaled scores: dS = scale · P · (dP − rowDot); output `[S, T, HC]`. */
export const attentionDScores: KernelSource = `function attentionDScores(p, dp, rowDot, scale) {
  const s = this.thread.x;
  const t = this.thread.y;
  const hl = this.thread.z;
  return scale * p[hl][t][s] * (dp[hl][t][s] - rowDot[hl][t]);
}`;

/** dq[t][h][d] = Σ_s dS[hl][t][s] · k[s][kvh][d]; output `[HD, HC, T]`. */
export const attentionDq: KernelSource = `function attentionDq(ds, k, h0) {
  const d = this.thread.x;
  const hl = this.thread.y;
  const t = this.thread.z;
  const kvh = Math.floor((h0 + hl + 0.5) / this.constants.G);
  let sum = 0.0;
  for (let s = 0; s < this.constants.S; s++) {
    if (s <= t) {
      sum += ds[hl][t][s] * k[s][kvh][d];
    }
  }
  return sum;
}`;

/**
 * dk[s][g][d] = Σ_{heads h of kv head g} Σ_{t ≥ s} dS[h][t][s] · q[t][h][d] for kv heads `g0 + y` of the chunk;
 * `ds` holds the chunk's query heads; output `[HD, GC, S]`.
 */
export const attentionDk: KernelSource = `function attentionDk(ds, q, g0) {
  const d = this.thread.x;
  const gl = this.thread.y;
  const s = this.thread.z;
  let sum = 0.0;
  for (let j = 0; j < this.constants.G; j++) {
    const hl = gl * this.constants.G + j;
    const h = (g0 + gl) * this.constants.G + j;
    for (let t = 0; t < this.constants.T; t++) {
      if (t >= s) {
        sum += ds[hl][t][s] * q[t][h][d];
      }
    }
  }
  return sum;
}`;

/** dv[s][g][d] = Σ_{heads h of g} Σ_{t ≥ s} P[h][t][s] · dOut[t][h][d]; output `[HD, GC, S]`. */
export const attentionDv: KernelSource = `function attentionDv(p, dOut, g0) {
  const d = this.thread.x;
  const gl = this.thread.y;
  const s = this.thread.z;
  let sum = 0.0;
  for (let j = 0; j < this.constants.G; j++) {
    const hl = gl * this.constants.G + j;
    const h = (g0 + gl) * this.constants.G + j;
    for (let t = 0; t < this.constants.T; t++) {
      if (t >= s) {
        sum += p[hl][t][s] * dOut[t][h][d];
      }
    }
  }
  return sum;
}`;

/** h = silu(gate) · up, elementwise; output `[L]`. */
export const swigluForward: KernelSource = `function swigluForward(gate, up) {
  const g = gate[this.thread.x];
  return (g / (1.0 + Math.exp(-g))) * up[this.thread.x];
}`;

/** z = 0: dGate, z = 1: dUp of SwiGLU; output `[L, 1, 2]`. */
export const swigluBackward: KernelSource = `function swigluBackward(dh, gate, up) {
  const i = this.thread.x;
  const g = gate[i];
  const sig = 1.0 / (1.0 + Math.exp(-g));
  if (this.thread.z > 0) {
    return dh[i] * g * sig;
  }
  return dh[i] * up[i] * sig * (1.0 + g * (1.0 - sig));
}`;

/** lse[t] = log Σ_v exp(logits[t][v]), computed around the row maximum; output `[T]`. */
export const rowLogSumExp: KernelSource = `function rowLogSumExp(logits) {
  const t = this.thread.x;
  let best = -1e30;
  for (let v = 0; v < this.constants.V; v++) {
    best = Math.max(best, logits[t][v]);
  }
  let sum = 0.0;
  for (let v = 0; v < this.constants.V; v++) {
    sum += Math.exp(logits[t][v] - best);
  }
  return best + Math.log(sum);
}`;

/**
 * dLogits[t][v] = weight[t] · (softmax − onehot(target[t])), where weight is mask/count (0 for masked rows);
 * output `[V, 1, T]`.
 */
export const crossEntropyGrad: KernelSource = `function crossEntropyGrad(logits, lse, targets, weights) {
  const t = this.thread.z;
  const v = this.thread.x;
  const w = weights[t];
  if (w === 0.0) {
    return 0.0;
  }
  let grad = Math.exp(logits[t][v] - lse[t]);
  if (Math.abs(v - targets[t]) < 0.5) {
    grad = grad - 1.0;
  }
  return w * grad;
}`;

/**
 * One AdamW step over flat arrays; z = 0 is the new parameter, z = 1 the new first moment, z = 2 the new second
 * moment. `stepSize` = lr / (1 − β1^t), `vScale` = 1 / (1 − β2^t), `decay` = 1 − lr · weightDecay; output
 * `[L, 1, 3]`.
 */
export const adamStep: KernelSource = `function adamStep(param, grad, m, v, beta1, beta2, eps, stepSize, vScale, decay) {
  const i = this.thread.x;
  const g = grad[i];
  const m1 = beta1 * m[i] + (1.0 - beta1) * g;
  if (this.thread.z === 1) {
    return m1;
  }
  const v1 = beta2 * v[i] + (1.0 - beta2) * g * g;
  if (this.thread.z === 2) {
    return v1;
  }
  return param[i] * decay - (stepSize * m1) / (Math.sqrt(v1 * vScale) + eps);
}`;
