import type { Whitening } from '../calibrate/gram.js';
import { frobenius, selectColumns, type Matrix } from '../linalg/matrix.js';
import { lowRankResidualSquared, matMul } from '../linalg/product.js';
import { hmf, type HmfOptions } from './hmf.js';
import { lmf, type LmfOptions } from './lmf.js';
import { pruneGlobal } from './prune.js';
import type { Compressed, HybridFactors, LowRankFactors, PrunedMatrix } from './types.js';

/**
 * Calibration-aware methods: each minimises ||X (K − K')||_F for the input
 * activations X of the matrix rather than ||K − K'||_F. LMF and HMF factorize the
 * whitened Lᵀ K (L Lᵀ = XᵀX + λI, SVD-LLM's truncation-aware whitening) and map the
 * input-side factor back with L⁻ᵀ; the whitening acts on rows (inputs), so HMF's
 * output columns stay separable and its dense set and (k, r) choice are made on Lᵀ K
 * with the same whitened error. `error` stays the plain ||K − K'|| / ||K||; `whitenedError`
 * is ||Lᵀ(K − K')|| / ||Lᵀ K||, the error the method minimised.
 */
export interface Whitened<T> {
  result: T;
  whitenedError: number;
}

/** LMF of Lᵀ K, un-whitened: P = L⁻ᵀ U_r S_r^1/2, Q = S_r^1/2 V_rᵀ. Null when the budget cannot be reached. */
export function weightedLmf(k: Matrix, budget: number, opts: LmfOptions, w: Whitening): Whitened<LowRankFactors> | null {
  const white = lmf(w.whiten(k), budget, opts);
  if (!white) return null;
  const p = w.unwhiten(white.p);
  return { result: { ...white, p, error: relative(k, lowRankResidualSquared(k, p, white.q)) }, whitenedError: white.error };
}

/** HMF of Lᵀ K: dense outputs are K's own columns (exact), the rest P = L⁻ᵀ P_w, Q. */
export function weightedHmf(k: Matrix, budget: number, opts: HmfOptions, w: Whitening): Whitened<HybridFactors> | null {
  const white = hmf(w.whiten(k), budget, opts);
  if (!white) return null;
  const p = w.unwhiten(white.p);
  const kr = selectColumns(k, white.lowRankOutputs);
  return {
    result: { ...white, dense: selectColumns(k, white.denseOutputs), p, error: relative(k, lowRankResidualSquared(kr, p, white.q)) },
    whitenedError: white.error,
  };
}

/**
 * Activation-aware pruning (Wanda): keeps the entries with the largest |w_ij|·||x_i||
 * (x_i = input i's activations over the calibration data, `inputNorms[i]`), across
 * the given matrices together. Uniform norms give magnitude pruning.
 */
export function wandaPruneGlobal(ks: Matrix[], inputNorms: Float64Array[], totalBudget: number): PrunedMatrix[] {
  const scaled = ks.map((k, t) => {
    const norms = inputNorms[t];
    if (norms.length !== k.rows) throw new RangeError(`wandaPrune: ${norms.length} input norms for ${k.rows} rows`);
    const out = new Float32Array(k.data.length);
    for (let i = 0; i < k.rows; i++) for (let j = 0; j < k.cols; j++) out[i * k.cols + j] = k.data[i * k.cols + j] * norms[i];
    return { rows: k.rows, cols: k.cols, data: out };
  });
  return pruneGlobal(scaled, totalBudget).map((p, t) => {
    const k = ks[t];
    const out = new Float32Array(k.data.length);
    let removed2 = 0;
    let params = 0;
    for (let i = 0; i < out.length; i++) {
      if (p.pruned.data[i] !== 0) {
        out[i] = k.data[i];
        params++;
      } else removed2 += k.data[i] * k.data[i];
    }
    const total = frobenius(k);
    return { kind: 'prune', pruned: { rows: k.rows, cols: k.cols, data: out }, params, error: total === 0 ? 0 : Math.sqrt(removed2) / total };
  });
}

export function wandaPrune(k: Matrix, inputNorms: Float64Array, budget: number): PrunedMatrix {
  return wandaPruneGlobal([k], [inputNorms], budget)[0];
}

/** K' (n x m) of a method's result, outputs in the original order. */
export function reconstruct(result: Compressed): Matrix {
  if (result.kind === 'prune') return result.pruned;
  const low = matMul(result.p, result.q);
  if (result.kind === 'lmf') return low;
  const n = low.rows;
  const m = result.denseOutputs.length + result.lowRankOutputs.length;
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    result.denseOutputs.forEach((col, j) => (out[i * m + col] = result.dense.data[i * result.k + j]));
    result.lowRankOutputs.forEach((col, j) => (out[i * m + col] = low.data[i * low.cols + j]));
  }
  return { rows: n, cols: m, data: out };
}

function relative(k: Matrix, residual2: number): number {
  const norm = frobenius(k);
  return norm === 0 ? 0 : Math.sqrt(residual2) / norm;
}
