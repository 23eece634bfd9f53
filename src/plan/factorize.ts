import { frobenius, selectColumns } from '../linalg/matrix.js';
import { lowRankRelativeError, lowRankResidualSquared } from '../linalg/product.js';
import { hmf, type HmfOptions } from '../methods/hmf.js';
import { lmf, lmfRank } from '../methods/lmf.js';
import type { HybridFactors, LowRankFactors } from '../methods/types.js';
import type { MatrixAnalysis } from './analysis.js';

/**
 * LMF and HMF of an analysed matrix within a budget, from its sketch when the sketch has
 * the components (no second SVD), in the analysis's metric: with calibration the
 * whitened Lᵀ K is factorized and the input-side factor mapped back (SVD-LLM's
 * truncation-aware whitening; see methods/weighted.ts). `error` is always the plain
 * ||K − K'|| / ||K||.
 */
export function lowRankOf(a: MatrixAnalysis, budget: number, seed: number): LowRankFactors | null {
  const r = lmfRank(a.matrix.rows, a.matrix.cols, budget);
  if (r === 0) return null;
  const svd = a.sketch.s.length >= r ? a.sketch : undefined;
  if (!a.whitening) return lmf(a.matrix, budget, { seed }, svd);
  const white = lmf(a.work, budget, { seed }, svd);
  if (!white) return null;
  const p = a.whitening.unwhiten(white.p);
  return { ...white, p, error: lowRankRelativeError(a.matrix, p, white.q) };
}

export function hybridOf(a: MatrixAnalysis, budget: number, opts: HmfOptions): HybridFactors | null {
  const white = hmf(a.work, budget, opts, { sketch: a.sketch, norm: a.norm });
  if (!white || !a.whitening) return white;
  const p = a.whitening.unwhiten(white.p);
  const kr = selectColumns(a.matrix, white.lowRankOutputs);
  // The dense outputs are exact: the whole error is K_R's.
  const norm = frobenius(a.matrix);
  return {
    ...white,
    dense: selectColumns(a.matrix, white.denseOutputs),
    p,
    error: norm === 0 ? 0 : Math.sqrt(lowRankResidualSquared(kr, p, white.q)) / norm,
  };
}
