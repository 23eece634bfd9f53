import type { Matrix } from '../../src/linalg/matrix.js';
import { gaussianArray } from '../../src/linalg/random.js';

/** Test matrices (helpers, not tests). Plain JavaScript arithmetic, no TF.js. */

export function gaussian(rows: number, cols: number, seed: number, scale = 1): Matrix {
  const data = gaussianArray(rows * cols, seed);
  if (scale !== 1) for (let i = 0; i < data.length; i++) data[i] *= scale;
  return { rows, cols, data };
}

/** A B in float64, rounded to float32. */
export function multiply(a: Matrix, b: Matrix): Matrix {
  const out = new Float32Array(a.rows * b.cols);
  const acc = new Float64Array(b.cols);
  for (let i = 0; i < a.rows; i++) {
    acc.fill(0);
    for (let t = 0; t < a.cols; t++) {
      const x = a.data[i * a.cols + t];
      for (let j = 0; j < b.cols; j++) acc[j] += x * b.data[t * b.cols + j];
    }
    out.set(acc, i * b.cols);
  }
  return { rows: a.rows, cols: b.cols, data: out };
}

/** G1 diag(s) G2 with s_i = decay(i): a matrix with a prescribed spectrum shape. */
export function spectral(rows: number, cols: number, seed: number, decay: (i: number) => number, inner = Math.min(rows, cols)): Matrix {
  const g1 = gaussian(rows, inner, seed);
  for (let i = 0; i < rows; i++) for (let j = 0; j < inner; j++) g1.data[i * inner + j] *= decay(j);
  return multiply(g1, gaussian(inner, cols, seed + 1000));
}

/** ||A - B||_F / ||A||_F in float64. */
export function relativeDifference(a: Matrix, b: Matrix): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.data.length; i++) {
    num += (a.data[i] - b.data[i]) ** 2;
    den += a.data[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** U diag(s) V^T. */
export function reconstruct(u: Matrix, s: ArrayLike<number>, v: Matrix): Matrix {
  const r = s.length;
  const us = new Float32Array(u.data);
  for (let i = 0; i < u.rows; i++) for (let j = 0; j < r; j++) us[i * r + j] *= s[j];
  const vt = new Float32Array(r * v.rows);
  for (let i = 0; i < v.rows; i++) for (let j = 0; j < r; j++) vt[j * v.rows + i] = v.data[i * r + j];
  return multiply({ rows: u.rows, cols: r, data: us }, { rows: r, cols: v.rows, data: vt });
}

/** max |M^T M - I| over the columns of M. */
export function orthonormalityDefect(m: Matrix): number {
  let worst = 0;
  for (let a = 0; a < m.cols; a++) {
    for (let b = a; b < m.cols; b++) {
      let dot = 0;
      for (let i = 0; i < m.rows; i++) dot += m.data[i * m.cols + a] * m.data[i * m.cols + b];
      worst = Math.max(worst, Math.abs(dot - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

/** sqrt(sum_{i >= rank} s_i^2 / sum s_i^2): the optimal rank-`rank` relative error. */
export function optimalError(s: ArrayLike<number>, rank: number): number {
  let tail = 0;
  let total = 0;
  for (let i = 0; i < s.length; i++) {
    total += s[i] * s[i];
    if (i >= rank) tail += s[i] * s[i];
  }
  return Math.sqrt(tail / total);
}
