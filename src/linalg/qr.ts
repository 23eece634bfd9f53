import { tf } from '../tf.js';
import { columnGram } from './scaled.js';

/**
 * Orthonormal basis of the columns of a tall matrix by Householder QR in float64.
 *
 * Why not ml-matrix's QrDecomposition: measured on this machine, it takes 567 ms for
 * 650x315 and 21.7 s for 10000x315; this column-major typed-array version does the
 * same work several times faster. Householder (unlike Gram-Schmidt or Cholesky QR)
 * stays orthonormal when the input is rank-deficient, which sketches of low-rank
 * matrices are.
 */

/**
 * Returns Q (rows x cols, column-major float64) with orthonormal columns spanning
 * the columns of `a` (column-major, rows x cols, rows >= cols). `a` is overwritten.
 */
export function orthonormalizeColumns(a: Float64Array, rows: number, cols: number): Float64Array {
  if (cols > rows) throw new RangeError(`orthonormalizeColumns: needs rows >= cols, got ${rows}x${cols}`);
  if (a.length !== rows * cols) throw new RangeError(`orthonormalizeColumns: ${rows}x${cols} needs ${rows * cols} values`);
  // Householder vectors v_j (v_j[j] = 1 implicitly stored in a column of `a`), with tau_j = 2 / v_j^T v_j.
  const tau = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    const cj = j * rows;
    let norm2 = 0;
    for (let i = j; i < rows; i++) norm2 += a[cj + i] * a[cj + i];
    const norm = Math.sqrt(norm2);
    if (norm === 0) {
      tau[j] = 0;
      continue;
    }
    const x0 = a[cj + j];
    const alpha = x0 >= 0 ? -norm : norm;
    const v0 = x0 - alpha;
    // Scale so v[j] = 1.
    for (let i = j + 1; i < rows; i++) a[cj + i] /= v0;
    let vv = 1;
    for (let i = j + 1; i < rows; i++) vv += a[cj + i] * a[cj + i];
    tau[j] = 2 / vv;
    a[cj + j] = alpha;
    for (let c = j + 1; c < cols; c++) applyReflector(a, cj, a, c * rows, j, rows, tau[j]);
  }
  const q = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) q[j * rows + j] = 1;
  for (let j = cols - 1; j >= 0; j--) {
    if (tau[j] === 0) continue;
    for (let c = j; c < cols; c++) applyReflector(a, j * rows, q, c * rows, j, rows, tau[j]);
  }
  return q;
}

/** y[from:] -= tau * v (v . y), with v = [1, a[vOff+from+1 ..]] starting at index `from`. */
function applyReflector(
  v: Float64Array,
  vOff: number,
  y: Float64Array,
  yOff: number,
  from: number,
  rows: number,
  tau: number,
): void {
  let dot = y[yOff + from];
  for (let i = from + 1; i < rows; i++) dot += v[vOff + i] * y[yOff + i];
  const s = tau * dot;
  if (s === 0) return;
  y[yOff + from] -= s;
  for (let i = from + 1; i < rows; i++) y[yOff + i] -= s * v[vOff + i];
}

/**
 * Columns per panel of the blocked LU. Fixed (not derived from the thread count) so the
 * output is bit-identical everywhere. Measured (2 cores, wasm on 2 threads), ms for
 * nb = 8 / 12 / 16 / 24 / 32: 650x163 7.7 / 6.0 / 5.8 / 5.4 / 5.9, 2600x140 23 / 19.5 /
 * 18.6 / 18.6 / 19.7; 48 and 64 were slower still (the JavaScript panel grows).
 */
const LU_BLOCK = 16;
/** Below this many columns the unblocked LU is as fast (650x60: 2.4 ms either way) and skips TF.js. */
const LU_BLOCKED_MIN_COLS = 64;

