import type { Matrix } from '../linalg/matrix.js';

/** The compression methods of docs/ARCHITECTURE.md §1. */
export type MethodName = 'hmf' | 'lmf' | 'prune';

/** How HMF picks the outputs it keeps dense. */
export type OutputSelection = 'leading' | 'residual';

/**
 * K (n x m) ~ P Q with P (n x r) and Q (r x m).
 * `error` is ||K - PQ||_F / ||K||_F.
 */
export interface LowRankFactors {
  readonly kind: 'lmf';
  readonly rank: number;
  readonly p: Matrix;
  readonly q: Matrix;
  /** Parameters stored: r * (n + m). */
  readonly params: number;
  readonly error: number;
}

/**
 * HMF: outputs `denseOutputs` (k column indices of K, ascending) are kept exactly in
 * `dense` (n x k); the others, `lowRankOutputs` (ascending), are P (n x r) Q (r x (m-k)).
 * Output j of the layer is column j of K, so a rewrite joins [dense | low-rank]
 * and restores the original order with `denseOutputs` / `lowRankOutputs`.
 */
export interface HybridFactors {
  readonly kind: 'hmf';
  readonly rank: number;
  readonly k: number;
  readonly denseOutputs: Int32Array;
  readonly lowRankOutputs: Int32Array;
  /** n x k; n x 0 when k = 0 (the LMF solution, which hmf() returns when nothing beats it). */
  readonly dense: Matrix;
  /** Always present: hmf() returns r >= 1 or null (it never emits k = m). */
  readonly p: Matrix;
  readonly q: Matrix;
  /** Parameters stored: k*n + r*(n + m - k). */
  readonly params: number;
  readonly error: number;
}

/** Pruned matrix: same shape, all but `params` entries exactly zero. */
export interface PrunedMatrix {
  readonly kind: 'prune';
  readonly pruned: Matrix;
  /** Non-zeros kept. */
  readonly params: number;
  readonly error: number;
}

export type Compressed = LowRankFactors | HybridFactors | PrunedMatrix;
