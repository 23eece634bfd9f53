import type { Matrix } from '../linalg/matrix.js';
import { DEFAULT_OVERSAMPLE, sketchSvd, truncateSvd, type Svd } from '../linalg/svd.js';
import { HybridEstimator } from './estimate.js';
import { chooseHybrid } from './hmf.js';
import { checkBudget, lmfRank } from './lmf.js';
import type { OutputSelection } from './types.js';

/** Energy kept (1 - relative error^2) at one compression factor. */
export interface SpectrumPoint {
  readonly factor: number;
  readonly budget: number;
  /** LMF at rank floor(B / (n + m)); 0 when that rank is 0 (the factor cannot be reached). */
  readonly lmf: number;
  /** Best HMF candidate's estimate (a lower bound on what hmf() reaches); >= lmf. */
  readonly hmf: number;
}

/**
 * Fraction of ||K||_F^2 that LMF and HMF keep at each factor (for `hmf inspect`),
 * from a single sketch SVD of K at the rank the smallest factor needs.
 */
export function spectrumReport(k: Matrix, factors: number[], seed: number, selection: OutputSelection = 'residual'): SpectrumPoint[] {
  const budgets = factors.map((f) => {
    if (!(f > 0)) throw new RangeError(`spectrumReport: factor must be positive, got ${f}`);
    return Math.floor((k.rows * k.cols) / f);
  });
  const rank = Math.max(0, ...budgets.map((b) => lmfRank(k.rows, k.cols, b)));
  const sketch = rank > 0 ? sketchSvd(k, rank, { seed }) : null;
  return factors.map((factor, i) => {
    // Each factor's estimate from as many components as hmf() gives its estimator (its LMF rank
    // + oversampling): the same choice compress makes, and each candidate's eigenvalues cost
    // L^3, so the smaller factors do not pay for the rank of the largest (x2).
    const r = lmfRank(k.rows, k.cols, budgets[i]);
    const estimator = sketch && r > 0 ? new HybridEstimator(k, truncateSvd(sketch, r + DEFAULT_OVERSAMPLE)) : null;
    return { factor, budget: budgets[i], ...energies(k, budgets[i], estimator, selection) };
  });
}

/**
 * Fraction of ||K||_F^2 kept by `method` within `budget` (1 - error^2; HMF's is an
 * estimate, see SpectrumPoint). Calls on the same matrix data and seed share one SVD
 * (computed at the rank of factor 2 or of `budget`, whichever is larger), so asking for
 * several factors and both methods costs one SVD and the answer does not depend on
 * the order of calls.
 */
export function energyKept(k: Matrix, budget: number, method: 'lmf' | 'hmf', seed = 0, selection: OutputSelection = 'residual'): number {
  checkBudget(budget);
  const rank = Math.max(lmfRank(k.rows, k.cols, budget), lmfRank(k.rows, k.cols, Math.floor((k.rows * k.cols) / 2)));
  const r = lmfRank(k.rows, k.cols, budget);
  const estimator = rank > 0 && r > 0 ? new HybridEstimator(k, truncateSvd(cachedSketch(k, rank, seed), r + DEFAULT_OVERSAMPLE)) : null;
  const e = energies(k, budget, estimator, selection);
  return method === 'lmf' ? e.lmf : e.hmf;
}

function energies(k: Matrix, budget: number, est: HybridEstimator | null, selection: OutputSelection): { lmf: number; hmf: number } {
  if (!est || est.total === 0 || lmfRank(k.rows, k.cols, budget) === 0 || budget >= k.rows * k.cols) return { lmf: 0, hmf: 0 };
  const r = lmfRank(k.rows, k.cols, budget);
  const lmf = 1 - est.relativeError2(new Int32Array(0), r);
  const best = chooseHybrid(est, budget, selection);
  return { lmf, hmf: best ? Math.max(lmf, 1 - best.estimate) : lmf };
}

const cache = new WeakMap<Float32Array, Map<string, Svd>>();

function cachedSketch(k: Matrix, rank: number, seed: number): Svd {
  let byKey = cache.get(k.data);
  if (!byKey) {
    byKey = new Map();
    cache.set(k.data, byKey);
  }
  const key = `${k.rows}x${k.cols}:${rank}:${seed}`;
  let svd = byKey.get(key);
  if (!svd) {
    svd = sketchSvd(k, rank, { seed });
    byKey.set(key, svd);
  }
  return svd;
}