/**
 * A basis of the columns of row-major `y` (rows x cols, rows >= cols) by LU with partial
 * pivoting: the unit lower-trapezoidal factor, rows restored to their original order, as
 * row-major float32. It spans the columns of `y` (when y has full column rank; with a zero
 * pivot, unit columns fill in) and has entries bounded by 1, but is not orthonormal. About
 * a quarter of Householder QR's flops (no Q to form): the normaliser between power
 * iterations, as in Halko, Martinsson & Tropp (2011) §4.5 and scikit-learn.
 *
 * Right-looking blocked LU: each panel of LU_BLOCK columns is factored in float64 in
 * JavaScript, and the trailing update A22 -= L21 U12 (nearly all the flops) is one float32
 * matMul on TF.js. Rounding that update to float32 costs nothing that matters: the basis
 * only has to span range(y) as well as float32 y itself does. Unblocked on the cpu backend,
 * whose matMul is slower than JavaScript.
 */
export function luBasis(y: Float32Array, rows: number, cols: number): Float32Array {
  if (cols > rows) throw new RangeError(`luBasis: needs rows >= cols, got ${rows}x${cols}`);
  if (y.length !== rows * cols) throw new RangeError(`luBasis: ${rows}x${cols} needs ${rows * cols} values`);
  const a = Float64Array.from(y);
  // perm[i]: original row now at position i.
  const perm = Int32Array.from({ length: rows }, (_, i) => i);
  if (cols >= LU_BLOCKED_MIN_COLS && fastMatMul()) {
    for (let j0 = 0; j0 < cols; j0 += LU_BLOCK) {
      const j1 = Math.min(cols, j0 + LU_BLOCK);
      factorInPlace(a, perm, rows, cols, j0, j1);
      if (j1 < cols) {
        solveUpperBlock(a, cols, j0, j1);
        updateTrailing(a, rows, cols, j0, j1);
      }
    }
  } else {
    factorInPlace(a, perm, rows, cols, 0, cols);
  }
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const src = i * cols;
    const dst = perm[i] * cols;
    const upto = Math.min(i, cols);
    for (let c = 0; c < upto; c++) out[dst + c] = a[src + c];
    if (i < cols) out[dst + i] = 1;
  }
  return out;
}

/** Whether the active TF.js backend multiplies faster than JavaScript loops. */
function fastMatMul(): boolean {
  return tf.getBackend() !== 'cpu';
}

/**
 * LU with partial pivoting of columns j0..j1 over rows j0..rows of row-major `a` in place:
 * the multipliers below the diagonal, U on and above it; row swaps move whole rows (so
 * earlier multipliers and later columns follow) and go into perm. The unblocked LU when
 * j0 = 0 and j1 = cols. (A column-major copy of the panel was 10-25% slower.)
 */
function factorInPlace(a: Float64Array, perm: Int32Array, rows: number, cols: number, j0: number, j1: number): void {
  const swap = new Float64Array(cols);
  for (let j = j0; j < j1; j++) {
    let p = j;
    let best = Math.abs(a[j * cols + j]);
    for (let i = j + 1; i < rows; i++) {
      const x = Math.abs(a[i * cols + j]);
      if (x > best) {
        best = x;
        p = i;
      }
    }
    if (p !== j) {
      swap.set(a.subarray(p * cols, (p + 1) * cols));
      a.copyWithin(p * cols, j * cols, (j + 1) * cols);
      a.set(swap, j * cols);
      const t = perm[p];
      perm[p] = perm[j];
      perm[j] = t;
    }
    if (best === 0) continue; // the rest of column j is zero: its multipliers stay 0
    const pivotRow = j * cols;
    const inv = 1 / a[pivotRow + j];
    for (let i = j + 1; i < rows; i++) {
      const row = i * cols;
      const f = a[row + j] * inv;
      a[row + j] = f;
      if (f === 0) continue;
      // Unrolled by four: 35% faster in V8 (650x162: 17 -> 11 ms).
      let c = j + 1;
      for (; c + 3 < j1; c += 4) {
        a[row + c] -= f * a[pivotRow + c];
        a[row + c + 1] -= f * a[pivotRow + c + 1];
        a[row + c + 2] -= f * a[pivotRow + c + 2];
        a[row + c + 3] -= f * a[pivotRow + c + 3];
      }
      for (; c < j1; c++) a[row + c] -= f * a[pivotRow + c];
    }
  }
}

