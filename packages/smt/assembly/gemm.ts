/**
 * Single-precision GEMM: C (=|+=) op(A)·op(B) with arbitrary leading dimensions and either operand transposed.
 *
 * The structure is the classic Goto/BLIS one: B is packed into KC×NC panels of NR-wide column strips, A into
 * MC×KC blocks of MR-tall row strips, and a register-blocked MR×NR micro-kernel (eight f32x4 accumulators) walks
 * the packed strips with unit stride. Packing pads ragged strips with zeros, so the micro-kernel never branches on
 * edges; an edge tile is computed into a small buffer and only its valid part is written to C.
 *
 * Every call works on a caller-chosen rectangle `[r0, r1) × [c0, c1)` of C with its own scratch memory, which is
 * what lets several threads share one product (each takes a row or column range).
 */

/** c + a·b on four f32 lanes: a fused multiply-add where relaxed SIMD is enabled, else a multiply then an add. */
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Rows of the register tile. */
const MR: i32 = 4;
/** Columns of the register tile (two f32x4 vectors). */
const NR: i32 = 8;
/** Depth of one packed panel: a KC×NR strip of B (8 KiB) stays in L1 while the A strips stream past it. */
const KC: i32 = 256;
/** Rows of one packed block of A (MC×KC floats = 128 KiB, L2-resident). */
const MC: i32 = 128;
/** Columns of one packed panel of B (KC×NC floats = 512 KiB, L2/L3-resident). */
const NC: i32 = 512;

const B_PANEL_BYTES: usize = (<usize>(KC * NC)) << 2;
const A_BLOCK_BYTES: usize = (<usize>(MC * KC)) << 2;
const TILE_BYTES: usize = (<usize>(MR * NR)) << 2;

/** Bytes of scratch memory one concurrent {@link gemm} call needs (packed B panel, packed A block, edge tile). */
export function gemmScratchBytes(): usize {
  return B_PANEL_BYTES + A_BLOCK_BYTES + TILE_BYTES;
}

function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

/** Transposes the 4×4 block held in rows r0..r3 and stores its four columns 16 bytes apart at `dst`, `stride` apart. */
function transpose4x4Store(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, stride: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(dst + stride, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/**
 * Packs rows [i0, i0+mc) × depth [p0, p0+kc) of op(A) into MR-tall strips: strip s holds element (r, p) at
 * `s·MR·kc + p·MR + r`, zero-padded to a multiple of MR rows.
 */
function packA(ap: usize, a: usize, lda: i32, transA: bool, i0: i32, p0: i32, mc: i32, kc: i32): void {
  let first = 0;
  if (transA) {
    // Four full strips at a time: one depth step of them is 16 contiguous floats, a whole 64-byte cache line, so
    // every line of A is read once. One strip at a time would read a quarter of each line per pass, and with a
    // leading dimension that is a multiple of 4 KiB the lines of one pass share a few L1 sets and are evicted
    // before the next pass reads the rest.
    const step = (<usize>lda) << 2;
    const strip = (<usize>(MR * kc)) << 2;
    for (; first + 4 * MR <= mc; first += 4 * MR) {
      let src = a + ((<usize>p0 * <usize>lda + <usize>(i0 + first)) << 2);
      let dst = ap + ((<usize>first * <usize>kc) << 2);
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        v128.store(dst + strip, v128.load(src, 16));
        v128.store(dst + 2 * strip, v128.load(src, 32));
        v128.store(dst + 3 * strip, v128.load(src, 48));
        src += step;
        dst += 16;
      }
    }
  }
  for (let is = first; is < mc; is += MR) {
    const mr = imin(MR, mc - is);
    let dst = ap + ((<usize>is * <usize>kc) << 2);
    if (transA) {
      // op(A)(i, p) = A[p·lda + i]: the MR values of one depth step are contiguous.
      let src = a + ((<usize>p0 * <usize>lda + <usize>(i0 + is)) << 2);
      const step = (<usize>lda) << 2;
      if (mr === MR) {
        for (let p = 0; p < kc; p++) {
          v128.store(dst, v128.load(src));
          src += step;
          dst += 16;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let r = 0; r < MR; r++)
            store<f32>(dst + ((<usize>r) << 2), r < mr ? load<f32>(src + ((<usize>r) << 2)) : 0);
          src += step;
          dst += 16;
        }
      }
    } else {
      // op(A)(i, p) = A[i·lda + p]: MR rows are read in 4×4 tiles and transposed.
      const row = (<usize>lda) << 2;
      const s0 = a + ((<usize>(i0 + is) * <usize>lda + <usize>p0) << 2);
      if (mr === MR) {
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          const o = (<usize>p) << 2;
          transpose4x4Store(
            v128.load(s0 + o),
            v128.load(s0 + row + o),
            v128.load(s0 + 2 * row + o),
            v128.load(s0 + 3 * row + o),
            dst + (o << 2),
            16,
          );
        }
        for (; p < kc; p++) {
          const o = (<usize>p) << 2;
          const d = dst + (o << 2);
          store<f32>(d, load<f32>(s0 + o));
          store<f32>(d, load<f32>(s0 + row + o), 4);
          store<f32>(d, load<f32>(s0 + 2 * row + o), 8);
          store<f32>(d, load<f32>(s0 + 3 * row + o), 12);
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const o = (<usize>p) << 2;
          for (let r = 0; r < MR; r++) {
            store<f32>(dst + ((<usize>r) << 2), r < mr ? load<f32>(s0 + <usize>r * row + o) : 0);
          }
          dst += 16;
        }
      }
    }
  }
}

