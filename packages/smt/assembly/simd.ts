/**
 * Small vector helpers shared by the kernels. Binaryen's -O3 inlines them, so they cost nothing at run time.
 * Helpers whose signature carries a `v128` stay module-private (AssemblyScript warns when such a function is
 * exported, as JavaScript hosts cannot exchange `v128` values); modules that need them keep a private copy.
 */

/** c + a·b on four f32 lanes: a fused multiply-add where relaxed SIMD is enabled, else a multiply then an add. */
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Sum of the four f32 lanes of `v`. */
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Dot product of two contiguous f32 vectors of length `n`. */
export function dot(a: usize, b: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = (<usize>i) << 2;
    acc0 = madd(v128.load(a + o), v128.load(b + o), acc0);
    acc1 = madd(v128.load(a + o, 16), v128.load(b + o, 16), acc1);
  }
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    acc0 = madd(v128.load(a + o), v128.load(b + o), acc0);
  }
  let s = hsum(f32x4.add(acc0, acc1));
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    s += load<f32>(a + o) * load<f32>(b + o);
  }
  return s;
}

/** y[i] += alpha · x[i] over `n` contiguous f32 values. */
export function axpy(y: usize, alpha: f32, x: usize, n: i32): void {
  const va = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(y + o, madd(va, v128.load(x + o), v128.load(y + o)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(y + o, load<f32>(y + o) + alpha * load<f32>(x + o));
  }
}