/** U12 = L11^-1 A12 in place: rows j0..j1, columns j1..cols, L11 unit lower triangular. */
function solveUpperBlock(a: Float64Array, cols: number, j0: number, j1: number): void {
  for (let k = j0; k < j1; k++) {
    const src = k * cols;
    for (let i = k + 1; i < j1; i++) {
      const row = i * cols;
      const f = a[row + k];
      if (f === 0) continue;
      for (let c = j1; c < cols; c++) a[row + c] -= f * a[src + c];
    }
  }
}

/** A22 -= L21 U12 (rows j1.., columns j1..) with the product in float32 on TF.js. */
function updateTrailing(a: Float64Array, rows: number, cols: number, j0: number, j1: number): void {
  const m = rows - j1;
  const n = cols - j1;
  const k = j1 - j0;
  if (m === 0) return;
  const l21 = new Float32Array(m * k);
  for (let i = 0; i < m; i++) {
    const src = (j1 + i) * cols + j0;
    for (let t = 0; t < k; t++) l21[i * k + t] = a[src + t];
  }
  const u12 = new Float32Array(k * n);
  for (let t = 0; t < k; t++) {
    const src = (j0 + t) * cols + j1;
    for (let c = 0; c < n; c++) u12[t * n + c] = a[src + c];
  }
  const out = tf.tidy(() => tf.matMul(tf.tensor2d(l21, [m, k]), tf.tensor2d(u12, [k, n])));
  const p = out.dataSync();
  out.dispose();
  for (let i = 0; i < m; i++) {
    const dst = (j1 + i) * cols + j1;
    const src = i * n;
    for (let c = 0; c < n; c++) a[dst + c] -= p[src + c];
  }
}

/** Largest |Q^T Q - I| entry accepted from Cholesky QR before falling back to Householder. */
const ORTHONORMALITY_TOLERANCE = 1e-4;
/** A Cholesky pivot below this fraction of its Gram diagonal entry counts as a breakdown (float32 Gram). */
const PIVOT_TOLERANCE = 1e-6;
/** Below this many rows x cols^2, Householder in JavaScript beats the TF.js round trips. */
const CHOLESKY_QR_MIN_WORK = 200 * 64 * 64;

/**
 * Orthonormal basis of the columns of row-major `y` (rows x cols, rows >= cols), as
 * row-major float32 rows x cols. CholeskyQR2 (Fukaya et al. 2014) applied to luBasis(y):
 * the LU factor has entries bounded by 1 and unit diagonal, so it is well conditioned
 * however rank-deficient or badly scaled y is, and two Cholesky QR passes (Grams and
 * products in float32 on TF.js, Cholesky and triangular inverse in float64) make it
 * orthonormal to float32 precision. Should a pivot break down or the result be off by more
 * than ORTHONORMALITY_TOLERANCE, Householder QR (orthonormalizeColumns) answers instead.
 */
export function orthonormalBasis(y: Float32Array, rows: number, cols: number): Float32Array {
  if (cols > rows) throw new RangeError(`orthonormalBasis: needs rows >= cols, got ${rows}x${cols}`);
  if (y.length !== rows * cols) throw new RangeError(`orthonormalBasis: ${rows}x${cols} needs ${rows * cols} values`);
  if (cols === 0) return new Float32Array(0);
  if (rows * cols * cols >= CHOLESKY_QR_MIN_WORK && fastMatMul()) {
    const q = choleskyQr2(luBasis(y, rows, cols), rows, cols);
    if (q) return q;
  }
  return householderBasis(y, rows, cols);
}

/** Householder QR of row-major y, returned row-major float32. */
function householderBasis(y: Float32Array, rows: number, cols: number): Float32Array {
  const cm = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) cm[j * rows + i] = y[i * cols + j];
  const q = orthonormalizeColumns(cm, rows, cols);
  const out = new Float32Array(rows * cols);
  for (let j = 0; j < cols; j++) for (let i = 0; i < rows; i++) out[i * cols + j] = q[j * rows + i];
  return out;
}

/** Q with Q^T Q = I from x (row-major rows x cols) by two Cholesky QR passes, or null on breakdown. */
function choleskyQr2(x: Float32Array, rows: number, cols: number): Float32Array | null {
  const t = tf.tensor2d(x, [rows, cols]);
  try {
    return choleskyQr2Of(t);
  } finally {
    t.dispose();
  }
}

