import type { MethodName } from '../methods/types.js';

/** A matrix the plan gives a parameter budget to: n inputs x m outputs. */
export interface Budgeted {
  rows: number;
  cols: number;
}

/** The plan for one matrix: a parameter budget, or why it stays dense. */
export type MatrixPlan = { budget: number; reason: null } | { budget: null; reason: string };

/** docs/ARCHITECTURE.md §1: B = floor(n*m / f). */
export function matrixBudget(m: Budgeted, factor: number): number {
  return Math.floor((m.rows * m.cols) / factor);
}

/** The total budget of all targeted matrices at `factor` (for `--scope global` pruning). */
export function totalBudget(ms: readonly Budgeted[], factor: number): number {
  return Math.floor(ms.reduce((s, m) => s + m.rows * m.cols, 0) / factor);
}

/**
 * Why a matrix cannot reach `factor` with `method`, or null if it can.
 * LMF and HMF need rank r >= 1 with r(n+m) <= B = floor(nm/f).
 */
export function unreachableReason(m: Budgeted, factor: number, method: MethodName): string | null {
  const budget = matrixBudget(m, factor);
  if (method === 'prune') return budget < 1 ? `budget ${budget} keeps no weight` : null;
  if (Math.floor(budget / (m.rows + m.cols)) < 1) {
    return `rank-1 factors need ${m.rows + m.cols} parameters, over the budget of ${budget} at factor ${factor}`;
  }
  return null;
}

/** How far (relative) the running total of low-rank budgets may drift before later ranks lean to correct it. */
const DRIFT_TOLERANCE = 0.02;

/**
 * Budgets for every matrix (docs/ARCHITECTURE.md §1), so that the targeted weights as a whole
 * land on the factor. Pruning gets B = floor(nm/f) exactly. LMF and HMF get a whole
 * number of rank steps r(n+m), r = B/(n+m) rounded to the nearest step: floor() alone
 * lets a few large matrices (an Embedding with n+m = 4064, say) overshoot the factor
 * by 5% and more. When the running total still drifts more than 2% from the target,
 * the next rank is chosen to cancel the drift. HMF gets the same budget, or B where that
 * is larger, so its k = 0 candidate is at least LMF's factorization and HMF's error never
 * exceeds LMF's.
 */
export function planBudgets(ms: readonly Budgeted[], factor: number, method: MethodName): MatrixPlan[] {
  let wanted = 0;
  let planned = 0;
  return ms.map((m) => {
    const reason = unreachableReason(m, factor, method);
    if (reason !== null) return { budget: null, reason };
    if (method === 'prune') return { budget: matrixBudget(m, factor), reason: null };
    const step = m.rows + m.cols;
    const full = m.rows * m.cols;
    wanted += full / factor;
    let rank = Math.round(full / factor / step);
    if (Math.abs(planned + rank * step - wanted) > DRIFT_TOLERANCE * wanted) rank = Math.round((wanted - planned) / step);
    const maxRank = Math.ceil(full / step) - 1; // r(n+m) < nm: never store more than the matrix
    rank = Math.min(maxRank, Math.max(1, rank));
    planned += rank * step;
    // HMF may also use the rest of B = floor(nm/f): its dense outputs come in finer steps
    // (n each); its k = 0 candidate keeps at least LMF's rank, so it stays no worse than LMF.
    const budget = method === 'hmf' ? Math.min(full - 1, Math.max(rank * step, matrixBudget(m, factor))) : rank * step;
    return { budget, reason: null };
  });
}

/** Parses a compression factor: a finite number > 1. */
export function isValidFactor(f: number): boolean {
  return Number.isFinite(f) && f > 1;
}
