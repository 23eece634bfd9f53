import { tf } from '../tf.js';
import type { Matrix } from '../linalg/matrix.js';

/**
 * XᵀX of a target's input activations X (rows = examples·steps, n columns), in
 * float64. `diagonal` holds only the diagonal (an Embedding table: token counts,
 * the inputs are one-hot rows). `rows` = rows of X accumulated.
 */
export interface Gram {
  readonly n: number;
  readonly kind: 'full' | 'diagonal';
  /** n x n row-major ('full') or n values ('diagonal'). */
  readonly data: Float64Array;
  readonly rows: number;
}

/** Damping λ of the whitening, as a fraction of the mean diagonal of XᵀX. */
export const DEFAULT_DAMPING = 0.01;

export function fullGram(n: number, data: Float64Array, rows: number): Gram {
  if (data.length !== n * n) throw new RangeError(`fullGram: ${n}x${n} needs ${n * n} values, got ${data.length}`);
  return { n, kind: 'full', data, rows };
}

export function diagonalGram(counts: Float64Array, rows: number): Gram {
  return { n: counts.length, kind: 'diagonal', data: counts, rows };
}

/** The Gram of explicit activations X (rows x n). */
export function gramOf(x: Matrix): Gram {
  const n = x.cols;
  const g = new Float64Array(n * n);
  for (let r = 0; r < x.rows; r++) {
    const o = r * n;
    for (let i = 0; i < n; i++) {
      const xi = x.data[o + i];
      if (xi === 0) continue;
      for (let j = 0; j < n; j++) g[i * n + j] += xi * x.data[o + j];
    }
  }
  return fullGram(n, g, x.rows);
}

export function gramDiagonal(g: Gram): Float64Array {
  if (g.kind === 'diagonal') return g.data;
  const d = new Float64Array(g.n);
  for (let i = 0; i < g.n; i++) d[i] = g.data[i * g.n + i];
  return d;
}

/** Rows i and columns i of the result are order[i] of `g`: the Gram of a consumer whose kernel rows were permuted. */
export function permuteGram(g: Gram, order: Int32Array): Gram {
  if (order.length !== g.n) throw new RangeError(`permuteGram: ${order.length} indices for n = ${g.n}`);
  if (g.kind === 'diagonal') return diagonalGram(Float64Array.from(order, (o) => g.data[o]), g.rows);
  const n = g.n;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = g.data[order[i] * n + order[j]];
  return fullGram(n, out, g.rows);
}

/**
 * The whitening of a Gram: lower-triangular L with L Lᵀ = XᵀX + λI (λ = damping ·
 * mean diagonal), so ||X D||² ≈ ||Lᵀ D||² for any D with n rows. A diagonal Gram
 * gives a diagonal L.
 */
export class Whitening {
  readonly n: number;
  readonly diagonal: boolean;
  /** Lower-triangular n x n (row-major), or the n diagonal entries. */
  private readonly l: Float64Array;

  constructor(g: Gram, damping = DEFAULT_DAMPING) {
    if (!(damping >= 0)) throw new RangeError(`Whitening: damping must be >= 0, got ${damping}`);
    this.n = g.n;
    this.diagonal = g.kind === 'diagonal';
    const diag = gramDiagonal(g);
    const mean = diag.reduce((s, v) => s + v, 0) / Math.max(1, g.n);
    // A zero Gram (no activations at all) whitens to the identity: the plain factorization.
    const lambda = mean > 0 ? damping * mean : 1;
    if (this.diagonal) {
      this.l = Float64Array.from(diag, (v) => Math.sqrt(v + lambda));
    } else {
      let attempt = lambda;
      for (;;) {
        const l = cholesky(g.data, g.n, attempt);
        if (l) {
          this.l = l;
          break;
        }
        // Rounding made XᵀX + λI indefinite: damp harder.
        attempt *= 10;
      }
    }
  }