/**
 * Q with Q^T Q = I (row-major float32) spanning the columns of y (rows >= cols, on the
 * backend, kept) by two Cholesky QR passes, or null when a pivot breaks down (y too
 * ill-conditioned: cond(y) beyond ~1e3) or Q is off by more than ORTHONORMALITY_TOLERANCE.
 */
export function choleskyQr2Of(y: tf.Tensor2D): Float32Array | null {
  const cols = y.shape[1];
  const held: tf.Tensor2D[] = [];
  try {
    let q = y;
    for (let pass = 0; pass < 2; pass++) {
      const next = choleskyStep(q);
      if (!next) return null;
      held.push(next);
      q = next;
    }
    const g = columnGram(q);
    for (let i = 0; i < cols; i++) {
      for (let j = 0; j < cols; j++) {
        if (!(Math.abs(g[i * cols + j] - (i === j ? 1 : 0)) <= ORTHONORMALITY_TOLERANCE)) return null;
      }
    }
    return q.dataSync() as Float32Array;
  } finally {
    tf.dispose(held);
  }
}

/**
 * One Cholesky QR pass on the backend: y R^-1 for R^T R = y^T y (Gram and product in
 * float32 on TF.js, Cholesky and inverse in float64), a new tensor spanning y's columns;
 * null when a pivot breaks down (see choleskyInverse). y is kept.
 */
export function choleskyStep(y: tf.Tensor2D): tf.Tensor2D | null {
  const cols = y.shape[1];
  const rInv = choleskyInverse(columnGram(y), cols);
  if (!rInv) return null;
  return tf.tidy(() => tf.matMul(y, tf.tensor2d(rInv, [cols, cols])) as tf.Tensor2D);
}

/**
 * R^-1 (row-major float32, upper triangular) for the Cholesky factor R^T R = g, in float64;
 * null when a pivot is not positive or below PIVOT_TOLERANCE of its diagonal entry.
 * Works on L = R^T row by row so every inner loop is contiguous.
 */
function choleskyInverse(g: Float64Array, n: number): Float32Array | null {
  // Two functions, not two loops in one: V8 optimizes a function while its first loop runs and
  // deoptimized it at the second, which had no type feedback yet (17 times in a PTB run).
  const l = choleskyLower(g, n);
  return l ? lowerInverseTransposed(l, n) : null;
}

/** L (row-major, lower) with L L^T = g, or null when a pivot is not positive or below PIVOT_TOLERANCE of its diagonal entry. */
function choleskyLower(g: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const li = i * n;
    for (let j = 0; j <= i; j++) {
      const lj = j * n;
      const s = g[li + j] - dot(l, li, l, lj, 0, j);
      if (j < i) {
        l[li + j] = s / l[lj + j];
      } else {
        if (!(s > PIVOT_TOLERANCE * g[li + i])) return null;
        l[li + i] = Math.sqrt(s);
      }
    }
  }
  return l;
}

/** R^-1 = L^-T (row-major float32, upper triangular) for lower-triangular L, row by row: (R^-1)_ji = -(sum_{t=j..i-1} L_it (R^-1)_jt) / L_ii. */
function lowerInverseTransposed(l: Float64Array, n: number): Float32Array {
  const out = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    out[rj + j] = 1 / l[rj + j];
    for (let i = j + 1; i < n; i++) {
      const li = i * n;
      out[rj + i] = -dot(l, li, out, rj, j, i) / l[li + i];
    }
  }
  return Float32Array.from(out);
}

/**
 * sum over t in [from, to) of a[ai + t] * b[bi + t], in four partial sums (a single one is
 * bound by the add latency), combined as s0 + s1 + (s2 + s3).
 */
function dot(a: Float64Array, ai: number, b: Float64Array, bi: number, from: number, to: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let t = from;
  for (; t + 3 < to; t += 4) {
    s0 += a[ai + t] * b[bi + t];
    s1 += a[ai + t + 1] * b[bi + t + 1];
    s2 += a[ai + t + 2] * b[bi + t + 2];
    s3 += a[ai + t + 3] * b[bi + t + 3];
  }
  for (; t < to; t++) s0 += a[ai + t] * b[bi + t];
  return s0 + s1 + (s2 + s3);
}
