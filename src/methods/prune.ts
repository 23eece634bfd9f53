import type { Matrix } from '../linalg/matrix.js';
import { checkBudget } from './lmf.js';
import type { PrunedMatrix } from './types.js';

/**
 * Magnitude pruning of one matrix: keeps the `budget` largest |w|, ties broken by
 * lower index, everything else set to zero. Entries that are already zero are never
 * "kept": when K has fewer non-zeros than the budget, all of them stay and
 * params = K's non-zero count. params is always the result's non-zero count.
 */
export function pruneLayer(k: Matrix, budget: number): PrunedMatrix {
  return pruneGlobal([k], budget)[0];
}

/**
 * Magnitude pruning across matrices: keeps the `totalBudget` largest |w| of all of
 * them together (ties broken by matrix order, then index); params per matrix is its
 * non-zeros kept, and they sum to min(totalBudget, total non-zeros).
 */
export function pruneGlobal(ks: Matrix[], totalBudget: number): PrunedMatrix[] {
  checkBudget(totalBudget);
  const threshold = keepThreshold(ks, totalBudget);
  // Entries equal to the threshold are kept in order until the budget is used up.
  let tiesLeft = threshold.ties;
  return ks.map((k) => {
    const out = new Float32Array(k.data.length);
    let params = 0;
    let removed2 = 0;
    let total2 = 0;
    for (let i = 0; i < k.data.length; i++) {
      const w = k.data[i];
      const a = Math.abs(w);
      total2 += w * w;
      if (a > threshold.value || (a === threshold.value && a > 0 && tiesLeft > 0)) {
        if (a === threshold.value) tiesLeft--;
        out[i] = w;
        params++;
      } else {
        removed2 += w * w;
      }
    }
    return {
      kind: 'prune',
      pruned: { rows: k.rows, cols: k.cols, data: out },
      params,
      error: total2 === 0 ? 0 : Math.sqrt(removed2 / total2),
    };
  });
}

/**
 * The smallest magnitude kept (value) and how many entries equal to it fit in the
 * budget (ties). Keeping everything non-zero is value 0, ties 0.
 */
function keepThreshold(ks: Matrix[], budget: number): { value: number; ties: number } {
  let nonZeros = 0;
  for (const k of ks) for (let i = 0; i < k.data.length; i++) if (k.data[i] !== 0) nonZeros++;
  if (budget >= nonZeros) return { value: 0, ties: 0 };
  if (budget === 0) return { value: Infinity, ties: 0 };
  const mags = new Float32Array(nonZeros);
  let at = 0;
  for (const k of ks) for (let i = 0; i < k.data.length; i++) if (k.data[i] !== 0) mags[at++] = Math.abs(k.data[i]);
  mags.sort();
  const value = mags[nonZeros - budget];
  let above = 0;
  for (let i = nonZeros - 1; i >= 0 && mags[i] > value; i--) above++;
  return { value, ties: budget - above };
}

/** Non-zeros of a pruned matrix and its relative error ||K - K'||_F / ||K||_F against the original values. */
export function pruneStats(original: Float32Array, pruned: Float32Array): { params: number; error: number } {
  if (original.length !== pruned.length) throw new Error(`pruneStats: ${original.length} original values, ${pruned.length} pruned`);
  let params = 0;
  let diff2 = 0;
  let total2 = 0;
  for (let i = 0; i < original.length; i++) {
    if (pruned[i] !== 0) params++;
    const d = original[i] - pruned[i];
    diff2 += d * d;
    total2 += original[i] * original[i];
  }
  return { params, error: total2 === 0 ? 0 : Math.sqrt(diff2 / total2) };
}
