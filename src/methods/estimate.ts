import { tf } from '../tf.js';
import type { Matrix } from '../linalg/matrix.js';
import { columnGram } from '../linalg/scaled.js';
import { eigenvaluesOfEach } from '../helper/jobs.js';
import type { Svd } from '../linalg/svd.js';
import type { OutputSelection } from './types.js';

/**
 * Cheap HMF error estimates from one SVD of K (no SVD per candidate).
 *
 * With K ~ U_L S V^T (L components), the columns of K projected on span(U_L) are the
 * columns c_j of C = S V^T. For dense outputs D and the rest R, the best rank-r
 * approximation of K_R inside span(U_L) leaves
 *   ||K_R||^2 - (sum of the r largest eigenvalues of C_R C_R^T)
 * and C_R C_R^T = S^2 - sum_{j in D} c_j c_j^T (V orthonormal), an L x L matrix.
 * This over-estimates the optimal error of K_R (exact when span(U_L) holds K's
 * columns, as with an exact SVD), so a candidate is never chosen on an optimistic guess.
 */
export class HybridEstimator {
  readonly n: number;
  readonly m: number;
  /** ||K||_F^2. */
  readonly total: number;
  private readonly colNorm2: Float64Array;
  /** m x L row-major: row j is c_j. */
  private readonly c: Float64Array;
  private readonly s2: Float64Array;
  private readonly l: number;

  constructor(k: Matrix, svd: Svd) {
    this.n = k.rows;
    this.m = k.cols;
    const l = svd.s.length;
    this.l = l;
    const m = k.cols;
    const data = k.data;
    const colNorm2 = new Float64Array(m);
    for (let i = 0; i < k.rows; i++) {
      const base = i * m;
      for (let j = 0; j < m; j++) colNorm2[j] += data[base + j] * data[base + j];
    }
    this.colNorm2 = colNorm2;
    this.total = colNorm2.reduce((a, b) => a + b, 0);
    this.s2 = Float64Array.from(svd.s, (x) => x * x);
    const c = new Float64Array(m * l);
    const s = svd.s;
    const v = svd.v.data;
    for (let j = 0; j < m; j++) for (let i = 0; i < l; i++) c[j * l + i] = s[i] * v[j * l + i];
    this.c = c;
  }

  /** The dense outputs (ascending) for `count` dense outputs and rank `rank`. */
  denseSet(count: number, rank: number, selection: OutputSelection): Int32Array {
    if (selection === 'leading' || count === 0) return Int32Array.from({ length: count }, (_, i) => i);
    // residual: the outputs worst served by K's rank-r approximation, ||(I - U_r U_r^T) k_j||^2.
    const r = Math.min(rank, this.l);
    const residual = new Float64Array(this.m);
    for (let j = 0; j < this.m; j++) {
      let kept = 0;
      for (let i = 0; i < r; i++) kept += this.c[j * this.l + i] ** 2;
      residual[j] = this.colNorm2[j] - kept;
    }
    return largestIndices(residual, count);
  }

  /** Estimated ||K - K'||_F^2 / ||K||_F^2 with outputs `dense` kept and the rest at rank `rank`. */
  relativeError2(dense: Int32Array, rank: number): number {
    return this.relativeError2Each([{ dense, rank }])[0];
  }

  /**
   * relativeError2 of each candidate, bit for bit; their eigenvalue problems (the bulk of
   * the cost) are shared with the helper thread when it runs (helper/thread.ts).
   */
  relativeError2Each(candidates: readonly { dense: Int32Array; rank: number }[]): number[] {
    if (this.total === 0) return candidates.map(() => 0);
    const l = this.l;
    const values = eigenvaluesOfEach(candidates.map((c) => this.gramOfR(c.dense)), l);
    return candidates.map(({ dense, rank }, c) => {
      let restNorm2 = this.total;
      for (const j of dense) restNorm2 -= this.colNorm2[j];
      let kept = 0;
      for (let i = 0; i < Math.min(rank, l); i++) kept += Math.max(values[c][i], 0);
      return Math.max(restNorm2 - kept, 0) / this.total;
    });
  }

  /**
   * C_R C_R^T (L x L, float64). Summed over whichever of D and R is smaller, as the column
   * Gram of those rows of C on TF.js (columnGram: the transpose on the backend, where a
   * strided copy in JavaScript cost more than the product); in JavaScript the k L^2 loop
   * took ~0.5 s per candidate at 650x10000.
   */
  private gramOfR(dense: Int32Array): Float64Array {
    const l = this.l;
    const useDense = dense.length <= this.m - dense.length;
    let columns: Int32Array;
    if (useDense) columns = dense;
    else {
      const isDense = new Uint8Array(this.m);
      for (const j of dense) isDense[j] = 1;
      columns = Int32Array.from({ length: this.m }, (_, j) => j).filter((j) => !isDense[j]);
    }
    const count = columns.length;
    let g: Float64Array;
    if (count > 0) {
      const rowsOf = new Float32Array(count * l); // count x L: row t is c_{columns[t]}
      columns.forEach((j, t) => rowsOf.set(this.c.subarray(j * l, (j + 1) * l), t * l));
      const t = tf.tensor2d(rowsOf, [count, l]);
      try {
        g = columnGram(t);
      } finally {
        t.dispose();
      }
      if (useDense) for (let i = 0; i < l * l; i++) g[i] = -g[i];
    } else g = new Float64Array(l * l);
    if (useDense) for (let i = 0; i < l; i++) g[i * l + i] += this.s2[i];
    return g;
  }
}

/**
 * The indices (ascending) of the `count` largest values, ties to the smaller index: the first
 * `count` of the indices sorted by value descending, then index. A native numeric sort of the
 * values finds the count-th largest; a comparator sort of the indices took 1-3 ms per call at
 * 2600 outputs, about 75 ms of HMF's search on the PTB benchmark.
 */
export function largestIndices(values: Float64Array, count: number): Int32Array {
  const m = values.length;
  if (count <= 0) return new Int32Array(0);
  if (count >= m) return Int32Array.from({ length: m }, (_, j) => j);
  const threshold = Float64Array.from(values).sort()[m - count];
  let above = 0;
  for (let j = 0; j < m; j++) if (values[j] > threshold) above++;
  let ties = count - above;
  const out = new Int32Array(count);
  let at = 0;
  for (let j = 0; j < m; j++) {
    if (values[j] > threshold || (values[j] === threshold && ties-- > 0)) out[at++] = j;
  }
  return out;
}