/**
 * Packs depth [p0, p0+kc) × columns [j0, j0+nc) of op(B) into NR-wide strips: strip s holds element (p, j) at
 * `s·NR·kc + p·NR + j`, zero-padded to a multiple of NR columns.
 */
function packB(bp: usize, b: usize, ldb: i32, transB: bool, p0: i32, j0: i32, kc: i32, nc: i32): void {
  let first = 0;
  if (!transB) {
    // Two full strips at a time, for the reason given in packA: a depth step of them is one 64-byte line of B.
    const step = (<usize>ldb) << 2;
    const strip = (<usize>(NR * kc)) << 2;
    for (; first + 2 * NR <= nc; first += 2 * NR) {
      let src = b + ((<usize>p0 * <usize>ldb + <usize>(j0 + first)) << 2);
      let dst = bp + ((<usize>first * <usize>kc) << 2);
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        v128.store(dst + strip, v128.load(src, 32));
        v128.store(dst + strip, v128.load(src, 48), 16);
        src += step;
        dst += 32;
      }
    }
  }
  for (let js = first; js < nc; js += NR) {
    const nr = imin(NR, nc - js);
    let dst = bp + ((<usize>js * <usize>kc) << 2);
    if (!transB) {
      // op(B)(p, j) = B[p·ldb + j]: the NR values of one depth step are contiguous.
      let src = b + ((<usize>p0 * <usize>ldb + <usize>(j0 + js)) << 2);
      const step = (<usize>ldb) << 2;
      if (nr === NR) {
        for (let p = 0; p < kc; p++) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          src += step;
          dst += 32;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let j = 0; j < NR; j++)
            store<f32>(dst + ((<usize>j) << 2), j < nr ? load<f32>(src + ((<usize>j) << 2)) : 0);
          src += step;
          dst += 32;
        }
      }
    } else {
      // op(B)(p, j) = B[j·ldb + p]: NR rows of B are read in 4×4 tiles and transposed.
      const row = (<usize>ldb) << 2;
      const s0 = b + ((<usize>(j0 + js) * <usize>ldb + <usize>p0) << 2);
      if (nr === NR) {
        const s4 = s0 + 4 * row;
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          const o = (<usize>p) << 2;
          const d = dst + (o << 3);
          transpose4x4Store(
            v128.load(s0 + o),
            v128.load(s0 + row + o),
            v128.load(s0 + 2 * row + o),
            v128.load(s0 + 3 * row + o),
            d,
            32,
          );
          transpose4x4Store(
            v128.load(s4 + o),
            v128.load(s4 + row + o),
            v128.load(s4 + 2 * row + o),
            v128.load(s4 + 3 * row + o),
            d + 16,
            32,
          );
        }
        for (; p < kc; p++) {
          const o = (<usize>p) << 2;
          const d = dst + (o << 3);
          for (let j = 0; j < NR; j++) store<f32>(d + ((<usize>j) << 2), load<f32>(s0 + <usize>j * row + o));
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const o = (<usize>p) << 2;
          for (let j = 0; j < NR; j++) {
            store<f32>(dst + ((<usize>j) << 2), j < nr ? load<f32>(s0 + <usize>j * row + o) : 0);
          }
          dst += 32;
        }
      }
    }
  }
}

