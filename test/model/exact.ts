import type { Matrix } from '../../src/linalg/matrix.js';
import type { LowRankFactors } from '../../src/methods/types.js';

/** Exact factorizations for rewrite tests: a rewritten model must then compute the original function. */

export function identity(n: number): Matrix {
  const d = new Float32Array(n * n);
  for (let i = 0; i < n; i++) d[i * n + i] = 1;
  return { rows: n, cols: n, data: d };
}

/** Columns `cols` of `k`, in that order. */
export function columns(k: Matrix, cols: Int32Array): Matrix {
  const out = new Float32Array(k.rows * cols.length);
  for (let i = 0; i < k.rows; i++) for (let j = 0; j < cols.length; j++) out[i * cols.length + j] = k.data[i * k.cols + cols[j]];
  return { rows: k.rows, cols: cols.length, data: out };
}

/** P = K, Q = I: full rank, exact. */
export function exactLmf(k: Matrix): LowRankFactors {
  return { kind: 'lmf', rank: k.cols, p: k, q: identity(k.cols), params: 0, error: 0 };
}
