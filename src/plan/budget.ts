import type { MethodName } from '../methods/types.js';

/** A matrix the plan gives a parameter budget to. */
export interface Budgeted {
  rows: number;
  cols: number;
}

/** DESIGN.md §1: B = floor(n*m / f). */
export function matrixBudget(m: Budgeted, factor: number): number {
  return Math.floor((m.rows * m.cols) / factor);
}

/** The total budget of all targeted matrices at `factor` (for `--scope global` pruning). */
export function totalBudget(ms: readonly Budgeted[], factor: number): number {
  return Math.floor(ms.reduce((s, m) => s + m.rows * m.cols, 0) / factor);
}

/**
 * Why a matrix cannot reach `factor` with `method`, or null if it can.
 * LMF and HMF need rank r >= 1 with r(n+m) <= B and r(n+m) < nm.
 */
export function unreachableReason(m: Budgeted, factor: number, method: MethodName): string | null {
  if (method === 'prune') return matrixBudget(m, factor) < 1 ? `budget ${matrixBudget(m, factor)} keeps no weight` : null;
  const budget = matrixBudget(m, factor);
  const rank = Math.floor(budget / (m.rows + m.cols));
  if (rank < 1) {
    return `rank-1 factors need ${m.rows + m.cols} parameters, over the budget of ${budget} at factor ${factor}`;
  }
  return null;
}

/** Parses a compression factor: a finite number > 1. */
export function isValidFactor(f: number): boolean {
  return Number.isFinite(f) && f > 1;
}
