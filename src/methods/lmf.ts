import type { Matrix } from '../linalg/matrix.js';
import { lowRankRelativeError } from '../linalg/product.js';
import { truncatedSvd, truncateSvd, type Svd } from '../linalg/svd.js';
import type { LowRankFactors } from './types.js';

export interface LmfOptions {
  /** Seed of the randomized SVD. */
  seed: number;
}

/**
 * The LMF rank for an n x m matrix within `budget` parameters: floor(B / (n + m)),
 * or 0 when no factorization is worth storing (r < 1 or r(n + m) >= n m).
 */
export function lmfRank(n: number, m: number, budget: number): number {
  checkBudget(budget);
  const r = Math.floor(budget / (n + m));
  return r < 1 || r * (n + m) >= n * m ? 0 : r;
}

/**
 * Low-rank factorization K ~ P Q (DESIGN.md §1): P = U_r S_r^1/2, Q = S_r^1/2 V_r^T.
 * Returns null when the budget cannot be reached (see lmfRank); the caller leaves the
 * matrix dense and says why. `svd` (at least r components of K) skips the SVD.
 */
export function lmf(k: Matrix, budget: number, opts: LmfOptions, svd?: Svd): LowRankFactors | null {
  const r = lmfRank(k.rows, k.cols, budget);
  if (r === 0) return null;
  if (svd && svd.s.length < r) throw new RangeError(`lmf: the given SVD has ${svd.s.length} components, rank ${r} needs more`);
  const { p, q } = factorsFromSvd(svd ? truncateSvd(svd, r) : truncatedSvd(k, r, { seed: opts.seed }));
  return { kind: 'lmf', rank: r, p, q, params: r * (k.rows + k.cols), error: lowRankRelativeError(k, p, q) };
}

/** P = U S^1/2 (rows x r) and Q = S^1/2 V^T (r x cols) from a (truncated) SVD. */
export function factorsFromSvd(svd: Svd): { p: Matrix; q: Matrix } {
  const r = svd.s.length;
  const root = Array.from(svd.s, Math.sqrt);
  const p = new Float32Array(svd.u.rows * r);
  for (let i = 0; i < svd.u.rows; i++) for (let j = 0; j < r; j++) p[i * r + j] = svd.u.data[i * r + j] * root[j];
  const m = svd.v.rows;
  const q = new Float32Array(r * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < r; j++) q[j * m + i] = svd.v.data[i * r + j] * root[j];
  return { p: { rows: svd.u.rows, cols: r, data: p }, q: { rows: r, cols: m, data: q } };
}

export function checkBudget(budget: number): void {
  if (!Number.isInteger(budget) || budget < 0) throw new RangeError(`budget must be a non-negative integer, got ${budget}`);
}