/**
 * The MR×NR micro-kernel: C[0..4, 0..8] (=|+=) Σ_p Ap[p, 0..4] ⊗ Bp[p, 0..8] over `kc` packed depth steps.
 * `ldc` is in bytes; with `addC` the existing C values are added.
 */
function kernel4x8(ap: usize, bp: usize, kc: i32, c: usize, ldc: usize, addC: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let p = kc;
  while (p >= 2) {
    let b0 = v128.load(bp);
    let b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    b0 = v128.load(bp, 32);
    b1 = v128.load(bp, 48);
    a = v128.load32_splat(ap, 16);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 20);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 24);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 28);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    ap += 32;
    bp += 64;
    p -= 2;
  }
  if (p > 0) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
  }
  const c1 = c + ldc;
  const c2 = c1 + ldc;
  const c3 = c2 + ldc;
  if (addC) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c1));
    c11 = f32x4.add(c11, v128.load(c1, 16));
    c20 = f32x4.add(c20, v128.load(c2));
    c21 = f32x4.add(c21, v128.load(c2, 16));
    c30 = f32x4.add(c30, v128.load(c3));
    c31 = f32x4.add(c31, v128.load(c3, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c1, c10);
  v128.store(c1, c11, 16);
  v128.store(c2, c20);
  v128.store(c2, c21, 16);
  v128.store(c3, c30);
  v128.store(c3, c31, 16);
}

/**
 * Computes the rectangle `[r0, r1) × [c0, c1)` of C (=|+=) op(A)·op(B), where op(A) is `[·, k]` and op(B) is
 * `[k, ·]`. With `transA`, A is stored transposed (element (i, p) at `p·lda + i`), else at `i·lda + p`; with
 * `transB`, element (p, j) of op(B) is at `j·ldb + p`, else at `p·ldb + j`. C's element (i, j) is at `i·ldc + j`.
 * All pointers are byte addresses of f32 data; `scratch` must hold {@link gemmScratchBytes} bytes, 16-aligned, and
 * must not be shared with a concurrent call.
 */
export function gemm(
  a: usize,
  lda: i32,
  transA: i32,
  b: usize,
  ldb: i32,
  transB: i32,
  c: usize,
  ldc: i32,
  k: i32,
  accumulate: i32,
  r0: i32,
  r1: i32,
  c0: i32,
  c1: i32,
  scratch: usize,
): void {
  if (r1 <= r0 || c1 <= c0) return;
  const ldcBytes = (<usize>ldc) << 2;
  if (k <= 0) {
    if (accumulate === 0) {
      for (let i = r0; i < r1; i++) {
        memory.fill(c + ((<usize>i * <usize>ldc + <usize>c0) << 2), 0, (<usize>(c1 - c0)) << 2);
      }
    }
    return;
  }
  const bp = scratch;
  const ap = scratch + B_PANEL_BYTES;
  const tile = ap + A_BLOCK_BYTES;
  for (let jc = c0; jc < c1; jc += NC) {
    const nc = imin(NC, c1 - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = imin(KC, k - pc);
      packB(bp, b, ldb, transB !== 0, pc, jc, kc, nc);
      const addC = accumulate !== 0 || pc > 0;
      for (let ic = r0; ic < r1; ic += MC) {
        const mc = imin(MC, r1 - ic);
        packA(ap, a, lda, transA !== 0, ic, pc, mc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = imin(NR, nc - jr);
          const bPanel = bp + ((<usize>jr * <usize>kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = imin(MR, mc - ir);
            const aPanel = ap + ((<usize>ir * <usize>kc) << 2);
            const cTile = c + ((<usize>(ic + ir) * <usize>ldc + <usize>(jc + jr)) << 2);
            if (mr === MR && nr === NR) {
              kernel4x8(aPanel, bPanel, kc, cTile, ldcBytes, addC);
            } else {
              kernel4x8(aPanel, bPanel, kc, tile, (<usize>NR) << 2, false);
              for (let i = 0; i < mr; i++) {
                const crow = cTile + <usize>i * ldcBytes;
                const trow = tile + ((<usize>(i * NR)) << 2);
                for (let j = 0; j < nr; j++) {
                  const o = (<usize>j) << 2;
                  const v = load<f32>(trow + o);
                  store<f32>(crow + o, addC ? load<f32>(crow + o) + v : v);
                }
              }
            }
          }
        }
      }
    }
  }
}
