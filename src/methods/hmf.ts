import { frobenius, selectColumns, type Matrix } from '../linalg/matrix.js';
import { DEFAULT_OVERSAMPLE, DEFAULT_POWER_ITERATIONS, sketchSvd, truncatedSvd, truncateSvd, type Svd } from '../linalg/svd.js';
import { startHelperThread } from '../helper/thread.js';
import { HybridEstimator } from './estimate.js';
import { checkBudget, factorsFromSvd, lmfRank, relativeError, truncationResidual2 } from './lmf.js';
import type { HybridFactors, OutputSelection } from './types.js';

export interface HmfOptions {
  /** Seed of the randomized SVDs. */
  seed: number;
  /** Which outputs stay dense: the first k (`leading`, the paper) or the k worst served by a rank-r approximation. */
  selection: OutputSelection;
  /**
   * Spend this share of the budget on dense outputs (k = floor(share·B/n), lowered until
   * r >= 1) instead of choosing k by the error. For structures meant to be fine-tuned,
   * as in the paper: the result may have a larger weight error than LMF's.
   */
  denseShare?: number;
}

/** Candidates evaluated per round of the (k, r) search. */
const GRID = 8;
/** The search stops refining once grid spacing is at most this fraction of the k range. */
const RESOLUTION = 1 / 32;
/**
 * A candidate with k > 0 must cut the estimated error^2 of k = 0 by this fraction, else
 * LMF is kept: the final SVD of K_R would cost a whole SVD for a negligible gain.
 */
const MIN_GAIN = 1e-3;

/**
 * The HMF rank with k dense outputs: floor((B - k n) / (n + m - k)), 0 if below 1.
 * Decreases with k whenever B < n (n + m), so k = 0 (LMF) has the largest rank.
 */
export function hybridRank(n: number, m: number, budget: number, k: number): number {
  if (k >= m) return 0;
  const r = Math.floor((budget - k * n) / (n + m - k));
  return r < 1 ? 0 : r;
}

/** A (k, r) choice with its estimated relative error squared. */
export interface HybridCandidate {
  readonly k: number;
  readonly rank: number;
  readonly dense: Int32Array;
  readonly estimate: number;
}

/**
 * The (k, r) minimising the estimated error within the budget (k from 0 to the
 * largest k with r >= 1), by a shrinking grid search over k. `budget` < n m.
 */