  /** Lᵀ K (n x m): the matrix whose plain factorization minimises the weighted error. */
  whiten(k: Matrix): Matrix {
    this.check(k, 'whiten');
    const { n } = this;
    const m = k.cols;
    if (this.diagonal) {
      const out = new Float32Array(n * m);
      for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[i * m + j] = this.l[i] * k.data[i * m + j];
      return { rows: n, cols: m, data: out };
    }
    const out = tf.tidy(() => tf.matMul(tf.tensor2d(Float32Array.from(this.l), [n, n]), tf.tensor2d(k.data, [n, m]), true, false));
    const data = out.dataSync() as Float32Array;
    out.dispose();
    return { rows: n, cols: m, data };
  }

  /** L⁻ᵀ P: undoes `whiten` on a factor (back substitution in float64). */
  unwhiten(p: Matrix): Matrix {
    this.check(p, 'unwhiten');
    const { n } = this;
    const r = p.cols;
    const out = new Float32Array(n * r);
    if (this.diagonal) {
      for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) out[i * r + j] = p.data[i * r + j] / this.l[i];
      return { rows: n, cols: r, data: out };
    }
    // Lᵀ is upper triangular: (Lᵀ)_ij = L_ji.
    const l = this.l;
    const x = new Float64Array(n * r);
    for (let i = n - 1; i >= 0; i--) {
      const row = i * r;
      for (let j = 0; j < r; j++) x[row + j] = p.data[row + j];
      for (let k = i + 1; k < n; k++) {
        const lki = l[k * n + i];
        if (lki === 0) continue;
        const rk = k * r;
        for (let j = 0; j < r; j++) x[row + j] -= lki * x[rk + j];
      }
      const d = l[i * n + i];
      for (let j = 0; j < r; j++) x[row + j] /= d;
    }
    for (let i = 0; i < x.length; i++) out[i] = x[i];
    return { rows: n, cols: r, data: out };
  }

  private check(m: Matrix, what: string): void {
    if (m.rows !== this.n) throw new RangeError(`${what}: expected ${this.n} rows, got ${m.rows}`);
  }
}

/** Lower Cholesky factor of A + λI (A symmetric n x n), or null when not positive definite. */
export function cholesky(a: Float64Array, n: number, lambda = 0): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j] + lambda;
    for (let k = 0; k < j; k++) d -= l[rj + k] * l[rj + k];
    if (!(d > 0)) return null;
    const ljj = Math.sqrt(d);
    l[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
      l[ri + j] = s / ljj;
    }
  }
  return l;
}

/**
 * ||X D||_F² = tr(Dᵀ XᵀX D) for D (n x m), with the exact (undamped) Gram; through
 * TF.js for a full Gram.
 */
export function weightedSquared(g: Gram, d: Matrix): number {
  if (d.rows !== g.n) throw new RangeError(`weightedSquared: Gram ${g.n}x${g.n}, matrix ${d.rows}x${d.cols}`);
  const m = d.cols;
  if (g.kind === 'diagonal') {
    let s = 0;
    for (let i = 0; i < g.n; i++) {
      let row = 0;
      for (let j = 0; j < m; j++) row += d.data[i * m + j] ** 2;
      s += g.data[i] * row;
    }
    return s;
  }
  const out = tf.tidy(() => {
    const dt = tf.tensor2d(d.data, [g.n, m]);
    return tf.sum(tf.mul(tf.matMul(tf.tensor2d(Float32Array.from(g.data), [g.n, g.n]), dt), dt));
  });
  const v = out.dataSync()[0];
  out.dispose();
  return Math.max(0, v);
}

/** ||X (K − K')||_F / ||X K||_F, 0 when X K = 0. */
export function weightedRelativeError(g: Gram, k: Matrix, approx: Matrix): number {
  if (approx.rows !== k.rows || approx.cols !== k.cols) throw new RangeError('weightedRelativeError: shapes differ');
  const d = new Float32Array(k.data.length);
  for (let i = 0; i < d.length; i++) d[i] = k.data[i] - approx.data[i];
  const base = weightedSquared(g, k);
  return base === 0 ? 0 : Math.sqrt(weightedSquared(g, { rows: k.rows, cols: k.cols, data: d }) / base);
}
