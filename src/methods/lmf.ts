import { frobenius, type Matrix } from '../linalg/matrix.js';
import { lowRankResidualSquared } from '../linalg/product.js';
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
 * Low-rank factorization K ~ P Q (docs/ARCHITECTURE.md §1): P = U_r S_r^1/2, Q = S_r^1/2 V_r^T.
 * Returns null when the budget cannot be reached (see lmfRank); the caller leaves the
 * matrix dense and says why. `svd` (at least r components of K) skips the SVD.
 */
export function lmf(k: Matrix, budget: number, opts: LmfOptions, svd?: Svd): LowRankFactors | null {
  const r = lmfRank(k.rows, k.cols, budget);
  if (r === 0) return null;
  if (svd && svd.s.length < r) throw new RangeError(`lmf: the given SVD has ${svd.s.length} components, rank ${r} needs more`);
  const norm = frobenius(k);
  const truncated = svd ? truncateSvd(svd, r) : truncatedSvd(k, r, { seed: opts.seed, norm });
  const { p, q } = factorsFromSvd(truncated);
  return { kind: 'lmf', rank: r, p, q, params: r * (k.rows + k.cols), error: relativeError(k, truncationResidual2(k, truncated, p, q, norm), norm) };
}

/**
 * Below this relative error^2 (error 0.1) the residual is recomputed from the factors:
 * ||K||^2 - sum s_j^2 then loses too many digits to cancellation. Above it, the formula's
 * error (float32 products, ~1e-6 ||K||^2) moves the relative error by under 1e-4 of itself.
 */
export const SKETCH_RESIDUAL_MIN = 1e-2;

/**
 * ||K - P Q||_F^2 where P Q = U S V^T is `svd` (a truncated SVD of K as truncatedSvd makes
 * it: orthonormal U, s_j = ||K^T u_j||, so P Q = U U^T K). By Pythagoras that is
 * ||K||^2 - sum s_j^2, which saves a product as large as K itself (about 10% of an SVD at
 * 650x10000); recomputed from P and Q when the error is small. `normK` = ||K||_F when the
 * caller has it (each is a pass over K).
 */
export function truncationResidual2(k: Matrix, svd: Svd, p: Matrix, q: Matrix, normK = frobenius(k)): number {
  const total = normK ** 2;
  let kept = 0;
  for (const x of svd.s) kept += x * x;
  const residual = total - kept;
  return residual >= SKETCH_RESIDUAL_MIN * total ? residual : lowRankResidualSquared(k, p, q);
}

/** sqrt(residual) / ||K||_F (0 for a zero K): lmf() and hmf()'s k = 0 share it, so they agree bit for bit. */
export function relativeError(k: Matrix, residual2: number, norm = frobenius(k)): number {
  return norm === 0 ? 0 : Math.sqrt(residual2) / norm;
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