export function chooseHybrid(est: HybridEstimator, budget: number, selection: OutputSelection): HybridCandidate | null {
  const { n, m } = est;
  if (budget >= n * m || hybridRank(n, m, budget, 0) === 0) return null;
  let kMax = 0;
  // r(k) decreases with k: binary search for the last k with r >= 1.
  for (let lo = 0, hi = m - 1; lo <= hi; ) {
    const mid = (lo + hi) >> 1;
    if (hybridRank(n, m, budget, mid) >= 1) {
      kMax = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const seen = new Map<number, HybridCandidate>();
  /** Estimates every new k of a round together (they share the helper thread, see relativeError2Each). */
  const evaluateAll = (ks: readonly number[]): void => {
    const fresh = [...new Set(ks)].filter((k) => !seen.has(k)).map((k) => {
      const rank = hybridRank(n, m, budget, k);
      return { k, rank, dense: est.denseSet(k, rank, selection) };
    });
    const estimates = est.relativeError2Each(fresh);
    fresh.forEach((c, i) => seen.set(c.k, { ...c, estimate: estimates[i] }));
  };
  const evaluate = (k: number): HybridCandidate => {
    if (!seen.has(k)) evaluateAll([k]);
    return seen.get(k)!;
  };
  const better = (a: HybridCandidate, b: HybridCandidate): boolean => a.estimate < b.estimate || (a.estimate === b.estimate && a.k < b.k);
  const base = evaluate(0);
  let best = base;
  let lo = 0;
  let hi = kMax;
  for (;;) {
    const points =
      hi - lo + 1 <= GRID
        ? Array.from({ length: hi - lo + 1 }, (_, i) => lo + i)
        : Array.from({ length: GRID }, (_, i) => lo + Math.round(((hi - lo) * i) / (GRID - 1)));
    evaluateAll(points);
    let bestAt = 0;
    points.forEach((k, i) => {
      const c = evaluate(k);
      if (better(c, best)) best = c;
      if (better(c, evaluate(points[bestAt]))) bestAt = i;
    });
    if (hi - lo + 1 <= GRID || (hi - lo) / (GRID - 1) <= Math.max(1, kMax * RESOLUTION)) break;
    const nextLo = points[Math.max(0, bestAt - 1)];
    const nextHi = points[Math.min(points.length - 1, bestAt + 1)];
    if (nextLo === lo && nextHi === hi) break;
    lo = nextLo;
    hi = nextHi;
  }
  return best.estimate <= base.estimate * (1 - MIN_GAIN) ? best : base;
}

/**
 * Hybrid Matrix Factorization (docs/ARCHITECTURE.md §1): outputs D (k columns of K) kept
 * exactly, the rest factorized at rank r, k n + r (n + m - k) <= budget, (k, r)
 * chosen to minimise the error. One sketch SVD of K serves the LMF solution (k = 0,
 * the same SVD lmf() computes) and the estimates of every candidate; one more
 * truncated SVD of K_R gives the chosen candidate's factors. Its true error is
 * compared with LMF's and the better one returned, so the result is never worse
 * than lmf() with the same seed.
 *
 * Returns null when even k = 0 cannot reach the budget (r < 1), and when
 * budget >= n m (factor <= 1: there is nothing to compress; the matrix stays dense).
 * `given`: a sketch SVD of K already made (the planner's), used when it has the components.
 */
export function hmf(k: Matrix, budget: number, opts: HmfOptions, given?: { sketch: Svd; norm: number }): HybridFactors | null {
  checkBudget(budget);
  const { rows: n, cols: m } = k;
  if (budget >= n * m) return null;
  const r0 = lmfRank(n, m, budget);
  if (r0 === 0) return null;
  startHelperThread(); // ready by the (k, r) search, after the sketch below
  const norm = given?.norm ?? frobenius(k);
  // A sketch of K made for another budget serves when it holds at least r0 components.
  const sketch = given && given.sketch.s.length >= r0 ? given.sketch : sketchSvd(k, r0, { seed: opts.seed, norm });
  const lmfSolution = lowRankSolution(k, truncateSvd(sketch, r0), norm);
  // The estimator's cost grows with the cube of its components: r0 + oversample of them, as a randomized sketch has.
  const estimator = new HybridEstimator(k, truncateSvd(sketch, r0 + DEFAULT_OVERSAMPLE));
  if (opts.denseShare !== undefined) {
    const count = forcedK(n, m, budget, opts.denseShare);
    if (count === 0) return lmfSolution;
    const rank = hybridRank(n, m, budget, count);
    return hybridSolution(k, estimator.denseSet(count, rank, opts.selection), rank, opts.seed, sketch.u, norm);
  }
  const choice = chooseHybrid(estimator, budget, opts.selection);
  if (!choice || choice.k === 0) return lmfSolution;
  const hybrid = hybridSolution(k, choice.dense, choice.rank, opts.seed, sketch.u, norm);
  return hybrid.error <= lmfSolution.error ? hybrid : lmfSolution;
}

/** k = floor(share·B/n), lowered until the rest still gets rank >= 1. */
function forcedK(n: number, m: number, budget: number, share: number): number {
  let k = Math.min(m - 1, Math.max(0, Math.floor((share * budget) / n)));
  while (k > 0 && hybridRank(n, m, budget, k) < 1) k--;
  return k;
}

/** k = 0: the LMF factors of `svd` as a hybrid with no dense outputs. */
function lowRankSolution(k: Matrix, svd: Svd, norm: number): HybridFactors {
  const { p, q } = factorsFromSvd(svd);
  const r = svd.s.length;
  return {
    kind: 'hmf',
    rank: r,
    k: 0,
    denseOutputs: new Int32Array(0),
    lowRankOutputs: Int32Array.from({ length: k.cols }, (_, j) => j),
    dense: { rows: k.rows, cols: 0, data: new Float32Array(0) },
    p,
    q,
    params: r * (k.rows + k.cols),
    error: relativeError(k, truncationResidual2(k, svd, p, q, norm), norm),
  };
}

/**
 * The factors for dense outputs `dense`. K's sketch basis warm-starts the SVD of K_R:
 * measured on 300x2000 to 650x3000, one power iteration fewer then matches or beats
 * the cold start's error in 50-75% of its time.
 */
function hybridSolution(k: Matrix, dense: Int32Array, rank: number, seed: number, start: Matrix, normK: number): HybridFactors {
  const isDense = new Uint8Array(k.cols);
  for (const j of dense) isDense[j] = 1;
  const lowRankOutputs = Int32Array.from({ length: k.cols }, (_, j) => j).filter((j) => !isDense[j]);
  const kr = selectColumns(k, lowRankOutputs);
  const normR = frobenius(kr);
  const svd = truncatedSvd(kr, rank, { seed, start, powerIterations: DEFAULT_POWER_ITERATIONS - 1, norm: normR });
  const { p, q } = factorsFromSvd(svd);
  return {
    kind: 'hmf',
    rank,
    k: dense.length,
    denseOutputs: dense,
    lowRankOutputs,
    dense: selectColumns(k, dense),
    p,
    q,
    params: dense.length * k.rows + rank * (k.rows + lowRankOutputs.length),
    // The dense outputs are exact: the whole error is K_R's.
    error: relativeError(k, truncationResidual2(kr, svd, p, q, normR), normK),
  };
}
