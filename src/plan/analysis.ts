import { Whitening, type Gram } from '../calibrate/gram.js';
import { frobenius, type Matrix } from '../linalg/matrix.js';
import { sketchSvd, type Svd } from '../linalg/svd.js';
import { lmfRank } from '../methods/lmf.js';
import type { TargetMatrix } from '../model/targets.js';

/**
 * One target as the planner sees it: the matrix in the metric the cost is measured in
 * (Lᵀ K with calibration data, K without), one sketch SVD of it, and the relative
 * error² of every low-rank candidate the sketch serves. Every candidate rank and the
 * final factorization come from this one SVD (an HMF budget whose estimator needs more
 * components gets a larger sketch of its own; see execute.ts).
 */
export interface MatrixAnalysis {
  readonly target: TargetMatrix;
  /** K as it stood when analysed (original row order). */
  readonly matrix: Matrix;
  /** The matrix whose plain factorization minimises the cost: Lᵀ K, or K. */
  readonly work: Matrix;
  readonly whitening: Whitening | null;
  /** ||work||_F. */
  readonly norm: number;
  /** Sketch SVD of `work` (at least `maxRank` components, more when the method adds oversampling). */
  readonly sketch: Svd;
  /** Largest rank the cost curve covers: never more than the sketch, never r(n+m) >= nm. */
  readonly maxRank: number;
  /** lmfError2[r - 1]: ||work - its rank-r truncation||² / ||work||², r = 1..maxRank. */
  readonly lmfError2: Float64Array;
}

export interface AnalysisOptions {
  seed: number;
  /** Rank the sketch must serve (the largest the allocation may give). */
  rank: number;
  gram?: Gram | null;
  damping?: number;
}

/** Largest rank worth storing for an n x m matrix: r (n + m) < n m. */
export function maxUsefulRank(n: number, m: number): number {
  return Math.max(0, Math.ceil((n * m) / (n + m)) - 1);
}

/** Analyses one matrix: whitening (with a Gram), one sketch SVD, the LMF cost curve. */
export function analyzeMatrix(target: TargetMatrix, k: Matrix, opts: AnalysisOptions, seed: number): MatrixAnalysis {
  const whitening = opts.gram ? new Whitening(opts.gram, opts.damping) : null;
  const work = whitening ? whitening.whiten(k) : k;
  const norm = frobenius(work);
  const rank = Math.min(opts.rank, maxUsefulRank(k.rows, k.cols));
  const sketch = sketchSvd(work, Math.max(1, rank), { seed, norm });
  const maxRank = Math.min(rank, sketch.s.length);
  const lmfError2 = new Float64Array(maxRank);
  const total = norm * norm;
  let kept = 0;
  for (let r = 1; r <= maxRank; r++) {
    kept += sketch.s[r - 1] ** 2;
    lmfError2[r - 1] = total === 0 ? 0 : Math.max(0, total - kept) / total;
  }
  return { target, matrix: k, work, whitening, norm, sketch, maxRank, lmfError2 };
}

/** The LMF rank of a budget for this matrix (0 when none). */
export function rankOfBudget(a: MatrixAnalysis, budget: number): number {
  return lmfRank(a.matrix.rows, a.matrix.cols, budget);
}
